// The native batch AEAD (aeadBatch in native/aead_batch.c, on 1, 2 and 4
// threads) against sealing and opening one packet at a time with the
// TypeScript twin createJsAead(), run by wgts-js: test/batch-aead.test.ts on
// the host, test-qemu/ on the router CPUs.
//   wgts-js batch-aead-compare.mjs [ROUNDS [SEED]]  prints {rounds, checks, failures} as JSON
//   wgts-js batch-aead-compare.mjs bench             prints MB/s sealing 32 × 1420 bytes per thread count
import * as native from 'wgts_native';
import { createJsAead, TAG_LEN } from '../../src/crypto/aead.js';
import { BatchAead } from '../../src/crypto/batch-aead.js';
import { createNativeAead } from '../../src/crypto/native-aead.js';
import { checkRecord, sameBytes } from '../helpers/compare-kit.js';
import { prng } from '../helpers/prng.js';

declare const scriptArgs: string[];
declare function print(...args: unknown[]): void;

const EINVAL = 22;
const SLOT = 1536;
const BATCH = 32;
const JOB = native.AEAD_JOB_STRIDE;

function compare(rounds: number, seed: number): void {
  const js = createJsAead();
  const rnd = prng(seed);
  const int = (n: number): number => Math.floor(rnd() * n);
  const fill = (b: Uint8Array, from: number, to: number): void => { for (let i = from; i < to; i++) b[i] = int(256); };
  const record = checkRecord();
  const check = record.check;
  const same = sameBytes;

  const ring = new Uint8Array(SLOT * BATCH);
  const jobs = new Int32Array(BATCH * JOB);
  const keys = new Uint8Array(BATCH * 32);
  for (let r = 0; r < rounds; r++) {
    const threads = [1, 2, 4][r % 3]!;
    native.cryptoThreads(threads);
    const count = r % 5 === 0 ? BATCH : 1 + int(BATCH);
    const name = (what: string) => () => `round ${r} (${threads} threads, ${count} packets): ${what}`;
    fill(ring, 0, ring.length);
    fill(keys, 0, keys.length);
    const counters: number[] = [];
    for (let i = 0; i < count; i++) {
      const len = i % 4 === 0 ? 1420 : int(SLOT - TAG_LEN - 15);
      const counter = int(2 ** 21) * 2 ** 32 + int(2 ** 32);
      counters.push(counter);
      jobs.set([i * SLOT + int(8), len, counter | 0, Math.floor(counter / 2 ** 32), 12345], i * JOB);
    }
    // The expected ring: every packet sealed alone by the twin.
    const expected = ring.slice();
    for (let i = 0; i < count; i++) {
      const off = jobs[i * JOB]!, len = jobs[i * JOB + 1]!;
      js.seal(keys.subarray(i * 32, i * 32 + 32), counters[i]!, null, expected, off, len, expected, off);
    }
    check(native.aeadBatch(0, ring, jobs, keys, count) === count, name('seal returns count'));
    check(same(ring, expected), name('sealed ring equals the twin, nothing else touched'));
    let results = true;
    for (let i = 0; i < count; i++) results &&= jobs[i * JOB + 4] === jobs[i * JOB + 1]! + TAG_LEN;
    check(results, name('seal results are len + 16'));

    // Open it back, with every third packet tampered (tag or body).
    const tampered = new Set<number>();
    for (let i = 0; i < count; i++) {
      jobs[i * JOB + 1] += TAG_LEN;
      if (i % 3 === 1) {
        const at = jobs[i * JOB]! + int(jobs[i * JOB + 1]!);
        ring[at] ^= 1 << int(8);
        tampered.add(i);
      }
    }
    const beforeOpen = ring.slice();
    check(native.aeadBatch(1, ring, jobs, keys, count) === count, name('open returns count'));
    for (let i = 0; i < count; i++) {
      const off = jobs[i * JOB]!, len = jobs[i * JOB + 1]!;
      const result = jobs[i * JOB + 4]!;
      if (tampered.has(i)) {
        check(result === -1, name(`tampered packet ${i} refused`));
        check(same(ring.subarray(off, off + len), beforeOpen.subarray(off, off + len)), name(`tampered packet ${i} unchanged`));
      } else {
        const plain = ring.subarray(off, off + len - TAG_LEN);
        const want = new Uint8Array(len - TAG_LEN);
        check(js.open(keys.subarray(i * 32, i * 32 + 32), counters[i]!, null, beforeOpen, off, len, want, 0) === len - TAG_LEN, name(`twin opens ${i}`));
        check(result === len - TAG_LEN && same(plain, want), name(`packet ${i} opened to the twin's plaintext`));
      }
    }

    // BatchAead over the native function: same bytes as the twin's sequential path.
    const nat = new BatchAead(createNativeAead(native), native, BATCH);
    const twin = new BatchAead(js, null, BATCH);
    const a = expected.slice(), b = expected.slice();
    nat.beginSeals(a); twin.beginSeals(b);
    for (let i = 0; i < count; i++) {
      const off = jobs[i * JOB]!, len = int(1400);
      const key = keys.subarray(i * 32, i * 32 + 32);
      nat.seal(key, counters[i]!, null, a, off, len, a, off);
      twin.seal(key, counters[i]!, null, b, off, len, b, off);
    }
    nat.flushSeals(); twin.flushSeals();
    check(same(a, b), name('BatchAead native and twin seal the same bytes'));
  }

  // A bad job anywhere: -EINVAL and nothing sealed.
  native.cryptoThreads(2);
  const copy = ring.slice();
  jobs.set([0, 100, 0, 0, 0, SLOT, 100, 0, 0, 0, ring.length - 10, 100, 0, 0, 0], 0);
  check(native.aeadBatch(0, ring, jobs, keys, 3) === -EINVAL, () => 'a job past the end gives -EINVAL');
  check(same(ring, copy), () => 'and seals nothing');
  jobs.set([0, 8, 0, 0, 0], 0);
  check(native.aeadBatch(1, ring, jobs, keys, 1) === -EINVAL, () => 'an open shorter than the tag gives -EINVAL');
  jobs.set([-1, 8, 0, 0, 0], 0);
  check(native.aeadBatch(0, ring, jobs, keys, 1) === -EINVAL, () => 'a negative offset gives -EINVAL');
  check(native.aeadBatch(0, ring, jobs, keys, BATCH + 1) === -EINVAL, () => 'more jobs than the arrays hold gives -EINVAL');
  check(native.aeadBatch(2, ring, jobs, keys, 0) === -EINVAL, () => 'an unknown operation gives -EINVAL');
  check(native.aeadBatch(0, ring, jobs, keys, 0) === 0, () => 'an empty batch is fine');
  check(native.cryptoThreads(0) === 2 && native.cryptoThreads(99) === 8 && native.cryptoThreads(1) === 1,
    () => 'cryptoThreads reads, clamps to 8 and sets');
  check(native.cpuCount() >= 1, () => 'cpuCount is at least 1');
  print(JSON.stringify({ rounds, checks: record.checks, failures: record.failures }));
}

function bench(): void {
  const ring = new Uint8Array(SLOT * BATCH);
  const jobs = new Int32Array(BATCH * JOB);
  const keys = new Uint8Array(BATCH * 32).fill(7);
  for (let i = 0; i < BATCH; i++) jobs.set([i * SLOT, 1420, i, 0, 0], i * JOB);
  const out: Record<string, number> = {};
  for (const threads of [1, 2, 4]) {
    native.cryptoThreads(threads);
    const rounds = 400;
    const start = native.wallMs();
    for (let r = 0; r < rounds; r++) native.aeadBatch(0, ring, jobs, keys, BATCH);
    const ms = native.wallMs() - start;
    out[`threads${threads}_MBps`] = Math.round((rounds * BATCH * 1420) / (ms * 1000));
  }
  print(JSON.stringify({ cpus: native.cpuCount(), ...out }));
}

if (scriptArgs[1] === 'bench') bench();
else compare(Number(scriptArgs[1] ?? 60), Number(scriptArgs[2] ?? 1));
