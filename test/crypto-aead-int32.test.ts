// The int32-only ChaCha20-Poly1305 (src/crypto/chacha20poly1305-int32.ts,
// what createJsAead() returns) against RFC 8439's vectors and, byte for byte,
// against @noble/ciphers on random inputs: every length 0..300 and longer
// odd ones, offsets, aad, counter widths, in place, out of place and shifted
// within one buffer, and tampering. Pure: test/quickjs.test.ts and test-qemu/
// run it on QuickJS, the runtime it is written for.
import t from 'tap';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { poly1305 } from '@noble/ciphers/_poly1305.js';
import { createJsAead, createNobleAead, TAG_LEN } from '../src/crypto/aead.js';
import { createInt32Aead, Int32ChaCha20Poly1305 } from '../src/crypto/chacha20poly1305-int32.js';
import { asciiBytes, fromHex, toHex } from '../src/crypto/encoding.js';
import { prng } from './helpers/prng.js';

const hex = (s: string): Uint8Array => {
  const clean = s.replace(/\s+/g, '');
  const bytes = fromHex(clean, clean.length / 2);
  if (bytes === null) throw new Error(`bad hex: ${clean.slice(0, 16)}`);
  return bytes;
};

t.test('createJsAead() is the int32 implementation', async (t) => {
  t.ok(createJsAead() instanceof Int32ChaCha20Poly1305);
});

t.test('RFC 8439 §2.8.2: AEAD with a whole 12-byte nonce', async (t) => {
  const aead = createInt32Aead();
  const key = Uint8Array.from({ length: 32 }, (_, i) => 0x80 + i);
  const nonce = hex('070000004041424344454647');
  const aad = hex('50515253c0c1c2c3c4c5c6c7');
  const plain = asciiBytes("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.");
  const sealed = `d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6
    3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36
    92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc
    3ff4def08e4b7a9de576d26586cec64b6116 1ae10b594f09e26a7e902ecbd0600691`.replace(/\s+/g, '');
  const out = new Uint8Array(plain.length + TAG_LEN);
  t.equal(aead.sealWithNonce(key, nonce, aad, plain, 0, plain.length, out, 0), out.length);
  t.equal(toHex(out), sealed, 'ciphertext ‖ tag');
  const opened = new Uint8Array(plain.length);
  t.equal(aead.openWithNonce(key, nonce, aad, out, 0, out.length, opened, 0), plain.length);
  t.equal(toHex(opened), toHex(plain));
  out[5]! ^= 0x40;
  t.equal(aead.openWithNonce(key, nonce, aad, out, 0, out.length, opened, 0), -1, 'a flipped ciphertext bit is rejected');
});

t.test('Poly1305: RFC 8439 §2.5.2 and the A.3 reduction edge cases', async (t) => {
  const aead = createInt32Aead();
  const zeros = (n: number) => '00'.repeat(n);
  const cases: [string, string, string, string][] = [
    ['§2.5.2', '85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b',
      toHex(asciiBytes('Cryptographic Forum Research Group')), 'a8061dc1305136c6c22b8baf0c0127a9'],
    ['A.3 #5: partially reduced result not fully reduced', `02${zeros(31)}`, 'ff'.repeat(16), `03${zeros(15)}`],
    ['A.3 #6: adding s overflows 2^128', `02${zeros(15)}${'ff'.repeat(16)}`, `02${zeros(15)}`, `03${zeros(15)}`],
    ['A.3 #7: all-ones limb with a carry', `01${zeros(31)}`, `${'ff'.repeat(16)}f0${'ff'.repeat(15)}11${zeros(15)}`, `05${zeros(15)}`],
    ['A.3 #8: result exactly 2^130 - 5', `01${zeros(31)}`, `${'ff'.repeat(16)}fb${'fe'.repeat(15)}${'01'.repeat(16)}`, zeros(16)],
    ['A.3 #9: result exactly 2^130 - 6', `02${zeros(31)}`, `fd${'ff'.repeat(15)}`, `fa${'ff'.repeat(15)}`],
  ];
  const out = new Uint8Array(20);
  for (const [name, key, msg, tag] of cases) {
    const m = hex(msg);
    aead.poly1305(hex(key), m, 0, m.length, out, 2);
    t.equal(toHex(out.subarray(2, 18)), tag, name);
  }
  // Random keys and lengths (partial last blocks) against @noble.
  const rnd = prng(1305);
  let mismatches = 0;
  for (let i = 0; i < 200; i++) {
    const key = Uint8Array.from({ length: 32 }, () => Math.floor(rnd() * 256));
    if (i % 10 === 0) key.fill(0xff, 0, 16); // r at its clamped maximum
    const msg = Uint8Array.from({ length: i }, () => (i % 7 === 0 ? 0xff : Math.floor(rnd() * 256)));
    aead.poly1305(key, msg, 0, msg.length, out, 0);
    if (toHex(out.subarray(0, 16)) !== toHex(poly1305(msg, key))) mismatches++;
  }
  t.equal(mismatches, 0, '200 random messages of every length up to 199 equal @noble');
});

t.test('byte for byte the same as @noble/ciphers on random inputs', async (t) => {
  const aead = createInt32Aead();
  const noble = createNobleAead();
  const rnd = prng(8439);
  const int = (n: number): number => Math.floor(rnd() * n);
  const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => int(256));
  const COUNTERS = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000, 2 ** 53 - 2];
  const failures: string[] = [];
  const check = (ok: boolean, what: () => string): void => { if (!ok && failures.length < 10) failures.push(what()); };
  let cases = 0;
  for (let i = 0; i < 340; i++, cases++) {
    const len = i <= 300 ? i : [1419, 1420, 1421, 1500, 4096 + 3, 65, 127, 129, 191, 193, 255, 257, 511, 513, 1023, 1025, 2047, 3000, 777, 999][i % 20]!;
    const key = bytes(32);
    const counter = i % 3 === 0 ? COUNTERS[(i / 3) % COUNTERS.length]! : int(2 ** 21) * 2 ** 32 + int(2 ** 32);
    const aad = i % 4 === 0 ? null : bytes(int(70));
    const plain = bytes(len);
    const name = () => `case ${i}: len ${len} counter ${counter} aad ${aad ? aad.length : 'null'}`;

    const expected = new Uint8Array(len + TAG_LEN);
    noble.seal(key, counter, aad, plain, 0, len, expected, 0);

    // Out of place, at offsets, with guard bytes.
    const srcOff = int(9);
    const src = new Uint8Array(srcOff + len + 5).fill(0xdd);
    src.set(plain, srcOff);
    const outOff = int(9);
    const out = new Uint8Array(outOff + len + TAG_LEN + 7).fill(0xee);
    check(aead.seal(key, counter, aad, src, srcOff, len, out, outOff) === len + TAG_LEN, name);
    check(toHex(out.subarray(outOff, outOff + len + TAG_LEN)) === toHex(expected), () => `${name()}: seal equals @noble`);
    check(out.subarray(0, outOff).every((b) => b === 0xee) && out.subarray(outOff + len + TAG_LEN).every((b) => b === 0xee),
      () => `${name()}: guard bytes untouched`);
    check(src.subarray(srcOff, srcOff + len).every((b, j) => b === plain[j]), () => `${name()}: source untouched`);

    // In place, and shifted either way inside one buffer (the handshake's and the data path's layouts).
    const shift = i % 3 === 0 ? 0 : int(17) - 8;
    const base = 16;
    const one = new Uint8Array(base + len + TAG_LEN + 16);
    one.set(plain, base);
    check(aead.seal(key, counter, aad, one, base, len, one, base + shift) === len + TAG_LEN, name);
    check(toHex(one.subarray(base + shift, base + shift + len + TAG_LEN)) === toHex(expected), () => `${name()}: shift ${shift} equals @noble`);
    // Open it where it lies, into another shifted place.
    const back = int(17) - 8;
    check(aead.open(key, counter, aad, one, base + shift, len + TAG_LEN, one, base + shift + back) === len &&
      toHex(one.subarray(base + shift + back, base + shift + back + len)) === toHex(plain), () => `${name()}: opens shifted by ${back}`);

    // @noble opens ours; ours opens in place.
    const viaNoble = new Uint8Array(len);
    check(noble.open(key, counter, aad, expected, 0, len + TAG_LEN, viaNoble, 0) === len, () => `${name()}: @noble opens it`);
    const inPlace = expected.slice();
    check(aead.open(key, counter, aad, inPlace, 0, len + TAG_LEN, inPlace, 0) === len && toHex(inPlace.subarray(0, len)) === toHex(plain),
      () => `${name()}: opens in place`);

    // Tampering: one bit anywhere, another counter, other aad. Nothing is written.
    const bad = expected.slice();
    let badCounter = counter;
    let badAad = aad;
    if (i % 5 === 1) badCounter = counter === 0 ? 1 : counter - 1;
    else if (i % 5 === 2) badAad = aad === null ? new Uint8Array(1) : null;
    else { const bit = int((len + TAG_LEN) * 8); bad[bit >> 3]! ^= 1 << (bit & 7); }
    const badCopy = bad.slice();
    check(aead.open(key, badCounter, badAad, bad, 0, bad.length, bad, 0) === -1 && toHex(bad) === toHex(badCopy),
      () => `${name()}: tampering rejected in place, buffer unchanged`);
    const dst = new Uint8Array(len).fill(0x5a);
    check(aead.open(key, badCounter, badAad, bad, 0, bad.length, dst, 0) === -1 && dst.every((b) => b === 0x5a),
      () => `${name()}: tampering rejected out of place, dst untouched`);
  }
  t.equal(cases, 340);
  t.same(failures, [], 'no differences');
  t.equal(aead.open(new Uint8Array(32), 0, null, new Uint8Array(15), 0, 15, new Uint8Array(15), 0), -1, 'shorter than a tag: -1');
  t.throws(() => aead.seal(new Uint8Array(32), 0, null, new Uint8Array(10), 0, 10, new Uint8Array(25), 0), RangeError, 'no room for the tag: RangeError');
  t.throws(() => aead.seal(new Uint8Array(32), 0, null, new Uint8Array(10), 4, 10, new Uint8Array(40), 0), RangeError, 'source range outside: RangeError');
});

t.test('one instance serves many keys and counters in turn (no state carried over)', async (t) => {
  const aead = createInt32Aead();
  const key1 = new Uint8Array(32).fill(1);
  const key2 = new Uint8Array(32).fill(2);
  const plain = Uint8Array.from({ length: 100 }, (_, i) => i);
  const first = new Uint8Array(116);
  aead.seal(key1, 5, null, plain, 0, 100, first, 0);
  const other = new Uint8Array(116);
  aead.seal(key2, 6, plain.subarray(0, 3), plain, 0, 100, other, 0);
  aead.open(key2, 6, plain.subarray(0, 3), other, 0, 116, other, 0);
  const again = new Uint8Array(116);
  aead.seal(key1, 5, null, plain, 0, 100, again, 0);
  t.equal(toHex(again), toHex(first));
  const nonce = new Uint8Array(12);
  nonce[4] = 5;
  const reference = chacha20poly1305(key1, nonce).encrypt(plain);
  t.equal(toHex(first), toHex(reference), 'equals @noble with WireGuard nonce 0‖LE64(5)');
});
