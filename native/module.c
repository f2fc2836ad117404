/* JS bindings of the wgts_native QuickJS module (contract:
 * wgts_native.d.ts). Wrong JS types throw TypeError; bad values (offsets
 * outside a view, out-of-range integers) return -EINVAL; system errors
 * return -errno. Packet paths only read arguments and never create JS
 * objects. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "quickjs.h"
#include "wgts_native.h"
#include "x25519.h"

/* aeadSeal / aeadOpen, bound in aead_js.c */
extern const JSCFunctionListEntry wgts_aead_exports[];
extern const int wgts_aead_exports_count;

/* Class ids of Uint8Array and Int32Array, taken from live instances since
 * QuickJS does not export its builtin class ids. */
static JSClassID uint8_array_class, int32_array_class;

/* Outcome of reading one argument: OK, a TypeError is pending, or a value of
 * the right type that the function must refuse with -EINVAL. */
enum { ARG_OK = 0, ARG_THROWN = -1, ARG_INVALID = 1 };

static int arg_int(JSContext *ctx, JSValueConst v, int32_t *out)
{
    int tag = JS_VALUE_GET_TAG(v);

    if (tag == JS_TAG_INT) {
        *out = JS_VALUE_GET_INT(v);
        return ARG_OK;
    }
    if (JS_TAG_IS_FLOAT64(tag)) {
        double d = JS_VALUE_GET_FLOAT64(v);
        if (!(d >= INT32_MIN && d <= INT32_MAX) || d != (double)(int32_t)d)
            return ARG_INVALID;
        *out = (int32_t)d;
        return ARG_OK;
    }
    JS_ThrowTypeError(ctx, "wgts_native: expected a number");
    return ARG_THROWN;
}

/* uint32 values such as firewall marks may exceed int32 */
static int arg_u32(JSContext *ctx, JSValueConst v, uint32_t *out)
{
    int tag = JS_VALUE_GET_TAG(v);

    if (tag == JS_TAG_INT) {
        if (JS_VALUE_GET_INT(v) < 0)
            return ARG_INVALID;
        *out = (uint32_t)JS_VALUE_GET_INT(v);
        return ARG_OK;
    }
    if (JS_TAG_IS_FLOAT64(tag)) {
        double d = JS_VALUE_GET_FLOAT64(v);
        if (!(d >= 0 && d <= 4294967295.0) || d != (double)(uint32_t)d)
            return ARG_INVALID;
        *out = (uint32_t)d;
        return ARG_OK;
    }
    JS_ThrowTypeError(ctx, "wgts_native: expected a number");
    return ARG_THROWN;
}

/* The bytes a typed array views, with its length in bytes. */
static int arg_view(JSContext *ctx, JSValueConst v, JSClassID class_id, const char *type_name,
                    uint8_t **p, size_t *len)
{
    size_t offset, length, buffer_len;
    uint8_t *base;
    JSValue buffer;

    if (JS_GetClassID(v) != class_id) {
        JS_ThrowTypeError(ctx, "wgts_native: expected a %s", type_name);
        return ARG_THROWN;
    }
    buffer = JS_GetTypedArrayBuffer(ctx, v, &offset, &length, NULL);
    if (JS_IsException(buffer))
        return ARG_THROWN;
    base = JS_GetArrayBuffer(ctx, &buffer_len, buffer);
    JS_FreeValue(ctx, buffer);
    if (base == NULL || offset > buffer_len || length > buffer_len - offset) {
        /* empty, or a view a resized buffer no longer covers */
        *p = base;
        *len = 0;
        return ARG_OK;
    }
    *p = base + offset;
    *len = length;
    return ARG_OK;
}

static int arg_bytes(JSContext *ctx, JSValueConst v, uint8_t **p, size_t *len)
{
    return arg_view(ctx, v, uint8_array_class, "Uint8Array", p, len);
}

/* An Int32Array as (pointer, number of elements). */
static int arg_int32s(JSContext *ctx, JSValueConst v, int32_t **p, size_t *count)
{
    uint8_t *bytes;
    size_t len;
    int rc = arg_view(ctx, v, int32_array_class, "Int32Array", &bytes, &len);

    *p = (int32_t *)(void *)bytes;
    *count = len / sizeof(int32_t);
    return rc;
}

/* A range [off, off+len) inside a view of view_len elements. */
static int range_ok(int32_t off, int32_t len, size_t view_len)
{
    return off >= 0 && len >= 0 && (uint64_t)off + (uint64_t)len <= view_len;
}

/* Argument helpers for the bindings below: return from the binding with an
 * exception or -EINVAL when an argument is refused. */
#define EINVAL_RESULT JS_NewInt32(ctx, -EINVAL)
#define CHECK(rc)                          \
    do {                                   \
        int rc_ = (rc);                    \
        if (rc_ == ARG_THROWN)             \
            return JS_EXCEPTION;           \
        if (rc_ == ARG_INVALID)            \
            return EINVAL_RESULT;          \
    } while (0)
#define ARG_INT(i, name) \
    int32_t name;        \
    CHECK(arg_int(ctx, argv[i], &name))
#define ARG_BYTES(i, name, name_len) \
    uint8_t *name;                   \
    size_t name_len;                 \
    CHECK(arg_bytes(ctx, argv[i], &name, &name_len))
#define ARG_INT32S(i, name, name_len) \
    int32_t *name;                    \
    size_t name_len;                  \
    CHECK(arg_int32s(ctx, argv[i], &name, &name_len))

static const char *arg_string(JSContext *ctx, JSValueConst v)
{
    if (!JS_IsString(v)) {
        JS_ThrowTypeError(ctx, "wgts_native: expected a string");
        return NULL;
    }
    return JS_ToCString(ctx, v);
}

/* Calls fn(name) for a string argument. */
static JSValue with_name(JSContext *ctx, JSValueConst v, int (*fn)(const char *))
{
    const char *name = arg_string(ctx, v);
    int rc;

    if (name == NULL)
        return JS_EXCEPTION;
    rc = fn(name);
    JS_FreeCString(ctx, name);
    return JS_NewInt32(ctx, rc);
}

/* Every binding has QuickJS's generic C function signature; QuickJS pads
 * argv with undefined up to the declared length. */
#define BINDING(name)                                                            \
    static JSValue name(JSContext *ctx, JSValueConst this_val __attribute__((unused)), \
                        int argc __attribute__((unused)), JSValueConst *argv __attribute__((unused)))

/* ---------- TUN ---------- */

BINDING(js_tun_open)
{
    return with_name(ctx, argv[0], wgts_tun_open);
}

BINDING(js_set_mtu)
{
    const char *name;
    int rc;
    ARG_INT(1, mtu);

    name = arg_string(ctx, argv[0]);
    if (name == NULL)
        return JS_EXCEPTION;
    rc = wgts_set_mtu(name, mtu);
    JS_FreeCString(ctx, name);
    return JS_NewInt32(ctx, rc);
}

BINDING(js_get_mtu)
{
    return with_name(ctx, argv[0], wgts_get_mtu);
}

BINDING(js_if_index)
{
    return with_name(ctx, argv[0], wgts_if_index);
}

/* (fd, buf, off, len) → fn(fd, buf + off, len) */
static JSValue fd_io(JSContext *ctx, JSValueConst *argv, int (*fn)(int, uint8_t *, size_t))
{
    ARG_INT(0, fd);
    ARG_BYTES(1, buf, buf_len);
    ARG_INT(2, off);
    ARG_INT(3, len);
    if (!range_ok(off, len, buf_len))
        return EINVAL_RESULT;
    return JS_NewInt32(ctx, fn(fd, buf + off, (size_t)len));
}

static int fd_write(int fd, uint8_t *p, size_t len) { return wgts_fd_write(fd, p, len); }
static int sock_write(int fd, uint8_t *p, size_t len) { return wgts_sock_write(fd, p, len); }

BINDING(js_tun_read)
{
    return fd_io(ctx, argv, wgts_fd_read);
}

BINDING(js_tun_write)
{
    return fd_io(ctx, argv, fd_write);
}

/* ---------- UDP ---------- */

BINDING(js_udp_bind)
{
    uint32_t fwmark;
    ARG_INT(0, family);
    ARG_INT(1, port);
    CHECK(arg_u32(ctx, argv[2], &fwmark));
    return JS_NewInt32(ctx, wgts_udp_bind(family, port, fwmark));
}

BINDING(js_local_port)
{
    ARG_INT(0, fd);
    return JS_NewInt32(ctx, wgts_local_port(fd));
}

BINDING(js_set_fwmark)
{
    uint32_t mark;
    ARG_INT(0, fd);
    CHECK(arg_u32(ctx, argv[1], &mark));
    return JS_NewInt32(ctx, wgts_set_fwmark(fd, mark));
}

BINDING(js_udp_recv)
{
    ARG_INT(0, fd);
    ARG_BYTES(1, buf, buf_len);
    ARG_INT(2, slot_size);
    ARG_INT(3, headroom);
    ARG_INT(4, count);
    ARG_INT32S(5, meta, meta_len);
    return JS_NewInt32(ctx, wgts_udp_recv(fd, buf, buf_len, slot_size, headroom, count, meta, meta_len));
}

BINDING(js_udp_send)
{
    ARG_INT(0, fd);
    ARG_BYTES(1, buf, buf_len);
    ARG_INT(2, off);
    ARG_INT(3, len);
    ARG_INT32S(4, meta, meta_len);
    ARG_INT(5, at);
    if (!range_ok(off, len, buf_len) || !range_ok(at, WGTS_META_STRIDE, meta_len))
        return EINVAL_RESULT;
    return JS_NewInt32(ctx, wgts_udp_send(fd, buf + off, (size_t)len, meta + at));
}

BINDING(js_udp_send_batch)
{
    int32_t i;
    ARG_INT(0, fd);
    ARG_BYTES(1, buf, buf_len);
    ARG_INT32S(2, offs, offs_len);
    ARG_INT32S(3, lens, lens_len);
    ARG_INT32S(4, meta, meta_len);
    ARG_INT32S(5, meta_at, meta_at_len);
    ARG_INT(6, count);
    if (count < 0 || (size_t)count > offs_len || (size_t)count > lens_len || (size_t)count > meta_at_len)
        return EINVAL_RESULT;
    if (count > WGTS_MAX_BATCH)
        count = WGTS_MAX_BATCH;
    for (i = 0; i < count; i++)
        if (!range_ok(offs[i], lens[i], buf_len) || !range_ok(meta_at[i], WGTS_META_STRIDE, meta_len))
            return EINVAL_RESULT;
    return JS_NewInt32(ctx, wgts_udp_send_batch(fd, buf, offs, lens, meta, meta_at, count));
}

/* ---------- ChaCha20-Poly1305 over a batch, on several cores ---------- */

/* aeadBatch(open, buf, jobs, keys, count): job layout in wgts_native.h */
BINDING(js_aead_batch)
{
    ARG_INT(0, open);
    ARG_BYTES(1, buf, buf_len);
    ARG_INT32S(2, jobs, jobs_len);
    ARG_BYTES(3, keys, keys_len);
    ARG_INT(4, count);
    if (count < 0 || (open != 0 && open != 1) || (size_t)count > jobs_len / WGTS_AEAD_JOB_STRIDE ||
        (size_t)count > keys_len / 32)
        return EINVAL_RESULT;
    return JS_NewInt32(ctx, wgts_aead_batch(open, buf, buf_len, jobs, keys, count));
}

BINDING(js_crypto_threads)
{
    ARG_INT(0, wanted);
    return JS_NewInt32(ctx, wgts_crypto_threads(wanted));
}

BINDING(js_cpu_count)
{
    return JS_NewInt32(ctx, wgts_cpu_count());
}

/* ---------- unix stream sockets ---------- */

BINDING(js_unix_listen)
{
    return with_name(ctx, argv[0], wgts_unix_listen);
}

BINDING(js_unix_accept)
{
    ARG_INT(0, fd);
    return JS_NewInt32(ctx, wgts_unix_accept(fd));
}

BINDING(js_unix_connect)
{
    return with_name(ctx, argv[0], wgts_unix_connect);
}

BINDING(js_peer_uid)
{
    ARG_INT(0, fd);
    return JS_NewInt64(ctx, wgts_peer_uid(fd));
}

BINDING(js_sock_read)
{
    return fd_io(ctx, argv, wgts_sock_read);
}

BINDING(js_sock_write)
{
    return fd_io(ctx, argv, sock_write);
}

/* ---------- process ---------- */

BINDING(js_fork)
{
    return JS_NewInt32(ctx, wgts_fork());
}

BINDING(js_setsid)
{
    return JS_NewInt32(ctx, wgts_setsid());
}

BINDING(js_getrandom)
{
    ARG_BYTES(0, buf, buf_len);
    ARG_INT(1, off);
    ARG_INT(2, len);
    if (!range_ok(off, len, buf_len))
        return EINVAL_RESULT;
    return JS_NewInt32(ctx, wgts_getrandom(buf + off, (size_t)len));
}

BINDING(js_wall_ms)
{
    return JS_NewFloat64(ctx, wgts_wall_ms());
}

BINDING(js_umask)
{
    ARG_INT(0, mask);
    return JS_NewInt32(ctx, wgts_umask(mask));
}

BINDING(js_strerror)
{
    ARG_INT(0, err);
    return JS_NewString(ctx, strerror(err < 0 ? -err : err));
}

/* ---------- X25519 ---------- */

/* x25519(out, scalar, point): three 32-byte views; out may be either input. */
BINDING(js_x25519)
{
    ARG_BYTES(0, out, out_len);
    ARG_BYTES(1, scalar, scalar_len);
    ARG_BYTES(2, point, point_len);
    if (out_len != WGTS_X25519_LEN || scalar_len != WGTS_X25519_LEN || point_len != WGTS_X25519_LEN)
        return EINVAL_RESULT;
    wgts_x25519(out, scalar, point);
    return JS_NewInt32(ctx, 0);
}

/* src/crypto/x25519.ts looks for this global when it loads, so the pure
 * handshake code picks the native X25519 wherever this runtime runs it,
 * without importing wgts_native (which Node has not). */
static void define_x25519_global(JSContext *ctx)
{
    JSValue global = JS_GetGlobalObject(ctx);

    JS_DefinePropertyValueStr(ctx, global, "wgtsNativeX25519",
                              JS_NewCFunction(ctx, js_x25519, "x25519", 3), JS_PROP_CONFIGURABLE);
    JS_FreeValue(ctx, global);
}

/* errno values differ between architectures (EADDRINUSE is 98 on x86 and
 * ARM, 125 on MIPS), so JS compares against these, never literals. */
#define ERRNO_DEF(name) JS_PROP_INT32_DEF(#name, name, JS_PROP_ENUMERABLE)
static const JSCFunctionListEntry errno_values[] = {
    ERRNO_DEF(EPERM), ERRNO_DEF(ENOENT), ERRNO_DEF(EINTR), ERRNO_DEF(EIO), ERRNO_DEF(EBADF),
    ERRNO_DEF(EAGAIN), ERRNO_DEF(ENOMEM), ERRNO_DEF(EACCES), ERRNO_DEF(EBUSY), ERRNO_DEF(EEXIST),
    ERRNO_DEF(ENODEV), ERRNO_DEF(EINVAL), ERRNO_DEF(EMFILE), ERRNO_DEF(EPIPE), ERRNO_DEF(ENAMETOOLONG),
    ERRNO_DEF(ENOSYS), ERRNO_DEF(ENOTSOCK), ERRNO_DEF(EMSGSIZE), ERRNO_DEF(ENOPROTOOPT),
    ERRNO_DEF(EAFNOSUPPORT), ERRNO_DEF(EADDRINUSE), ERRNO_DEF(EADDRNOTAVAIL), ERRNO_DEF(ENETDOWN),
    ERRNO_DEF(ENETUNREACH), ERRNO_DEF(ECONNRESET), ERRNO_DEF(ENOBUFS), ERRNO_DEF(ENOTCONN),
    ERRNO_DEF(ECONNREFUSED), ERRNO_DEF(EHOSTUNREACH), ERRNO_DEF(EBADFD),
};

static const JSCFunctionListEntry wgts_native_exports[] = {
    JS_CFUNC_DEF("tunOpen", 1, js_tun_open),
    JS_CFUNC_DEF("setMtu", 2, js_set_mtu),
    JS_CFUNC_DEF("getMtu", 1, js_get_mtu),
    JS_CFUNC_DEF("ifIndex", 1, js_if_index),
    JS_CFUNC_DEF("tunRead", 4, js_tun_read),
    JS_CFUNC_DEF("tunWrite", 4, js_tun_write),
    JS_CFUNC_DEF("udpBind", 3, js_udp_bind),
    JS_CFUNC_DEF("localPort", 1, js_local_port),
    JS_CFUNC_DEF("setFwmark", 2, js_set_fwmark),
    JS_CFUNC_DEF("udpRecv", 6, js_udp_recv),
    JS_CFUNC_DEF("udpSend", 6, js_udp_send),
    JS_CFUNC_DEF("udpSendBatch", 7, js_udp_send_batch),
    JS_PROP_INT32_DEF("META_STRIDE", WGTS_META_STRIDE, 0),
    JS_CFUNC_DEF("aeadBatch", 5, js_aead_batch),
    JS_PROP_INT32_DEF("AEAD_JOB_STRIDE", WGTS_AEAD_JOB_STRIDE, 0),
    JS_CFUNC_DEF("cryptoThreads", 1, js_crypto_threads),
    JS_CFUNC_DEF("cpuCount", 0, js_cpu_count),
    JS_CFUNC_DEF("unixListen", 1, js_unix_listen),
    JS_CFUNC_DEF("unixAccept", 1, js_unix_accept),
    JS_CFUNC_DEF("unixConnect", 1, js_unix_connect),
    JS_CFUNC_DEF("peerUid", 1, js_peer_uid),
    JS_CFUNC_DEF("sockRead", 4, js_sock_read),
    JS_CFUNC_DEF("sockWrite", 4, js_sock_write),
    JS_CFUNC_DEF("fork", 0, js_fork),
    JS_CFUNC_DEF("setsid", 0, js_setsid),
    JS_CFUNC_DEF("getrandom", 3, js_getrandom),
    JS_CFUNC_DEF("wallMs", 0, js_wall_ms),
    JS_CFUNC_DEF("umask", 1, js_umask),
    JS_CFUNC_DEF("strerror", 1, js_strerror),
    JS_CFUNC_DEF("x25519", 3, js_x25519),
    JS_OBJECT_DEF("errno", errno_values, (int)(sizeof(errno_values) / sizeof(errno_values[0])), 0),
};

#define EXPORT_COUNT ((int)(sizeof(wgts_native_exports) / sizeof(wgts_native_exports[0])))

static JSClassID typed_array_class(JSContext *ctx, JSTypedArrayEnum type)
{
    JSValue zero = JS_NewInt32(ctx, 0);
    JSValue array = JS_NewTypedArray(ctx, 1, &zero, type);
    JSClassID id = JS_GetClassID(array);

    JS_FreeValue(ctx, array);
    return id;
}

static int wgts_native_init(JSContext *ctx, JSModuleDef *m)
{
    if (JS_SetModuleExportList(ctx, m, wgts_native_exports, EXPORT_COUNT) < 0)
        return -1;
    return JS_SetModuleExportList(ctx, m, wgts_aead_exports, wgts_aead_exports_count);
}

JSModuleDef *js_init_module_wgts_native(JSContext *ctx, const char *module_name)
{
    JSModuleDef *m;

    uint8_array_class = typed_array_class(ctx, JS_TYPED_ARRAY_UINT8);
    int32_array_class = typed_array_class(ctx, JS_TYPED_ARRAY_INT32);
    define_x25519_global(ctx);
    m = JS_NewCModule(ctx, module_name, wgts_native_init);
    if (m == NULL)
        return NULL;
    if (JS_AddModuleExportList(ctx, m, wgts_native_exports, EXPORT_COUNT) < 0)
        return NULL;
    if (JS_AddModuleExportList(ctx, m, wgts_aead_exports, wgts_aead_exports_count) < 0)
        return NULL;
    return m;
}
