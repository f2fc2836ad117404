/* The QuickJS runtime shared by `wgts` (embedded bundle) and `wgts-js`
 * (bundle file): std, os and wgts_native modules and QuickJS's own event
 * loop. Unlike the main() that `qjsc -e` generates, it exits non-zero on
 * an unhandled promise rejection, checked the way Node does: once the
 * microtask queue has drained, so a handler attached later in the same
 * turn still counts. */
#include <stdio.h>
#include <stdlib.h>

#include "quickjs-libc.h"
#include "runtime.h"

JSModuleDef *js_init_module_wgts_native(JSContext *ctx, const char *module_name);

struct rejection {
    JSValue promise;
    JSValue reason;
    struct rejection *next;
};

static struct rejection *unhandled;
static int check_queued;

static JSValue check_unhandled(JSContext *ctx, int argc __attribute__((unused)),
                               JSValueConst *argv __attribute__((unused)))
{
    if (JS_IsJobPending(JS_GetRuntime(ctx))) {
        /* more microtasks first: one of them may still attach a handler */
        JS_EnqueueJob(ctx, check_unhandled, 0, NULL);
        return JS_UNDEFINED;
    }
    check_queued = 0;
    if (unhandled != NULL) {
        fprintf(stderr, "Uncaught (in promise) ");
        JS_Throw(ctx, JS_DupValue(ctx, unhandled->reason));
        js_std_dump_error(ctx);
        exit(1);
    }
    return JS_UNDEFINED;
}

/* QuickJS reports a rejection without handler at once, and reports again
 * (is_handled) when a handler is attached afterwards. */
static void track_rejection(JSContext *ctx, JSValueConst promise, JSValueConst reason,
                            JS_BOOL is_handled, void *opaque __attribute__((unused)))
{
    struct rejection **at, *r;

    if (is_handled) {
        for (at = &unhandled; *at != NULL; at = &(*at)->next) {
            if (JS_VALUE_GET_PTR((*at)->promise) == JS_VALUE_GET_PTR(promise)) {
                r = *at;
                *at = r->next;
                JS_FreeValue(ctx, r->promise);
                JS_FreeValue(ctx, r->reason);
                free(r);
                return;
            }
        }
        return;
    }
    r = malloc(sizeof(*r));
    if (r == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    r->promise = JS_DupValue(ctx, promise);
    r->reason = JS_DupValue(ctx, reason);
    r->next = unhandled;
    unhandled = r;
    if (!check_queued) {
        check_queued = 1;
        JS_EnqueueJob(ctx, check_unhandled, 0, NULL);
    }
}

static JSContext *new_context(JSRuntime *rt)
{
    JSContext *ctx = JS_NewContext(rt);

    if (ctx == NULL)
        return NULL;
    js_init_module_std(ctx, "std");
    js_init_module_os(ctx, "os");
    js_init_module_wgts_native(ctx, "wgts_native");
    return ctx;
}

static JSContext *start(int argc, char **argv)
{
    JSRuntime *rt = JS_NewRuntime();
    JSContext *ctx;

    if (rt == NULL) {
        fprintf(stderr, "cannot allocate the JS runtime\n");
        exit(2);
    }
    js_std_set_worker_new_context_func(new_context);
    js_std_init_handlers(rt);
    ctx = new_context(rt);
    if (ctx == NULL) {
        fprintf(stderr, "cannot allocate the JS context\n");
        exit(2);
    }
    JS_SetModuleLoaderFunc(rt, NULL, js_module_loader, NULL);
    JS_SetHostPromiseRejectionTracker(rt, track_rejection, NULL);
    js_std_add_helpers(ctx, argc, argv);
    return ctx;
}

static int finish(JSContext *ctx)
{
    JSRuntime *rt = JS_GetRuntime(ctx);

    js_std_loop(ctx);
    js_std_free_handlers(rt);
    JS_FreeContext(ctx);
    JS_FreeRuntime(rt);
    return 0;
}

int wgts_run_bytecode(const uint8_t *bytecode, size_t len, int argc, char **argv)
{
    JSContext *ctx = start(argc, argv);

    /* evaluates the module, awaits it, and exits 1 on an exception */
    js_std_eval_binary(ctx, bytecode, len, 0);
    return finish(ctx);
}

int wgts_run_file(int argc, char **argv)
{
    JSContext *ctx = start(argc, argv);
    size_t len;
    uint8_t *source = js_load_file(ctx, &len, argv[0]);
    JSValue val;

    if (source == NULL) {
        perror(argv[0]);
        exit(2);
    }
    val = JS_Eval(ctx, (const char *)source, len, argv[0], JS_EVAL_TYPE_MODULE | JS_EVAL_FLAG_COMPILE_ONLY);
    js_free(ctx, source);
    if (!JS_IsException(val)) {
        js_module_set_import_meta(ctx, val, 1, 1);
        val = js_std_await(ctx, JS_EvalFunction(ctx, val));
    }
    if (JS_IsException(val)) {
        js_std_dump_error(ctx);
        exit(1);
    }
    JS_FreeValue(ctx, val);
    return finish(ctx);
}
