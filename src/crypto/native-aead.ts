// The Aead seam on the native ChaCha20-Poly1305 (native/chacha20poly1305.c,
// exported by the wgts_native QuickJS module as aeadSeal/aeadOpen). The
// runtime passes the module in, so this file type-checks and bundles anywhere.
// The data path seals and opens in place, which costs no copy and no
// allocation; other layouts (the handshake's small fields) copy first.
import type { Aead } from './aead.js';
import { TAG_LEN } from './aead.js';

/** The two native functions this needs, as declared in native/wgts_native.d.ts. */
export interface NativeAeadFunctions {
  aeadSeal(key: Uint8Array, counterLo: number, counterHi: number, aad: Uint8Array | null,
    buf: Uint8Array, off: number, len: number): number;
  aeadOpen(key: Uint8Array, counterLo: number, counterHi: number, aad: Uint8Array | null,
    buf: Uint8Array, off: number, len: number): number;
}

/**
 * The high 32 bits of a counter (< 2^53). QuickJS keeps int32 values unboxed,
 * so for counters below 2^31 the test `lo === counter` is integer-only and
 * no float is made; larger counters are floats already.
 */
function counterHigh(counter: number, lo: number): number {
  if (lo === counter || counter < 0x100000000) return 0;
  return (counter / 0x100000000) | 0;
}

function nativeError(what: string, rc: number): Error {
  return new Error(`native ${what} failed: ${rc}`);
}

export function createNativeAead(native: NativeAeadFunctions): Aead {
  // Out-of-place opens go through here, so that a failed open leaves dst
  // untouched and nothing past dstOff + plaintext length is written.
  let scratch = new Uint8Array(256);

  return {
    seal(key, counter, aad, src, srcOff, len, dst, dstOff) {
      if (src !== dst) dst.set(src.subarray(srcOff, srcOff + len), dstOff);
      else if (srcOff !== dstOff) dst.copyWithin(dstOff, srcOff, srcOff + len);
      const lo = counter | 0;
      // Per packet: no call for the high half while the counter is an int32.
      const rc = native.aeadSeal(key, lo, lo === counter ? 0 : counterHigh(counter, lo), aad, dst, dstOff, len);
      if (rc !== len + TAG_LEN) throw nativeError('aeadSeal', rc);
      return rc;
    },
    open(key, counter, aad, src, srcOff, len, dst, dstOff) {
      if (len < TAG_LEN) return -1;
      const lo = counter | 0;
      const hi = lo === counter ? 0 : counterHigh(counter, lo);
      if (src === dst && srcOff === dstOff) {
        const rc = native.aeadOpen(key, lo, hi, aad, dst, dstOff, len);
        if (rc < -1) throw nativeError('aeadOpen', rc);
        return rc;
      }
      if (scratch.length < len) scratch = new Uint8Array(len);
      scratch.set(src.subarray(srcOff, srcOff + len));
      const rc = native.aeadOpen(key, lo, hi, aad, scratch, 0, len);
      if (rc < -1) throw nativeError('aeadOpen', rc);
      if (rc >= 0) dst.set(scratch.subarray(0, rc), dstOff);
      scratch.fill(0, 0, len); // handshake plaintexts are secrets
      return rc;
    },
  };
}
