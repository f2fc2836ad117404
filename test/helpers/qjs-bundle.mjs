// Bundling test files and small programs for QuickJS (wgts-js), shared by
// test/quickjs.test.ts, test/native-aead.test.ts and the QEMU matrix in
// test-qemu/. Plain JavaScript so that test-qemu/run.mjs runs it without a
// TypeScript loader; types in qjs-bundle.d.mts.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TEST_DIR = join(ROOT, 'test');

/** A test file is pure when neither it nor the test helpers it imports use Node. */
export function isPure(file, seen = new Set()) {
  if (seen.has(file)) return true;
  seen.add(file);
  const src = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  if (/from ['"](node:[^'"]+|fs|path|child_process|os|crypto)['"]/.test(src)) return false;
  if (/\b(TextEncoder|TextDecoder|Buffer)\b|\bprocess\./.test(src)) return false;
  for (const m of src.matchAll(/from ['"](\.[^'"]+)['"]/g)) {
    const target = resolve(dirname(file), m[1].replace(/\.js$/, '.ts'));
    if (target.startsWith(TEST_DIR) && !isPure(target, seen)) return false;
  }
  return true;
}

/** Absolute paths of the pure test/*.test.ts files (those that run on QuickJS), sorted. */
export function pureTestFiles() {
  return readdirSync(TEST_DIR)
    .filter((f) => f.endsWith('.test.ts') && f !== 'quickjs.test.ts')
    .sort()
    .map((f) => join(TEST_DIR, f))
    .filter((f) => isPure(f));
}

/**
 * Bundles a test file or a QuickJS program the way the product is bundled
 * (ES2020 ESM), with `tap` replaced by test/quickjs/tap-shim.ts and QuickJS's
 * own modules left to the runtime. Returns outfile.
 */
export async function bundleForQuickjs(entry, outfile) {
  await build({
    entryPoints: [entry], bundle: true, format: 'esm', target: 'es2020', platform: 'neutral',
    outfile, alias: { tap: join(ROOT, 'test/quickjs/tap-shim.ts') }, logLevel: 'error',
    mainFields: ['module', 'main'], external: ['os', 'std', 'wgts_native'],
  });
  return outfile;
}

/** What a bundled test printed through the tap shim: its summary and first failures. */
export function shimSummary(output) {
  const m = /# \{ total: (\d+), pass: (\d+) \}/.exec(output);
  const failures = output.split('\n').filter((l) => /^\s*not ok/.test(l) || /^\s+# /.test(l)).slice(0, 20);
  return { total: m ? Number(m[1]) : 0, pass: m ? Number(m[2]) : 0, complete: m !== null, failures };
}
