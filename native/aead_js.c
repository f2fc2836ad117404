/* JS bindings of the ChaCha20-Poly1305 data path: aeadSeal and aeadOpen of
 * the wgts_native module (contract in wgts_native.d.ts; module.c registers
 * wgts_aead_exports). Conventions as in module.c: a wrong JS type throws
 * TypeError; a bad value (key not 32 bytes, range outside the view, negative
 * or fractional numbers) returns -EINVAL and touches nothing. Each call only
 * reads its arguments: no allocation, no copy. */
#include <errno.h>
#include <stdint.h>

#include "quickjs.h"
#include "chacha20poly1305.h"

enum { ARG_OK = 0, ARG_THROWN = -1, ARG_INVALID = 1 };

/* A non-negative int32 (offsets and lengths). */
static int arg_size(JSContext *ctx, JSValueConst v, int32_t *out)
{
	int tag = JS_VALUE_GET_TAG(v);

	if (tag == JS_TAG_INT) {
		*out = JS_VALUE_GET_INT(v);
		return *out >= 0 ? ARG_OK : ARG_INVALID;
	}
	if (JS_TAG_IS_FLOAT64(tag)) {
		double d = JS_VALUE_GET_FLOAT64(v);
		if (!(d >= 0 && d <= INT32_MAX) || d != (double)(int32_t)d)
			return ARG_INVALID;
		*out = (int32_t)d;
		return ARG_OK;
	}
	JS_ThrowTypeError(ctx, "wgts_native: expected a number");
	return ARG_THROWN;
}

/* A counter half: a uint32, or the same bits as an int32 (what `x | 0` gives,
 * which QuickJS keeps unboxed). */
static int arg_word(JSContext *ctx, JSValueConst v, uint32_t *out)
{
	int tag = JS_VALUE_GET_TAG(v);

	if (tag == JS_TAG_INT) {
		*out = (uint32_t)JS_VALUE_GET_INT(v);
		return ARG_OK;
	}
	if (JS_TAG_IS_FLOAT64(tag)) {
		double d = JS_VALUE_GET_FLOAT64(v);
		if (!(d >= INT32_MIN && d <= UINT32_MAX) || d != (double)(int64_t)d)
			return ARG_INVALID;
		*out = (uint32_t)(int64_t)d;
		return ARG_OK;
	}
	JS_ThrowTypeError(ctx, "wgts_native: expected a number");
	return ARG_THROWN;
}

/* The bytes a Uint8Array views. */
static int arg_bytes(JSContext *ctx, JSValueConst v, uint8_t **p, size_t *len)
{
	size_t offset, length, element_size, buffer_len;
	uint8_t *base;
	JSValue buffer;

	buffer = JS_GetTypedArrayBuffer(ctx, v, &offset, &length, &element_size);
	if (JS_IsException(buffer))
		return ARG_THROWN;
	base = JS_GetArrayBuffer(ctx, &buffer_len, buffer);
	/* The view still holds the buffer, so base stays valid for this call. */
	JS_FreeValue(ctx, buffer);
	if (base == NULL)
		return ARG_THROWN;
	if (element_size != 1) {
		JS_ThrowTypeError(ctx, "wgts_native: expected a Uint8Array");
		return ARG_THROWN;
	}
	if (offset > buffer_len || length > buffer_len - offset)
		return ARG_INVALID; /* a view its (resized) buffer no longer covers */
	*p = base + offset;
	*len = length;
	return ARG_OK;
}

/* The arguments both functions share:
 * (key, counterLo, counterHi, aad | null, buf, off, len). */
struct aead_args {
	uint8_t *key;
	uint64_t counter;
	uint8_t *aad;
	size_t aad_len;
	uint8_t *data; /* buf + off */
	size_t len;
	size_t room; /* bytes from data to the end of the view */
};

static int aead_args(JSContext *ctx, JSValueConst *argv, struct aead_args *a)
{
	uint32_t lo, hi;
	int32_t off, len;
	uint8_t *buf;
	size_t key_len, buf_len;
	int rc;

	/* Numbers first, then views: reading a number runs no JS code here,
	 * so no buffer can be detached between taking its pointer and using it. */
	if ((rc = arg_word(ctx, argv[1], &lo)) != ARG_OK ||
	    (rc = arg_word(ctx, argv[2], &hi)) != ARG_OK ||
	    (rc = arg_size(ctx, argv[5], &off)) != ARG_OK ||
	    (rc = arg_size(ctx, argv[6], &len)) != ARG_OK ||
	    (rc = arg_bytes(ctx, argv[0], &a->key, &key_len)) != ARG_OK)
		return rc;
	if (JS_IsNull(argv[3]) || JS_IsUndefined(argv[3])) {
		a->aad = NULL;
		a->aad_len = 0;
	} else if ((rc = arg_bytes(ctx, argv[3], &a->aad, &a->aad_len)) != ARG_OK) {
		return rc;
	}
	if ((rc = arg_bytes(ctx, argv[4], &buf, &buf_len)) != ARG_OK)
		return rc;
	if (key_len != WGTS_AEAD_KEY_LEN || (size_t)off > buf_len || (size_t)len > buf_len - (size_t)off)
		return ARG_INVALID;
	a->counter = (uint64_t)hi << 32 | lo;
	a->data = buf + off;
	a->len = (size_t)len;
	a->room = buf_len - (size_t)off;
	return ARG_OK;
}

/* aeadSeal(key, counterLo, counterHi, aad, buf, off, len): seals
 * buf[off, off+len) in place and writes the tag after it; len + 16. */
static JSValue js_aead_seal(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
	struct aead_args a;
	int rc = aead_args(ctx, argv, &a);

	(void)this_val;
	(void)argc;
	if (rc == ARG_THROWN)
		return JS_EXCEPTION;
	/* The result len + 16 must stay an int32. */
	if (rc == ARG_INVALID || a.room - a.len < WGTS_AEAD_TAG_LEN || a.len > INT32_MAX - WGTS_AEAD_TAG_LEN)
		return JS_NewInt32(ctx, -EINVAL);
	wgts_aead_seal(a.data, a.len, a.aad, a.aad_len, a.counter, a.key);
	return JS_NewInt32(ctx, (int32_t)(a.len + WGTS_AEAD_TAG_LEN));
}

/* aeadOpen(key, counterLo, counterHi, aad, buf, off, len): buf[off, off+len)
 * is ciphertext || tag; decrypts in place and returns len - 16, or -1 when
 * the tag is wrong or len < 16 (buf then unchanged). */
static JSValue js_aead_open(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
	struct aead_args a;
	int rc = aead_args(ctx, argv, &a);

	(void)this_val;
	(void)argc;
	if (rc == ARG_THROWN)
		return JS_EXCEPTION;
	if (rc == ARG_INVALID)
		return JS_NewInt32(ctx, -EINVAL);
	if (a.len < WGTS_AEAD_TAG_LEN)
		return JS_NewInt32(ctx, -1);
	if (wgts_aead_open(a.data, a.len - WGTS_AEAD_TAG_LEN, a.aad, a.aad_len, a.counter, a.key) != 0)
		return JS_NewInt32(ctx, -1);
	return JS_NewInt32(ctx, (int32_t)(a.len - WGTS_AEAD_TAG_LEN));
}

/* QuickJS pads argv with undefined up to the declared length (7). */
const JSCFunctionListEntry wgts_aead_exports[] = {
	JS_CFUNC_DEF("aeadSeal", 7, js_aead_seal),
	JS_CFUNC_DEF("aeadOpen", 7, js_aead_open),
};

const int wgts_aead_exports_count = (int)(sizeof wgts_aead_exports / sizeof wgts_aead_exports[0]);
