// The architecture matrix under QEMU, quick settings (test-qemu/run.mjs
// --quick): every router CPU under qemu-user runs the pure test files minus
// the slowest and the native-vs-TypeScript AEAD comparison, and one
// full-system guest (aarch64 on virt) builds a tunnel to wireguard-go.
// `npm run test:qemu` runs the full matrix. WGTS_QEMU_* variables pass through
// (e.g. WGTS_QEMU_SYSTEM=none to leave out the full-system row).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './helpers/qjs-bundle.mjs';

interface Check { name: string; ok: boolean; detail: string }
interface Row {
  arch: string; kind: 'user' | 'system'; where: string; ok: boolean; checks: Check[];
  bootMs: number | null; handshakeMs: number | null; consoleTail?: string[];
}

const LIMIT_MS = 50 * 60_000;
t.setTimeout(LIMIT_MS + 60_000);

const dir = mkdtempSync(join(tmpdir(), 'wgts-qemu-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const jsonFile = join(dir, 'matrix.json');
const args = [join(ROOT, 'test-qemu/run.mjs'), '--quick', '--json', jsonFile];
const root = process.getuid?.() === 0;
if (!root) args.push('--system', 'none'); // namespaces need root; the qemu-user rows do not
const run = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', timeout: LIMIT_MS, maxBuffer: 64 << 20 });

let matrix: { ok: boolean; files: string[]; rows: Row[] } | null = null;
try {
  matrix = JSON.parse(readFileSync(jsonFile, 'utf8'));
} catch {
  matrix = null;
}

t.test('the matrix ran', async (t) => {
  t.ok(matrix, `test-qemu/run.mjs wrote its results (exit ${run.status}${run.error ? `, ${run.error.message}` : ''})` +
    (matrix ? '' : `\n${run.stderr.slice(-3000)}`));
  if (matrix) t.comment(run.stdout.trim());
  if (!root) t.comment('not root: the full-system row was left out');
});

for (const row of matrix?.rows ?? []) {
  t.test(`${row.arch} ${row.kind} (${row.where})`, async (t) => {
    for (const c of row.checks) t.ok(c.ok, `${c.name}: ${c.detail.split('\n')[0]}`, { diagnostic: !c.ok, detail: c.detail });
    if (row.kind === 'system') {
      t.ok(row.bootMs !== null && row.handshakeMs !== null, `boot ${row.bootMs} ms, first handshake ${row.handshakeMs} ms`);
      if (!row.ok && row.consoleTail) t.comment(`guest console:\n${row.consoleTail.join('\n')}`);
    }
  });
}

t.test('every qemu-user arch has a row', async (t) => {
  const archs = (matrix?.rows ?? []).filter((r) => r.kind === 'user').map((r) => r.arch).sort();
  t.same(archs, process.env.WGTS_QEMU_USER ? archs : ['aarch64', 'armel', 'armhf', 'mips', 'mipsel']);
});
