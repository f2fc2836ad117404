// The native ChaCha20-Poly1305 (native/chacha20poly1305.c) against its
// TypeScript twin createJsAead() (@noble):
//  1. native/test_aead.c (RFC 8439 vectors, tamper, round trips at every
//     alignment) built with gcc and, when the cross compiler and qemu-user
//     are installed, for big-endian MIPS, ARMv5 and the other router arches;
//     every build prints a digest of 1501 chained seals that must equal the
//     one computed here with createJsAead();
//  2. createNativeAead(wgts_native) on QuickJS (dist/x86_64/wgts-js) compared
//     with createJsAead() byte for byte on thousands of random inputs;
//  3. measurements, reported and never asserted: MB/s on QuickJS, and guest
//     instructions per byte under qemu-user with ../shared/tools/insncount.
import t from 'tap';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createJsAead } from '../src/crypto/aead.js';
import { CROSS_TARGETS, crossTarget, have, run, type CrossTarget } from './helpers/cross-c.js';
import { bundleForQuickjs } from './helpers/qjs-bundle.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(root, 'native');
const outDir = join(root, '.cache/native-aead');
const C_SOURCES = [join(nativeDir, 'test_aead.c'), join(nativeDir, 'chacha20poly1305.c')];
const C_FLAGS = ['-O2', '-Wall', '-Wextra', '-Werror', '-std=c99'];
const wgtsJs = join(root, 'dist/x86_64/wgts-js');
const insncountBuild = resolve(root, '../shared/tools/insncount/build.sh');

/**
 * The chain test_aead.c prints: seal lengths 0..1500 with LCG-derived aad,
 * plaintext and counters (< 2^53), each keyed by the previous tag and the
 * previous ciphertext folded into 16 bytes. Here on the TypeScript reference.
 */
function referenceChainDigest(): string {
  const aead = createJsAead();
  let state = 1;
  const nextWord = (): number => (state = (Math.imul(state, 1103515245) + 12345) >>> 0);
  const nextByte = (): number => (nextWord() >>> 16) & 0xff;
  const key = new Uint8Array(32);
  const aad = new Uint8Array(16);
  const buf = new Uint8Array(1500 + 16);
  for (let len = 0; len <= 1500; len++) {
    const aadLen = len % 17;
    const lo = nextWord();
    const hi = nextWord() & 0x1fffff;
    for (let i = 0; i < aadLen; i++) aad[i] = nextByte();
    for (let i = 0; i < len; i++) buf[i] = nextByte();
    aead.seal(key, hi * 0x100000000 + lo, aadLen > 0 ? aad.subarray(0, aadLen) : null, buf, 0, len, buf, 0);
    key.set(buf.subarray(len, len + 16));
    key.fill(0, 16);
    for (let i = 0; i < len; i++) key[16 + (i % 16)] ^= buf[i]!;
  }
  return Array.from(key, (b) => b.toString(16).padStart(2, '0')).join('');
}

const expectedDigest = referenceChainDigest();
mkdirSync(outDir, { recursive: true });

/** Builds native/test_aead.c for a target; the binary's path, or an error message. */
function buildTest(target: CrossTarget, extraFlags: string[] = [], suffix = ''): { bin: string } | { error: string } {
  const bin = join(outDir, `test_aead-${target.name}${suffix}`);
  const r = run(target.cc, [...C_FLAGS, ...target.flags, ...extraFlags, '-o', bin, ...C_SOURCES]);
  return r.status === 0 ? { bin } : { error: r.out };
}

for (const target of CROSS_TARGETS) {
  const missing = [target.cc, ...(target.qemu ? [target.qemu] : [])].filter((c) => !have(c));
  const skip = missing.length > 0 ? `${missing.join(', ')} not installed (apt-get install ${target.packages})` : false;
  t.test(`test_aead.c on ${target.name}${target.qemu ? ` under ${target.qemu}` : ''}`, { skip }, async (t) => {
    const built = buildTest(target);
    if ('error' in built) {
      t.fail(`${target.cc} builds test_aead.c without warnings:\n${built.error}`);
      return;
    }
    const r = target.qemu ? run(target.qemu, [built.bin]) : run(built.bin, []);
    const summary = /(\d+) checks, (\d+) failures/.exec(r.out);
    t.equal(r.status, 0, `exits 0${r.status === 0 ? '' : `\n${r.out.slice(-2000)}`}`);
    t.ok(summary && Number(summary[1]) >= 600, `ran the checks: ${summary?.[0] ?? r.out.slice(-500)}`);
    t.equal(summary?.[2], '0', 'no failures');
    t.equal(/chain digest ([0-9a-f]{64})/.exec(r.out)?.[1], expectedDigest, '1501 chained seals equal createJsAead()');
  });
}

t.test('test_aead.c under AddressSanitizer and UBSan', async (t) => {
  const built = buildTest(CROSS_TARGETS[0]!, ['-g', '-fsanitize=address,undefined', '-fno-sanitize-recover=all'], '-asan');
  if ('error' in built) {
    t.plan(0, `the sanitizers do not link here (libasan/libubsan from gcc's runtime packages): ${built.error.slice(0, 300)}`);
    return;
  }
  const r = run(built.bin, []);
  t.equal(r.status, 0, `clean run${r.status === 0 ? '' : `\n${r.out.slice(-3000)}`}`);
  t.match(r.out, /\d+ checks, 0 failures/);
});

// ---------------------------------------------------------------------------
// On QuickJS: test/quickjs/aead-compare.ts, bundled with esbuild and run by wgts-js
// (test-qemu/ runs the same program on the router CPUs).

/** wgts-js, rebuilt when missing or older than the AEAD sources. */
function ensureWgtsJs(): string | null {
  const sources = ['chacha20poly1305.c', 'chacha20poly1305.h', 'aead_js.c'].map((f) => join(nativeDir, f));
  const stale = !existsSync(wgtsJs) || sources.some((f) => statSync(f).mtimeMs > statSync(wgtsJs).mtimeMs);
  if (stale && existsSync(join(root, 'build/build.mjs'))) {
    const r = run(process.execPath, [join(root, 'build/build.mjs'), '--runner-only'], 840_000);
    if (r.status !== 0) return `node build/build.mjs --runner-only failed:\n${r.out.slice(-2000)}`;
  }
  return existsSync(wgtsJs) ? null : 'dist/x86_64/wgts-js does not exist and build/build.mjs did not make it';
}

function bundleProgram(): Promise<string> {
  return bundleForQuickjs(join(root, 'test/quickjs/aead-compare.ts'), join(outDir, 'native-aead-quickjs.mjs'));
}

t.test('createNativeAead on QuickJS equals createJsAead byte for byte', async (t) => {
  const problem = ensureWgtsJs();
  if (problem !== null) {
    t.plan(0, problem);
    return;
  }
  const program = await bundleProgram();
  const cases = 3000;
  const r = run(wgtsJs, [program, String(cases), '20240611'], 280_000);
  t.equal(r.status, 0, `wgts-js exits 0${r.status === 0 ? '' : `\n${r.out.slice(-2000)}`}`);
  const line = r.out.split('\n').find((l) => l.startsWith('{'));
  const result = line ? (JSON.parse(line) as { cases: number; checks: number; failures: string[] }) : null;
  t.equal(result?.cases, cases, 'ran every case');
  t.ok((result?.checks ?? 0) > cases * 10, `checks made: ${result?.checks}`);
  t.same(result?.failures, [], 'no mismatches');

  // Report only: speed on this machine.
  const bench = run(wgtsJs, [program, 'bench'], 60_000);
  const rates = bench.out.split('\n').find((l) => l.startsWith('{'));
  if (rates) {
    const { binding, native, js } = JSON.parse(rates) as Record<string, number>;
    t.comment(`seal of 1420-byte packets on QuickJS (x86_64): native.aeadSeal ${binding.toFixed(1)} MB/s, ` +
      `createNativeAead ${native.toFixed(1)} MB/s, createJsAead ${js.toFixed(2)} MB/s`);
  }
});

t.test('instructions per byte under qemu-user (report only)', async (t) => {
  const lib = existsSync(insncountBuild) ? run('sh', [insncountBuild], 300_000) : null;
  const so = lib?.status === 0 ? lib.out.trim().split('\n').pop()! : null;
  if (so === null || !existsSync(so)) {
    t.plan(0, `the insncount plugin is not available (${insncountBuild}; needs qemu-user, libglib2.0-dev, pkg-config)`);
    return;
  }
  const rows: [string, string][] = [['mips', 'qemu-mips'], ['armel', 'qemu-arm'], ['mipsel', 'qemu-mipsel']];
  for (const [name, qemu] of rows) {
    const target = crossTarget(name);
    if (!have(target.cc) || !have(qemu)) {
      t.comment(`${name}: ${target.cc} or ${qemu} missing`);
      continue;
    }
    const built = buildTest(target, [], '-count');
    if ('error' in built) {
      t.fail(built.error);
      continue;
    }
    const count = (n: number): number => {
      const r = run(qemu, ['-plugin', so, built.bin, 'seal', String(n), '1420']);
      return Number(/insns: (\d+)/.exec(r.out)?.[1] ?? NaN);
    };
    const perPacket = (count(21) - count(1)) / 20;
    t.ok(perPacket > 0, `${name}: counted`);
    t.comment(`${name}: ChaCha20-Poly1305 seal of 1420 bytes = ${Math.round(perPacket)} guest instructions, ` +
      `${(perPacket / 1420).toFixed(2)} per byte`);
  }
});
