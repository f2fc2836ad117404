// The native X25519 (native/x25519.c through wgts_native and the global
// wgtsNativeX25519 that src/crypto/x25519.ts picks up) against @noble/curves
// on random and odd inputs, run by wgts-js: test/x25519-native.test.ts on the
// host and test-qemu/ on the router CPUs.
//   wgts-js x25519-compare.mjs [CASES [SEED]]          {cases, checks, failures, automatic} as JSON
//   wgts-js x25519-compare.mjs count native|noble N    N scalar multiplications (for insncount)
//   wgts-js x25519-compare.mjs handshake native|noble N   N full handshakes, both sides (for insncount)
//   wgts-js x25519-compare.mjs bench                   ms per scalar multiplication and per handshake
import * as os from 'os';
import * as native from 'wgts_native';
import { x25519 as noble } from '@noble/curves/ed25519.js';
import { createNativeAead } from '../../src/crypto/native-aead.js';
import { toHex } from '../../src/crypto/encoding.js';
import { dh, publicKeyOf, setNativeX25519, x25519Implementation } from '../../src/crypto/x25519.js';
import type { NativeX25519 } from '../../src/crypto/x25519.js';
import {
  commitInitiation, consumeInitiation, consumeResponse, createInitiation, createResponse, deriveSession,
  Handshake, StaticIdentity,
} from '../../src/protocol/noise.js';
import { checkRecord, randomBytes, sameBytes, X25519_LOW_ORDER } from '../helpers/compare-kit.js';
import { prng } from '../helpers/prng.js';

declare const scriptArgs: string[];
declare function print(...args: unknown[]): void;

const EINVAL = 22;
const automatic = x25519Implementation();
const viaGlobal = (globalThis as { wgtsNativeX25519?: NativeX25519 }).wgtsNativeX25519 ?? null;

const hex = toHex;
const LOW_ORDER = X25519_LOW_ORDER;

/** RFC 7748's function on @noble: all zeros where @noble refuses a low-order point. */
function reference(scalar: Uint8Array, point: Uint8Array): Uint8Array {
  try {
    return noble.getSharedSecret(scalar, point);
  } catch {
    return new Uint8Array(32);
  }
}

function compare(n: number, seed: number): void {
  if (viaGlobal === null) {
    print(JSON.stringify({ cases: 0, checks: 0, failures: ['no global wgtsNativeX25519 on this runtime'], automatic }));
    return;
  }
  const rnd = prng(seed);
  const int = (m: number): number => Math.floor(rnd() * m);
  const bytes = (m: number): Uint8Array => randomBytes(rnd, m);
  const same = sameBytes;
  const record = checkRecord();
  const check = record.check;

  for (let i = 0; i < n; i++) {
    let scalar = bytes(32);
    if (i % 50 === 7) scalar = new Uint8Array(32);
    if (i % 50 === 17) scalar = new Uint8Array(32).fill(0xff);
    let point = bytes(32);
    let kind = 'random';
    switch (i % 6) {
      case 1: kind = 'low order'; point = LOW_ORDER[int(LOW_ORDER.length)]!.slice(); if (int(2)) point[31]! |= 0x80; break;
      case 2: kind = 'u >= p'; point.fill(0xff, 1); point[0] = 0xed + int(19); point[31] = int(2) ? 0xff : 0x7f; break;
      case 3: kind = 'bit 255 set'; point[31]! |= 0x80; break;
      case 4: kind = 'small u'; point.fill(0, 1 + int(4)); break;
      default: break;
    }
    const name = () => `case ${i} (${kind}): scalar ${hex(scalar)} point ${hex(point)}`;
    const scalarCopy = scalar.slice();
    const pointCopy = point.slice();
    const expected = reference(scalar, point);

    const out = new Uint8Array(32);
    check(native.x25519(out, scalar, point) === 0 && same(out, expected), () => `${name()}: native ${hex(out)} want ${hex(expected)}`);
    check(same(scalar, scalarCopy) && same(point, pointCopy), () => `${name()}: inputs untouched (no clamping in place)`);
    const global = new Uint8Array(32);
    check(viaGlobal(global, scalar, point) === 0 && same(global, expected), () => `${name()}: the global gives the same`);
    const zero = expected.every((b) => b === 0);
    const shared = dh(scalar, point);
    check(zero ? shared === null : shared !== null && same(shared, expected), () => `${name()}: dh() is ${shared ? hex(shared) : 'null'}`);
    if (i % 4 === 0) {
      const aliasScalar = scalar.slice();
      native.x25519(aliasScalar, aliasScalar, point);
      const aliasPoint = point.slice();
      native.x25519(aliasPoint, scalar, aliasPoint);
      check(same(aliasScalar, expected) && same(aliasPoint, expected), () => `${name()}: out over an input`);
    }
    if (i % 8 === 0) {
      const pub = noble.getPublicKey(scalar);
      check(same(publicKeyOf(scalar), pub), () => `${name()}: publicKeyOf equals @noble getPublicKey`);
    }
  }

  // Views at offsets inside a larger buffer, and the argument checks.
  const big = new Uint8Array(128);
  const scalar = bytes(32);
  const point = bytes(32);
  big.set(scalar, 5);
  big.set(point, 40);
  check(native.x25519(big.subarray(80, 112), big.subarray(5, 37), big.subarray(40, 72)) === 0 &&
    same(big.subarray(80, 112), reference(scalar, point)) && big[79] === 0 && big[112] === 0,
  () => 'subarray views at offsets');
  const untouched = new Uint8Array(33);
  const einval: [string, () => number][] = [
    ['31-byte out', () => native.x25519(untouched.subarray(0, 31), scalar, point)],
    ['33-byte out', () => native.x25519(untouched, scalar, point)],
    ['31-byte scalar', () => native.x25519(untouched.subarray(0, 32), scalar.subarray(1), point)],
    ['empty point', () => native.x25519(untouched.subarray(0, 32), scalar, new Uint8Array(0))],
  ];
  for (const [what, call] of einval) {
    const rc = call();
    check(rc === -EINVAL && untouched.every((b) => b === 0), () => `${what}: ${rc}, want -EINVAL and no write`);
  }
  check(dh(scalar.subarray(1), point) === null, () => 'dh() of a 31-byte key is null');
  let threw = 0;
  for (const bad of [() => native.x25519([0] as never, scalar, point),
    () => native.x25519(new Uint8Array(32), 'x' as never, point),
    () => native.x25519(new Uint8Array(32), scalar, new Int32Array(8) as never)]) {
    try { bad(); } catch (e) { if (e instanceof TypeError) threw++; }
  }
  check(threw === 3, () => `wrong JS types throw TypeError (${threw} of 3)`);
  print(JSON.stringify({ cases: n, checks: record.checks, failures: record.failures, automatic }));
}

function choose(which: string | undefined): void {
  if (which === 'noble') setNativeX25519(null);
  else if (which === 'native' && viaGlobal) setNativeX25519(viaGlobal);
  else throw new Error(`want native or noble, not ${which}`);
}

function scalarMultiplications(n: number): Uint8Array {
  const rnd = prng(5);
  const key = Uint8Array.from({ length: 32 }, () => Math.floor(rnd() * 256));
  let point = publicKeyOf(Uint8Array.from({ length: 32 }, () => Math.floor(rnd() * 256)));
  for (let i = 0; i < n; i++) point = dh(key, point) ?? point;
  return point;
}

/** n complete handshakes between two peers (no macs/cookies): initiation, response, keys on both sides. */
function handshakes(n: number): number {
  const rnd = prng(9);
  const random = (b: Uint8Array): void => { for (let i = 0; i < b.length; i++) b[i] = Math.floor(rnd() * 256); };
  const key = (): Uint8Array => { const k = new Uint8Array(32); random(k); return k; };
  const aead = createNativeAead(native);
  const alice = new StaticIdentity(key());
  const bob = new StaticIdentity(key());
  const aliceSide = new Handshake(bob.publicKey);
  const bobSide = new Handshake(alice.publicKey);
  aliceSide.setIdentity(alice);
  bobSide.setIdentity(bob);
  const initiation = new Uint8Array(148);
  const response = new Uint8Array(92);
  let completed = 0;
  for (let i = 0; i < n; i++) {
    const now = 1_000_000 + i * 1000;
    if (!createInitiation(aliceSide, alice, aead, random, 1.7e12 + i * 1000, 2 * i + 1, initiation)) break;
    const consumed = consumeInitiation(bob, aead, initiation, now, (pub) => (pub.every((b, j) => b === alice.publicKey[j]) ? bobSide : null));
    if (!consumed) break;
    commitInitiation(consumed, now);
    if (!createResponse(bobSide, aead, random, 2 * i + 2, response)) break;
    if (!consumeResponse(aliceSide, alice, aead, response)) break;
    const a = deriveSession(aliceSide);
    const b = deriveSession(bobSide);
    if (!a || !b || hex(a.sendKey) !== hex(b.receiveKey)) break;
    completed++;
  }
  return completed;
}

function bench(): void {
  const time = (f: () => void, minMs: number): number => {
    let runs = 0;
    const start = os.now();
    let now = start;
    while (now - start < minMs) { f(); runs++; now = os.now(); }
    return (now - start) / runs;
  };
  const result: Record<string, number> = {};
  for (const which of ['native', 'noble']) {
    choose(which);
    result[`${which}ScalarMultMs`] = time(() => scalarMultiplications(1), 1000);
    result[`${which}HandshakeMs`] = time(() => { handshakes(1); }, 1000);
  }
  print(JSON.stringify(result));
}

const mode = scriptArgs[1];
if (mode === 'bench') bench();
else if (mode === 'count') { choose(scriptArgs[2]); print(hex(scalarMultiplications(Number(scriptArgs[3] ?? 1)))); }
else if (mode === 'handshake') {
  choose(scriptArgs[2]);
  const n = Number(scriptArgs[3] ?? 1);
  const done = handshakes(n);
  print(`handshakes ${done}`);
  if (done !== n) throw new Error(`only ${done} of ${n} handshakes completed`);
} else compare(Number(mode ?? 100), Number(scriptArgs[2] ?? 1));
