/* Known-answer and round-trip tests for chacha20poly1305.c. Runs natively and
 * under qemu-user (big-endian MIPS, ARMv5), where endianness and alignment
 * bugs show. Prints one line per failure and a summary; exit status 1 on any
 * failure. Vectors are RFC 8439's. */
#include "chacha20poly1305.h"

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

static size_t from_hex(uint8_t *out, const char *hex)
{
	size_t n = 0;
	int high = -1;

	for (; *hex; hex++) {
		int v;
		if (*hex >= '0' && *hex <= '9')
			v = *hex - '0';
		else if (*hex >= 'a' && *hex <= 'f')
			v = *hex - 'a' + 10;
		else
			continue; /* spaces and line breaks between bytes */
		if (high < 0) {
			high = v;
		} else {
			out[n++] = (uint8_t)(high << 4 | v);
			high = -1;
		}
	}
	return n;
}

static int bytes_equal_hex(const uint8_t *got, size_t len, const char *hex)
{
	uint8_t want[512];
	return from_hex(want, hex) == len && memcmp(got, want, len) == 0;
}

/* §2.3.2: the block function. */
static void test_chacha20_block(void)
{
	uint8_t key[32], nonce[12], out[64];

	from_hex(key, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
	from_hex(nonce, "000000090000004a00000000");
	wgts_chacha20_block(out, key, 1, nonce);
	check(bytes_equal_hex(out, 64,
		"10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e"
		"d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e"),
	      "chacha20 block, RFC 8439 2.3.2");
}

static const char sunscreen[] =
	"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for "
	"the future, sunscreen would be it.";

/* §2.4.2: encryption with block counter 1. */
static void test_chacha20_xor(void)
{
	uint8_t key[32], nonce[12], buf[114];

	from_hex(key, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
	from_hex(nonce, "000000000000004a00000000");
	memcpy(buf, sunscreen, 114);
	wgts_chacha20_xor(buf, 114, key, 1, nonce);
	check(bytes_equal_hex(buf, 114,
		"6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0b"
		"f91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d8"
		"07ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab7793736"
		"5af90bbf74a35be6b40b8eedf2785e42874d"),
	      "chacha20 encryption, RFC 8439 2.4.2");
}

/* §2.5.2: Poly1305 over a 34-byte message (a short final block). */
static void test_poly1305(void)
{
	uint8_t key[32], tag[16];
	const char *msg = "Cryptographic Forum Research Group";

	from_hex(key, "85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b");
	wgts_poly1305(tag, (const uint8_t *)msg, strlen(msg), key);
	check(bytes_equal_hex(tag, 16, "a8061dc1305136c6c22b8baf0c0127a9"), "poly1305, RFC 8439 2.5.2");
}

/* Appendix A.3 #5-#11: inputs that drive the accumulator to and past
 * p = 2^130 - 5 and the final addition past 2^128, so the last reduction and
 * the carries in the tag are exercised (random inputs almost never are). */
static void test_poly1305_edges(void)
{
	static const char *const vectors[][3] = { /* key, message, tag */
		{ "02000000000000000000000000000000" "00000000000000000000000000000000",
		  "ffffffffffffffffffffffffffffffff", "03000000000000000000000000000000" },
		{ "02000000000000000000000000000000" "ffffffffffffffffffffffffffffffff",
		  "02000000000000000000000000000000", "03000000000000000000000000000000" },
		{ "01000000000000000000000000000000" "00000000000000000000000000000000",
		  "ffffffffffffffffffffffffffffffff" "f0ffffffffffffffffffffffffffffff"
		  "11000000000000000000000000000000", "05000000000000000000000000000000" },
		{ "01000000000000000000000000000000" "00000000000000000000000000000000",
		  "ffffffffffffffffffffffffffffffff" "fbfefefefefefefefefefefefefefefe"
		  "01010101010101010101010101010101", "00000000000000000000000000000000" },
		{ "02000000000000000000000000000000" "00000000000000000000000000000000",
		  "fdffffffffffffffffffffffffffffff", "faffffffffffffffffffffffffffffff" },
		{ "01000000000000000400000000000000" "00000000000000000000000000000000",
		  "e33594d7505e43b90000000000000000" "3394d7505e4379cd0100000000000000"
		  "00000000000000000000000000000000" "01000000000000000000000000000000",
		  "14000000000000005500000000000000" },
		{ "01000000000000000400000000000000" "00000000000000000000000000000000",
		  "e33594d7505e43b90000000000000000" "3394d7505e4379cd0100000000000000"
		  "00000000000000000000000000000000", "13000000000000000000000000000000" },
	};
	char what[64];

	for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
		uint8_t key[32], msg[64], tag[16];
		size_t len;

		from_hex(key, vectors[i][0]);
		len = from_hex(msg, vectors[i][1]);
		wgts_poly1305(tag, msg, len, key);
		snprintf(what, sizeof what, "poly1305, RFC 8439 A.3 #%u", (unsigned)(i + 5));
		check(bytes_equal_hex(tag, 16, vectors[i][2]), what);
	}
}

/* §2.8.2: the AEAD with the RFC's full nonce. */
static void test_aead_rfc_seal(void)
{
	uint8_t key[32], nonce[12], aad[12], buf[114 + 16];

	from_hex(key, "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
	from_hex(nonce, "070000004041424344454647");
	from_hex(aad, "50515253c0c1c2c3c4c5c6c7");
	memcpy(buf, sunscreen, 114);
	wgts_aead_seal_nonce(buf, 114, aad, sizeof aad, nonce, key);
	check(bytes_equal_hex(buf, 130,
		"d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
		"3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
		"92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
		"3ff4def08e4b7a9de576d26586cec64b6116"
		"1ae10b594f09e26a7e902ecbd0600691"),
	      "aead seal, RFC 8439 2.8.2");
	check(wgts_aead_open_nonce(buf, 114, aad, sizeof aad, nonce, key) == 0 &&
		      memcmp(buf, sunscreen, 114) == 0,
	      "aead open, RFC 8439 2.8.2");
}

/* Appendix A.5: its nonce 00000000 0102030405060708 is WireGuard-shaped
 * (counter 0x0807060504030201), so it runs through the counter API. */
static void test_aead_rfc_open(void)
{
	static const char plaintext[] =
		"Internet-Drafts are draft documents valid for a maximum of six months and may be "
		"updated, replaced, or obsoleted by other documents at any time. It is "
		"inappropriate to use Internet-Drafts as reference material or to cite them other "
		"than as /\xe2\x80\x9cwork in progress./\xe2\x80\x9d";
	uint8_t key[32], aad[12], buf[265 + 16], copy[265 + 16];
	size_t n;

	from_hex(key, "1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0");
	from_hex(aad, "f33388860000000000004e91");
	n = from_hex(buf,
		"64a0861575861af460f062c79be643bd5e805cfd345cf389f108670ac76c8cb2"
		"4c6cfc18755d43eea09ee94e382d26b0bdb7b73c321b0100d4f03b7f355894cf"
		"332f830e710b97ce98c8a84abd0b948114ad176e008d33bd60f982b1ff37c855"
		"9797a06ef4f0ef61c186324e2b3506383606907b6a7c02b0f9f6157b53c867e4"
		"b9166c767b804d46a59b5216cde7a4e99040c5a40433225ee282a1b0a06c523e"
		"af4534d7f83fa1155b0047718cbc546a0d072b04b3564eea1b422273f548271a"
		"0bb2316053fa76991955ebd63159434ecebb4e466dae5a1073a6727627097a10"
		"49e617d91d361094fa68f0ff77987130305beaba2eda04df997b714d6c6f2c29"
		"a6ad5cb4022b02709b"
		"eead9d67890cbb22392336fea1851f38");
	check(n == sizeof buf && sizeof plaintext - 1 == 265, "A.5 vector lengths");
	memcpy(copy, buf, sizeof buf);
	check(wgts_aead_open(buf, 265, aad, sizeof aad, 0x0807060504030201ull, key) == 0,
	      "aead open, RFC 8439 A.5: tag accepted");
	check(memcmp(buf, plaintext, 265) == 0, "aead open, RFC 8439 A.5: plaintext");
	wgts_aead_seal(buf, 265, aad, sizeof aad, 0x0807060504030201ull, key);
	check(memcmp(buf, copy, sizeof copy) == 0, "aead seal reproduces A.5");
}

/* A wrong tag, aad, counter or key is rejected and leaves the buffer as it was. */
static void test_rejects(void)
{
	uint8_t key[32], aad[5] = { 1, 2, 3, 4, 5 }, buf[100 + 16], sealed[100 + 16], before[100 + 16];
	char what[80];

	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)(i * 7 + 3);
	for (int i = 0; i < 100; i++)
		buf[i] = (uint8_t)i;
	wgts_aead_seal(buf, 100, aad, sizeof aad, 42, key);
	memcpy(sealed, buf, sizeof buf);

	for (int bit = 0; bit < (int)sizeof buf * 8; bit += 3) {
		buf[bit / 8] ^= (uint8_t)(1 << (bit % 8));
		memcpy(before, buf, sizeof buf);
		snprintf(what, sizeof what, "flipped bit %d rejected, buffer unchanged", bit);
		check(wgts_aead_open(buf, 100, aad, sizeof aad, 42, key) == -1 &&
			      memcmp(buf, before, sizeof buf) == 0,
		      what);
		buf[bit / 8] ^= (uint8_t)(1 << (bit % 8));
	}
	check(memcmp(buf, sealed, sizeof buf) == 0, "flips undone");
	check(wgts_aead_open(buf, 100, aad, 4, 42, key) == -1 && memcmp(buf, sealed, sizeof buf) == 0,
	      "shorter aad rejected");
	check(wgts_aead_open(buf, 100, NULL, 0, 42, key) == -1, "missing aad rejected");
	check(wgts_aead_open(buf, 100, aad, sizeof aad, 43, key) == -1, "other counter rejected");
	check(wgts_aead_open(buf, 100, aad, sizeof aad, 42 + (1ull << 32), key) == -1,
	      "counter high word is part of the nonce");
	key[31] ^= 0x80;
	check(wgts_aead_open(buf, 100, aad, sizeof aad, 42, key) == -1, "other key rejected");
	key[31] ^= 0x80;
	check(memcmp(buf, sealed, sizeof buf) == 0, "buffer unchanged after rejections");
	check(wgts_aead_open(buf, 100, aad, sizeof aad, 42, key) == 0, "then the right inputs open");
}

static uint32_t lcg_state;

static uint32_t next_word(void)
{
	lcg_state = lcg_state * 1103515245u + 12345u;
	return lcg_state;
}

static uint8_t next_byte(void)
{
	return (uint8_t)(next_word() >> 16);
}

/* Every length 0..300 at each alignment mod 4 (the word-aligned and the
 * unaligned code paths): the same output everywhere, nothing written outside
 * [0, len+16), and open gives the plaintext back. */
static void test_round_trips(void)
{
	static union {
		uint32_t align;
		uint8_t bytes[4][8 + 300 + 16 + 8];
	} area;
	uint8_t key[32], aad[3 + 13], plain[300];
	char what[80];

	lcg_state = 0x12345678;
	for (size_t len = 0; len <= 300; len++) {
		uint64_t counter = ((uint64_t)len << 32) | next_word();
		size_t aad_len = len % 14;
		const uint8_t *aad_at = aad + len % 4;
		int ok = 1;

		for (size_t i = 0; i < sizeof key; i++)
			key[i] = next_byte();
		for (size_t i = 0; i < sizeof aad; i++)
			aad[i] = next_byte();
		for (size_t i = 0; i < len; i++)
			plain[i] = next_byte();
		memset(&area, 0xa5, sizeof area);
		for (size_t mis = 0; mis < 4; mis++) {
			uint8_t *buf = area.bytes[mis] + 8 + mis;
			memcpy(buf, plain, len);
			wgts_aead_seal(buf, len, aad_len ? aad_at : NULL, aad_len, counter, key);
			ok &= mis == 0 || memcmp(buf, area.bytes[0] + 8, len + 16) == 0;
			ok &= len < 16 || memcmp(buf, plain, len) != 0;
			ok &= buf[-1] == 0xa5 && buf[len + 16] == 0xa5;
		}
		for (size_t mis = 0; mis < 4; mis++) {
			uint8_t *buf = area.bytes[mis] + 8 + mis;
			ok &= wgts_aead_open(buf, len, aad_at, aad_len, counter, key) == 0;
			ok &= memcmp(buf, plain, len) == 0;
			ok &= buf[-1] == 0xa5 && buf[len + 16] == 0xa5;
		}
		snprintf(what, sizeof what, "round trip, length %u", (unsigned)len);
		check(ok, what);
	}
}

/* A chain of seals over lengths 0..1500, each keyed by the previous output,
 * printed as one hex line. test/native-aead.test.ts recomputes the chain with
 * the TypeScript reference (@noble), so every architecture's output is pinned
 * byte for byte to it. */
static void print_chain_digest(void)
{
	static union {
		uint32_t align;
		uint8_t bytes[4 + 1500 + 16];
	} area;
	uint8_t key[32] = { 0 }, aad[16];

	lcg_state = 1;
	for (size_t len = 0; len <= 1500; len++) {
		uint8_t *buf = area.bytes + len % 4;
		size_t aad_len = len % 17;
		uint32_t lo = next_word(), hi = next_word() & 0x1fffff; /* counter < 2^53 */

		for (size_t i = 0; i < aad_len; i++)
			aad[i] = next_byte();
		for (size_t i = 0; i < len; i++)
			buf[i] = next_byte();
		wgts_aead_seal(buf, len, aad_len ? aad : NULL, aad_len, (uint64_t)hi << 32 | lo, key);
		/* The next key: this tag, then the ciphertext folded into 16 bytes. */
		memcpy(key, buf + len, 16);
		memset(key + 16, 0, 16);
		for (size_t i = 0; i < len; i++)
			key[16 + i % 16] ^= buf[i];
	}
	printf("chain digest ");
	for (size_t i = 0; i < sizeof key; i++)
		printf("%02x", key[i]);
	printf("\n");
}

/* `test_aead seal N LEN`: seals N packets of LEN bytes and nothing else, so
 * that instruction counts at two N give the cost per packet. */
static int seal_loop(long n, long len)
{
	static union {
		uint32_t align;
		uint8_t bytes[16 + 65535 + 16];
	} area;
	uint8_t key[32] = { 7 };

	if (n < 0 || len < 0 || len > 65535)
		return 2;
	for (long i = 0; i < n; i++)
		wgts_aead_seal(area.bytes + 16, (size_t)len, NULL, 0, (uint64_t)i, key);
	printf("sealed %ld packets of %ld bytes (%02x)\n", n, len, area.bytes[16]);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "seal") == 0)
		return seal_loop(strtol(argv[2], NULL, 10), strtol(argv[3], NULL, 10));
	test_chacha20_block();
	test_chacha20_xor();
	test_poly1305();
	test_poly1305_edges();
	test_aead_rfc_seal();
	test_aead_rfc_open();
	test_rejects();
	test_round_trips();
	print_chain_digest();
	printf("%d checks, %d failures\n", checks, failures);
	return failures ? 1 : 0;
}
