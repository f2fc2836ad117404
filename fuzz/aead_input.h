/* How a fuzz input becomes one AEAD case, shared by the libFuzzer harness
 * (aead.c) and the replay tool that prints cases for the TypeScript
 * comparison (aead_replay.c):
 *   key[32] counter[8, LE] aad_len[1] offset[1] flip[2, LE] payload...
 * aad_len (mod 65) bytes of aad come from the front of the payload. Short
 * inputs are padded with zeros, so every input is a case. */
#ifndef WGTS_FUZZ_AEAD_INPUT_H
#define WGTS_FUZZ_AEAD_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define CASE_HEADER 44
#define CASE_MAX_PAYLOAD 4096

struct aead_case {
	uint8_t key[32];
	uint64_t counter;
	const uint8_t *aad;
	size_t aad_len;
	size_t offset;    /* where the plaintext starts in the work buffer (0..15): unaligned access */
	uint16_t flip;    /* which bit of aad||ciphertext||tag the tamper check flips */
	const uint8_t *pt;
	size_t pt_len;
};

static void aead_case_from(struct aead_case *c, const uint8_t *data, size_t size, uint8_t header[CASE_HEADER])
{
	size_t i, head = size < CASE_HEADER ? size : CASE_HEADER;
	size_t rest;

	memset(header, 0, CASE_HEADER);
	memcpy(header, data, head);
	memcpy(c->key, header, 32);
	c->counter = 0;
	for (i = 0; i < 8; i++)
		c->counter |= (uint64_t)header[32 + i] << (8 * i);
	rest = size - head;
	if (rest > CASE_MAX_PAYLOAD)
		rest = CASE_MAX_PAYLOAD;
	c->aad_len = header[40] % 65;
	if (c->aad_len > rest)
		c->aad_len = rest;
	c->offset = header[41] & 15;
	c->flip = (uint16_t)(header[42] | header[43] << 8);
	c->aad = data + head;
	c->pt = data + head + c->aad_len;
	c->pt_len = rest - c->aad_len;
}

#endif
