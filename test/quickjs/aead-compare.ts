// The native ChaCha20-Poly1305 binding (createNativeAead over wgts_native)
// against its TypeScript twin createJsAead() on random inputs, run by wgts-js:
// test/native-aead.test.ts on the host and test-qemu/ on the router CPUs.
//   wgts-js aead-compare.mjs [CASES [SEED]]   prints {cases, checks, failures} as JSON
//   wgts-js aead-compare.mjs bench            prints MB/s of the three ways to seal
import * as os from 'os';
import * as native from 'wgts_native';
import { createJsAead, TAG_LEN } from '../../src/crypto/aead.js';
import { createNativeAead } from '../../src/crypto/native-aead.js';
import { checkRecord, randomBytes, sameBytes } from '../helpers/compare-kit.js';
import { prng } from '../helpers/prng.js';

declare const scriptArgs: string[];
declare function print(...args: unknown[]): void;

const EINVAL = 22;


function compare(n: number, seed: number): void {
  const js = createJsAead();
  const nat = createNativeAead(native);
  const rnd = prng(seed);
  const int = (n: number): number => Math.floor(rnd() * n);
  const bytes = (n: number): Uint8Array => randomBytes(rnd, n);
  const same = sameBytes;
  const COUNTERS = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000, 2 ** 53 - 2];
  const LENGTHS = [0, 1, 15, 16, 17, 63, 64, 65, 1419, 1420, 1421, 1500];
  const record = checkRecord();
  const check = record.check;

  for (let i = 0; i < n; i++) {
    const len = i < LENGTHS.length ? LENGTHS[i]! : i % 8 === 0 ? 1420 : int(1501);
    const key = bytes(32);
    const counter = i % 3 === 0 ? COUNTERS[(i / 3) % COUNTERS.length]! : int(2 ** 21) * 2 ** 32 + int(2 ** 32);
    const aad = i % 4 === 0 ? null : bytes(int(40));
    const plain = bytes(len);
    const layout = i % 3;
    const name = () => `case ${i}: len ${len} counter ${counter} aad ${aad ? aad.length : 'null'} layout ${layout}`;

    // The reference output, out of place into a fresh array.
    const expected = new Uint8Array(len + TAG_LEN);
    check(js.seal(key, counter, aad, plain, 0, len, expected, 0) === len + TAG_LEN, name);

    // The native output in one of three layouts, with guard bytes around it.
    let out: Uint8Array;
    let outOff: number;
    if (layout === 0) { // in place, at an offset (the data path)
      outOff = int(8);
      out = new Uint8Array(outOff + len + TAG_LEN + 8).fill(0xee);
      out.set(plain, outOff);
      check(nat.seal(key, counter, aad, out, outOff, len, out, outOff) === len + TAG_LEN, name);
    } else if (layout === 1) { // from another array
      const srcOff = int(8);
      const src = new Uint8Array(srcOff + len + 3).fill(0xdd);
      src.set(plain, srcOff);
      const srcCopy = src.slice();
      outOff = int(8);
      out = new Uint8Array(outOff + len + TAG_LEN + 8).fill(0xee);
      check(nat.seal(key, counter, aad, src, srcOff, len, out, outOff) === len + TAG_LEN, name);
      check(same(src, srcCopy), () => name() + ': source untouched');
    } else { // within one array, shifted by a few bytes either way (overlapping)
      const srcOff = 8 + int(8);
      outOff = srcOff + int(17) - 8;
      out = new Uint8Array(32 + len + TAG_LEN + 8).fill(0xee);
      out.set(plain, srcOff);
      const before = out.slice();
      check(nat.seal(key, counter, aad, out, srcOff, len, out, outOff) === len + TAG_LEN, name);
      // Bytes outside both the source and the output keep their value.
      const lo = Math.min(srcOff, outOff);
      const hi = Math.max(srcOff + len, outOff + len + TAG_LEN);
      check(same(out.subarray(0, lo), before.subarray(0, lo)) && same(out.subarray(hi), before.subarray(hi)),
        () => name() + ': bytes outside untouched');
    }
    const sealed = out.slice(outOff, outOff + len + TAG_LEN);
    check(same(sealed, expected), () => name() + ': native seal equals createJsAead()');
    if (layout !== 2) {
      check(out.subarray(0, outOff).every((b) => b === 0xee) && out.subarray(outOff + len + TAG_LEN).every((b) => b === 0xee),
        () => name() + ': guard bytes untouched');
    }

    // Each opens the other's output: native in place, native out of place into
    // an exact-size view, and the reference.
    const inPlace = expected.slice();
    check(nat.open(key, counter, aad, inPlace, 0, len + TAG_LEN, inPlace, 0) === len && same(inPlace.subarray(0, len), plain),
      () => name() + ': native opens the reference in place');
    const exact = new Uint8Array(len);
    check(nat.open(key, counter, aad, expected, 0, len + TAG_LEN, exact, 0) === len && same(exact, plain),
      () => name() + ': native opens into an exact-size array');
    const viaJs = new Uint8Array(len);
    check(js.open(key, counter, aad, sealed, 0, len + TAG_LEN, viaJs, 0) === len && same(viaJs, plain),
      () => name() + ': the reference opens the native output');

    // One flipped bit anywhere (or the neighbour counter): both reject, and the
    // native in-place open leaves the buffer as it was.
    const bad = sealed.slice();
    let badCounter = counter;
    if (i % 16 === 5) badCounter = counter === 0 ? 1 : counter - 1;
    else { const bit = int((len + TAG_LEN) * 8); bad[bit >> 3] ^= 1 << (bit & 7); }
    const badCopy = bad.slice();
    check(nat.open(key, badCounter, aad, bad, 0, bad.length, bad, 0) === -1 && same(bad, badCopy),
      () => name() + ': native rejects tampering, buffer unchanged');
    const dstUntouched = new Uint8Array(len).fill(0x5a);
    check(nat.open(key, badCounter, aad, bad, 0, bad.length, dstUntouched, 0) === -1 && dstUntouched.every((b) => b === 0x5a),
      () => name() + ': native out-of-place reject leaves dst untouched');
    check(js.open(key, badCounter, aad, bad, 0, bad.length, new Uint8Array(len), 0) === -1,
      () => name() + ': the reference rejects tampering');
  }

  // The native functions' own argument checks (-EINVAL, nothing written).
  const key = new Uint8Array(32);
  const buf = new Uint8Array(64);
  const untouched = () => buf.every((b) => b === 0);
  const einval: [string, () => number][] = [
    ['31-byte key', () => native.aeadSeal(new Uint8Array(31), 0, 0, null, buf, 0, 10)],
    ['33-byte key', () => native.aeadOpen(new Uint8Array(33), 0, 0, null, buf, 0, 26)],
    ['tag past the end', () => native.aeadSeal(key, 0, 0, null, buf, 40, 9)],
    ['range past the end', () => native.aeadOpen(key, 0, 0, null, buf, 40, 25)],
    ['negative offset', () => native.aeadSeal(key, 0, 0, null, buf, -1, 10)],
    ['negative length', () => native.aeadSeal(key, 0, 0, null, buf, 0, -1)],
    ['fractional offset', () => native.aeadSeal(key, 0, 0, null, buf, 1.5, 10)],
    ['fractional counter', () => native.aeadSeal(key, 0.5, 0, null, buf, 0, 10)],
    ['counter half above 2^32', () => native.aeadSeal(key, 2 ** 32, 0, null, buf, 0, 10)],
    ['huge length', () => native.aeadSeal(key, 0, 0, null, buf, 0, 2 ** 31 - 1)],
  ];
  for (const [what, call] of einval) {
    const rc = call();
    check(rc === -EINVAL && untouched(), () => `${what}: ${rc}, want -EINVAL and no write`);
  }
  check(native.aeadOpen(key, 0, 0, null, buf, 0, 15) === -1 && untouched(), () => 'open of 15 bytes is -1');
  check(native.aeadSeal(key, 0, 0, null, buf.subarray(10, 36), 0, 10) === 26 && buf[9] === 0 && buf[36] === 0,
    () => 'seal stays inside a subarray view');
  let threw = 0;
  for (const bad of [() => native.aeadSeal(key, 0, 0, null, [1, 2] as never, 0, 1),
    () => native.aeadSeal(key, '0' as never, 0, null, buf, 0, 1),
    () => native.aeadSeal(key, 0, 0, null, new Int32Array(4) as never, 0, 1)]) {
    try { bad(); } catch (e) { if (e instanceof TypeError) threw++; }
  }
  check(threw === 3, () => `wrong JS types throw TypeError (${threw} of 3)`);
  print(JSON.stringify({ cases: n, checks: record.checks, failures: record.failures }));
}

/** MB/s sealing 1420-byte packets in place, for about 0.7 s each. */
function bench(): void {
  const key = new Uint8Array(32).fill(3);
  const buf = new Uint8Array(16 + 1420 + 16);
  const nat = createNativeAead(native);
  const js = createJsAead();
  const rate = (seal: (i: number) => void): number => {
    for (let i = 0; i < 20; i++) seal(i);
    let packets = 0;
    const start = os.now();
    let now = start;
    while (now - start < 700) {
      for (let i = 0; i < 50; i++) seal(packets++);
      now = os.now();
    }
    return (packets * 1420) / 1000 / (now - start); // bytes per ms / 1000 = MB/s
  };
  print(JSON.stringify({
    binding: rate((i) => native.aeadSeal(key, i, 0, null, buf, 16, 1420)),
    native: rate((i) => nat.seal(key, i, null, buf, 16, 1420, buf, 16)),
    js: rate((i) => js.seal(key, i, null, buf, 16, 1420, buf, 16)),
  }));
}

if (scriptArgs[1] === 'bench') bench();
else compare(Number(scriptArgs[1] ?? 100), Number(scriptArgs[2] ?? 1));
