// src/crypto/x25519.ts: which implementation it picks, and that dh() and
// publicKeyOf() give @noble's answers through it. Pure, so it also runs on
// wgts-js (test/quickjs.test.ts, test-qemu/), where the runtime's global
// wgtsNativeX25519 makes it a native-vs-@noble comparison on every CPU.
import t from 'tap';
import { x25519 } from '@noble/curves/ed25519.js';
import { dh, publicKeyOf, setNativeX25519, x25519Implementation } from '../src/crypto/x25519.js';
import type { NativeX25519 } from '../src/crypto/x25519.js';
import { prng } from './helpers/prng.js';

const runtimeNative = (globalThis as { wgtsNativeX25519?: NativeX25519 }).wgtsNativeX25519 ?? null;
const rnd = prng(7748);
const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256));
const hex = (b: Uint8Array | null): string => (b ? Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('') : 'null');

function nobleDh(scalar: Uint8Array, point: Uint8Array): Uint8Array | null {
  try {
    return x25519.getSharedSecret(scalar, point);
  } catch {
    return null;
  }
}

t.test('the native X25519 is chosen exactly where the runtime provides it', async (t) => {
  t.equal(x25519Implementation(), runtimeNative ? 'native' : 'noble', runtimeNative ? 'wgts runtime: native' : 'no native module: @noble');
});

t.test(`dh() and publicKeyOf() equal @noble (${x25519Implementation()})`, async (t) => {
  let mismatches = 0;
  const low = [0, 1].map((v) => { const u = new Uint8Array(32); u[0] = v; return u; });
  for (let i = 0; i < 48; i++) {
    const scalar = bytes(32);
    let point = bytes(32);
    if (i % 4 === 1) point = low[i % 2]!;                                 // low order: null
    if (i % 4 === 2) { point.fill(0xff, 1); point[0] = 0xed + (i % 19); } // u >= p, bit 255 set
    const got = dh(scalar, point);
    const want = nobleDh(scalar, point);
    if (hex(got) !== hex(want)) {
      mismatches++;
      t.fail(`dh(${hex(scalar)}, ${hex(point)}) = ${hex(got)}, @noble ${hex(want)}`);
    }
    if (i % 6 === 0 && hex(publicKeyOf(scalar)) !== hex(x25519.getPublicKey(scalar))) {
      mismatches++;
      t.fail(`publicKeyOf(${hex(scalar)})`);
    }
  }
  t.equal(mismatches, 0, '48 random and odd cases');
  t.equal(dh(bytes(31), bytes(32)), null, 'a 31-byte private key gives null');
  t.equal(dh(bytes(32), bytes(33)), null, 'a 33-byte public key gives null');
});

t.test('setNativeX25519 switches implementations; the native result is checked', async (t) => {
  const scalar = bytes(32);
  const point = x25519.getPublicKey(bytes(32));
  const want = hex(nobleDh(scalar, point));
  const calls: number[] = [];
  try {
    let answer: 'copy' | 'zeros' | 'einval' = 'copy';
    const fake: NativeX25519 = (out, s, p) => {
      calls.push(out.length, s.length, p.length);
      if (answer === 'einval') return -22;
      out.set(answer === 'zeros' ? new Uint8Array(32) : nobleDh(s, p)!);
      return 0;
    };
    setNativeX25519(fake);
    t.equal(x25519Implementation(), 'native');
    t.equal(hex(dh(scalar, point)), want, 'dh() goes through the native function');
    t.same(calls, [32, 32, 32], 'called once with three 32-byte views');
    t.equal(publicKeyOf(scalar).length, 32, 'publicKeyOf() too');
    t.same(calls.length, 6);
    answer = 'zeros';
    t.equal(dh(scalar, point), null, 'an all-zero result is null');
    answer = 'einval';
    t.equal(dh(scalar, point), null, '-EINVAL is null');
    t.throws(() => publicKeyOf(scalar), { message: /32 bytes/ }, 'publicKeyOf() throws on -EINVAL');
    setNativeX25519(null);
    t.equal(x25519Implementation(), 'noble');
    const before = calls.length;
    t.equal(hex(dh(scalar, point)), want, '@noble again');
    t.equal(calls.length, before, 'the native function is no longer called');
  } finally {
    setNativeX25519(runtimeNative);
  }
  t.equal(x25519Implementation(), runtimeNative ? 'native' : 'noble', 'restored');
});
