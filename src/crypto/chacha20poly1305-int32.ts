// ChaCha20-Poly1305 (RFC 8439) in TypeScript written for QuickJS, for
// runtimes without the native module (native/chacha20poly1305.c).
//
// QuickJS keeps int32 values unboxed, but any result outside int32 (a sum
// that overflows, `x >>> 0` of a negative word, a product past 2^31) becomes
// a float64, and on a soft-float MIPS every float operation is a library
// call: an overflowing `(a + b) | 0` costs about eight times one that stays
// int32. So every value here stays an int32: ChaCha words are signed int32
// and `>>>` only shifts them right by at least 7; Poly1305 works in ten
// 13-bit limbs whose products (< 2^27) and column sums (< 2^31) fit. The
// rounds are written out so that the working words stay in locals, and
// nothing is allocated per call.
import type { Aead } from './aead.js';

const TAG_BYTES = 16;
const ZERO_BLOCK = new Uint8Array(64);

export class Int32ChaCha20Poly1305 implements Aead {
  /** ChaCha20's input words: constants, key, block counter, nonce. */
  private readonly input = new Int32Array(16);
  /** One keystream block: the Poly1305 key, or the keystream of a partial block. */
  private readonly block = new Uint8Array(64);
  /** Poly1305 accumulator h and key r, ten 13-bit limbs each; s, the key's second half. */
  private readonly h = new Int32Array(10);
  private readonly r = new Int32Array(10);
  private readonly s = new Uint8Array(16);
  /** A zero-padded last block, then the lengths block. */
  private readonly last = new Uint8Array(16);
  private readonly tag = new Uint8Array(TAG_BYTES);

  seal(key: Uint8Array, counter: number, aad: Uint8Array | null,
    src: Uint8Array, srcOff: number, len: number, dst: Uint8Array, dstOff: number): number {
    this.start(key, counter);
    return this.sealStarted(aad, src, srcOff, len, dst, dstOff);
  }

  open(key: Uint8Array, counter: number, aad: Uint8Array | null,
    src: Uint8Array, srcOff: number, len: number, dst: Uint8Array, dstOff: number): number {
    if (len < TAG_BYTES) return -1;
    this.start(key, counter);
    return this.openStarted(aad, src, srcOff, len, dst, dstOff);
  }

  /** seal() with a whole 12-byte RFC 8439 nonce (WireGuard's is 4 zero bytes ‖ LE64 counter). */
  sealWithNonce(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array | null,
    src: Uint8Array, srcOff: number, len: number, dst: Uint8Array, dstOff: number): number {
    this.startWithNonce(key, readLe32(nonce, 0), readLe32(nonce, 4), readLe32(nonce, 8));
    return this.sealStarted(aad, src, srcOff, len, dst, dstOff);
  }

  openWithNonce(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array | null,
    src: Uint8Array, srcOff: number, len: number, dst: Uint8Array, dstOff: number): number {
    if (len < TAG_BYTES) return -1;
    this.startWithNonce(key, readLe32(nonce, 0), readLe32(nonce, 4), readLe32(nonce, 8));
    return this.openStarted(aad, src, srcOff, len, dst, dstOff);
  }

  private sealStarted(aad: Uint8Array | null, src: Uint8Array, srcOff: number, len: number,
    dst: Uint8Array, dstOff: number): number {
    checkRange(src, srcOff, len);
    checkRange(dst, dstOff, len + TAG_BYTES);
    this.encrypt(src, srcOff, dst, dstOff, len);
    this.authenticate(aad, dst, dstOff, len);
    dst.set(this.tag, dstOff + len);
    return len + TAG_BYTES;
  }

  private openStarted(aad: Uint8Array | null, src: Uint8Array, srcOff: number, len: number,
    dst: Uint8Array, dstOff: number): number {
    const textLen = len - TAG_BYTES;
    checkRange(src, srcOff, len);
    checkRange(dst, dstOff, textLen);
    this.authenticate(aad, src, srcOff, textLen);
    const tag = this.tag;
    let diff = 0;
    for (let i = 0; i < TAG_BYTES; i++) diff |= tag[i]! ^ src[srcOff + textLen + i]!;
    if (diff !== 0) return -1;
    this.encrypt(src, srcOff, dst, dstOff, textLen);
    return textLen;
  }

  /** WireGuard's nonce: 4 zero bytes ‖ LE64(counter), counter < 2^53. */
  private start(key: Uint8Array, counter: number): void {
    const lo = counter | 0; // the low 32 bits; an int32 already for counters below 2^31
    const hi = lo === counter || counter < 0x100000000 ? 0 : (counter / 0x100000000) | 0;
    this.startWithNonce(key, 0, lo, hi);
  }

  /** Loads key and nonce, derives the Poly1305 key from block 0; data starts at block 1. */
  private startWithNonce(key: Uint8Array, n0: number, n1: number, n2: number): void {
    const input = this.input;
    input[0] = 0x61707865; input[1] = 0x3320646e; input[2] = 0x79622d32; input[3] = 0x6b206574; // "expand 32-byte k"
    for (let i = 0; i < 8; i++) input[4 + i] = readLe32(key, 4 * i);
    input[12] = 0;
    input[13] = n0;
    input[14] = n1;
    input[15] = n2;
    const block = this.block;
    this.xorKeystream(ZERO_BLOCK, 0, block, 0, 64);
    input[12] = 1;
    this.setPolyKey(block, 0);
    block.fill(0);
  }

  /** Poly1305 (RFC 8439 §2.5) of msg[off, off+len) under a 32-byte one-time key, into out[outOff, outOff+16). */
  poly1305(key: Uint8Array, msg: Uint8Array, off: number, len: number, out: Uint8Array, outOff: number): void {
    checkRange(key, 0, 32);
    checkRange(msg, off, len);
    checkRange(out, outOff, TAG_BYTES);
    this.setPolyKey(key, 0);
    this.h.fill(0);
    this.polyUpdate(msg, off, len, false);
    this.polyFinish();
    out.set(this.tag, outOff);
  }

  /** r = key[0..16) clamped, in 13-bit limbs; s = key[16..32). */
  private setPolyKey(key: Uint8Array, off: number): void {
    const last = this.last;
    for (let i = 0; i < 16; i++) last[i] = key[off + i]!;
    last[3]! &= 15; last[7]! &= 15; last[11]! &= 15; last[15]! &= 15;
    last[4]! &= 252; last[8]! &= 252; last[12]! &= 252;
    splitLimbs(last, 0, 0, this.r);
    last.fill(0);
    for (let i = 0; i < 16; i++) this.s[i] = key[off + 16 + i]!;
  }

  /** dst = src ^ keystream, also when src and dst overlap in one buffer. */
  private encrypt(src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number, len: number): void {
    if (src.buffer === dst.buffer) {
      const from = src.byteOffset + srcOff;
      const to = dst.byteOffset + dstOff;
      // Forward byte order is safe unless the output starts inside the unread input.
      if (to > from && to < from + len) {
        dst.set(src.subarray(srcOff, srcOff + len), dstOff);
        src = dst;
        srcOff = dstOff;
      }
    }
    this.xorKeystream(src, srcOff, dst, dstOff, len);
  }

  /** ChaCha20 (RFC 8439 §2.3, §2.4) from the block counter in input[12]. */
  private xorKeystream(src: Uint8Array, s: number, dst: Uint8Array, d: number, len: number): void {
    const input = this.input;
    const j0 = input[0]!, j1 = input[1]!, j2 = input[2]!, j3 = input[3]!;
    const j4 = input[4]!, j5 = input[5]!, j6 = input[6]!, j7 = input[7]!;
    const j8 = input[8]!, j9 = input[9]!, j10 = input[10]!, j11 = input[11]!;
    const j13 = input[13]!, j14 = input[14]!, j15 = input[15]!;
    let j12 = input[12]!;
    while (len > 0) {
      let x0 = j0, x1 = j1, x2 = j2, x3 = j3, x4 = j4, x5 = j5, x6 = j6, x7 = j7;
      let x8 = j8, x9 = j9, x10 = j10, x11 = j11, x12 = j12, x13 = j13, x14 = j14, x15 = j15;
      for (let round = 0; round < 10; round++) {
        // columns, then diagonals: quarter rounds (a, b, c, d) with rotations 16, 12, 8, 7.
        // `d = ((d ^= (a = (a + b) | 0)) << 16) | (d >>> 16)` is a += b; d ^= a; d <<<= 16 in
        // one statement: fewer bytecodes (10% fewer instructions on QuickJS/MIPS); the
        // left operand of | is evaluated first, so the right one reads the new d.
        x12 = ((x12 ^= (x0 = (x0 + x4) | 0)) << 16) | (x12 >>> 16);
        x4 = ((x4 ^= (x8 = (x8 + x12) | 0)) << 12) | (x4 >>> 20);
        x12 = ((x12 ^= (x0 = (x0 + x4) | 0)) << 8) | (x12 >>> 24);
        x4 = ((x4 ^= (x8 = (x8 + x12) | 0)) << 7) | (x4 >>> 25);
        x13 = ((x13 ^= (x1 = (x1 + x5) | 0)) << 16) | (x13 >>> 16);
        x5 = ((x5 ^= (x9 = (x9 + x13) | 0)) << 12) | (x5 >>> 20);
        x13 = ((x13 ^= (x1 = (x1 + x5) | 0)) << 8) | (x13 >>> 24);
        x5 = ((x5 ^= (x9 = (x9 + x13) | 0)) << 7) | (x5 >>> 25);
        x14 = ((x14 ^= (x2 = (x2 + x6) | 0)) << 16) | (x14 >>> 16);
        x6 = ((x6 ^= (x10 = (x10 + x14) | 0)) << 12) | (x6 >>> 20);
        x14 = ((x14 ^= (x2 = (x2 + x6) | 0)) << 8) | (x14 >>> 24);
        x6 = ((x6 ^= (x10 = (x10 + x14) | 0)) << 7) | (x6 >>> 25);
        x15 = ((x15 ^= (x3 = (x3 + x7) | 0)) << 16) | (x15 >>> 16);
        x7 = ((x7 ^= (x11 = (x11 + x15) | 0)) << 12) | (x7 >>> 20);
        x15 = ((x15 ^= (x3 = (x3 + x7) | 0)) << 8) | (x15 >>> 24);
        x7 = ((x7 ^= (x11 = (x11 + x15) | 0)) << 7) | (x7 >>> 25);
        x15 = ((x15 ^= (x0 = (x0 + x5) | 0)) << 16) | (x15 >>> 16);
        x5 = ((x5 ^= (x10 = (x10 + x15) | 0)) << 12) | (x5 >>> 20);
        x15 = ((x15 ^= (x0 = (x0 + x5) | 0)) << 8) | (x15 >>> 24);
        x5 = ((x5 ^= (x10 = (x10 + x15) | 0)) << 7) | (x5 >>> 25);
        x12 = ((x12 ^= (x1 = (x1 + x6) | 0)) << 16) | (x12 >>> 16);
        x6 = ((x6 ^= (x11 = (x11 + x12) | 0)) << 12) | (x6 >>> 20);
        x12 = ((x12 ^= (x1 = (x1 + x6) | 0)) << 8) | (x12 >>> 24);
        x6 = ((x6 ^= (x11 = (x11 + x12) | 0)) << 7) | (x6 >>> 25);
        x13 = ((x13 ^= (x2 = (x2 + x7) | 0)) << 16) | (x13 >>> 16);
        x7 = ((x7 ^= (x8 = (x8 + x13) | 0)) << 12) | (x7 >>> 20);
        x13 = ((x13 ^= (x2 = (x2 + x7) | 0)) << 8) | (x13 >>> 24);
        x7 = ((x7 ^= (x8 = (x8 + x13) | 0)) << 7) | (x7 >>> 25);
        x14 = ((x14 ^= (x3 = (x3 + x4) | 0)) << 16) | (x14 >>> 16);
        x4 = ((x4 ^= (x9 = (x9 + x14) | 0)) << 12) | (x4 >>> 20);
        x14 = ((x14 ^= (x3 = (x3 + x4) | 0)) << 8) | (x14 >>> 24);
        x4 = ((x4 ^= (x9 = (x9 + x14) | 0)) << 7) | (x4 >>> 25);
      }
      x0 = (x0 + j0) | 0; x1 = (x1 + j1) | 0; x2 = (x2 + j2) | 0; x3 = (x3 + j3) | 0;
      x4 = (x4 + j4) | 0; x5 = (x5 + j5) | 0; x6 = (x6 + j6) | 0; x7 = (x7 + j7) | 0;
      x8 = (x8 + j8) | 0; x9 = (x9 + j9) | 0; x10 = (x10 + j10) | 0; x11 = (x11 + j11) | 0;
      x12 = (x12 + j12) | 0; x13 = (x13 + j13) | 0; x14 = (x14 + j14) | 0; x15 = (x15 + j15) | 0;
      if (len >= 64) {
            dst[d] = src[s] ^ x0; dst[d + 1] = src[s + 1] ^ (x0 >>> 8); dst[d + 2] = src[s + 2] ^ (x0 >>> 16); dst[d + 3] = src[s + 3] ^ (x0 >>> 24);
            dst[d + 4] = src[s + 4] ^ x1; dst[d + 5] = src[s + 5] ^ (x1 >>> 8); dst[d + 6] = src[s + 6] ^ (x1 >>> 16); dst[d + 7] = src[s + 7] ^ (x1 >>> 24);
            dst[d + 8] = src[s + 8] ^ x2; dst[d + 9] = src[s + 9] ^ (x2 >>> 8); dst[d + 10] = src[s + 10] ^ (x2 >>> 16); dst[d + 11] = src[s + 11] ^ (x2 >>> 24);
            dst[d + 12] = src[s + 12] ^ x3; dst[d + 13] = src[s + 13] ^ (x3 >>> 8); dst[d + 14] = src[s + 14] ^ (x3 >>> 16); dst[d + 15] = src[s + 15] ^ (x3 >>> 24);
            dst[d + 16] = src[s + 16] ^ x4; dst[d + 17] = src[s + 17] ^ (x4 >>> 8); dst[d + 18] = src[s + 18] ^ (x4 >>> 16); dst[d + 19] = src[s + 19] ^ (x4 >>> 24);
            dst[d + 20] = src[s + 20] ^ x5; dst[d + 21] = src[s + 21] ^ (x5 >>> 8); dst[d + 22] = src[s + 22] ^ (x5 >>> 16); dst[d + 23] = src[s + 23] ^ (x5 >>> 24);
            dst[d + 24] = src[s + 24] ^ x6; dst[d + 25] = src[s + 25] ^ (x6 >>> 8); dst[d + 26] = src[s + 26] ^ (x6 >>> 16); dst[d + 27] = src[s + 27] ^ (x6 >>> 24);
            dst[d + 28] = src[s + 28] ^ x7; dst[d + 29] = src[s + 29] ^ (x7 >>> 8); dst[d + 30] = src[s + 30] ^ (x7 >>> 16); dst[d + 31] = src[s + 31] ^ (x7 >>> 24);
            dst[d + 32] = src[s + 32] ^ x8; dst[d + 33] = src[s + 33] ^ (x8 >>> 8); dst[d + 34] = src[s + 34] ^ (x8 >>> 16); dst[d + 35] = src[s + 35] ^ (x8 >>> 24);
            dst[d + 36] = src[s + 36] ^ x9; dst[d + 37] = src[s + 37] ^ (x9 >>> 8); dst[d + 38] = src[s + 38] ^ (x9 >>> 16); dst[d + 39] = src[s + 39] ^ (x9 >>> 24);
            dst[d + 40] = src[s + 40] ^ x10; dst[d + 41] = src[s + 41] ^ (x10 >>> 8); dst[d + 42] = src[s + 42] ^ (x10 >>> 16); dst[d + 43] = src[s + 43] ^ (x10 >>> 24);
            dst[d + 44] = src[s + 44] ^ x11; dst[d + 45] = src[s + 45] ^ (x11 >>> 8); dst[d + 46] = src[s + 46] ^ (x11 >>> 16); dst[d + 47] = src[s + 47] ^ (x11 >>> 24);
            dst[d + 48] = src[s + 48] ^ x12; dst[d + 49] = src[s + 49] ^ (x12 >>> 8); dst[d + 50] = src[s + 50] ^ (x12 >>> 16); dst[d + 51] = src[s + 51] ^ (x12 >>> 24);
            dst[d + 52] = src[s + 52] ^ x13; dst[d + 53] = src[s + 53] ^ (x13 >>> 8); dst[d + 54] = src[s + 54] ^ (x13 >>> 16); dst[d + 55] = src[s + 55] ^ (x13 >>> 24);
            dst[d + 56] = src[s + 56] ^ x14; dst[d + 57] = src[s + 57] ^ (x14 >>> 8); dst[d + 58] = src[s + 58] ^ (x14 >>> 16); dst[d + 59] = src[s + 59] ^ (x14 >>> 24);
            dst[d + 60] = src[s + 60] ^ x15; dst[d + 61] = src[s + 61] ^ (x15 >>> 8); dst[d + 62] = src[s + 62] ^ (x15 >>> 16); dst[d + 63] = src[s + 63] ^ (x15 >>> 24);
        s += 64;
        d += 64;
        len -= 64;
      } else {
        const block = this.block;
        writeLe32(block, 0, x0); writeLe32(block, 4, x1); writeLe32(block, 8, x2); writeLe32(block, 12, x3);
        writeLe32(block, 16, x4); writeLe32(block, 20, x5); writeLe32(block, 24, x6); writeLe32(block, 28, x7);
        writeLe32(block, 32, x8); writeLe32(block, 36, x9); writeLe32(block, 40, x10); writeLe32(block, 44, x11);
        writeLe32(block, 48, x12); writeLe32(block, 52, x13); writeLe32(block, 56, x14); writeLe32(block, 60, x15);
        for (let i = 0; i < len; i++) dst[d + i] = src[s + i]! ^ block[i]!;
        block.fill(0);
        len = 0;
      }
      j12 = (j12 + 1) | 0;
    }
    input[12] = j12;
  }

  /** The tag over aad ‖ pad ‖ text ‖ pad ‖ LE64(aad length) ‖ LE64(text length), into this.tag. */
  private authenticate(aad: Uint8Array | null, text: Uint8Array, off: number, len: number): void {
    this.h.fill(0);
    const aadLen = aad === null ? 0 : aad.length;
    if (aad !== null) this.polyUpdate(aad, 0, aadLen, true);
    this.polyUpdate(text, off, len, true);
    const last = this.last;
    last.fill(0);
    writeLe32(last, 0, aadLen);
    writeLe32(last, 8, len);
    this.polyUpdate(last, 0, 16, true);
    this.polyFinish();
  }

  /**
   * Poly1305 blocks (RFC 8439 §2.5), each with the 2^128 bit: h = (h + m) * r.
   * A trailing partial block is padded with zeros as a whole block (the
   * AEAD's padding) or, for plain Poly1305, ends in a 1 byte instead.
   * The product goes in two steps so that no sum passes 2^31: first the 19
   * columns of h * r (each below 10 * 2^14 * 2^13), then the columns at
   * 2^130 and above fold back times 5 once they are carried down to 13 bits.
   */
  private polyUpdate(buf: Uint8Array, off: number, len: number, aeadPadding: boolean): void {
    const hs = this.h, rs = this.r;
    let h0 = hs[0]!, h1 = hs[1]!, h2 = hs[2]!, h3 = hs[3]!, h4 = hs[4]!;
    let h5 = hs[5]!, h6 = hs[6]!, h7 = hs[7]!, h8 = hs[8]!, h9 = hs[9]!;
    const r0 = rs[0]!, r1 = rs[1]!, r2 = rs[2]!, r3 = rs[3]!, r4 = rs[4]!;
    const r5 = rs[5]!, r6 = rs[6]!, r7 = rs[7]!, r8 = rs[8]!, r9 = rs[9]!;
    let m = buf;
    let p = off;
    let left = len;
    let bit128 = 0x10000;
    while (left > 0) {
      if (left < 16) {
        const last = this.last;
        last.fill(0);
        for (let i = 0; i < left; i++) last[i] = buf[p + i]!;
        if (!aeadPadding) {
          last[left] = 1;
          bit128 = 0;
        }
        m = last;
        p = 0;
        left = 16;
      }
      // h += the block with bit 128 set, 13 bits per limb (bit 13k at byte 13k >> 3)
      h0 += (m[p]! | m[p + 1]! << 8) & 0x1fff;
      h1 += ((m[p + 1]! | m[p + 2]! << 8 | m[p + 3]! << 16) >> 5) & 0x1fff;
      h2 += ((m[p + 3]! | m[p + 4]! << 8) >> 2) & 0x1fff;
      h3 += ((m[p + 4]! | m[p + 5]! << 8 | m[p + 6]! << 16) >> 7) & 0x1fff;
      h4 += ((m[p + 6]! | m[p + 7]! << 8 | m[p + 8]! << 16) >> 4) & 0x1fff;
      h5 += ((m[p + 8]! | m[p + 9]! << 8) >> 1) & 0x1fff;
      h6 += ((m[p + 9]! | m[p + 10]! << 8 | m[p + 11]! << 16) >> 6) & 0x1fff;
      h7 += ((m[p + 11]! | m[p + 12]! << 8) >> 3) & 0x1fff;
      h8 += (m[p + 13]! | m[p + 14]! << 8) & 0x1fff;
      h9 += (m[p + 14]! | m[p + 15]! << 8 | bit128) >> 5;

        let d0 = h0 * r0;
        let d1 = h0 * r1 + h1 * r0;
        let d2 = h0 * r2 + h1 * r1 + h2 * r0;
        let d3 = h0 * r3 + h1 * r2 + h2 * r1 + h3 * r0;
        let d4 = h0 * r4 + h1 * r3 + h2 * r2 + h3 * r1 + h4 * r0;
        let d5 = h0 * r5 + h1 * r4 + h2 * r3 + h3 * r2 + h4 * r1 + h5 * r0;
        let d6 = h0 * r6 + h1 * r5 + h2 * r4 + h3 * r3 + h4 * r2 + h5 * r1 + h6 * r0;
        let d7 = h0 * r7 + h1 * r6 + h2 * r5 + h3 * r4 + h4 * r3 + h5 * r2 + h6 * r1 + h7 * r0;
        let d8 = h0 * r8 + h1 * r7 + h2 * r6 + h3 * r5 + h4 * r4 + h5 * r3 + h6 * r2 + h7 * r1 + h8 * r0;
        let d9 = h0 * r9 + h1 * r8 + h2 * r7 + h3 * r6 + h4 * r5 + h5 * r4 + h6 * r3 + h7 * r2 + h8 * r1 + h9 * r0;
        let d10 = h1 * r9 + h2 * r8 + h3 * r7 + h4 * r6 + h5 * r5 + h6 * r4 + h7 * r3 + h8 * r2 + h9 * r1;
        let d11 = h2 * r9 + h3 * r8 + h4 * r7 + h5 * r6 + h6 * r5 + h7 * r4 + h8 * r3 + h9 * r2;
        let d12 = h3 * r9 + h4 * r8 + h5 * r7 + h6 * r6 + h7 * r5 + h8 * r4 + h9 * r3;
        let d13 = h4 * r9 + h5 * r8 + h6 * r7 + h7 * r6 + h8 * r5 + h9 * r4;
        let d14 = h5 * r9 + h6 * r8 + h7 * r7 + h8 * r6 + h9 * r5;
        let d15 = h6 * r9 + h7 * r8 + h8 * r7 + h9 * r6;
        let d16 = h7 * r9 + h8 * r8 + h9 * r7;
        let d17 = h8 * r9 + h9 * r8;
        let d18 = h9 * r9;

      // columns 10..18 down to 13 bits (the carry out of column 18 is d19)
      d11 += d10 >> 13; d10 &= 0x1fff; d12 += d11 >> 13; d11 &= 0x1fff;
      d13 += d12 >> 13; d12 &= 0x1fff; d14 += d13 >> 13; d13 &= 0x1fff;
      d15 += d14 >> 13; d14 &= 0x1fff; d16 += d15 >> 13; d15 &= 0x1fff;
      d17 += d16 >> 13; d16 &= 0x1fff; d18 += d17 >> 13; d17 &= 0x1fff;
      const d19 = d18 >> 13; d18 &= 0x1fff;
      // 2^130 = 5 (mod 2^130 - 5)
      d0 += 5 * d10; d1 += 5 * d11; d2 += 5 * d12; d3 += 5 * d13; d4 += 5 * d14;
      d5 += 5 * d15; d6 += 5 * d16; d7 += 5 * d17; d8 += 5 * d18; d9 += 5 * d19;
      // columns 0..9 down to 13 bits; what leaves limb 9 re-enters at limb 0 times 5
      d1 += d0 >> 13; h0 = d0 & 0x1fff; d2 += d1 >> 13; h1 = d1 & 0x1fff;
      d3 += d2 >> 13; h2 = d2 & 0x1fff; d4 += d3 >> 13; h3 = d3 & 0x1fff;
      d5 += d4 >> 13; h4 = d4 & 0x1fff; d6 += d5 >> 13; h5 = d5 & 0x1fff;
      d7 += d6 >> 13; h6 = d6 & 0x1fff; d8 += d7 >> 13; h7 = d7 & 0x1fff;
      d9 += d8 >> 13; h8 = d8 & 0x1fff;
      h0 += 5 * (d9 >> 13); h9 = d9 & 0x1fff;
      h1 += h0 >> 13; h0 &= 0x1fff;

      p += 16;
      left -= 16;
    }
    hs[0] = h0; hs[1] = h1; hs[2] = h2; hs[3] = h3; hs[4] = h4;
    hs[5] = h5; hs[6] = h6; hs[7] = h7; hs[8] = h8; hs[9] = h9;
  }

  /** tag = ((h mod 2^130 - 5) + s) mod 2^128 */
  private polyFinish(): void {
    const h = this.h;
    // Two carry passes leave 13-bit digits of a value below 2^130.
    for (let pass = 0; pass < 2; pass++) {
      for (let k = 0; k < 9; k++) {
        h[k + 1]! += h[k]! >> 13;
        h[k]! &= 0x1fff;
      }
      h[0]! += 5 * (h[9]! >> 13);
      h[9]! &= 0x1fff;
    }
    // h >= p exactly when h + 5 reaches 2^130; then h - p is h + 5 - 2^130.
    let carry = (h[0]! + 5) >> 13;
    for (let k = 1; k < 10; k++) carry = (h[k]! + carry) >> 13;
    h[0]! += 5 * carry;
    for (let k = 0; k < 9; k++) {
      h[k + 1]! += h[k]! >> 13;
      h[k]! &= 0x1fff;
    }
    h[9]! &= 0x1fff;

    // The low 128 bits as bytes, plus s.
    const tag = this.tag, s = this.s;
    let acc = 0, bits = 0, o = 0;
    for (let k = 0; k < 10; k++) {
      acc |= h[k]! << bits;
      bits += 13;
      while (bits >= 8 && o < 16) {
        tag[o++] = acc;
        acc >>>= 8;
        bits -= 8;
      }
    }
    carry = 0;
    for (let i = 0; i < 16; i++) {
      const v = tag[i]! + s[i]! + carry;
      tag[i] = v;
      carry = v >> 8;
    }
    h.fill(0);
  }
}

/** A caller's bug, not bad input: a range outside its array. */
function checkRange(b: Uint8Array, off: number, len: number): void {
  if (!(off >= 0 && len >= 0 && off + len <= b.length)) throw new RangeError(`bytes [${off}, ${off + len}) outside an array of ${b.length}`);
}

function readLe32(b: Uint8Array, o: number): number {
  return b[o]! | b[o + 1]! << 8 | b[o + 2]! << 16 | b[o + 3]! << 24;
}

function writeLe32(b: Uint8Array, o: number, v: number): void {
  b[o] = v;
  b[o + 1] = v >>> 8;
  b[o + 2] = v >>> 16;
  b[o + 3] = v >>> 24;
}

/** 16 bytes at off (plus bit 128 when hibit is 1) as ten 13-bit limbs. */
function splitLimbs(m: Uint8Array, p: number, hibit: number, out: Int32Array): void {
  out[0] = (m[p]! | m[p + 1]! << 8) & 0x1fff;
  out[1] = ((m[p + 1]! | m[p + 2]! << 8 | m[p + 3]! << 16) >> 5) & 0x1fff;
  out[2] = ((m[p + 3]! | m[p + 4]! << 8) >> 2) & 0x1fff;
  out[3] = ((m[p + 4]! | m[p + 5]! << 8 | m[p + 6]! << 16) >> 7) & 0x1fff;
  out[4] = ((m[p + 6]! | m[p + 7]! << 8 | m[p + 8]! << 16) >> 4) & 0x1fff;
  out[5] = ((m[p + 8]! | m[p + 9]! << 8) >> 1) & 0x1fff;
  out[6] = ((m[p + 9]! | m[p + 10]! << 8 | m[p + 11]! << 16) >> 6) & 0x1fff;
  out[7] = ((m[p + 11]! | m[p + 12]! << 8) >> 3) & 0x1fff;
  out[8] = (m[p + 13]! | m[p + 14]! << 8) & 0x1fff;
  out[9] = (m[p + 14]! | m[p + 15]! << 8 | hibit << 16) >> 5;
}

/** The Aead on this implementation. */
export function createInt32Aead(): Int32ChaCha20Poly1305 {
  return new Int32ChaCha20Poly1305();
}
