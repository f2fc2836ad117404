// The AEAD seam. The data path and the handshake call this interface. Its
// implementations give the same bytes: @noble/ciphers (the reference), the
// int32-only TypeScript one tuned for QuickJS (chacha20poly1305-int32.ts,
// what createJsAead() returns) and the native one (native-aead.ts).
import { chacha20poly1305, xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { createInt32Aead } from './chacha20poly1305-int32.js';

export const TAG_LEN = 16;

export interface Aead {
  /**
   * ChaCha20-Poly1305 with WireGuard's nonce (4 zero bytes ‖ counter LE64).
   * Encrypts src[srcOff, srcOff+len) into dst at dstOff (len + 16 bytes written).
   * dst and src may be the same region (in place). Returns the bytes written.
   */
  seal(key: Uint8Array, counter: number, aad: Uint8Array | null,
    src: Uint8Array, srcOff: number, len: number, dst: Uint8Array, dstOff: number): number;
  /**
   * Opens src[srcOff, srcOff+len) (ciphertext ‖ tag) into dst at dstOff.
   * Returns the plaintext length, or -1 when authentication fails
   * (dst contents are then unspecified but nothing else changes).
   */
  open(key: Uint8Array, counter: number, aad: Uint8Array | null,
    src: Uint8Array, srcOff: number, len: number, dst: Uint8Array, dstOff: number): number;
}

const EMPTY = new Uint8Array(0);

function writeNonce(nonce: Uint8Array, counter: number): void {
  // Counters stay below 2^53 (see protocol/constants.ts), so the split is exact.
  const lo = counter >>> 0;
  const hi = Math.floor(counter / 0x100000000) >>> 0;
  nonce[4] = lo; nonce[5] = lo >>> 8; nonce[6] = lo >>> 16; nonce[7] = lo >>> 24;
  nonce[8] = hi; nonce[9] = hi >>> 8; nonce[10] = hi >>> 16; nonce[11] = hi >>> 24;
}

/**
 * The pure TypeScript AEAD for runtimes without the native module: the
 * int32-only implementation: sealing 1420-byte packets on QuickJS it runs
 * about 4,900 guest instructions per byte on MIPS32 against @noble's 10,000
 * (test/quickjs/aead-int32-bench.ts), and is faster on Node too.
 */
export function createJsAead(): Aead {
  return createInt32Aead();
}

/** The reference implementation on @noble/ciphers. */
export function createNobleAead(): Aead {
  const nonce = new Uint8Array(12);
  return {
    seal(key, counter, aad, src, srcOff, len, dst, dstOff) {
      writeNonce(nonce, counter);
      const out = dst.subarray(dstOff, dstOff + len + TAG_LEN);
      chacha20poly1305(key, nonce, aad ?? EMPTY).encrypt(src.subarray(srcOff, srcOff + len), out);
      return len + TAG_LEN;
    },
    open(key, counter, aad, src, srcOff, len, dst, dstOff) {
      if (len < TAG_LEN) return -1;
      writeNonce(nonce, counter);
      const out = dst.subarray(dstOff, dstOff + len - TAG_LEN);
      try {
        chacha20poly1305(key, nonce, aad ?? EMPTY).decrypt(src.subarray(srcOff, srcOff + len), out);
      } catch {
        return -1;
      }
      return len - TAG_LEN;
    },
  };
}

/** XChaCha20-Poly1305 for cookie replies only (rare; allocation is fine here). */
export function xaeadSeal(key: Uint8Array, nonce24: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  return xchacha20poly1305(key, nonce24, aad).encrypt(plaintext);
}

export function xaeadOpen(key: Uint8Array, nonce24: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array | null {
  try {
    return xchacha20poly1305(key, nonce24, aad).decrypt(sealed);
  } catch {
    return null;
  }
}
