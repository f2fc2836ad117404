// BLAKE2s (RFC 7693) in int32-only TypeScript for QuickJS, with the
// WireGuard constructions on top (HASH, MAC, HMAC, KDF as blake2s.ts defines
// them over @noble/hashes). On QuickJS a uint32 above 2^31 (what `x >>> 0`
// makes of half of all words) is a float64, which a soft-float MIPS emulates
// in software; here words stay signed int32, so a hash costs a tenth of
// @noble's there (0.38 M guest instructions on MIPS32 against 4.15 M). Same bytes as @noble: test/crypto-blake2s-int32.test.ts.
const IV = Int32Array.of(
  0x6a09e667 | 0, 0xbb67ae85 | 0, 0x3c6ef372 | 0, 0xa54ff53a | 0,
  0x510e527f | 0, 0x9b05688c | 0, 0x1f83d9ab | 0, 0x5be0cd19 | 0,
);

/** The message word order of each of the ten rounds (RFC 7693 §2.7). */
const SIGMA = Uint8Array.of(
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
  14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3,
  11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4,
  7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8,
  9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13,
  2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9,
  12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11,
  13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10,
  6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5,
  10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0,
);

const BLOCK = 64;
const SIGN = 1 << 31;

/** An incremental BLAKE2s: reset(), update()..., digest(). Reusable; allocates only in reset()'s caller's hands. */
export class Blake2s {
  private readonly h = new Int32Array(8);
  private readonly m = new Int32Array(16);
  private readonly buffer = new Uint8Array(BLOCK);
  private filled = 0;
  private t0 = 0; // bytes compressed so far, low and high words
  private t1 = 0;
  private outLen = 32;

  /** Starts a hash of outLen (1..32) bytes, keyed when key (1..32 bytes) is given. */
  reset(outLen = 32, key: Uint8Array | null = null): this {
    const keyLen = key === null ? 0 : key.length;
    if (!(outLen >= 1 && outLen <= 32) || keyLen > 32) throw new RangeError('BLAKE2s: output 1..32 bytes, key up to 32');
    const h = this.h;
    for (let i = 0; i < 8; i++) h[i] = IV[i]!;
    h[0] = h[0]! ^ (0x01010000 | (keyLen << 8) | outLen);
    this.outLen = outLen;
    this.filled = 0;
    this.t0 = 0;
    this.t1 = 0;
    this.buffer.fill(0);
    if (key !== null && keyLen > 0) {
      this.update(key, 0, keyLen);
      this.filled = BLOCK; // the key is a whole (zero-padded) block of its own
    }
    return this;
  }

  update(data: Uint8Array, off = 0, len = data.length - off): this {
    if (!(off >= 0 && len >= 0 && off + len <= data.length)) throw new RangeError('BLAKE2s: range outside the data');
    const buffer = this.buffer;
    while (len > 0) {
      // The last block is compressed by digest() with the final flag, so a
      // full buffer waits until more data shows it is not the last.
      if (this.filled === BLOCK) {
        this.count(BLOCK);
        this.compress(buffer, 0, false);
        this.filled = 0;
      }
      if (this.filled === 0 && len > BLOCK) {
        this.count(BLOCK);
        this.compress(data, off, false);
        off += BLOCK;
        len -= BLOCK;
        continue;
      }
      const take = len < BLOCK - this.filled ? len : BLOCK - this.filled;
      for (let i = 0; i < take; i++) buffer[this.filled + i] = data[off + i]!;
      this.filled += take;
      off += take;
      len -= take;
    }
    return this;
  }

  /** Writes the outLen-byte digest at out[outOff]; the hash must be reset() before reuse. */
  digest(out: Uint8Array = new Uint8Array(this.outLen), outOff = 0): Uint8Array {
    const buffer = this.buffer;
    this.count(this.filled);
    buffer.fill(0, this.filled);
    this.compress(buffer, 0, true);
    const h = this.h;
    for (let i = 0; i < this.outLen; i++) out[outOff + i] = h[i >> 2]! >> (8 * (i & 3));
    buffer.fill(0);
    h.fill(0);
    return out;
  }

  private count(n: number): void {
    const before = this.t0;
    this.t0 = (before + n) | 0;
    if ((this.t0 ^ SIGN) < (before ^ SIGN)) this.t1 = (this.t1 + 1) | 0; // unsigned wrap
  }

  private compress(block: Uint8Array, p: number, last: boolean): void {
    const m = this.m, h = this.h;
    for (let i = 0; i < 16; i++, p += 4) m[i] = block[p]! | block[p + 1]! << 8 | block[p + 2]! << 16 | block[p + 3]! << 24;
    let v0 = h[0]!, v1 = h[1]!, v2 = h[2]!, v3 = h[3]!, v4 = h[4]!, v5 = h[5]!, v6 = h[6]!, v7 = h[7]!;
    let v8 = IV[0]!, v9 = IV[1]!, v10 = IV[2]!, v11 = IV[3]!;
    let v12 = IV[4]! ^ this.t0, v13 = IV[5]! ^ this.t1, v14 = last ? ~IV[6]! : IV[6]!, v15 = IV[7]!;
    for (let s = 0; s < 160; s += 16) {
      // G(a, b, c, d, x, y) on the columns, then on the diagonals; rotations right by 16, 12, 8, 7.
      // `d = ((d ^= (a = a + b + x)) >>> 16) | (d << 16)` is a = a + b + x; d ^= a; d = d >>> 16 | d << 16
      // in one statement: fewer bytecodes, and the left operand is evaluated first.
      v12 = ((v12 ^= (v0 = (v0 + v4 + m[SIGMA[s]!]!) | 0)) >>> 16) | (v12 << 16);
      v4 = ((v4 ^= (v8 = (v8 + v12) | 0)) >>> 12) | (v4 << 20);
      v12 = ((v12 ^= (v0 = (v0 + v4 + m[SIGMA[s + 1]!]!) | 0)) >>> 8) | (v12 << 24);
      v4 = ((v4 ^= (v8 = (v8 + v12) | 0)) >>> 7) | (v4 << 25);

      v13 = ((v13 ^= (v1 = (v1 + v5 + m[SIGMA[s + 2]!]!) | 0)) >>> 16) | (v13 << 16);
      v5 = ((v5 ^= (v9 = (v9 + v13) | 0)) >>> 12) | (v5 << 20);
      v13 = ((v13 ^= (v1 = (v1 + v5 + m[SIGMA[s + 3]!]!) | 0)) >>> 8) | (v13 << 24);
      v5 = ((v5 ^= (v9 = (v9 + v13) | 0)) >>> 7) | (v5 << 25);

      v14 = ((v14 ^= (v2 = (v2 + v6 + m[SIGMA[s + 4]!]!) | 0)) >>> 16) | (v14 << 16);
      v6 = ((v6 ^= (v10 = (v10 + v14) | 0)) >>> 12) | (v6 << 20);
      v14 = ((v14 ^= (v2 = (v2 + v6 + m[SIGMA[s + 5]!]!) | 0)) >>> 8) | (v14 << 24);
      v6 = ((v6 ^= (v10 = (v10 + v14) | 0)) >>> 7) | (v6 << 25);

      v15 = ((v15 ^= (v3 = (v3 + v7 + m[SIGMA[s + 6]!]!) | 0)) >>> 16) | (v15 << 16);
      v7 = ((v7 ^= (v11 = (v11 + v15) | 0)) >>> 12) | (v7 << 20);
      v15 = ((v15 ^= (v3 = (v3 + v7 + m[SIGMA[s + 7]!]!) | 0)) >>> 8) | (v15 << 24);
      v7 = ((v7 ^= (v11 = (v11 + v15) | 0)) >>> 7) | (v7 << 25);

      v15 = ((v15 ^= (v0 = (v0 + v5 + m[SIGMA[s + 8]!]!) | 0)) >>> 16) | (v15 << 16);
      v5 = ((v5 ^= (v10 = (v10 + v15) | 0)) >>> 12) | (v5 << 20);
      v15 = ((v15 ^= (v0 = (v0 + v5 + m[SIGMA[s + 9]!]!) | 0)) >>> 8) | (v15 << 24);
      v5 = ((v5 ^= (v10 = (v10 + v15) | 0)) >>> 7) | (v5 << 25);

      v12 = ((v12 ^= (v1 = (v1 + v6 + m[SIGMA[s + 10]!]!) | 0)) >>> 16) | (v12 << 16);
      v6 = ((v6 ^= (v11 = (v11 + v12) | 0)) >>> 12) | (v6 << 20);
      v12 = ((v12 ^= (v1 = (v1 + v6 + m[SIGMA[s + 11]!]!) | 0)) >>> 8) | (v12 << 24);
      v6 = ((v6 ^= (v11 = (v11 + v12) | 0)) >>> 7) | (v6 << 25);

      v13 = ((v13 ^= (v2 = (v2 + v7 + m[SIGMA[s + 12]!]!) | 0)) >>> 16) | (v13 << 16);
      v7 = ((v7 ^= (v8 = (v8 + v13) | 0)) >>> 12) | (v7 << 20);
      v13 = ((v13 ^= (v2 = (v2 + v7 + m[SIGMA[s + 13]!]!) | 0)) >>> 8) | (v13 << 24);
      v7 = ((v7 ^= (v8 = (v8 + v13) | 0)) >>> 7) | (v7 << 25);

      v14 = ((v14 ^= (v3 = (v3 + v4 + m[SIGMA[s + 14]!]!) | 0)) >>> 16) | (v14 << 16);
      v4 = ((v4 ^= (v9 = (v9 + v14) | 0)) >>> 12) | (v4 << 20);
      v14 = ((v14 ^= (v3 = (v3 + v4 + m[SIGMA[s + 15]!]!) | 0)) >>> 8) | (v14 << 24);
      v4 = ((v4 ^= (v9 = (v9 + v14) | 0)) >>> 7) | (v4 << 25);
    }
    h[0] = h[0]! ^ v0 ^ v8; h[1] = h[1]! ^ v1 ^ v9; h[2] = h[2]! ^ v2 ^ v10; h[3] = h[3]! ^ v3 ^ v11;
    h[4] = h[4]! ^ v4 ^ v12; h[5] = h[5]! ^ v5 ^ v13; h[6] = h[6]! ^ v6 ^ v14; h[7] = h[7]! ^ v7 ^ v15;
  }
}

// WireGuard's constructions (whitepaper §5.4), as in blake2s.ts.
const shared = new Blake2s();
const HMAC_BLOCK = 64;
const pad = new Uint8Array(HMAC_BLOCK);
const inner = new Uint8Array(32);

/** HASH(a ‖ b ‖ ...): unkeyed BLAKE2s-256. */
export function hash(...parts: Uint8Array[]): Uint8Array {
  shared.reset(32);
  for (const p of parts) shared.update(p);
  return shared.digest();
}

/** MAC(key, input): keyed BLAKE2s with a 16-byte output. */
export function mac(key: Uint8Array, input: Uint8Array): Uint8Array {
  return shared.reset(16, key).update(input).digest();
}

/** HMAC-BLAKE2s (RFC 2104 with a 64-byte block). */
export function hmac(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  pad.fill(0);
  if (key.length > HMAC_BLOCK) shared.reset(32).update(key).digest(pad, 0);
  else pad.set(key);
  for (let i = 0; i < HMAC_BLOCK; i++) pad[i] = pad[i]! ^ 0x36;
  shared.reset(32).update(pad);
  for (const p of parts) shared.update(p);
  shared.digest(inner, 0);
  for (let i = 0; i < HMAC_BLOCK; i++) pad[i] = pad[i]! ^ (0x36 ^ 0x5c);
  const out = shared.reset(32).update(pad).update(inner).digest();
  pad.fill(0);
  inner.fill(0);
  return out;
}

const ONE = Uint8Array.of(1);
const TWO = Uint8Array.of(2);
const THREE = Uint8Array.of(3);

/** KDF_n(key, input): n 32-byte outputs, n in 1..3. Intermediates are wiped. */
export function kdf(n: 1, key: Uint8Array, input: Uint8Array): [Uint8Array];
export function kdf(n: 2, key: Uint8Array, input: Uint8Array): [Uint8Array, Uint8Array];
export function kdf(n: 3, key: Uint8Array, input: Uint8Array): [Uint8Array, Uint8Array, Uint8Array];
export function kdf(n: 1 | 2 | 3, key: Uint8Array, input: Uint8Array): Uint8Array[] {
  const prk = hmac(key, input);
  const t1 = hmac(prk, ONE);
  const out = [t1];
  if (n >= 2) out.push(hmac(prk, t1, TWO));
  if (n === 3) out.push(hmac(prk, out[1]!, THREE));
  prk.fill(0);
  return out;
}
