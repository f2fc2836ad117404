// Runs the pure protocol test files on QuickJS, the runtime wgts ships on.
// Each file is bundled with esbuild exactly as the product is (ES2020), with
// `tap` replaced by test/quickjs/tap-shim.ts, and executed by `wgts-js`: the
// same QuickJS build and native module as the `wgts` executable.
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const runner = process.env.WGTS_JS ?? join(root, 'dist/x86_64/wgts-js');
const outDir = join(root, '.cache/qjs-tests');

/** A test file is pure when neither it nor the helpers it imports use Node modules. */
function isPure(file: string, seen = new Set<string>()): boolean {
  if (seen.has(file)) return true;
  seen.add(file);
  const src = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  if (/from ['"](node:[^'"]+|fs|path|child_process|os|crypto)['"]/.test(src)) return false;
  if (/\b(TextEncoder|TextDecoder|Buffer)\b|\bprocess\./.test(src)) return false;
  for (const m of src.matchAll(/from ['"](\.[^'"]+)['"]/g)) {
    const target = resolve(dirname(file), m[1]!.replace(/\.js$/, '.ts'));
    if (target.startsWith(join(root, 'test')) && !isPure(target, seen)) return false;
  }
  return true;
}

const files = readdirSync(join(root, 'test'))
  .filter((f) => f.endsWith('.test.ts') && f !== 'quickjs.test.ts')
  .map((f) => join(root, 'test', f))
  .filter((f) => isPure(f));

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
    const outfile = join(outDir, name.replace(/\.ts$/, '.mjs'));
    await build({
      entryPoints: [file], bundle: true, format: 'esm', target: 'es2020', platform: 'neutral',
      outfile, alias: { tap: join(root, 'test/quickjs/tap-shim.ts') }, logLevel: 'error',
      mainFields: ['module', 'main'],
    });
    const run = spawnSync(runner, [outfile], { encoding: 'utf8', timeout: 600_000, maxBuffer: 64 << 20 });
    const out = `${run.stdout}${run.stderr}`;
    const summary = /# \{ total: (\d+), pass: (\d+) \}/.exec(out);
    const failed = out.split('\n').filter((l) => /^\s*not ok/.test(l) || /^\s+# /.test(l)).slice(0, 20).join('\n');
    t.equal(run.status, 0, `qjs exits 0${failed ? `\n${failed}` : ''}${run.error ? ` (${run.error.message})` : ''}`);
    t.ok(summary && Number(summary[1]) > 0 && summary[1] === summary[2], `all assertions pass on QuickJS: ${summary?.[0] ?? out.slice(-500)}`);
  });
}
