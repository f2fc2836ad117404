/* Prints what native/chacha20poly1305.c makes of fuzz inputs, for the
 * comparison with the TypeScript twin (test/fuzz-native.test.ts). Reads
 * lines from stdin: "@path" (a corpus file) or the input as hex. For each
 * prints "key counter aad plaintext sealed" (hex, counter in decimal).
 * The counter is cut to 53 bits: TypeScript counters are exact numbers. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../native/chacha20poly1305.h"
#include "aead_input.h"

#define MAX_INPUT (CASE_HEADER + CASE_MAX_PAYLOAD + 64)

static void print_hex(const uint8_t *p, size_t n)
{
	size_t i;
	if (n == 0)
		putchar('-');
	for (i = 0; i < n; i++)
		printf("%02x", p[i]);
}

static int hex_digit(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

int main(void)
{
	static char line[2 * MAX_INPUT + 4096];
	static uint8_t input[MAX_INPUT], buf[CASE_MAX_PAYLOAD + 16];
	struct aead_case c;
	uint8_t header[CASE_HEADER];

	while (fgets(line, sizeof(line), stdin) != NULL) {
		size_t n = 0, len = strcspn(line, "\r\n");
		line[len] = 0;
		if (line[0] == '@') {
			FILE *f = fopen(line + 1, "rb");
			if (f == NULL)
				continue;
			n = fread(input, 1, sizeof(input), f);
			fclose(f);
		} else {
			size_t i;
			for (i = 0; i + 1 < len && n < sizeof(input); i += 2) {
				int hi = hex_digit(line[i]), lo = hex_digit(line[i + 1]);
				if (hi < 0 || lo < 0)
					break;
				input[n++] = (uint8_t)(hi << 4 | lo);
			}
		}
		aead_case_from(&c, input, n, header);
		c.counter &= (1ULL << 53) - 1;
		memcpy(buf, c.pt, c.pt_len);
		wgts_aead_seal(buf, c.pt_len, c.aad_len ? c.aad : NULL, c.aad_len, c.counter, c.key);
		print_hex(c.key, 32);
		printf(" %llu ", (unsigned long long)c.counter);
		print_hex(c.aad, c.aad_len);
		putchar(' ');
		print_hex(c.pt, c.pt_len);
		putchar(' ');
		print_hex(buf, c.pt_len + 16);
		putchar('\n');
	}
	return 0;
}
