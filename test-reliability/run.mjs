#!/usr/bin/env node
// npm run test:reliability: the long runs of issue 8, bounded to under an hour.
//  1. every fuzz target, long: the TypeScript targets of test/fuzz-*.test.ts
//     (time-boxed per target), the native AEAD against its TypeScript twin on
//     many more inputs, and the libFuzzer harnesses of fuzz/ (ASan, UBSan);
//  2. every test-reliability/net/*.test.ts (floods, replay, faults, soak,
//     privileges), each with tap.
// Prints a table (target, runs, duration, result), writes
// test-reliability/results.json, exits 1 on any failure.
//
// Environment (defaults fit the hour on this 2-core machine):
//   WGTS_RELIABILITY_SCALE   multiplies every time budget (default 1; 0.1 for a quick pass)
//   WGTS_FUZZ_SECONDS        per TypeScript fuzz target (default 40 x scale)
//   FUZZ_SECONDS             per libFuzzer harness (default 150 x scale)
//   WGTS_NATIVE_FUZZ_RUNS    native-vs-TypeScript AEAD inputs (default 100000 x scale)
//   WGTS_FUZZ_SEED           run seed (default: from the date, printed; rerun with it to reproduce)
//   WGTS_RELIABILITY_ONLY    comma-separated step names to run (e.g. fuzz-parsers,net/flood)
//   WGTS_RELIABILITY_BUDGET  whole-run limit in seconds (default 3300): later steps are not started past it
import { spawn } from 'node:child_process';
import { cpus, totalmem, release } from 'node:os';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const logDir = join(root, '.cache/reliability');
mkdirSync(logDir, { recursive: true });

const scale = positive(process.env.WGTS_RELIABILITY_SCALE, 1);
const tsSeconds = positive(process.env.WGTS_FUZZ_SECONDS, Math.max(2, Math.round(40 * scale)));
const cSeconds = positive(process.env.FUZZ_SECONDS, Math.max(5, Math.round(150 * scale)));
const nativeRuns = positive(process.env.WGTS_NATIVE_FUZZ_RUNS, Math.max(3000, Math.round(100_000 * scale)));
const seed = Number.isInteger(Number(process.env.WGTS_FUZZ_SEED)) && process.env.WGTS_FUZZ_SEED !== undefined
  ? Number(process.env.WGTS_FUZZ_SEED) >>> 0
  : Number(new Date().toISOString().slice(0, 10).replace(/-/g, '')) >>> 0;
const budgetMs = positive(process.env.WGTS_RELIABILITY_BUDGET, 3300) * 1000;
const only = process.env.WGTS_RELIABILITY_ONLY ? new Set(process.env.WGTS_RELIABILITY_ONLY.split(',')) : null;

function positive(text, fallback) {
  const v = Number(text);
  return text !== undefined && Number.isFinite(v) && v > 0 ? v : fallback;
}

/** Runs a command with a hard time limit; output goes to a log file. */
function runLogged(name, argv, env, timeoutMs) {
  const logFile = join(logDir, `${name.replace(/\//g, '_')}.log`);
  return new Promise((resolvePromise) => {
    const started = Date.now();
    let out = '';
    const child = spawn(argv[0], argv.slice(1), { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const keep = (chunk) => { out += chunk; if (out.length > 4_000_000) out = out.slice(-2_000_000); };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      // The whole process group: tap and the test processes it started.
      try { process.kill(-child.pid, 'SIGKILL'); } catch { child.kill('SIGKILL'); }
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      writeFileSync(logFile, out);
      resolvePromise({ code, signal, timedOut, ms: Date.now() - started, out, logFile });
    });
  });
}

/** tap's closing summary: "# { total: N, pass: N, fail: N, todo: N, skip: N }" (absent counts are 0). */
function tapSummary(out) {
  const m = /#\s*\{\s*(total:[^}]*)\}/.exec(out);
  if (!m) return null;
  const counts = { total: 0, pass: 0, fail: 0, todo: 0, skip: 0 };
  for (const [, key, value] of m[1].matchAll(/(\w+):\s*(\d+)/g)) counts[key] = Number(value);
  return counts;
}

/** e.g. "21 assertions, 2 todo (marked known-failing by the test)" */
function passedText(summary) {
  return [`${summary.pass} assertions`, summary.todo ? `${summary.todo} todo (marked known-failing by the test)` : '', summary.skip ? `${summary.skip} skipped` : '']
    .filter(Boolean).join(', ');
}

const nice = existsSync('/usr/bin/nice') ? ['nice', '-n', '10'] : [];
const tap = (file, timeoutSec) => [...nice, 'npx', 'tap', '--disable-coverage', `--timeout=${timeoutSec}`, '--reporter=tap', file];

const rows = [];
const started = Date.now();

/** The step whose rows are being added (rows of steps not rerun survive a WGTS_RELIABILITY_ONLY run). */
let currentStep = '';

function row(target, runs, ms, result, detail = '') {
  rows.push({ step: currentStep, target, runs, seconds: Math.round(ms / 100) / 10, result, detail });
  const line = `${target.padEnd(34)} ${String(runs).padStart(10)} ${`${(ms / 1000).toFixed(1)} s`.padStart(9)}  ${result}${detail ? ` (${detail})` : ''}`;
  console.log(line);
}

function wanted(name) {
  currentStep = name;
  return only === null || only.has(name);
}

function outOfTime(name) {
  if (Date.now() - started < budgetMs) return false;
  row(name, 0, 0, 'FAIL', 'not started: the whole-run budget is used up');
  return true;
}

/** A test file whose fuzz targets report one JSON line each (WGTS_FUZZ_REPORT). */
async function fuzzFile(name, file, env, timeoutSec) {
  if (!wanted(name) || outOfTime(name)) return;
  const report = join(logDir, `${name}.jsonl`);
  rmSync(report, { force: true });
  const r = await runLogged(name, tap(file, timeoutSec), { WGTS_FUZZ_REPORT: report, WGTS_FUZZ_SEED: String(seed), ...env }, (timeoutSec + 60) * 1000);
  const summary = tapSummary(r.out);
  const lines = existsSync(report) ? readFileSync(report, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
  for (const l of lines) {
    const notes = [l.failures ? `${l.failures} failing inputs, .cache/fuzz-failures/${l.target}/` : '',
      l.slowestMs !== undefined ? `slowest input ${l.slowestMs} ms` : '', l.stalls ? `${l.stalls} slow once, fast when rerun` : ''];
    row(l.target, l.checked ?? l.runs, l.ms, l.failures === 0 ? 'ok' : 'FAIL', notes.filter(Boolean).join(', '));
  }
  const ok = r.code === 0 && !r.timedOut && summary !== null && summary.fail === 0;
  row(`${name} (tap)`, summary?.total ?? 0, r.ms, !ok ? 'FAIL' : summary.todo ? 'todo' : 'ok',
    ok ? passedText(summary) : r.timedOut ? `timed out after ${timeoutSec} s, log ${r.logFile}` : `exit ${r.code}, log ${r.logFile}`);
  if (!ok) console.log(r.out.split('\n').filter((l) => /not ok|Error|fail/i.test(l)).slice(0, 20).join('\n'));
}

/** The libFuzzer harnesses: one line each from fuzz/run.sh. */
async function cFuzz() {
  const name = 'libfuzzer';
  if (!wanted(name) || outOfTime(name)) return;
  const r = await runLogged(name, [...nice, 'sh', join(root, 'fuzz/run.sh')], { FUZZ_SECONDS: String(cSeconds), FUZZ_RUNS: '-1' }, (cSeconds * 3 + 180) * 1000);
  if (r.code === 2) { row('libfuzzer', 0, r.ms, 'FAIL', 'clang/libFuzzer not installed: apt-get install clang libclang-rt-14-dev'); return; }
  const results = r.out.split('\n').filter((l) => l.startsWith('fuzz '));
  for (const l of results) {
    const [, target, runs, secs, result] = /^fuzz (\S+) runs=(\d+) seconds=(\d+) result=(\S+)/.exec(l) ?? [];
    row(`native/${target}`, Number(runs), Number(secs) * 1000, result === 'ok' ? 'ok' : 'FAIL', result === 'ok' ? 'libFuzzer, ASan+UBSan' : `${result}, see ${r.logFile} and .cache/fuzz-artifacts/${target}/`);
  }
  if (results.length === 0 || r.code !== 0 || r.timedOut) row('libfuzzer (run.sh)', 0, r.ms, 'FAIL', `exit ${r.code}${r.timedOut ? ', timed out' : ''}, log ${r.logFile}`);
}

/** Part B's network tests, each file with tap. */
async function netTests() {
  const dir = join(root, 'test-reliability/net');
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.test.ts')).sort() : [];
  if (files.length === 0) { row('net/*', 0, 0, 'FAIL', 'no test-reliability/net/*.test.ts found'); return; }
  for (const f of files) {
    const name = `net/${f.replace(/\.test\.ts$/, '')}`;
    if (!wanted(name) || outOfTime(name)) continue;
    const left = Math.max(120, Math.round((budgetMs - (Date.now() - started)) / 1000));
    const limit = Math.min(left, Number(process.env.WGTS_RELIABILITY_NET_TIMEOUT ?? 1200));
    const r = await runLogged(name, tap(join('test-reliability/net', f), limit), {}, (limit + 60) * 1000);
    const summary = tapSummary(r.out);
    const ok = r.code === 0 && !r.timedOut && summary !== null && summary.fail === 0;
    row(name, summary?.total ?? 0, r.ms, !ok ? 'FAIL' : summary.todo ? 'todo' : 'ok',
      ok ? passedText(summary) : r.timedOut ? `timed out after ${limit} s, log ${r.logFile}` : `exit ${r.code}, log ${r.logFile}`);
    if (!ok) console.log(r.out.split('\n').filter((l) => /not ok|Error/i.test(l)).slice(0, 20).join('\n'));
  }
}

console.log(`reliability run ${new Date().toISOString()}: seed ${seed}, ${tsSeconds} s per TypeScript fuzz target, ${cSeconds} s per libFuzzer harness, ${nativeRuns} native AEAD comparisons`);
console.log(`${'target'.padEnd(34)} ${'runs'.padStart(10)} ${'duration'.padStart(9)}  result`);
const hugeRuns = '1000000000'; // the time budget ends the TypeScript targets
await fuzzFile('fuzz-parsers', 'test/fuzz-parsers.test.ts', { WGTS_FUZZ_RUNS: hugeRuns, WGTS_FUZZ_SECONDS: String(tsSeconds) }, tsSeconds * 12 + 120);
await fuzzFile('fuzz-device', 'test/fuzz-device.test.ts', { WGTS_FUZZ_RUNS: hugeRuns, WGTS_FUZZ_SECONDS: String(tsSeconds) }, tsSeconds * 12 + 120);
await fuzzFile('fuzz-regressions', 'test/fuzz-regressions.test.ts', {}, 300);
await fuzzFile('fuzz-native-aead', 'test/fuzz-native.test.ts', { WGTS_FUZZ_RUNS: String(nativeRuns), FUZZ_SECONDS: '3', FUZZ_RUNS: '10000' }, 900);
await cFuzz();
await netTests();

// A partial run keeps the other steps' rows from the last results.json, marked with their date.
const resultsFile = join(root, 'test-reliability/results.json');
let earlier = null;
if (only !== null && existsSync(resultsFile)) {
  try {
    const old = JSON.parse(readFileSync(resultsFile, 'utf8'));
    const rerun = new Set(rows.map((r) => r.step));
    const kept = (old.rows ?? []).filter((r) => r.step && !rerun.has(r.step)).map((r) => ({ ...r, date: r.date ?? old.date }));
    if (kept.length) { earlier = { date: old.date, seed: old.seed, steps: [...new Set(kept.map((r) => r.step))] }; rows.unshift(...kept); }
  } catch { /* an unreadable old file is replaced */ }
}
// 'todo': the file passed, but some assertions are marked known-failing (tap TODO); reported, not counted as failures.
const failed = rows.filter((r) => r.result === 'FAIL');
const todo = rows.filter((r) => r.result === 'todo');
const totalMs = Date.now() - started;
const cpu = cpus();
const results = {
  date: new Date().toISOString(),
  machine: { cpu: cpu[0]?.model ?? 'unknown', cores: cpu.length, memoryGiB: Math.round(totalmem() / 2 ** 30), kernel: release(), node: process.version },
  seed, scale, tsSecondsPerTarget: tsSeconds, libFuzzerSecondsPerHarness: cSeconds, nativeAeadRuns: nativeRuns,
  seconds: Math.round(totalMs / 1000),
  ok: failed.length === 0,
  ...(earlier ? { keptFromEarlierRun: earlier } : {}),
  rows,
};
writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
console.log(`\n${rows.length - failed.length - todo.length} passed, ${failed.length} failed${todo.length ? `, ${todo.length} with known-failing (todo) assertions` : ''} in ${Math.round(totalMs / 1000)} s; test-reliability/results.json written (logs in .cache/reliability/)`);
process.exit(failed.length === 0 ? 0 : 1);
