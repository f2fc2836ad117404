// The native X25519 (native/x25519.c) against its TypeScript twin (@noble/curves):
//  1. native/test_x25519.c (RFC 7748 vectors incl. 1 and 1,000 iterations,
//     low-order points, u >= p, bit 255, clamping, aliasing) built with gcc
//     and, where the cross compilers and qemu-user are installed, for every
//     router arch; each prints a digest of 1,000 chained random and odd cases
//     that must equal the one computed here with @noble (5,000 on the host);
//  2. the same under AddressSanitizer and UBSan;
//  3. constant time, as far as instructions go: under qemu-user with
//     ../shared/tools/insncount, different scalars and points execute exactly
//     the same number of guest instructions;
//  4. the binding and dh()/publicKeyOf() on QuickJS (dist/x86_64/wgts-js):
//     test/quickjs/x25519-compare.ts on thousands of random and odd inputs.
import t from 'tap';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { x25519 } from '@noble/curves/ed25519.js';
import { toHex } from '../src/crypto/encoding.js';
import { X25519_LOW_ORDER } from './helpers/compare-kit.js';
import { CROSS_TARGETS, crossTarget, have, run, type CrossTarget } from './helpers/cross-c.js';
import { bundleForQuickjs } from './helpers/qjs-bundle.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(root, 'native');
const outDir = join(root, '.cache/native-x25519');
const C_SOURCES = [join(nativeDir, 'test_x25519.c'), join(nativeDir, 'x25519.c')];
const C_FLAGS = ['-O2', '-Wall', '-Wextra', '-Werror', '-std=c99'];
const wgtsJs = join(root, 'dist/x86_64/wgts-js');
const insncountBuild = resolve(root, '../shared/tools/insncount/build.sh');

const LOW_ORDER = X25519_LOW_ORDER; // as in test_x25519.c

/**
 * test_x25519.c's chain on @noble: n cases, scalar = LCG bytes XOR digest,
 * u random / low-order / >= p / small by case number, digest ^= X25519
 * (all zeros where @noble refuses a low-order point, as RFC 7748 computes).
 */
function referenceDigest(n: number): string {
  let state = 1;
  const nextByte = (): number => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) >>> 16) & 0xff;
  const fill = (b: Uint8Array): void => { for (let i = 0; i < b.length; i++) b[i] = nextByte(); };
  const digest = new Uint8Array(32);
  for (let i = 0; i < n; i++) {
    const k = new Uint8Array(32);
    fill(k);
    for (let j = 0; j < 32; j++) k[j]! ^= digest[j]!;
    let u = new Uint8Array(32);
    fill(u);
    switch (i % 8) {
      case 1: u = LOW_ORDER[Math.floor(i / 8) % LOW_ORDER.length]!.slice(); u[31]! |= i & 0x80; break;
      case 3: u.fill(0xff, 1); u[0] = 0xed + (u[0]! % 19); u[31] = 0x7f | (i & 0x80); break;
      case 5: u.fill(0, 1); break;
      default: break;
    }
    let out: Uint8Array;
    try {
      out = x25519.getSharedSecret(k, u);
    } catch {
      out = new Uint8Array(32);
    }
    for (let j = 0; j < 32; j++) digest[j]! ^= out[j]!;
  }
  return toHex(digest);
}

const expected1000 = referenceDigest(1000);
mkdirSync(outDir, { recursive: true });

function buildTest(target: CrossTarget, extraFlags: string[] = [], suffix = ''): { bin: string } | { error: string } {
  const bin = join(outDir, `test_x25519-${target.name}${suffix}`);
  const r = run(target.cc, [...C_FLAGS, ...target.flags, ...extraFlags, '-o', bin, ...C_SOURCES]);
  return r.status === 0 ? { bin } : { error: r.out };
}

t.test('the reference chain is not trivial', async (t) => {
  t.not(expected1000, '00'.repeat(32));
  t.not(referenceDigest(999), expected1000, 'every case changes the digest');
});

for (const target of CROSS_TARGETS) {
  const missing = [target.cc, ...(target.qemu ? [target.qemu] : [])].filter((c) => !have(c));
  const skip = missing.length > 0 ? `${missing.join(', ')} not installed (apt-get install ${target.packages})` : false;
  t.test(`test_x25519.c on ${target.name}${target.qemu ? ` under ${target.qemu}` : ''}`, { skip }, async (t) => {
    const built = buildTest(target);
    if ('error' in built) {
      t.fail(`${target.cc} builds test_x25519.c without warnings:\n${built.error}`);
      return;
    }
    const exec = (args: string[]) => (target.qemu ? run(target.qemu, [built.bin, ...args]) : run(built.bin, args));
    const r = exec([]);
    const summary = /(\d+) checks, (\d+) failures/.exec(r.out);
    t.equal(r.status, 0, `exits 0${r.status === 0 ? '' : `\n${r.out.slice(-2000)}`}`);
    t.ok(summary && Number(summary[1]) >= 140, `ran the checks: ${summary?.[0] ?? r.out.slice(-500)}`);
    t.equal(summary?.[2], '0', 'no failures');
    t.equal(/chain digest ([0-9a-f]{64})/.exec(r.out)?.[1], expected1000, '1,000 chained cases equal @noble');
    if (target.qemu === null) {
      const many = exec(['digest', '5000']);
      t.equal(/chain digest ([0-9a-f]{64})/.exec(many.out)?.[1], referenceDigest(5000), '5,000 chained cases equal @noble');
    }
  });
}

t.test('test_x25519.c under AddressSanitizer and UBSan', async (t) => {
  const built = buildTest(CROSS_TARGETS[0]!, ['-g', '-fsanitize=address,undefined', '-fno-sanitize-recover=all'], '-asan');
  if ('error' in built) {
    t.plan(0, `the sanitizers do not link here: ${built.error.slice(0, 300)}`);
    return;
  }
  const r = run(built.bin, []);
  t.equal(r.status, 0, `clean run${r.status === 0 ? '' : `\n${r.out.slice(-3000)}`}`);
  t.match(r.out, /\d+ checks, 0 failures/);
});

t.test('the same guest instruction count for every input (mips, armel)', async (t) => {
  if (!existsSync(insncountBuild)) {
    t.plan(0, `no ${insncountBuild}`);
    return;
  }
  const lib = run(insncountBuild, [], 600_000);
  const so = lib.out.trim().split('\n').pop() ?? '';
  if (lib.status !== 0 || !existsSync(so)) {
    t.plan(0, `insncount did not build: ${lib.out.slice(-300)}`);
    return;
  }
  for (const [target, qemu] of [[crossTarget('mips'), 'qemu-mips'], [crossTarget('armel'), 'qemu-arm']] as const) {
    if (!have(target.cc) || !have(qemu)) {
      t.comment(`${target.name}: ${target.cc} or ${qemu} missing`);
      continue;
    }
    const built = buildTest(target, [], '-ct');
    if ('error' in built) {
      t.fail(built.error);
      continue;
    }
    // Seeds of equal length: the program's own argument parsing stays the same.
    const counts = ['11', '42', '77', '98'].map((seed) => /insns: (\d+)/.exec(run(qemu, ['-plugin', so, built.bin, 'loop', '3', seed]).out)?.[1]);
    t.ok(counts[0] !== undefined, `${target.name}: counted ${counts[0]} instructions`);
    t.same(counts, counts.map(() => counts[0]), `${target.name}: three multiplications of four different inputs take the same instructions`);
  }
});

// ---------------------------------------------------------------------------
// On QuickJS: test/quickjs/x25519-compare.ts run by wgts-js (test-qemu/ runs it per router CPU).

function ensureWgtsJs(): string | null {
  const sources = ['x25519.c', 'x25519.h', 'module.c'].map((f) => join(nativeDir, f));
  const stale = !existsSync(wgtsJs) || sources.some((f) => statSync(f).mtimeMs > statSync(wgtsJs).mtimeMs);
  if (stale) {
    const r = run(process.execPath, [join(root, 'build/build.mjs'), '--runner-only'], 840_000);
    if (r.status !== 0) return `node build/build.mjs --runner-only failed:\n${r.out.slice(-2000)}`;
  }
  return existsSync(wgtsJs) ? null : 'dist/x86_64/wgts-js does not exist and build/build.mjs did not make it';
}

t.test('native X25519 on QuickJS equals @noble; dh() picks it by itself', async (t) => {
  const problem = ensureWgtsJs();
  if (problem !== null) {
    t.fail(problem);
    return;
  }
  const program = await bundleForQuickjs(join(root, 'test/quickjs/x25519-compare.ts'), join(outDir, 'x25519-compare.mjs'));
  const cases = 2000;
  const r = run(wgtsJs, [program, String(cases), '20261122'], 600_000);
  t.equal(r.status, 0, `wgts-js exits 0${r.status === 0 ? '' : `\n${r.out.slice(-2000)}`}`);
  const line = r.out.split('\n').find((l) => l.startsWith('{'));
  const result = line ? (JSON.parse(line) as { cases: number; checks: number; failures: string[]; automatic: string }) : null;
  t.equal(result?.automatic, 'native', 'src/crypto/x25519.ts chose the native X25519 without being told');
  t.equal(result?.cases, cases);
  t.ok(result && result.checks > cases * 4, `checks: ${result?.checks}`);
  t.same(result?.failures, [], 'no mismatches');

  const hs = run(wgtsJs, [program, 'handshake', 'native', '3']);
  t.match(hs.out, /handshakes 3/, 'full handshakes complete with the native X25519');
});
