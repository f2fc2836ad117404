#!/usr/bin/env node
// The architecture matrix under QEMU (`npm run test:qemu`): one row per
// router CPU under qemu-user, one per full-system guest; prints a table and
// exits non-zero when any row fails.
//
//   node test-qemu/run.mjs [--quick] [--user ARCHES|none] [--system ARCHES|none]
//                          [--files NAMES] [--jobs N] [--json FILE]
//
// --quick (or WGTS_QEMU_QUICK=1): only user.mjs QUICK_FILES, 300 random AEAD
// cases instead of 3000, and only the aarch64 full-system row, without the
// in-guest test bundles. ARCHES are comma-separated; defaults: every
// qemu-user arch (mips, mipsel, armel, armhf, aarch64) and every system row
// (mipsel, armhf, aarch64). Environment: WGTS_QEMU_USER, WGTS_QEMU_SYSTEM,
// WGTS_QEMU_FILES, WGTS_QEMU_JOBS.
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, join } from 'node:path';
import { bundleForQuickjs } from '../test/helpers/qjs-bundle.mjs';
import { CACHE, ROOT, USER_ARCHES, ensureBuilt, ensureTools, pool } from './common.mjs';
import { SYSTEM_ROWS, systemRow } from './system.mjs';
import { bundleAll, selectFiles, userJobs } from './user.mjs';

const log = (m) => process.stderr.write(`test-qemu: ${m}\n`);

const USAGE = `usage: npm run test:qemu -- [--quick] [--user ARCHES|none] [--system ARCHES|none]
                             [--files NAMES] [--jobs N] [--json FILE]
  --quick          only the fast byte-order-sensitive files, 300 AEAD cases, the aarch64 guest
  --user ARCHES    qemu-user rows (comma-separated: mips,mipsel,armel,armhf,aarch64) or none
  --system ARCHES  full-system guests (mipsel,armhf,aarch64) or none
  --files NAMES    only these test files (e.g. ip,uapi) in the qemu-user rows
  --jobs N         jobs at a time (default: number of CPUs)
  --json FILE      also write the rows as JSON
`;

function parseArgs(argv) {
  const env = process.env;
  const opts = {
    quick: env.WGTS_QEMU_QUICK === '1', user: env.WGTS_QEMU_USER, system: env.WGTS_QEMU_SYSTEM,
    files: env.WGTS_QEMU_FILES, jobs: Number(env.WGTS_QEMU_JOBS) || availableParallelism(), json: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => { if (argv[i + 1] === undefined) throw new Error(`${a} needs a value`); return argv[++i]; };
    if (a === '--help' || a === '-h') { process.stdout.write(USAGE); process.exit(0); }
    else if (a === '--quick') opts.quick = true;
    else if (a === '--user') opts.user = value();
    else if (a === '--system') opts.system = value();
    else if (a === '--files') opts.files = value();
    else if (a === '--jobs') opts.jobs = Number(value());
    else if (a === '--json') opts.json = value();
    else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  const list = (v, all, fallback) => {
    if (v === undefined || v === '') return fallback;
    if (v === 'none') return [];
    const items = v.split(',').map((s) => s.trim()).filter(Boolean);
    const bad = items.filter((x) => !all.includes(x));
    if (bad.length > 0) throw new Error(`unknown arch ${bad.join(', ')}; known: ${all.join(', ')}`);
    return items;
  };
  const userAll = Object.keys(USER_ARCHES);
  const systemAll = Object.keys(SYSTEM_ROWS);
  opts.user = list(opts.user, userAll, userAll);
  opts.system = list(opts.system, systemAll, opts.quick ? ['aarch64'] : systemAll);
  opts.files = opts.files ? opts.files.split(',').map((s) => s.trim()).filter(Boolean) : [];
  return opts;
}

const seconds = (ms) => (ms === null || ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`);

function printMatrix(rows) {
  const lines = ['', 'arch      kind    cpu / machine             result  passed                                   boot     1st handshake  time'];
  for (const r of rows) {
    const passed = r.checks.filter((c) => c.ok).length;
    let what = `${passed}/${r.checks.length} checks`;
    if (r.kind === 'user') {
      const isComparison = (c) => /-vs-(ts|node)$/.test(c.name);
      const files = r.checks.filter((c) => !isComparison(c));
      const assertions = files.reduce((n, c) => n + Number(/^(\d+)\//.exec(c.detail)?.[1] ?? 0), 0);
      const comparisons = r.checks.filter(isComparison);
      const same = comparisons.filter((c) => c.ok).length;
      what = `${files.filter((c) => c.ok).length}/${files.length} files (${assertions} ok), native=reference ${same}/${comparisons.length}`;
    }
    lines.push(`${r.arch.padEnd(9)} ${r.kind.padEnd(7)} ${r.where.padEnd(25)} ${(r.ok ? 'PASS' : 'FAIL').padEnd(7)} ${what.padEnd(40)} ${seconds(r.bootMs).padEnd(8)} ${seconds(r.handshakeMs).padEnd(14)} ${seconds(r.ms)}`);
  }
  lines.push('');
  for (const r of rows) {
    const failed = r.checks.filter((c) => !c.ok);
    if (r.kind === 'user') {
      lines.push(`${r.arch} (${r.where}): ${r.checks.map((c) => `${c.name} ${c.ok ? c.detail.split('\n')[0] : 'FAIL'} [${seconds(c.ms)}]`).join(', ')}`);
    } else {
      lines.push(`${r.arch} (${r.where}, kernel ${r.kernel ?? '?'}): ${r.checks.filter((c) => c.ok).map((c) => c.name).join('; ')}`);
      lines.push(`  guest timeline (s since QEMU started): ${r.timeline}`);
    }
    for (const c of failed) lines.push(`  FAILED ${c.name}: ${c.detail}`);
    if (r.consoleTail?.length) lines.push(`  guest console, last lines:\n${r.consoleTail.map((l) => `    | ${l}`).join('\n')}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const tools = [...new Set([
    ...opts.user.map((a) => USER_ARCHES[a].qemu),
    ...(opts.system.length > 0 ? ['wireguard-go', 'wg', 'ip', 'ping', 'depmod', 'dpkg-deb', ...opts.system.map((a) => SYSTEM_ROWS[a].qemu)] : []),
  ])];
  const missing = ensureTools(tools, log);
  if (missing.length > 0) throw new Error(`missing tools: ${missing.join(', ')} (run as root to install them)`);
  if (opts.system.length > 0 && process.getuid?.() !== 0) throw new Error('the full-system rows need root (network namespaces)');

  // Every row runs the shipped wgts too, so every arch needs both executables.
  ensureBuilt([...new Set([...opts.user, ...opts.system])], true, log);

  const files = selectFiles({ quick: opts.quick, only: opts.files });
  const bundled = await bundleAll(files);
  log(`${opts.user.length} qemu-user rows × ${files.length} test files + AEAD comparison, ` +
    `${opts.system.length} system rows, ${opts.jobs} at a time${opts.quick ? ' (quick)' : ''}`);

  // Guests also run the crypto answers and the OpenWrt codecs' tests, when those exist.
  // (Not in quick runs: the qemu-user rows cover them, and they take minutes in a guest.)
  const guestTests = opts.quick ? [] : bundled.bundles.filter((b) => /^(crypto-kat|uci|blobmsg|ubus)/.test(b.name)).map((b) => b.path);
  const uapiClient = await bundleForQuickjs(join(ROOT, 'test/quickjs/uapi-client.ts'), join(CACHE, 'bundles/uapi-client.mjs'));

  const userRows = opts.user.map((arch) => {
    const { cpu, jobs } = userJobs(arch, bundled, { aeadCases: opts.quick ? 300 : 3000, timeoutMs: opts.quick ? 900_000 : 5_400_000 });
    return { arch, cpu, jobs };
  });
  const tasks = [];
  // System rows first: they are the longest single jobs.
  const systemResults = new Map();
  for (const arch of opts.system) {
    tasks.push(async () => {
      log(`${arch}: booting ${SYSTEM_ROWS[arch].qemu}`);
      const t0 = Date.now();
      const r = await systemRow(arch, { guestTests, uapiClient, log });
      systemResults.set(arch, { ...r, ms: Date.now() - t0 });
    });
  }
  const userChecks = new Map(userRows.map((r) => [r.arch, []]));
  for (const row of userRows) {
    row.jobs.forEach((job, i) => tasks.push(async () => {
      const c = await job();
      userChecks.get(row.arch)[i] = c;
      if (!c.ok) log(`${row.arch}: ${c.name} FAILED`);
    }));
  }
  await pool(tasks, opts.jobs);

  const rows = [
    ...userRows.map(({ arch, cpu }) => {
      const checks = userChecks.get(arch);
      return { arch, kind: 'user', where: `${USER_ARCHES[arch].qemu.replace(/-static$/, '')} -cpu ${cpu}`, ok: checks.every((c) => c.ok),
        checks, bootMs: null, handshakeMs: null, ms: checks.reduce((s, c) => s + c.ms, 0) };
    }),
    ...opts.system.map((arch) => {
      const r = systemResults.get(arch);
      return { ...r, where: `${SYSTEM_ROWS[arch].machine[1]} ${SYSTEM_ROWS[arch].qemu.replace('qemu-system-', '')}` };
    }),
  ];
  printMatrix(rows);
  const ok = rows.every((r) => r.ok);
  process.stdout.write(`${ok ? 'all rows passed' : 'SOME ROWS FAILED'} in ${seconds(Date.now() - started)}` +
    ` (test files: ${files.map((f) => basename(f, '.test.ts')).join(', ')})\n`);
  if (opts.json) writeFileSync(opts.json, JSON.stringify({ ok, quick: opts.quick, files: files.map((f) => basename(f)), rows }, null, 2));
  process.exit(ok ? 0 : 1);
}

main().catch((e) => {
  log(e.stack ?? e.message);
  process.exit(2);
});
