// A small seeded mutation fuzzer for the TypeScript parsers and the device.
// Each target is a corpus of valid inputs plus a check that throws on any
// broken property; the runner mutates corpus entries (byte-, field- or
// line-wise), runs the check, and collects the failing inputs.
//
// The short run inside `npm test` uses a fixed seed and count, so it is
// deterministic. The reliability runner (test-reliability/run.mjs) scales it:
//   WGTS_FUZZ_RUNS     runs per target (default: the count each test passes)
//   WGTS_FUZZ_SECONDS  wall-clock budget per target (default: none)
//   WGTS_FUZZ_SEED     run seed, mixed with each target's own (default: the fixed ones)
//   WGTS_FUZZ_REPORT   a file that gets one JSON line per target run
// Failing inputs are also written to .cache/fuzz-failures/<target>/ so they
// can become regression fixtures (test/fixtures/fuzz-regressions/).
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prng } from './prng.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const REGRESSIONS_DIR = join(ROOT, 'test/fixtures/fuzz-regressions');
const FAILURES_DIR = join(ROOT, '.cache/fuzz-failures');

/** One input taking longer than this counts as a hang. */
export const HANG_MS = 2000;

/** Seeded choices for mutators and generators. */
export class Rng {
  private readonly next: () => number;
  constructor(seed: number) { this.next = prng(seed); }
  /** 0 <= n < max (max >= 1). */
  int(max: number): number { return Math.floor(this.next() * max); }
  /** lo <= n <= hi. */
  between(lo: number, hi: number): number { return lo + this.int(hi - lo + 1); }
  chance(p: number): boolean { return this.next() < p; }
  pick<T>(items: readonly T[]): T { return items[this.int(items.length)]!; }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
  /** Small numbers most of the time, sometimes large: sizes for fields and cuts. */
  size(max: number): number {
    return this.chance(0.8) ? this.int(Math.min(max, 16) + 1) : this.int(max + 1);
  }
}

export function envRuns(defaultRuns: number): number {
  const v = Number(process.env.WGTS_FUZZ_RUNS);
  return Number.isInteger(v) && v > 0 ? v : defaultRuns;
}

/** The target's fixed seed, or (with WGTS_FUZZ_SEED) that run seed mixed with it, so targets still differ from each other. */
export function envSeed(defaultSeed: number): number {
  const v = Number(process.env.WGTS_FUZZ_SEED);
  return Number.isInteger(v) ? (Math.imul(v >>> 0, 0x9e3779b1) ^ defaultSeed) >>> 0 : defaultSeed;
}

/** WGTS_FUZZ_SECONDS as milliseconds; Infinity when unset. */
export function envBudgetMs(): number {
  const v = Number(process.env.WGTS_FUZZ_SECONDS);
  return Number.isFinite(v) && v > 0 ? v * 1000 : Infinity;
}

// ------------------------------------------------------------ mutators --

const INTERESTING_8 = [0, 1, 0x7f, 0x80, 0xfe, 0xff];
const INTERESTING_32 = [0, 1, 2, 3, 4, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

function writeU32(b: Uint8Array, at: number, v: number, littleEndian: boolean): void {
  for (let i = 0; i < 4 && at + i < b.length; i++) b[at + i] = (v >>> (littleEndian ? 8 * i : 24 - 8 * i)) & 255;
}

/**
 * One random byte-level edit: bit flip, interesting byte or word (either
 * byte order, often near the input's own length), random run, insert,
 * delete, duplicate, truncate, or a splice with another input.
 */
export function mutateBytes(rng: Rng, input: Uint8Array, others: readonly Uint8Array[] = [], maxLength = 4096): Uint8Array {
  let b: Uint8Array = input.slice();
  const at = () => rng.int(Math.max(1, b.length));
  switch (rng.int(11)) {
    case 0: if (b.length) { const i = at(); b[i]! ^= 1 << rng.int(8); } break;
    case 1: if (b.length) b[at()] = rng.pick(INTERESTING_8); break;
    case 2: if (b.length) b[at()] = rng.int(256); break;
    case 3: {
      const v = rng.chance(0.3) ? (b.length + rng.between(-8, 8)) >>> 0 : rng.pick(INTERESTING_32);
      if (b.length) { const i = at(); const le = rng.chance(0.5); if (rng.chance(0.5)) writeU32(b, i, v, le); else { b[i] = le ? v & 255 : (v >>> 8) & 255; if (i + 1 < b.length) b[i + 1] = le ? (v >>> 8) & 255 : v & 255; } }
      break;
    }
    case 4: { const i = at(); b = concat(b.subarray(0, i), rng.bytes(rng.size(64)), b.subarray(i)); break; }
    case 5: { const i = at(); b = concat(b.subarray(0, i), b.subarray(i + 1 + rng.size(b.length))); break; }
    case 6: { const i = at(); const n = rng.size(b.length - i); b = concat(b.subarray(0, i + n), b.subarray(i, i + n), b.subarray(i + n)); break; }
    case 7: b = b.subarray(0, rng.int(b.length + 1)).slice(); break;
    case 8: { const i = at(); const n = rng.size(b.length - i); b.fill(rng.pick(INTERESTING_8), i, i + n); break; }
    case 9: if (others.length) {
      const o = rng.pick(others);
      const i = at(); const j = rng.int(o.length + 1);
      b = concat(b.subarray(0, i), o.subarray(j, j + rng.size(o.length - j)), b.subarray(i + (rng.chance(0.5) ? rng.size(b.length - i) : 0)));
    } break;
    default: if (b.length >= 2) { const i = at(); const j = at(); const t = b[i]!; b[i] = b[j]!; b[j] = t; } break;
  }
  return b.length > maxLength ? b.subarray(0, maxLength).slice() : b;
}

/** 1..max stacked byte mutations (mostly few, so inputs stay near valid). */
export function mutateBytesN(rng: Rng, input: Uint8Array, others: readonly Uint8Array[] = [], max = 8, maxLength = 4096): Uint8Array {
  let b = input;
  const n = 1 + (rng.chance(0.6) ? 0 : rng.int(max));
  for (let i = 0; i < n; i++) b = mutateBytes(rng, b, others, maxLength);
  return b;
}

/** Pieces of text that trip parsers: separators, quotes, escapes, numbers at their limits, odd characters. */
export const INTERESTING_TEXT = [
  '', ' ', '\t', '\n', '\r\n', '\r', '\0', '=', '==', ':', '::', '[', ']', '/', '//', '#', ';', ',', '.', '..', '-',
  "'", '"', '\\', '\\\n', "''", '""', '0', '-1', '1', '65535', '65536', '4294967295', '4294967296', '2147483648',
  '99999999999999999999999', '0x', '0xffffffff', '0x1ffffffff', '1e3', 'NaN', 'Infinity', 'true', 'off', '%s', '%n',
  '\u00e9', '\u00ff', '\ud800', '\udfff', '\u2028', '\ufeff', '\x7f', 'a'.repeat(300), '1.2.3.4', '::1', 'fe80::1%eth0',
  '255.255.255.255', '256.1.1.1', '01.2.3.4', '[::1]:51820', '1.2.3.4:0', '/0', '/32', '/33', '/128', '/129',
  'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=', '0'.repeat(64), 'f'.repeat(64), '__proto__', 'constructor',
];

/** One random edit of text: at a character, a token boundary or a whole line. */
export function mutateText(rng: Rng, text: string, others: readonly string[] = [], extraTokens: readonly string[] = [], maxLength = 16384): string {
  let s = text;
  const at = () => rng.int(s.length + 1);
  const token = () => (extraTokens.length && rng.chance(0.5) ? rng.pick(extraTokens) : rng.pick(INTERESTING_TEXT));
  const lines = () => s.split('\n');
  switch (rng.int(10)) {
    case 0: { const i = at(); s = s.slice(0, i) + token() + s.slice(i); break; }
    case 1: { const i = at(); s = s.slice(0, i) + s.slice(i + 1 + rng.size(s.length)); break; }
    case 2: { const i = at(); s = s.slice(0, i) + String.fromCharCode(rng.chance(0.8) ? rng.int(128) : rng.int(0x10000)) + s.slice(i + (rng.chance(0.5) ? 1 : 0)); break; }
    case 3: {
      // Replace a run of word characters (a value, a key) with a token.
      const words = [...s.matchAll(/[A-Za-z0-9_+/=.:-]+/g)];
      if (words.length) { const w = rng.pick(words); s = s.slice(0, w.index) + token() + s.slice(w.index! + w[0].length); }
      break;
    }
    case 4: { const l = lines(); if (l.length) { const i = rng.int(l.length); l.splice(i, 0, l[i]!); s = l.join('\n'); } break; }
    case 5: { const l = lines(); if (l.length) { l.splice(rng.int(l.length), 1); s = l.join('\n'); } break; }
    case 6: { const l = lines(); if (l.length > 1) { const i = rng.int(l.length); const j = rng.int(l.length); [l[i], l[j]] = [l[j]!, l[i]!]; s = l.join('\n'); } break; }
    case 7: if (others.length) {
      const o = rng.pick(others).split('\n'); const l = lines();
      l.splice(rng.int(l.length + 1), 0, ...o.slice(rng.int(o.length)).slice(0, 1 + rng.int(4)));
      s = l.join('\n');
    } break;
    case 8: s = s.slice(0, at()); break;
    default: { const i = at(); const n = rng.size(s.length - i); s = s.slice(0, i) + s.slice(i, i + n).repeat(2) + s.slice(i + n); break; }
  }
  return s.length > maxLength ? s.slice(0, maxLength) : s;
}

export function mutateTextN(rng: Rng, text: string, others: readonly string[] = [], extraTokens: readonly string[] = [], max = 6): string {
  let s = text;
  const n = 1 + (rng.chance(0.6) ? 0 : rng.int(max));
  for (let i = 0; i < n; i++) s = mutateText(rng, s, others, extraTokens);
  return s;
}

// -------------------------------------------------------------- runner --

export interface FuzzFailure<I> { run: number; input: I; message: string }

export interface FuzzResult<I> {
  target: string;
  seed: number;
  runs: number;
  ms: number;
  /** Runs whose input the check judged (e.g. a device forgery that was not an accidental valid message). */
  checked: number;
  failures: FuzzFailure<I>[];
  /** Slowest input (after a rerun of any over the hang limit). */
  slowestMs: number;
  /** Inputs over the hang limit once but not when run again (machine load, GC). */
  stalls: number;
}

export interface FuzzOptions<I> {
  target: string;
  /** Runs in `npm test`; WGTS_FUZZ_RUNS overrides. */
  runs: number;
  /** Fixed seed for `npm test`; WGTS_FUZZ_SEED mixes a run seed in. */
  seed: number;
  /** Makes input number `run` (usually a mutation of a corpus entry). */
  generate(rng: Rng, run: number): I;
  /** Throws (or rejects) when a property fails; returns false when the input was skipped as not applicable. */
  check(input: I): boolean | void | Promise<boolean | void>;
  /** Bytes to save for a failing input (to turn into a regression fixture). */
  serialize?(input: I): Uint8Array | string;
  /** Failures kept in full (the rest are only counted). */
  keep?: number;
}

/** Runs one target; never rejects (failures are returned). Checks may be async (awaited one at a time). */
export async function fuzz<I>(o: FuzzOptions<I>): Promise<FuzzResult<I>> {
  const runs = envRuns(o.runs);
  const seed = envSeed(o.seed);
  const budget = envBudgetMs();
  const rng = new Rng(seed);
  const failures: FuzzFailure<I>[] = [];
  let failed = 0;
  let checked = 0;
  let slowest = 0;
  let stalls = 0;
  const start = performance.now();
  let run = 0;
  for (; run < runs; run++) {
    if (budget !== Infinity && (run & 63) === 0 && performance.now() - start > budget) break;
    const input = o.generate(rng, run);
    const t0 = performance.now();
    let message: string | null = null;
    try {
      const judged = o.check(input);
      if ((judged instanceof Promise ? await judged : judged) !== false) checked++;
    } catch (error) {
      message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    }
    let took = performance.now() - t0;
    if (message === null && took > HANG_MS) {
      // Once more: a real hang repeats, a process the machine descheduled (or a GC pause) does not.
      stalls++;
      const t1 = performance.now();
      try {
        const again = o.check(input);
        if (again instanceof Promise) await again;
      } catch { /* a second run of a consumed input may legitimately differ; only its time matters here */ }
      took = performance.now() - t1;
      if (took > HANG_MS) message = `took ${Math.round(took)} ms twice (hang limit ${HANG_MS} ms)`;
    }
    slowest = Math.max(slowest, took);
    if (message !== null) {
      failed++;
      if (failures.length < (o.keep ?? 5)) failures.push({ run, input, message });
      if (o.serialize) saveFailure(o.target, seed, run, o.serialize(input));
    }
  }
  const result: FuzzResult<I> = { target: o.target, seed, runs: run, ms: Math.round(performance.now() - start), checked, failures, slowestMs: Math.round(slowest), stalls };
  if (failed > failures.length) failures.push({ run: -1, input: failures[0]!.input, message: `... and ${failed - failures.length} more failures` });
  report(result, failed);
  return result;
}

function saveFailure(target: string, seed: number, run: number, data: Uint8Array | string): void {
  try {
    const dir = join(FAILURES_DIR, target);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `seed${seed}-run${run}`), data);
  } catch { /* best effort: the failure is reported by the test anyway */ }
}

function report(r: FuzzResult<unknown>, failed: number): void {
  const file = process.env.WGTS_FUZZ_REPORT;
  if (!file) return;
  const line = { target: r.target, seed: r.seed, runs: r.runs, checked: r.checked, ms: r.ms, slowestMs: r.slowestMs, stalls: r.stalls, failures: failed };
  try { appendFileSync(file, `${JSON.stringify(line)}\n`); } catch { /* the runner then reports the target as missing */ }
}

/** A short, printable description of a failing input for the test log. */
export function describeInput(input: unknown): string {
  if (input instanceof Uint8Array) return `${input.length} bytes: ${Array.from(input.subarray(0, 96), (b) => b.toString(16).padStart(2, '0')).join('')}${input.length > 96 ? '...' : ''}`;
  const text = typeof input === 'string' ? input : JSON.stringify(input, (_k, v) => (v instanceof Uint8Array ? `<${v.length} bytes>` : typeof v === 'bigint' ? `${v}n` : v));
  return JSON.stringify(text.length > 400 ? `${text.slice(0, 400)}...` : text);
}

/** The failures as lines for t.same(..., []): run number, message, input. */
export function failureLines(r: FuzzResult<unknown>): string[] {
  return r.failures.map((f) => `run ${f.run} (seed ${r.seed}): ${f.message} -- ${describeInput(f.input)}`);
}

/** Throws with a message when cond is false (checks inside fuzz targets). */
export function must(cond: unknown, what: string): asserts cond {
  if (!cond) throw new Error(what);
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** JSON with object keys sorted and bytes as hex: equal values give equal text whatever their field order. */
export function stableText(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v instanceof Uint8Array) return `#${Array.from(v, (b) => b.toString(16).padStart(2, '0')).join('')}`;
    if (typeof v === 'bigint') return `${v}n`;
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const sorted: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
      return sorted;
    }
    return v;
  });
}
