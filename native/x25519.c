/* X25519 (RFC 7748) for 32-bit router CPUs.
 *
 * Field elements mod p = 2^255 - 19 are ten signed limbs in radix 2^25.5:
 * limb i weighs 2^POS(i) with POS(i) = ceil(25.5 i), so even limbs hold 26
 * bits and odd limbs 25. Every product is a 32x32->64 multiply (one mult or
 * madd on MIPS32, smull/smlal on ARM) summed into a 64-bit column.
 *
 * Why the product of limbs i and j lands in column i+j with a factor:
 *   POS(i) + POS(j) = POS(i+j) + 1 when i and j are both odd (factor 2), and
 *   POS(k + 10) = POS(k) + 255 with 2^255 = 19 mod p (factor 19 on wrap).
 *
 * Bounds: after a carry every limb is within +-2^(bits-1) (plus a few units
 * on limb 1), so the sum or difference of two carried elements stays below
 * 2^26 per limb; 19 times that fits an int32, and a column of ten products
 * (at most 2^27 * 2^30.25 each) stays below 2^61. Hence add/sub never carry
 * and mul/sq accept their results directly. Columns are carried as they are
 * completed, so each 64-bit column is touched once.
 *
 * Constant time: branches and table indices depend only on loop counters;
 * the ladder swaps with masks and the final reduction subtracts p with
 * arithmetic, not a test. */
#include "x25519.h"

#include <string.h>

#define LIMBS 10
#define POS(i) (25 * (i) + ((i) + 1) / 2)
#define BITS(i) ((i) & 1 ? 25 : 26)

/* Full unrolling turns the index arithmetic below into constants. */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 8
#define UNROLL _Pragma("GCC unroll 10")
#else
#define UNROLL
#endif

typedef int32_t fe[LIMBS];

static void fe_set_small(fe h, int32_t v)
{
	memset(h, 0, sizeof(fe));
	h[0] = v;
}

static void fe_copy(fe h, const fe f)
{
	memcpy(h, f, sizeof(fe));
}

static void fe_add(fe h, const fe f, const fe g)
{
	UNROLL
	for (int i = 0; i < LIMBS; i++)
		h[i] = f[i] + g[i];
}

static void fe_sub(fe h, const fe f, const fe g)
{
	UNROLL
	for (int i = 0; i < LIMBS; i++)
		h[i] = f[i] - g[i];
}

/* Column k is complete: keep its remainder, rounded to within
 * +-2^(bits-1), as limb k and return the rest for column k + 1. Only the
 * carry needs 64 bits; the remainder is the column's low word. */
static inline int64_t settle(int32_t *limb, int64_t column, int bits)
{
	int64_t carry = (column + ((int64_t)1 << (bits - 1))) >> bits;

	*limb = (int32_t)((uint32_t)column - ((uint32_t)carry << bits));
	return carry;
}

/* What overflows limb 9 weighs 2^255 = 19: it re-enters at limb 0, and one
 * more carry (a few units at most) moves into limb 1. */
static inline void fold_top(fe h, int64_t carry)
{
	int64_t low = h[0] + carry * 19;

	carry = (low + ((int64_t)1 << 25)) >> 26;
	h[0] = (int32_t)((uint32_t)low - ((uint32_t)carry << 26));
	h[1] += (int32_t)carry;
}

/* Columns (each below 2^62) to limbs. */
static void fe_carry(fe h, const int64_t t[LIMBS])
{
	int64_t carry = 0;

	UNROLL
	for (int k = 0; k < LIMBS; k++)
		carry = settle(&h[k], t[k] + carry, BITS(k));
	fold_top(h, carry);
}

/* h = f * g. Column k sums f[i] * g[k - i] over all i, the index wrapping
 * (factor 19) below zero; odd times odd counts twice. Each column starts
 * from the previous one's carry. h may alias f or g. */
static void fe_mul(fe h, const fe f, const fe g)
{
	int32_t g19[LIMBS], f_odd2[LIMBS], r[LIMBS];
	int64_t carry = 0;

	UNROLL
	for (int i = 0; i < LIMBS; i++) {
		g19[i] = 19 * g[i];
		f_odd2[i] = (i & 1) ? 2 * f[i] : f[i];
	}
	UNROLL
	for (int k = 0; k < LIMBS; k++) {
		int64_t column = carry;
		UNROLL
		for (int i = 0; i < LIMBS; i++) {
			int j = k - i; /* negative: wrapped, same parity as j + 10 */
			int32_t a = (j & 1) ? f_odd2[i] : f[i];
			int32_t b = j >= 0 ? g[j] : g19[j + LIMBS];
			column += (int64_t)a * b;
		}
		carry = settle(&r[k], column, BITS(k));
	}
	fold_top(r, carry);
	fe_copy(h, r);
}

/* h = f^2: as fe_mul with f = g, each unordered pair i < j taken once and
 * doubled. h may alias f. */
static void fe_sq(fe h, const fe f)
{
	int32_t f19[LIMBS], r[LIMBS];
	int64_t carry = 0;

	UNROLL
	for (int i = 0; i < LIMBS; i++)
		f19[i] = 19 * f[i];
	UNROLL
	for (int k = 0; k < LIMBS; k++) {
		int64_t column = carry;
		UNROLL
		for (int i = 0; i < LIMBS; i++) {
			int j = (k - i + LIMBS) % LIMBS;
			if (j < i)
				continue; /* counted as (j, i) */
			int shift = (i != j) + (i & j & 1); /* pair doubling, odd-odd doubling */
			int32_t a = f[i] * (1 << shift);
			int32_t b = i + j >= LIMBS ? f19[j] : f[j];
			column += (int64_t)a * b;
		}
		carry = settle(&r[k], column, BITS(k));
	}
	fold_top(r, carry);
	fe_copy(h, r);
}

/* h = f^(2^n) for n >= 1 */
static void fe_sq_times(fe h, const fe f, int n)
{
	fe_sq(h, f);
	while (--n > 0)
		fe_sq(h, h);
}

/* h = f * 121665 = f * (A - 2) / 4, the ladder's constant a24. */
static void fe_mul_a24(fe h, const fe f)
{
	int64_t carry = 0;

	UNROLL
	for (int i = 0; i < LIMBS; i++)
		carry = settle(&h[i], (int64_t)f[i] * 121665 + carry, BITS(i));
	fold_top(h, carry);
}

/* h = 1/f = f^(p-2) (Fermat); 0 for f = 0. p - 2 = (2^250 - 1) * 2^5 + 11,
 * so build f^(2^n - 1) for n = 5, 10, 20, 40, 50, 100, 200, 250 by squaring
 * and multiplying: 254 squarings and 11 multiplications. */
static void fe_invert(fe h, const fe f)
{
	fe f2, f9, f11, run5, run10, run50, run100, t;

	fe_sq(f2, f);                 /* f^2 */
	fe_sq_times(t, f2, 2);        /* f^8 */
	fe_mul(f9, t, f);             /* f^9 */
	fe_mul(f11, f9, f2);          /* f^11 */
	fe_sq(t, f11);                /* f^22 */
	fe_mul(run5, t, f9);          /* f^(2^5 - 1) */
	fe_sq_times(t, run5, 5);
	fe_mul(run10, t, run5);       /* f^(2^10 - 1) */
	fe_sq_times(t, run10, 10);
	fe_mul(t, t, run10);          /* f^(2^20 - 1) */
	fe_sq_times(run50, t, 20);
	fe_mul(run50, run50, t);      /* f^(2^40 - 1) */
	fe_sq_times(run50, run50, 10);
	fe_mul(run50, run50, run10);  /* f^(2^50 - 1) */
	fe_sq_times(t, run50, 50);
	fe_mul(run100, t, run50);     /* f^(2^100 - 1) */
	fe_sq_times(t, run100, 100);
	fe_mul(t, t, run100);         /* f^(2^200 - 1) */
	fe_sq_times(t, t, 50);
	fe_mul(t, t, run50);          /* f^(2^250 - 1) */
	fe_sq_times(t, t, 5);
	fe_mul(h, t, f11);            /* f^(2^255 - 21) */
}

/* Swaps f and g when swap is 1, keeps them when 0, without a branch. */
static void fe_cswap(fe f, fe g, uint32_t swap)
{
	int32_t mask = -(int32_t)swap;

	UNROLL
	for (int i = 0; i < LIMBS; i++) {
		int32_t x = mask & (f[i] ^ g[i]);
		f[i] ^= x;
		g[i] ^= x;
	}
}

/* The 255 low bits of a little-endian number (the top bit is ignored, as
 * RFC 7748 says for u-coordinates), carried into the +-2^(bits-1) form. */
static void fe_from_bytes(fe h, const uint8_t s[32])
{
	int64_t t[LIMBS];

	for (int i = 0; i < LIMBS; i++) {
		int first = POS(i) >> 3;
		uint64_t window = 0;
		for (int b = 0; b < 5 && first + b < 32; b++)
			window |= (uint64_t)s[first + b] << (8 * b);
		t[i] = (int64_t)((window >> (POS(i) & 7)) & (((uint64_t)1 << BITS(i)) - 1));
	}
	fe_carry(h, t);
}

/* Carries with floor division so that limbs 0..9 become digits
 * 0 <= limb < 2^bits. The top carry is returned, not folded back. */
static int32_t fe_floor_carry(int32_t h[LIMBS])
{
	int32_t c = 0;

	for (int i = 0; i < LIMBS; i++) {
		h[i] += c;
		c = h[i] >> BITS(i);
		h[i] -= c * (1 << BITS(i));
	}
	return c;
}

/* The canonical 32-byte encoding (value in [0, p)). */
static void fe_to_bytes(uint8_t s[32], const fe f)
{
	int32_t h[LIMBS], c;

	fe_copy(h, f);
	/* Two passes leave digits whose value X lies in [0, 2^255): the first
	 * folds at most a few units back into limb 0, the second settles them. */
	h[0] += 19 * fe_floor_carry(h);
	h[0] += 19 * fe_floor_carry(h);
	/* X >= p exactly when X + 19 carries out of bit 255; then X - p is
	 * X + 19 with that bit dropped. */
	c = (h[0] + 19) >> 26;
	for (int i = 1; i < LIMBS; i++)
		c = (h[i] + c) >> BITS(i);
	h[0] += 19 * c;
	(void)fe_floor_carry(h);

	memset(s, 0, 32);
	for (int i = 0; i < LIMBS; i++) {
		uint64_t v = (uint64_t)(uint32_t)h[i] << (POS(i) & 7);
		int first = POS(i) >> 3;
		for (int b = 0; b < 5 && first + b < 32; b++)
			s[first + b] |= (uint8_t)(v >> (8 * b));
	}
}

/* memset that the compiler may not drop as a dead store */
static void wipe(void *p, size_t n)
{
	volatile uint8_t *v = p;

	while (n-- > 0)
		*v++ = 0;
}

void wgts_x25519(uint8_t out[WGTS_X25519_LEN], const uint8_t scalar[WGTS_X25519_LEN],
		 const uint8_t point[WGTS_X25519_LEN])
{
	struct {
		uint8_t k[32];
		fe x1, x2, z2, x3, z3, a, b, c, d, aa, bb, e, da, cb;
	} s;
	uint32_t swap = 0;

	memcpy(s.k, scalar, 32);
	s.k[0] &= 248;
	s.k[31] &= 127;
	s.k[31] |= 64;
	fe_from_bytes(s.x1, point);

	/* The Montgomery ladder of RFC 7748 §5: (x2:z2) = [n]P and
	 * (x3:z3) = [n+1]P for the scalar's leading bits n. */
	fe_set_small(s.x2, 1);
	fe_set_small(s.z2, 0);
	fe_copy(s.x3, s.x1);
	fe_set_small(s.z3, 1);
	for (int t = 254; t >= 0; t--) {
		uint32_t bit = (uint32_t)(s.k[t >> 3] >> (t & 7)) & 1;

		swap ^= bit;
		fe_cswap(s.x2, s.x3, swap);
		fe_cswap(s.z2, s.z3, swap);
		swap = bit;

		fe_add(s.a, s.x2, s.z2);
		fe_sub(s.b, s.x2, s.z2);
		fe_add(s.c, s.x3, s.z3);
		fe_sub(s.d, s.x3, s.z3);
		fe_sq(s.aa, s.a);
		fe_sq(s.bb, s.b);
		fe_mul(s.da, s.d, s.a);
		fe_mul(s.cb, s.c, s.b);
		fe_add(s.x3, s.da, s.cb);
		fe_sq(s.x3, s.x3);
		fe_sub(s.z3, s.da, s.cb);
		fe_sq(s.z3, s.z3);
		fe_mul(s.z3, s.z3, s.x1);
		fe_mul(s.x2, s.aa, s.bb);
		fe_sub(s.e, s.aa, s.bb);
		fe_mul_a24(s.z2, s.e);
		fe_add(s.z2, s.z2, s.aa);
		fe_mul(s.z2, s.z2, s.e);
	}
	fe_cswap(s.x2, s.x3, swap);
	fe_cswap(s.z2, s.z3, swap);

	fe_invert(s.z2, s.z2);
	fe_mul(s.x2, s.x2, s.z2);
	fe_to_bytes(out, s.x2);
	wipe(&s, sizeof s);
}
