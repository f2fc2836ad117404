/* ChaCha20-Poly1305 AEAD (RFC 8439) for WireGuard's data path.
 * Twin of createJsAead() in src/crypto/aead.ts: the same bytes in, the same
 * bytes out. No allocation; buffers may be unaligned. */
#ifndef WGTS_CHACHA20POLY1305_H
#define WGTS_CHACHA20POLY1305_H

#include <stddef.h>
#include <stdint.h>

#define WGTS_AEAD_KEY_LEN 32
#define WGTS_AEAD_TAG_LEN 16
#define WGTS_AEAD_NONCE_LEN 12

/* Seals buf[0,len) in place and writes the 16-byte tag at buf+len.
 * Nonce = 4 zero bytes || LE64(counter). aad may be NULL when aad_len is 0. */
void wgts_aead_seal(uint8_t *buf, size_t len, const uint8_t *aad, size_t aad_len,
		    uint64_t counter, const uint8_t key[WGTS_AEAD_KEY_LEN]);

/* Verifies the tag at buf+len (len excludes the tag) in constant time; on
 * success decrypts buf[0,len) in place and returns 0; else returns -1 and
 * leaves buf unchanged. */
int wgts_aead_open(uint8_t *buf, size_t len, const uint8_t *aad, size_t aad_len,
		   uint64_t counter, const uint8_t key[WGTS_AEAD_KEY_LEN]);

/* The same with a full 12-byte RFC 8439 nonce (used by the known-answer tests). */
void wgts_aead_seal_nonce(uint8_t *buf, size_t len, const uint8_t *aad, size_t aad_len,
			  const uint8_t nonce[WGTS_AEAD_NONCE_LEN], const uint8_t key[WGTS_AEAD_KEY_LEN]);
int wgts_aead_open_nonce(uint8_t *buf, size_t len, const uint8_t *aad, size_t aad_len,
			 const uint8_t nonce[WGTS_AEAD_NONCE_LEN], const uint8_t key[WGTS_AEAD_KEY_LEN]);

/* The primitives, exposed for their own RFC 8439 vectors (§2.3.2, §2.4.2, §2.5.2). */
void wgts_chacha20_block(uint8_t out[64], const uint8_t key[32], uint32_t block_counter,
			 const uint8_t nonce[12]);
void wgts_chacha20_xor(uint8_t *buf, size_t len, const uint8_t key[32], uint32_t block_counter,
		       const uint8_t nonce[12]);
void wgts_poly1305(uint8_t tag[16], const uint8_t *msg, size_t len, const uint8_t key[32]);

#endif
