/* X25519 (RFC 7748) for the handshake's Diffie-Hellman.
 * Twin of the @noble/curves path in src/crypto/x25519.ts: the same bytes in,
 * the same bytes out, except that a low-order point gives the all-zero
 * output here (which dh() turns into "no key") where @noble throws. */
#ifndef WGTS_X25519_H
#define WGTS_X25519_H

#include <stdint.h>

#define WGTS_X25519_LEN 32

/* out = X25519(scalar, point): the scalar is clamped as RFC 7748 §5 says,
 * the point's top bit is ignored and values >= p are taken mod p. Nothing is
 * rejected. Constant time in scalar and point. out may alias either input. */
void wgts_x25519(uint8_t out[WGTS_X25519_LEN], const uint8_t scalar[WGTS_X25519_LEN],
		 const uint8_t point[WGTS_X25519_LEN]);

#endif
