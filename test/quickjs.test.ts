// Runs the pure protocol test files on QuickJS, the runtime wgts ships on.
// Each file is bundled with esbuild exactly as the product is (ES2020), with
// `tap` replaced by test/quickjs/tap-shim.ts, and executed by `wgts-js`: the
// same QuickJS build and native module as the `wgts` executable.
// (The same bundles run on the router CPUs under QEMU: test/qemu.test.ts.)
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { bundleForQuickjs, pureTestFiles, ROOT as root, shimSummary } from './helpers/qjs-bundle.mjs';

const runner = process.env.WGTS_JS ?? join(root, 'dist/x86_64/wgts-js');
const outDir = join(root, '.cache/qjs-tests');
const files = pureTestFiles();

t.before(() => {
  if (!process.env.WGTS_JS) execFileSync('node', [join(root, 'build/build.mjs'), '--runner-only'], { stdio: 'inherit' });
  mkdirSync(outDir, { recursive: true });
});

t.test('there are pure test files to run', async (t) => {
  t.ok(files.length >= 5, `found ${files.length}`);
});

for (const file of files) {
  const name = file.slice(join(root, 'test').length + 1);
  t.test(`${name} on QuickJS`, async (t) => {
    const outfile = await bundleForQuickjs(file, join(outDir, name.replace(/\.ts$/, '.mjs')));
    const run = spawnSync(runner, [outfile], { encoding: 'utf8', timeout: 600_000, maxBuffer: 64 << 20 });
    const out = `${run.stdout}${run.stderr}`;
    const summary = shimSummary(out);
    const failed = summary.failures.join('\n');
    t.equal(run.status, 0, `qjs exits 0${failed ? `\n${failed}` : ''}${run.error ? ` (${run.error.message})` : ''}`);
    t.ok(summary.complete && summary.total > 0 && summary.total === summary.pass,
      `all assertions pass on QuickJS: ${summary.complete ? `# { total: ${summary.total}, pass: ${summary.pass} }` : out.slice(-500)}`);
  });
}
