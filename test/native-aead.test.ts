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
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { createJsAead } from '../src/crypto/aead.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(root, 'native');
const outDir = join(root, '.cache/native-aead');
const C_SOURCES = [join(nativeDir, 'test_aead.c'), join(nativeDir, 'chacha20poly1305.c')];
const C_FLAGS = ['-O2', '-Wall', '-Wextra', '-Werror', '-std=c99'];
const wgtsJs = join(root, 'dist/x86_64/wgts-js');
const insncountBuild = resolve(root, '../shared/tools/insncount/build.sh');

interface Target {
  name: string;
  cc: string;
  flags: string[];
  qemu: string | null; // null: runs natively
  packages: string;
}

const TARGETS: Target[] = [
  { name: 'x86_64', cc: 'gcc', flags: [], qemu: null, packages: 'gcc' },
  { name: 'mips', cc: 'mips-linux-gnu-gcc', flags: ['-march=24kc', '-static'], qemu: 'qemu-mips-static', packages: 'gcc-mips-linux-gnu qemu-user-static' },
  { name: 'armel', cc: 'arm-linux-gnueabi-gcc', flags: ['-march=armv5te', '-marm', '-static'], qemu: 'qemu-arm-static', packages: 'gcc-arm-linux-gnueabi qemu-user-static' },
  { name: 'mipsel', cc: 'mipsel-linux-gnu-gcc', flags: ['-march=24kc', '-static'], qemu: 'qemu-mipsel-static', packages: 'gcc-mipsel-linux-gnu qemu-user-static' },
  { name: 'armhf', cc: 'arm-linux-gnueabihf-gcc', flags: ['-static'], qemu: 'qemu-arm-static', packages: 'gcc-arm-linux-gnueabihf qemu-user-static' },
  { name: 'aarch64', cc: 'aarch64-linux-gnu-gcc', flags: ['-static'], qemu: 'qemu-aarch64-static', packages: 'gcc-aarch64-linux-gnu qemu-user-static' },
];

function have(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v "${command}"`], { stdio: 'ignore' }).status === 0;
}

function run(cmd: string, args: string[], timeout = 120_000): { status: number | null; out: string } {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', timeout, maxBuffer: 64 << 20 });
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? r.error.message : ''}` };
}

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
function buildTest(target: Target, extraFlags: string[] = [], suffix = ''): { bin: string } | { error: string } {
  const bin = join(outDir, `test_aead-${target.name}${suffix}`);
  const r = run(target.cc, [...C_FLAGS, ...target.flags, ...extraFlags, '-o', bin, ...C_SOURCES]);
  return r.status === 0 ? { bin } : { error: r.out };
}

for (const target of TARGETS) {
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
  const built = buildTest(TARGETS[0]!, ['-g', '-fsanitize=address,undefined', '-fno-sanitize-recover=all'], '-asan');
  if ('error' in built) {
    t.plan(0, `the sanitizers do not link here (libasan/libubsan from gcc's runtime packages): ${built.error.slice(0, 300)}`);
    return;
  }
  const r = run(built.bin, []);
  t.equal(r.status, 0, `clean run${r.status === 0 ? '' : `\n${r.out.slice(-3000)}`}`);
  t.match(r.out, /\d+ checks, 0 failures/);
});

// ---------------------------------------------------------------------------
// On QuickJS: the program below is bundled with esbuild and run by wgts-js.

const QUICKJS_PROGRAM = `
import * as os from 'os';
import * as native from 'wgts_native';
import { createJsAead, TAG_LEN } from './src/crypto/aead.js';
import { createNativeAead } from './src/crypto/native-aead.js';

declare const scriptArgs: string[];
declare function print(...args: unknown[]): void;

const EINVAL = 22;

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

function compare(n: number, seed: number): void {
  const js = createJsAead();
  const nat = createNativeAead(native);
  const rnd = prng(seed);
  const int = (n: number): number => Math.floor(rnd() * n);
  const bytes = (n: number): Uint8Array => {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = int(256);
    return b;
  };
  const same = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);
  const COUNTERS = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000, 2 ** 53 - 2];
  const LENGTHS = [0, 1, 15, 16, 17, 63, 64, 65, 1419, 1420, 1421, 1500];
  const failures: string[] = [];
  let checks = 0;
  const check = (ok: boolean, what: () => string): void => {
    checks++;
    if (!ok && failures.length < 20) failures.push(what());
  };

  for (let i = 0; i < n; i++) {
    const len = i < LENGTHS.length ? LENGTHS[i]! : i % 8 === 0 ? 1420 : int(1501);
    const key = bytes(32);
    const counter = i % 3 === 0 ? COUNTERS[(i / 3) % COUNTERS.length]! : int(2 ** 21) * 2 ** 32 + int(2 ** 32);
    const aad = i % 4 === 0 ? null : bytes(int(40));
    const plain = bytes(len);
    const layout = i % 3;
    const name = () => \`case \${i}: len \${len} counter \${counter} aad \${aad ? aad.length : 'null'} layout \${layout}\`;

    // The reference output, out of place into a fresh array.
    const expected = new Uint8Array(len + TAG_LEN);
    check(js.seal(key, counter, aad, plain, 0, len, expected, 0) === len + TAG_LEN, name);

    // The native output in one of three layouts, with guard bytes around it.
    let out: Uint8Array;
    let outOff: number;
    if (layout === 0) { // in place, at an offset (the data path)
      outOff = int(8);
      out = new Uint8Array(outOff + len + TAG_LEN + 8).fill(0xee);
      out.set(plain, outOff);
      check(nat.seal(key, counter, aad, out, outOff, len, out, outOff) === len + TAG_LEN, name);
    } else if (layout === 1) { // from another array
      const srcOff = int(8);
      const src = new Uint8Array(srcOff + len + 3).fill(0xdd);
      src.set(plain, srcOff);
      const srcCopy = src.slice();
      outOff = int(8);
      out = new Uint8Array(outOff + len + TAG_LEN + 8).fill(0xee);
      check(nat.seal(key, counter, aad, src, srcOff, len, out, outOff) === len + TAG_LEN, name);
      check(same(src, srcCopy), () => name() + ': source untouched');
    } else { // within one array, shifted by a few bytes either way (overlapping)
      const srcOff = 8 + int(8);
      outOff = srcOff + int(17) - 8;
      out = new Uint8Array(32 + len + TAG_LEN + 8).fill(0xee);
      out.set(plain, srcOff);
      const before = out.slice();
      check(nat.seal(key, counter, aad, out, srcOff, len, out, outOff) === len + TAG_LEN, name);
      // Bytes outside both the source and the output keep their value.
      const lo = Math.min(srcOff, outOff);
      const hi = Math.max(srcOff + len, outOff + len + TAG_LEN);
      check(same(out.subarray(0, lo), before.subarray(0, lo)) && same(out.subarray(hi), before.subarray(hi)),
        () => name() + ': bytes outside untouched');
    }
    const sealed = out.slice(outOff, outOff + len + TAG_LEN);
    check(same(sealed, expected), () => name() + ': native seal equals createJsAead()');
    if (layout !== 2) {
      check(out.subarray(0, outOff).every((b) => b === 0xee) && out.subarray(outOff + len + TAG_LEN).every((b) => b === 0xee),
        () => name() + ': guard bytes untouched');
    }

    // Each opens the other's output: native in place, native out of place into
    // an exact-size view, and the reference.
    const inPlace = expected.slice();
    check(nat.open(key, counter, aad, inPlace, 0, len + TAG_LEN, inPlace, 0) === len && same(inPlace.subarray(0, len), plain),
      () => name() + ': native opens the reference in place');
    const exact = new Uint8Array(len);
    check(nat.open(key, counter, aad, expected, 0, len + TAG_LEN, exact, 0) === len && same(exact, plain),
      () => name() + ': native opens into an exact-size array');
    const viaJs = new Uint8Array(len);
    check(js.open(key, counter, aad, sealed, 0, len + TAG_LEN, viaJs, 0) === len && same(viaJs, plain),
      () => name() + ': the reference opens the native output');

    // One flipped bit anywhere (or the neighbour counter): both reject, and the
    // native in-place open leaves the buffer as it was.
    const bad = sealed.slice();
    let badCounter = counter;
    if (i % 16 === 5) badCounter = counter === 0 ? 1 : counter - 1;
    else { const bit = int((len + TAG_LEN) * 8); bad[bit >> 3] ^= 1 << (bit & 7); }
    const badCopy = bad.slice();
    check(nat.open(key, badCounter, aad, bad, 0, bad.length, bad, 0) === -1 && same(bad, badCopy),
      () => name() + ': native rejects tampering, buffer unchanged');
    const dstUntouched = new Uint8Array(len).fill(0x5a);
    check(nat.open(key, badCounter, aad, bad, 0, bad.length, dstUntouched, 0) === -1 && dstUntouched.every((b) => b === 0x5a),
      () => name() + ': native out-of-place reject leaves dst untouched');
    check(js.open(key, badCounter, aad, bad, 0, bad.length, new Uint8Array(len), 0) === -1,
      () => name() + ': the reference rejects tampering');
  }

  // The native functions' own argument checks (-EINVAL, nothing written).
  const key = new Uint8Array(32);
  const buf = new Uint8Array(64);
  const untouched = () => buf.every((b) => b === 0);
  const einval: [string, () => number][] = [
    ['31-byte key', () => native.aeadSeal(new Uint8Array(31), 0, 0, null, buf, 0, 10)],
    ['33-byte key', () => native.aeadOpen(new Uint8Array(33), 0, 0, null, buf, 0, 26)],
    ['tag past the end', () => native.aeadSeal(key, 0, 0, null, buf, 40, 9)],
    ['range past the end', () => native.aeadOpen(key, 0, 0, null, buf, 40, 25)],
    ['negative offset', () => native.aeadSeal(key, 0, 0, null, buf, -1, 10)],
    ['negative length', () => native.aeadSeal(key, 0, 0, null, buf, 0, -1)],
    ['fractional offset', () => native.aeadSeal(key, 0, 0, null, buf, 1.5, 10)],
    ['fractional counter', () => native.aeadSeal(key, 0.5, 0, null, buf, 0, 10)],
    ['counter half above 2^32', () => native.aeadSeal(key, 2 ** 32, 0, null, buf, 0, 10)],
    ['huge length', () => native.aeadSeal(key, 0, 0, null, buf, 0, 2 ** 31 - 1)],
  ];
  for (const [what, call] of einval) {
    const rc = call();
    check(rc === -EINVAL && untouched(), () => \`\${what}: \${rc}, want -EINVAL and no write\`);
  }
  check(native.aeadOpen(key, 0, 0, null, buf, 0, 15) === -1 && untouched(), () => 'open of 15 bytes is -1');
  check(native.aeadSeal(key, 0, 0, null, buf.subarray(10, 36), 0, 10) === 26 && buf[9] === 0 && buf[36] === 0,
    () => 'seal stays inside a subarray view');
  let threw = 0;
  for (const bad of [() => native.aeadSeal(key, 0, 0, null, [1, 2] as never, 0, 1),
    () => native.aeadSeal(key, '0' as never, 0, null, buf, 0, 1),
    () => native.aeadSeal(key, 0, 0, null, new Int32Array(4) as never, 0, 1)]) {
    try { bad(); } catch (e) { if (e instanceof TypeError) threw++; }
  }
  check(threw === 3, () => \`wrong JS types throw TypeError (\${threw} of 3)\`);
  print(JSON.stringify({ cases: n, checks, failures }));
}

/** MB/s sealing 1420-byte packets in place, for about 0.7 s each. */
function bench(): void {
  const key = new Uint8Array(32).fill(3);
  const buf = new Uint8Array(16 + 1420 + 16);
  const nat = createNativeAead(native);
  const js = createJsAead();
  const rate = (seal: (i: number) => void): number => {
    for (let i = 0; i < 20; i++) seal(i);
    let packets = 0;
    const start = os.now();
    let now = start;
    while (now - start < 700) {
      for (let i = 0; i < 50; i++) seal(packets++);
      now = os.now();
    }
    return (packets * 1420) / 1000 / (now - start); // bytes per ms / 1000 = MB/s
  };
  print(JSON.stringify({
    binding: rate((i) => native.aeadSeal(key, i, 0, null, buf, 16, 1420)),
    native: rate((i) => nat.seal(key, i, null, buf, 16, 1420, buf, 16)),
    js: rate((i) => js.seal(key, i, null, buf, 16, 1420, buf, 16)),
  }));
}

if (scriptArgs[1] === 'bench') bench();
else compare(Number(scriptArgs[1] ?? 100), Number(scriptArgs[2] ?? 1));
`;

/** wgts-js, rebuilt when missing or older than the AEAD sources. */
function ensureWgtsJs(): string | null {
  const sources = ['chacha20poly1305.c', 'chacha20poly1305.h', 'aead_js.c'].map((f) => join(nativeDir, f));
  const stale = !existsSync(wgtsJs) || sources.some((f) => statSync(f).mtimeMs > statSync(wgtsJs).mtimeMs);
  if (stale && existsSync(join(root, 'build/build.mjs'))) {
    const r = run(process.execPath, [join(root, 'build/build.mjs'), '--runner-only'], 600_000);
    if (r.status !== 0) return `node build/build.mjs --runner-only failed:\n${r.out.slice(-2000)}`;
  }
  return existsSync(wgtsJs) ? null : 'dist/x86_64/wgts-js does not exist and build/build.mjs did not make it';
}

async function bundleProgram(): Promise<string> {
  const outfile = join(outDir, 'native-aead-quickjs.mjs');
  await build({
    stdin: { contents: QUICKJS_PROGRAM, loader: 'ts', resolveDir: root, sourcefile: 'native-aead-quickjs.ts' },
    bundle: true, format: 'esm', target: 'es2020', platform: 'neutral', mainFields: ['module', 'main'],
    external: ['os', 'std', 'wgts_native'], outfile, logLevel: 'error',
  });
  return outfile;
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
    const target = TARGETS.find((x) => x.name === name)!;
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
