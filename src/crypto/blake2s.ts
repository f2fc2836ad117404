// WireGuard's hash-based primitives (whitepaper §5.4): HASH, MAC, HMAC and
// the HKDF-style KDF, all over BLAKE2s-256. They run on the int32-only
// BLAKE2s (blake2s-int32.ts): on QuickJS a handshake costs a tenth of what
// @noble/hashes costs (80 M instead of 757 M guest instructions on MIPS).
// blake2s-noble.ts is the reference the tests compare against.
export { hash, hmac, kdf, mac } from './blake2s-int32.js';

export const HASH_LEN = 32;
export const MAC_LEN = 16;

/** The one helper that zeroes secret material. */
export function wipe(...buffers: (Uint8Array | null | undefined)[]): void {
  for (const b of buffers) if (b) b.fill(0);
}
