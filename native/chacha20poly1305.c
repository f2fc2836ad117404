/* ChaCha20-Poly1305 (RFC 8439), written for the 32-bit router CPUs wgts runs
 * on (MIPS 24Kc big-endian, ARMv5/v7): ChaCha20 on 32-bit words, Poly1305 in
 * five 26-bit limbs so every product is a 32x32->64 multiply. */
#include "chacha20poly1305.h"

#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define WGTS_LITTLE_ENDIAN 1
#elif defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define WGTS_BIG_ENDIAN 1
#endif

/* A 4-byte memcpy compiles to one unaligned load where the CPU has one
 * (lwl/lwr on MIPS, ldr on ARMv7) and to byte loads on ARMv5. */
static inline uint32_t load_native32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static inline void store_native32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* Little-endian word <-> native word (wsbh+rotr on MIPS32r2, rev on ARMv6+). */
static inline uint32_t le32_to_native(uint32_t v)
{
#if defined(WGTS_BIG_ENDIAN)
	return __builtin_bswap32(v);
#else
	return v;
#endif
}

static inline uint32_t load_le32(const uint8_t *p)
{
#if defined(WGTS_LITTLE_ENDIAN) || defined(WGTS_BIG_ENDIAN)
	return le32_to_native(load_native32(p));
#else
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
#endif
}

static inline void store_le32(uint8_t *p, uint32_t v)
{
#if defined(WGTS_LITTLE_ENDIAN) || defined(WGTS_BIG_ENDIAN)
	store_native32(p, le32_to_native(v));
#else
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
#endif
}

static inline void store_le64(uint8_t *p, uint64_t v)
{
	store_le32(p, (uint32_t)v);
	store_le32(p + 4, (uint32_t)(v >> 32));
}

/* p[0,4) ^= keystream word k (little-endian), swapping k rather than the data. */
static inline void xor_le32(uint8_t *p, uint32_t k)
{
#if defined(WGTS_LITTLE_ENDIAN) || defined(WGTS_BIG_ENDIAN)
	store_native32(p, load_native32(p) ^ le32_to_native(k));
#else
	store_le32(p, load_le32(p) ^ k);
#endif
}

/* The hot loops are instantiated twice, for word-aligned and for unaligned
 * data: ARMv5 has no unaligned word access, so unaligned data costs four byte
 * loads per word there (measured 54 vs 30 instructions/byte), and the data
 * path's buffers are aligned. Neutral on MIPS (lwl/lwr). */
#if defined(__GNUC__)
#define WGTS_ALWAYS_INLINE inline __attribute__((always_inline))
#define WGTS_ASSUME_ALIGNED(p, aligned) ((aligned) ? __builtin_assume_aligned((p), 4) : (p))
#else
#define WGTS_ALWAYS_INLINE inline
#define WGTS_ASSUME_ALIGNED(p, aligned) ((void)(aligned), (p))
#endif

static WGTS_ALWAYS_INLINE uint32_t load_le32_at(const uint8_t *p, int aligned)
{
	return load_le32(WGTS_ASSUME_ALIGNED(p, aligned));
}

static WGTS_ALWAYS_INLINE void xor_le32_at(uint8_t *p, uint32_t k, int aligned)
{
	xor_le32(WGTS_ASSUME_ALIGNED(p, aligned), k);
}

static inline int is_word_aligned(const void *p)
{
	return ((uintptr_t)p & 3) == 0;
}

/* Secrets on the stack are cleared with a store the compiler may not drop. */
static void wipe(void *p, size_t n)
{
#if defined(__GNUC__)
	memset(p, 0, n);
	__asm__ __volatile__("" : : "r"(p) : "memory");
#else
	volatile uint8_t *v = p;
	while (n--)
		*v++ = 0;
#endif
}

/* ---------------------------------------------------------------- ChaCha20 */

#define ROTL32(v, n) (((v) << (n)) | ((v) >> (32 - (n))))

#define QUARTER_ROUND(a, b, c, d)                 \
	do {                                      \
		a += b; d ^= a; d = ROTL32(d, 16); \
		c += d; b ^= c; b = ROTL32(b, 12); \
		a += b; d ^= a; d = ROTL32(d, 8);  \
		c += d; b ^= c; b = ROTL32(b, 7);  \
	} while (0)

static void chacha20_init(uint32_t s[16], const uint8_t key[32], uint32_t block_counter,
			  const uint8_t nonce[12])
{
	s[0] = 0x61707865; /* "expand 32-byte k" */
	s[1] = 0x3320646e;
	s[2] = 0x79622d32;
	s[3] = 0x6b206574;
	for (int i = 0; i < 8; i++)
		s[4 + i] = load_le32(key + 4 * i);
	s[12] = block_counter;
	s[13] = load_le32(nonce);
	s[14] = load_le32(nonce + 4);
	s[15] = load_le32(nonce + 8);
}

/* XORs the keystream into buf[0,len), advancing the block counter s[12].
 * The working state lives in sixteen locals so it stays in registers. */
static WGTS_ALWAYS_INLINE void chacha20_stream_at(uint32_t s[16], uint8_t *buf, size_t len, int aligned)
{
	while (len > 0) {
		uint32_t x0 = s[0], x1 = s[1], x2 = s[2], x3 = s[3];
		uint32_t x4 = s[4], x5 = s[5], x6 = s[6], x7 = s[7];
		uint32_t x8 = s[8], x9 = s[9], x10 = s[10], x11 = s[11];
		uint32_t x12 = s[12], x13 = s[13], x14 = s[14], x15 = s[15];

		for (int i = 0; i < 10; i++) {
			QUARTER_ROUND(x0, x4, x8, x12);
			QUARTER_ROUND(x1, x5, x9, x13);
			QUARTER_ROUND(x2, x6, x10, x14);
			QUARTER_ROUND(x3, x7, x11, x15);
			QUARTER_ROUND(x0, x5, x10, x15);
			QUARTER_ROUND(x1, x6, x11, x12);
			QUARTER_ROUND(x2, x7, x8, x13);
			QUARTER_ROUND(x3, x4, x9, x14);
		}
		x0 += s[0]; x1 += s[1]; x2 += s[2]; x3 += s[3];
		x4 += s[4]; x5 += s[5]; x6 += s[6]; x7 += s[7];
		x8 += s[8]; x9 += s[9]; x10 += s[10]; x11 += s[11];
		x12 += s[12]; x13 += s[13]; x14 += s[14]; x15 += s[15];
		/* 32-bit block counter: WireGuard packets are far below 256 GiB. */
		s[12]++;

		if (len >= 64) {
			xor_le32_at(buf + 0, x0, aligned); xor_le32_at(buf + 4, x1, aligned);
			xor_le32_at(buf + 8, x2, aligned); xor_le32_at(buf + 12, x3, aligned);
			xor_le32_at(buf + 16, x4, aligned); xor_le32_at(buf + 20, x5, aligned);
			xor_le32_at(buf + 24, x6, aligned); xor_le32_at(buf + 28, x7, aligned);
			xor_le32_at(buf + 32, x8, aligned); xor_le32_at(buf + 36, x9, aligned);
			xor_le32_at(buf + 40, x10, aligned); xor_le32_at(buf + 44, x11, aligned);
			xor_le32_at(buf + 48, x12, aligned); xor_le32_at(buf + 52, x13, aligned);
			xor_le32_at(buf + 56, x14, aligned); xor_le32_at(buf + 60, x15, aligned);
			buf += 64;
			len -= 64;
		} else {
			uint8_t ks[64];
			store_le32(ks + 0, x0); store_le32(ks + 4, x1);
			store_le32(ks + 8, x2); store_le32(ks + 12, x3);
			store_le32(ks + 16, x4); store_le32(ks + 20, x5);
			store_le32(ks + 24, x6); store_le32(ks + 28, x7);
			store_le32(ks + 32, x8); store_le32(ks + 36, x9);
			store_le32(ks + 40, x10); store_le32(ks + 44, x11);
			store_le32(ks + 48, x12); store_le32(ks + 52, x13);
			store_le32(ks + 56, x14); store_le32(ks + 60, x15);
			for (size_t i = 0; i < len; i++)
				buf[i] ^= ks[i];
			wipe(ks, sizeof ks);
			len = 0;
		}
	}
}

static void chacha20_stream(uint32_t s[16], uint8_t *buf, size_t len)
{
	if (is_word_aligned(buf))
		chacha20_stream_at(s, buf, len, 1);
	else
		chacha20_stream_at(s, buf, len, 0);
}

void wgts_chacha20_xor(uint8_t *buf, size_t len, const uint8_t key[32], uint32_t block_counter,
		       const uint8_t nonce[12])
{
	uint32_t s[16];

	chacha20_init(s, key, block_counter, nonce);
	chacha20_stream(s, buf, len);
	wipe(s, sizeof s);
}

void wgts_chacha20_block(uint8_t out[64], const uint8_t key[32], uint32_t block_counter,
			 const uint8_t nonce[12])
{
	memset(out, 0, 64);
	wgts_chacha20_xor(out, 64, key, block_counter, nonce);
}

/* ---------------------------------------------------------------- Poly1305 */

/* h and r as five 26-bit limbs (value = sum limb[i] * 2^(26 i)). Bounds that
 * keep every sum inside its type: r limbs < 2^26 (r4 < 2^20 after clamping),
 * so 5*r < 2^29; h limbs stay below 2^27 between blocks; each of the five
 * products in a column is below 2^56, so a column sum fits in 64 bits and its
 * carry (column >> 26) fits in 32. */
struct poly1305 {
	uint32_t r[5];
	uint32_t h[5];
	uint32_t pad[4];
};

#define LIMB_MASK 0x3ffffffu
#define POLY1305_HIBIT (1u << 24) /* 2^128 expressed in limb 4 */

static void poly1305_init(struct poly1305 *st, const uint8_t key[32])
{
	uint32_t t0 = load_le32(key), t1 = load_le32(key + 4);
	uint32_t t2 = load_le32(key + 8), t3 = load_le32(key + 12);

	/* The RFC's clamp (r &= 0x0ffffffc0ffffffc0ffffffc0fffffff) folded into
	 * the limb split. */
	st->r[0] = t0 & 0x3ffffff;
	st->r[1] = ((t0 >> 26) | (t1 << 6)) & 0x3ffff03;
	st->r[2] = ((t1 >> 20) | (t2 << 12)) & 0x3ffc0ff;
	st->r[3] = ((t2 >> 14) | (t3 << 18)) & 0x3f03fff;
	st->r[4] = (t3 >> 8) & 0x00fffff;
	for (int i = 0; i < 5; i++)
		st->h[i] = 0;
	for (int i = 0; i < 4; i++)
		st->pad[i] = load_le32(key + 16 + 4 * i);
}

/* h = (h + block + hibit * 2^128) * r mod 2^130 - 5, for nblocks 16-byte blocks. */
static WGTS_ALWAYS_INLINE void poly1305_blocks_at(struct poly1305 *st, const uint8_t *m, size_t nblocks,
						  uint32_t hibit, int aligned)
{
	const uint32_t r0 = st->r[0], r1 = st->r[1], r2 = st->r[2], r3 = st->r[3], r4 = st->r[4];
	/* 2^130 = 5 mod p, so limb products that land at 2^130 and above wrap as 5*r. */
	const uint32_t s1 = r1 * 5, s2 = r2 * 5, s3 = r3 * 5, s4 = r4 * 5;
	uint32_t h0 = st->h[0], h1 = st->h[1], h2 = st->h[2], h3 = st->h[3], h4 = st->h[4];

	while (nblocks--) {
		uint32_t t0 = load_le32_at(m, aligned), t1 = load_le32_at(m + 4, aligned);
		uint32_t t2 = load_le32_at(m + 8, aligned), t3 = load_le32_at(m + 12, aligned);
		uint64_t d0, d1, d2, d3, d4;
		uint32_t c;

		h0 += t0 & LIMB_MASK;
		h1 += ((t0 >> 26) | (t1 << 6)) & LIMB_MASK;
		h2 += ((t1 >> 20) | (t2 << 12)) & LIMB_MASK;
		h3 += ((t2 >> 14) | (t3 << 18)) & LIMB_MASK;
		h4 += (t3 >> 8) | hibit;

		d0 = (uint64_t)h0 * r0 + (uint64_t)h1 * s4 + (uint64_t)h2 * s3 + (uint64_t)h3 * s2 + (uint64_t)h4 * s1;
		d1 = (uint64_t)h0 * r1 + (uint64_t)h1 * r0 + (uint64_t)h2 * s4 + (uint64_t)h3 * s3 + (uint64_t)h4 * s2;
		d2 = (uint64_t)h0 * r2 + (uint64_t)h1 * r1 + (uint64_t)h2 * r0 + (uint64_t)h3 * s4 + (uint64_t)h4 * s3;
		d3 = (uint64_t)h0 * r3 + (uint64_t)h1 * r2 + (uint64_t)h2 * r1 + (uint64_t)h3 * r0 + (uint64_t)h4 * s4;
		d4 = (uint64_t)h0 * r4 + (uint64_t)h1 * r3 + (uint64_t)h2 * r2 + (uint64_t)h3 * r1 + (uint64_t)h4 * r0;

		/* Partial reduction: carry each column into the next, the top one
		 * back into limb 0 times 5. */
		c = (uint32_t)(d0 >> 26); h0 = (uint32_t)d0 & LIMB_MASK;
		d1 += c; c = (uint32_t)(d1 >> 26); h1 = (uint32_t)d1 & LIMB_MASK;
		d2 += c; c = (uint32_t)(d2 >> 26); h2 = (uint32_t)d2 & LIMB_MASK;
		d3 += c; c = (uint32_t)(d3 >> 26); h3 = (uint32_t)d3 & LIMB_MASK;
		d4 += c; c = (uint32_t)(d4 >> 26); h4 = (uint32_t)d4 & LIMB_MASK;
		h0 += c * 5; c = h0 >> 26; h0 &= LIMB_MASK;
		h1 += c;

		m += 16;
	}
	st->h[0] = h0; st->h[1] = h1; st->h[2] = h2; st->h[3] = h3; st->h[4] = h4;
}

static void poly1305_blocks(struct poly1305 *st, const uint8_t *m, size_t nblocks, uint32_t hibit)
{
	if (is_word_aligned(m))
		poly1305_blocks_at(st, m, nblocks, hibit, 1);
	else
		poly1305_blocks_at(st, m, nblocks, hibit, 0);
}

/* Absorbs len bytes zero-padded to a multiple of 16 (the AEAD's pad16). */
static void poly1305_padded(struct poly1305 *st, const uint8_t *m, size_t len)
{
	size_t full = len / 16, rest = len % 16;

	poly1305_blocks(st, m, full, POLY1305_HIBIT);
	if (rest) {
		uint8_t block[16] = { 0 };
		memcpy(block, m + 16 * full, rest);
		poly1305_blocks(st, block, 1, POLY1305_HIBIT);
	}
}

static void poly1305_finish(struct poly1305 *st, uint8_t tag[16])
{
	uint32_t h0 = st->h[0], h1 = st->h[1], h2 = st->h[2], h3 = st->h[3], h4 = st->h[4];
	uint32_t g0, g1, g2, g3, g4, c, use_g;
	uint64_t acc;

	/* Full carry: afterwards h < 2^130 + 2^26 < 2p, with h1 <= 2^26. */
	c = h1 >> 26; h1 &= LIMB_MASK;
	h2 += c; c = h2 >> 26; h2 &= LIMB_MASK;
	h3 += c; c = h3 >> 26; h3 &= LIMB_MASK;
	h4 += c; c = h4 >> 26; h4 &= LIMB_MASK;
	h0 += c * 5; c = h0 >> 26; h0 &= LIMB_MASK;
	h1 += c;

	/* g = h - p = h + 5 - 2^130; keep g when it did not go negative. */
	g0 = h0 + 5; c = g0 >> 26; g0 &= LIMB_MASK;
	g1 = h1 + c; c = g1 >> 26; g1 &= LIMB_MASK;
	g2 = h2 + c; c = g2 >> 26; g2 &= LIMB_MASK;
	g3 = h3 + c; c = g3 >> 26; g3 &= LIMB_MASK;
	g4 = h4 + c - (1u << 26);
	use_g = (g4 >> 31) - 1; /* all ones when g4 >= 0, without a branch */
	h0 = (h0 & ~use_g) | (g0 & use_g);
	h1 = (h1 & ~use_g) | (g1 & use_g);
	h2 = (h2 & ~use_g) | (g2 & use_g);
	h3 = (h3 & ~use_g) | (g3 & use_g);
	h4 = (h4 & ~use_g) | (g4 & use_g);

	/* tag = (h + pad) mod 2^128; additions (not ORs) because h1 may be 2^26. */
	acc = (uint64_t)h0 + ((uint64_t)h1 << 26) + st->pad[0];
	store_le32(tag, (uint32_t)acc);
	acc = (acc >> 32) + ((uint64_t)h2 << 20) + st->pad[1];
	store_le32(tag + 4, (uint32_t)acc);
	acc = (acc >> 32) + ((uint64_t)h3 << 14) + st->pad[2];
	store_le32(tag + 8, (uint32_t)acc);
	acc = (acc >> 32) + ((uint64_t)h4 << 8) + st->pad[3];
	store_le32(tag + 12, (uint32_t)acc);
}

void wgts_poly1305(uint8_t tag[16], const uint8_t *msg, size_t len, const uint8_t key[32])
{
	struct poly1305 st;
	size_t full = len / 16, rest = len % 16;

	poly1305_init(&st, key);
	poly1305_blocks(&st, msg, full, POLY1305_HIBIT);
	if (rest) {
		/* A short final block gets a 1 byte appended instead of 2^128. */
		uint8_t block[16] = { 0 };
		memcpy(block, msg + 16 * full, rest);
		block[rest] = 1;
		poly1305_blocks(&st, block, 1, 0);
		wipe(block, sizeof block);
	}
	poly1305_finish(&st, tag);
	wipe(&st, sizeof st);
}

/* ---------------------------------------------------------------- AEAD */

/* Block 0 of the keystream gives the one-time Poly1305 key; the message
 * is encrypted from block 1 on. */
static void aead_begin(uint32_t s[16], uint8_t block0[64], const uint8_t key[32],
		       const uint8_t nonce[12])
{
	chacha20_init(s, key, 0, nonce);
	memset(block0, 0, 64);
	chacha20_stream(s, block0, 64);
}

static void aead_tag(uint8_t tag[16], const uint8_t poly_key[32], const uint8_t *aad,
		     size_t aad_len, const uint8_t *ciphertext, size_t len)
{
	struct poly1305 st;
	uint8_t lengths[16];

	poly1305_init(&st, poly_key);
	poly1305_padded(&st, aad, aad_len);
	poly1305_padded(&st, ciphertext, len);
	store_le64(lengths, aad_len);
	store_le64(lengths + 8, len);
	poly1305_blocks(&st, lengths, 1, POLY1305_HIBIT);
	poly1305_finish(&st, tag);
	wipe(&st, sizeof st);
}

/* 1 when equal; time depends only on the length. */
static int tag_equal(const uint8_t a[16], const uint8_t b[16])
{
	uint32_t diff = 0;

	for (int i = 0; i < 16; i++)
		diff |= (uint32_t)(a[i] ^ b[i]);
	return (int)(((diff - 1) >> 8) & 1);
}

void wgts_aead_seal_nonce(uint8_t *buf, size_t len, const uint8_t *aad, size_t aad_len,
			  const uint8_t nonce[12], const uint8_t key[32])
{
	uint32_t s[16];
	uint8_t block0[64];

	aead_begin(s, block0, key, nonce);
	chacha20_stream(s, buf, len);
	aead_tag(buf + len, block0, aad, aad_len, buf, len);
	wipe(s, sizeof s);
	wipe(block0, sizeof block0);
}

int wgts_aead_open_nonce(uint8_t *buf, size_t len, const uint8_t *aad, size_t aad_len,
			 const uint8_t nonce[12], const uint8_t key[32])
{
	uint32_t s[16];
	uint8_t block0[64];
	uint8_t tag[16];
	int ok;

	aead_begin(s, block0, key, nonce);
	aead_tag(tag, block0, aad, aad_len, buf, len);
	ok = tag_equal(tag, buf + len);
	if (ok)
		chacha20_stream(s, buf, len);
	wipe(s, sizeof s);
	wipe(block0, sizeof block0);
	wipe(tag, sizeof tag);
	return ok ? 0 : -1;
}

static void wireguard_nonce(uint8_t nonce[12], uint64_t counter)
{
	store_le32(nonce, 0);
	store_le64(nonce + 4, counter);
}

void wgts_aead_seal(uint8_t *buf, size_t len, const uint8_t *aad, size_t aad_len,
		    uint64_t counter, const uint8_t key[32])
{
	uint8_t nonce[12];

	wireguard_nonce(nonce, counter);
	wgts_aead_seal_nonce(buf, len, aad, aad_len, nonce, key);
}

int wgts_aead_open(uint8_t *buf, size_t len, const uint8_t *aad, size_t aad_len,
		   uint64_t counter, const uint8_t key[32])
{
	uint8_t nonce[12];

	wireguard_nonce(nonce, counter);
	return wgts_aead_open_nonce(buf, len, aad, aad_len, nonce, key);
}
