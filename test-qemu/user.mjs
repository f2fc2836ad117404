// qemu-user rows: every pure protocol test bundle, the crypto known answers
// (test/crypto-kat.test.ts is one of them) and the native-vs-TypeScript AEAD
// and X25519 comparisons, run by dist/<arch>/wgts-js on the emulated router CPU.
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { bundleForQuickjs, pureTestFiles, shimSummary } from '../test/helpers/qjs-bundle.mjs';
import { CACHE, ROOT, USER_ARCHES, runProcess, userCpu } from './common.mjs';

/**
 * The quick subset (npm test / CI): the crypto answers, the byte-order-sensitive
 * parsers and codecs (IP headers, replay window, wg conf, OpenWrt's UCI and
 * ubus blobmsg) and one device file; each takes seconds under emulation where
 * the randomized and long-running files take minutes.
 */
export const QUICK_FILES = /^(crypto-kat|ip|replay|ratelimiter|wgconf|device|uci|blobmsg|ubus)(-.*)?\.test\.ts$/;

/** The test files of a run: `only` names them, else every pure file (quick: QUICK_FILES). */
export function selectFiles({ quick, only }) {
  const all = pureTestFiles();
  if (only && only.length > 0) {
    const wanted = new Set(only.map((f) => (f.endsWith('.test.ts') ? f : `${f}.test.ts`)));
    const picked = all.filter((f) => wanted.has(basename(f)));
    const unknown = [...wanted].filter((w) => !picked.some((f) => basename(f) === w));
    if (unknown.length > 0) throw new Error(`not pure test files: ${unknown.join(', ')}`);
    return picked;
  }
  return quick ? all.filter((f) => QUICK_FILES.test(basename(f))) : all;
}

/** Bundles the selected files and the AEAD, X25519 and batch comparisons once for all arches. */
export async function bundleAll(files) {
  const dir = join(CACHE, 'bundles');
  mkdirSync(dir, { recursive: true });
  const bundles = await Promise.all(files.map(async (f) => ({
    name: basename(f, '.test.ts'),
    path: await bundleForQuickjs(f, join(dir, basename(f).replace(/\.ts$/, '.mjs'))),
  })));
  const aead = await bundleForQuickjs(join(ROOT, 'test/quickjs/aead-compare.ts'), join(dir, 'aead-compare.mjs'));
  const x25519 = await bundleForQuickjs(join(ROOT, 'test/quickjs/x25519-compare.ts'), join(dir, 'x25519-compare.mjs'));
  const batch = await bundleForQuickjs(join(ROOT, 'test/quickjs/batch-aead-compare.ts'), join(dir, 'batch-aead-compare.mjs'));
  return { bundles, aead, x25519, batch };
}

/**
 * The jobs of one arch's row, to run in a shared pool; each resolves to a
 * check { name, ok, detail, ms }.
 */
export function userJobs(arch, { bundles, aead, x25519, batch }, { aeadCases, timeoutMs }) {
  const { qemu } = USER_ARCHES[arch];
  const runner = join(ROOT, 'dist', arch, 'wgts-js');
  const cpu = userCpu(arch, runner);
  const run = (args) => runProcess(qemu, ['-cpu', cpu, runner, ...args], { timeoutMs });
  const why = (r) => (r.timedOut ? `timed out after ${Math.round(r.ms / 1000)} s` : r.signal ? `killed by ${r.signal}` : `exit ${r.code}`);

  const jobs = bundles.map((b) => async () => {
    const r = await run([b.path]);
    const s = shimSummary(r.out);
    const ok = r.code === 0 && s.complete && s.total > 0 && s.total === s.pass;
    const detail = ok ? `${s.pass}/${s.total}` : `${s.pass}/${s.total}, ${why(r)}\n${[...s.failures, ...r.out.trim().split('\n').slice(-8)].join('\n')}`;
    return { name: b.name, ok, detail, ms: r.ms };
  });
  /** A comparison program printing one JSON line; ok(result) decides, describe(result) reports. */
  const compare = (name, args, ok, describe) => async () => {
    const r = await run(args);
    const line = r.out.split('\n').find((l) => l.startsWith('{'));
    let result = null;
    try { result = line ? JSON.parse(line) : null; } catch { result = null; }
    const passed = r.code === 0 && result !== null && result.failures.length === 0 && ok(result);
    const detail = result ? `${describe(result)}${passed ? '' : `\n${result.failures.slice(0, 5).join('\n')}`}`
      : `${why(r)}\n${r.out.trim().split('\n').slice(-8).join('\n')}`;
    return { name, ok: passed, detail, ms: r.ms };
  };
  jobs.push(compare('aead-native-vs-ts', [aead, String(aeadCases), '20240611'],
    (x) => x.cases === aeadCases && x.checks > aeadCases * 10,
    (x) => `${x.cases} random cases, ${x.checks} checks, ${x.failures.length} mismatches`));
  // @noble's X25519 costs some 40 M guest instructions a case, so a tenth as many cases.
  const x25519Cases = Math.max(50, Math.round(aeadCases / 10));
  jobs.push(compare('x25519-native-vs-ts', [x25519, String(x25519Cases), '20261122'],
    (x) => x.cases === x25519Cases && x.automatic === 'native' && x.checks > x25519Cases * 4,
    (x) => `${x.cases} random and odd cases, ${x.checks} checks, ${x.failures.length} mismatches, dh() on ${x.automatic}`));
  // Whole batches on 1, 2 and 4 threads (qemu-user runs guest threads on host threads).
  const batchRounds = Math.max(9, Math.round(aeadCases / 100));
  jobs.push(compare('batch-aead-native-vs-ts', [batch, String(batchRounds), '20261122'],
    (x) => x.rounds === batchRounds && x.checks > batchRounds * 20,
    (x) => `${x.rounds} batches on 1/2/4 threads, ${x.checks} checks, ${x.failures.length} mismatches`));
  // The shipped executable itself (bytecode compiled ahead, unlike the bundles above): start-up, a clear
  // error, and key helpers whose X25519 must agree with Node's.
  jobs.push(async () => {
    const wgts = join(ROOT, 'dist', arch, 'wgts');
    const exe = (args, input) => runProcess(qemu, ['-cpu', cpu, wgts, ...args], { timeoutMs, input });
    const started = Date.now();
    const bad = await exe(['-f', 'a/b']);
    const key = await exe(['genkey']);
    const pub = await exe(['pubkey'], key.out);
    const raw = Buffer.from(key.out.trim(), 'base64');
    let expected = '';
    try {
      const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b656e04220420', 'hex'), raw]);
      expected = Buffer.from(createPublicKey(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }))
        .export({ format: 'jwk' }).x, 'base64url').toString('base64');
    } catch { /* a malformed key fails below */ }
    const problems = [];
    if (bad.code !== 1 || !/invalid interface name/.test(bad.out)) problems.push(`wgts -f a/b: ${why(bad)}: ${bad.out.trim().slice(-300)}`);
    if (key.code !== 0 || raw.length !== 32) problems.push(`genkey: ${why(key)}: ${key.out.trim().slice(-300)}`);
    if (pub.code !== 0 || pub.out.trim() !== expected) problems.push(`pubkey: ${why(pub)}: ${pub.out.trim()} want ${expected}`);
    const detail = problems.length === 0 ? 'starts, refuses a bad name, genkey | pubkey = Node\'s X25519' : problems.join('\n');
    return { name: 'wgts-cli-vs-node', ok: problems.length === 0, detail, ms: Date.now() - started };
  });
  return { cpu, jobs };
}
