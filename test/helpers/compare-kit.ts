// What the native-versus-TypeScript comparison programs share
// (test/quickjs/aead-compare.ts, x25519-compare.ts, batch-aead-compare.ts,
// run by wgts-js on the host and under qemu-user): a record of checks that
// keeps the first failures, byte helpers, and X25519's odd inputs.
import { fromHex } from '../../src/crypto/encoding.js';

const MAX_FAILURES = 20;

export interface CheckRecord {
  checks: number;
  failures: string[];
  /** Counts a check; describes it (lazily) when it failed, up to the first 20. */
  check(ok: boolean, what: () => string): void;
}

export function checkRecord(): CheckRecord {
  const record: CheckRecord = {
    checks: 0,
    failures: [],
    check(ok, what) {
      record.checks++;
      if (!ok && record.failures.length < MAX_FAILURES) record.failures.push(what());
    },
  };
  return record;
}

export const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

/** n random bytes from a seeded generator of [0, 1) numbers. */
export function randomBytes(rnd: () => number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 256);
  return b;
}

/** u-coordinates of order dividing 8, and non-canonical encodings of 0 and 1 (p, p + 1). */
export const X25519_LOW_ORDER: readonly Uint8Array[] = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
  '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
].map((h) => fromHex(h, 32)!);
