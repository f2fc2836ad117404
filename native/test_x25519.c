/* Tests for x25519.c, run natively and under qemu-user on the router CPUs
 * (test/x25519-native.test.ts). RFC 7748's vectors, the properties the RFC
 * requires of odd inputs, and a digest of chained random cases that the
 * TypeScript test computes with @noble/curves. Prints one line per failure
 * and a summary; exit status 1 on any failure.
 *   test_x25519                run the tests (1,000-iteration vector included)
 *   test_x25519 million        also the 1,000,000-iteration vector
 *   test_x25519 digest N       only the digest of N chained cases
 *   test_x25519 loop N SEED    N scalar multiplications of SEED-derived inputs
 *                              (for instruction counts; output ignored) */
#include "x25519.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int checks, failures;

static void check(int ok, const char *what)
{
	checks++;
	if (!ok) {
		failures++;
		printf("FAIL: %s\n", what);
	}
}

static void from_hex(uint8_t out[32], const char *hex)
{
	for (int i = 0; i < 32; i++) {
		unsigned v;
		sscanf(hex + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
}

static int equal_hex(const uint8_t got[32], const char *hex)
{
	uint8_t want[32];

	from_hex(want, hex);
	return memcmp(got, want, 32) == 0;
}

static int is_zero(const uint8_t b[32])
{
	uint8_t acc = 0;

	for (int i = 0; i < 32; i++)
		acc |= b[i];
	return acc == 0;
}

static void print_hex(const char *label, const uint8_t b[32])
{
	printf("%s ", label);
	for (int i = 0; i < 32; i++)
		printf("%02x", b[i]);
	printf("\n");
}

/* §5.2: two single multiplications */
static void test_vectors(void)
{
	static const char *const vectors[][3] = {
		{ "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
		  "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
		  "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552" },
		{ "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
		  "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
		  "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957" },
	};
	uint8_t k[32], u[32], out[32];

	for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
		from_hex(k, vectors[i][0]);
		from_hex(u, vectors[i][1]);
		wgts_x25519(out, k, u);
		check(equal_hex(out, vectors[i][2]), "RFC 7748 5.2 vector");
		/* in place, output over either input */
		memcpy(out, k, 32);
		wgts_x25519(out, out, u);
		check(equal_hex(out, vectors[i][2]), "RFC 7748 5.2 vector, out aliases scalar");
		memcpy(out, u, 32);
		wgts_x25519(out, k, out);
		check(equal_hex(out, vectors[i][2]), "RFC 7748 5.2 vector, out aliases point");
	}
}

/* §5.2 iterated: k = u = 9; then (k, u) = (X25519(k, u), k), n times. */
static void iterate(uint8_t k[32], long n)
{
	uint8_t u[32], next[32];

	memset(k, 0, 32);
	k[0] = 9;
	memcpy(u, k, 32);
	for (long i = 0; i < n; i++) {
		wgts_x25519(next, k, u);
		memcpy(u, k, 32);
		memcpy(k, next, 32);
	}
}

static void test_iterated(int million)
{
	uint8_t k[32];

	iterate(k, 1);
	check(equal_hex(k, "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079"), "5.2 after 1 iteration");
	iterate(k, 1000);
	check(equal_hex(k, "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51"), "5.2 after 1,000 iterations");
	if (million) {
		iterate(k, 1000000);
		check(equal_hex(k, "7c3911e0ab2586fd864497297e575e6f3bc601c0883c30df5f4dd2d24f665424"),
		      "5.2 after 1,000,000 iterations");
		print_hex("after 1,000,000 iterations", k);
	}
}

/* §6.1: Alice and Bob */
static void test_diffie_hellman(void)
{
	uint8_t alice[32], bob[32], base[32] = { 9 }, pub[32], shared[32];

	from_hex(alice, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
	from_hex(bob, "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
	wgts_x25519(pub, alice, base);
	check(equal_hex(pub, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"), "6.1 Alice's public key");
	wgts_x25519(shared, bob, pub);
	check(equal_hex(shared, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"), "6.1 shared key (Bob)");
	wgts_x25519(pub, bob, base);
	check(equal_hex(pub, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"), "6.1 Bob's public key");
	wgts_x25519(shared, alice, pub);
	check(equal_hex(shared, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"), "6.1 shared key (Alice)");
}

/* Small deterministic generator (the test's own; the TypeScript side mirrors it). */
static uint32_t lcg_state;

static uint32_t next_word(void)
{
	lcg_state = lcg_state * 1103515245u + 12345u;
	return lcg_state;
}

static void next_bytes(uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(next_word() >> 16);
}

/* The u-coordinates whose multiples by 8 vanish (RFC 7748 §7's low-order points). */
static const char *const low_order[] = {
	"0000000000000000000000000000000000000000000000000000000000000000", /* 0 */
	"0100000000000000000000000000000000000000000000000000000000000000", /* 1 */
	"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800", /* order 8 */
	"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157", /* order 8 */
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* p - 1 */
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* p = 0 */
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* p + 1 = 1 */
};

static void test_odd_inputs(void)
{
	uint8_t k[32], u[32], u2[32], a[32], b[32];

	lcg_state = 7;
	for (int round = 0; round < 4; round++) {
		next_bytes(k, 32);
		for (size_t i = 0; i < sizeof low_order / sizeof low_order[0]; i++) {
			from_hex(u, low_order[i]);
			wgts_x25519(a, k, u);
			check(is_zero(a), "a low-order point gives all zeros");
			u[31] |= 0x80;
			wgts_x25519(a, k, u);
			check(is_zero(a), "a low-order point with bit 255 set gives all zeros");
		}
		/* bit 255 of u is ignored */
		next_bytes(u, 32);
		u[31] &= 0x7f;
		memcpy(u2, u, 32);
		u2[31] |= 0x80;
		wgts_x25519(a, k, u);
		wgts_x25519(b, k, u2);
		check(memcmp(a, b, 32) == 0 && !is_zero(a), "bit 255 of u is ignored");
		/* u in [p, 2^255) is taken mod p: p + v for v = 2..18 */
		for (int v = 2; v < 19; v++) {
			memset(u, 0, 32);
			u[0] = (uint8_t)v;
			from_hex(u2, "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
			u2[0] = (uint8_t)(0xed + v);
			wgts_x25519(a, k, u);
			wgts_x25519(b, k, u2);
			check(memcmp(a, b, 32) == 0, "u >= p is reduced mod p");
		}
		/* clamping: the three low bits and bit 255 of the scalar do not matter, bit 254 is set */
		memcpy(u2, k, 32);
		u2[0] ^= 7;
		u2[31] ^= 0x80;
		u2[31] &= ~0x40;
		from_hex(u, "0900000000000000000000000000000000000000000000000000000000000000");
		wgts_x25519(a, k, u);
		wgts_x25519(b, u2, u);
		check(memcmp(a, b, 32) == 0, "the scalar is clamped");
	}
	/* the zero scalar clamps to 2^254 */
	memset(k, 0, 32);
	memset(u, 0, 32);
	u[0] = 9;
	wgts_x25519(a, k, u);
	k[31] = 0x40;
	wgts_x25519(b, k, u);
	check(memcmp(a, b, 32) == 0 && !is_zero(a), "the zero scalar acts as 2^254");
}

/* N chained cases: scalar = random XOR digest, u mostly random, with every
 * kind of odd u mixed in; digest ^= output. */
static void chain_digest(uint8_t digest[32], int n)
{
	uint8_t k[32], u[32], out[32];

	memset(digest, 0, 32);
	lcg_state = 1;
	for (int i = 0; i < n; i++) {
		next_bytes(k, 32);
		for (int j = 0; j < 32; j++)
			k[j] ^= digest[j];
		next_bytes(u, 32);
		switch (i % 8) {
		case 1: /* a low-order point, perhaps with bit 255 */
			from_hex(u, low_order[(i / 8) % (sizeof low_order / sizeof low_order[0])]);
			u[31] |= (uint8_t)(i & 0x80);
			break;
		case 3: /* u >= p */
			memset(u + 1, 0xff, 31);
			u[0] = (uint8_t)(0xed + (u[0] % 19));
			u[31] = 0x7f | (uint8_t)(i & 0x80);
			break;
		case 5: /* small u */
			memset(u + 1, 0, 31);
			break;
		default: /* random, bit 255 as it comes */
			break;
		}
		wgts_x25519(out, k, u);
		for (int j = 0; j < 32; j++)
			digest[j] ^= out[j];
	}
}

int main(int argc, char **argv)
{
	uint8_t digest[32];

	if (argc == 3 && strcmp(argv[1], "digest") == 0) {
		int n = atoi(argv[2]);
		chain_digest(digest, n);
		printf("chain %d\n", n);
		print_hex("chain digest", digest);
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "loop") == 0) {
		uint8_t k[32], u[32];
		long n = atol(argv[2]);
		lcg_state = (uint32_t)atol(argv[3]);
		next_bytes(k, 32);
		next_bytes(u, 32);
		for (long i = 0; i < n; i++)
			wgts_x25519(k, k, u);
		return k[0] == 0 && k[1] == 0 ? 3 : 0; /* keep the result live */
	}
	test_vectors();
	test_iterated(argc == 2 && strcmp(argv[1], "million") == 0);
	test_diffie_hellman();
	test_odd_inputs();
	chain_digest(digest, 1000);
	printf("chain 1000\n");
	print_hex("chain digest", digest);
	printf("%d checks, %d failures\n", checks, failures);
	return failures ? 1 : 0;
}
