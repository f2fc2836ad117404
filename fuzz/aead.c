/* libFuzzer harness for native/chacha20poly1305.c, the AEAD of the data
 * path. For every input (see aead_input.h) at an unaligned offset:
 *  - seal with the WireGuard counter equals seal with the full RFC 8439 nonce;
 *  - seal agrees byte for byte with OpenSSL's ChaCha20-Poly1305 (when built
 *    with -DWGTS_FUZZ_OPENSSL): an independent implementation;
 *  - open(seal(x)) gives x back;
 *  - one flipped bit anywhere in aad, ciphertext or tag makes open fail and
 *    leave the buffer as it was;
 *  - the raw input opened as ciphertext||tag fails without touching the buffer
 *    (a forgery would be a 2^-128 event);
 *  - ChaCha20 over the whole buffer equals ChaCha20 in two parts split at a
 *    block boundary.
 * ASan and UBSan watch every byte read and written. Any broken property aborts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../native/chacha20poly1305.h"
#include "aead_input.h"

#ifdef WGTS_FUZZ_OPENSSL
#include <openssl/evp.h>

/* OpenSSL's ChaCha20-Poly1305 of (key, nonce, aad, pt) into out (len + 16 bytes). */
static void openssl_seal(uint8_t *out, const uint8_t *pt, size_t len, const uint8_t *aad, size_t aad_len,
			 const uint8_t nonce[12], const uint8_t key[32])
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0;

	if (ctx == NULL || EVP_EncryptInit_ex(ctx, EVP_chacha20_poly1305(), NULL, key, nonce) != 1)
		abort();
	if (aad_len > 0 && EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1)
		abort();
	if (len > 0 && EVP_EncryptUpdate(ctx, out, &n, pt, (int)len) != 1)
		abort();
	if (EVP_EncryptFinal_ex(ctx, out + len, &n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, out + len) != 1)
		abort();
	EVP_CIPHER_CTX_free(ctx);
}
#endif

#define REQUIRE(cond, what)                                      \
	do {                                                     \
		if (!(cond)) {                                   \
			fprintf(stderr, "property failed: %s\n", what); \
			abort();                                 \
		}                                                \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct aead_case c;
	uint8_t header[CASE_HEADER], nonce[12];
	uint8_t *work, *copy, *aad;
	size_t i, sealed_len;

	aead_case_from(&c, data, size, header);
	sealed_len = c.pt_len + WGTS_AEAD_TAG_LEN;
	/* Exactly sized heap buffers, so ASan sees any byte outside them. */
	work = malloc(c.offset + sealed_len);
	copy = malloc(c.offset + sealed_len);
	aad = malloc(c.aad_len ? c.aad_len : 1);
	if (work == NULL || copy == NULL || aad == NULL)
		abort();
	memcpy(aad, c.aad, c.aad_len);
	memset(nonce, 0, 4);
	for (i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(c.counter >> (8 * i));

	/* seal (counter) == seal (nonce) */
	memcpy(work + c.offset, c.pt, c.pt_len);
	wgts_aead_seal(work + c.offset, c.pt_len, c.aad_len ? aad : NULL, c.aad_len, c.counter, c.key);
	memcpy(copy + c.offset, c.pt, c.pt_len);
	wgts_aead_seal_nonce(copy + c.offset, c.pt_len, aad, c.aad_len, nonce, c.key);
	REQUIRE(memcmp(work + c.offset, copy + c.offset, sealed_len) == 0, "seal with counter != seal with nonce");

#ifdef WGTS_FUZZ_OPENSSL
	openssl_seal(copy + c.offset, c.pt, c.pt_len, aad, c.aad_len, nonce, c.key);
	REQUIRE(memcmp(work + c.offset, copy + c.offset, sealed_len) == 0, "seal differs from OpenSSL");
#endif

	/* one flipped bit: open fails, buffer untouched */
	{
		size_t bits = (c.aad_len + sealed_len) * 8, bit = c.flip % bits;
		uint8_t *target;
		memcpy(copy + c.offset, work + c.offset, sealed_len);
		target = bit / 8 < c.aad_len ? aad + bit / 8 : copy + c.offset + (bit / 8 - c.aad_len);
		*target ^= (uint8_t)(1 << (bit % 8));
		{
			uint8_t *before = malloc(sealed_len);
			if (before == NULL)
				abort();
			memcpy(before, copy + c.offset, sealed_len);
			REQUIRE(wgts_aead_open(copy + c.offset, c.pt_len, c.aad_len ? aad : NULL, c.aad_len, c.counter, c.key) == -1,
				"a flipped bit was accepted");
			REQUIRE(memcmp(before, copy + c.offset, sealed_len) == 0, "a failed open changed the buffer");
			free(before);
		}
		*target ^= (uint8_t)(1 << (bit % 8));
	}

	/* open(seal(x)) == x */
	REQUIRE(wgts_aead_open(work + c.offset, c.pt_len, c.aad_len ? aad : NULL, c.aad_len, c.counter, c.key) == 0,
		"open refused its own seal");
	REQUIRE(c.pt_len == 0 || memcmp(work + c.offset, c.pt, c.pt_len) == 0, "open(seal(x)) != x");

	/* the raw input as ciphertext||tag: refused, untouched */
	if (c.pt_len >= WGTS_AEAD_TAG_LEN) {
		size_t ct = c.pt_len - WGTS_AEAD_TAG_LEN;
		memcpy(work + c.offset, c.pt, c.pt_len);
		REQUIRE(wgts_aead_open(work + c.offset, ct, c.aad_len ? aad : NULL, c.aad_len, c.counter, c.key) == -1,
			"an arbitrary input authenticated");
		REQUIRE(memcmp(work + c.offset, c.pt, c.pt_len) == 0, "a failed open changed the buffer");
	}

	/* ChaCha20 in one piece == in two pieces split at a block boundary */
	if (c.pt_len > 0) {
		size_t split = ((size_t)header[42] % (c.pt_len / 64 + 1)) * 64;
		memcpy(work + c.offset, c.pt, c.pt_len);
		memcpy(copy + c.offset, c.pt, c.pt_len);
		wgts_chacha20_xor(work + c.offset, c.pt_len, c.key, 1, nonce);
		wgts_chacha20_xor(copy + c.offset, split, c.key, 1, nonce);
		wgts_chacha20_xor(copy + c.offset + split, c.pt_len - split, c.key, (uint32_t)(1 + split / 64), nonce);
		REQUIRE(memcmp(work + c.offset, copy + c.offset, c.pt_len) == 0, "ChaCha20 depends on how the buffer is split");
	}

	free(work);
	free(copy);
	free(aad);
	return 0;
}
