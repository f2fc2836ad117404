#!/usr/bin/env node
// Builds the wgts executables: dist/wgts.js (esbuild bundle), then for each
// architecture dist/<arch>/wgts (QuickJS + native module + the bundle as
// bytecode) and dist/<arch>/wgts-js (the same runtime running a JS file
// given on the command line, for tests and benchmarks).
//
//   node build/build.mjs [--arch x86_64|mips|mipsel|armel|armhf|aarch64]... [--all]
//                        [--entry FILE.ts] [--runner-only]
//
// Default: x86_64 (the host) and entry src/cli/main.ts. --runner-only builds
// only wgts-js (no bundle), which is all the native tests need.
// Cross builds use Debian's cross gcc + glibc, linked statically, so they run
// under qemu-user. mips/mipsel instead link a soft-float musl
// (build/musl-softfloat.sh): Debian's toolchains for them are hard-float, and
// OpenWrt's mips_24kc/mipsel_24kc CPUs have no FPU (SIGILL on a 24Kc).
import { execFile, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const quickjsSrc = join(root, '.cache/quickjs-src');
const hostQjsc = join(root, '.cache/qjs-host/qjsc');

/** arch → [gcc prefix, extra libraries]. 32-bit targets need libatomic for QuickJS's 64-bit atomics. */
const ARCHES = {
  x86_64: ['', []],
  mips: ['mips-linux-gnu-', ['-latomic']],
  mipsel: ['mipsel-linux-gnu-', ['-latomic']],
  armel: ['arm-linux-gnueabi-', ['-latomic']],
  armhf: ['arm-linux-gnueabihf-', ['-latomic']],
  aarch64: ['aarch64-linux-gnu-', []],
};

// The native module and runtime (main.c / runner.c add main() for wgts / wgts-js).
// aead_js.c / chacha20poly1305.c are the AEAD fast path; x25519.c the handshake's DH.
const MODULE_SOURCES = ['module.c', 'tun.c', 'udp.c', 'unixsock.c', 'process.c', 'runtime.c',
  'chacha20poly1305.c', 'aead_js.c', 'aead_batch.c', 'x25519.c'];
const CFLAGS = ['-std=gnu99', '-O2', '-Wall', '-Wextra'];

/** Arches linked against build/musl-softfloat.sh's soft-float musl. */
const SOFT_FLOAT = new Set(['mips', 'mipsel']);

// Tests build while other builds may run: every output is written under a
// private name and renamed into place, so nobody links a half-written file.
const privateName = (path) => `${path}.tmp-${process.pid}`;

function parseArgs(argv) {
  const arches = [];
  const opts = { entry: join(root, 'src/cli/main.ts'), runnerOnly: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--all') arches.push(...Object.keys(ARCHES));
    else if (a === '--entry' && argv[i + 1] !== undefined) opts.entry = resolve(argv[++i]);
    else if (a === '--runner-only') opts.runnerOnly = true;
    else if (a === '--arch' && argv[i + 1] !== undefined) arches.push(argv[++i]);
    else if (a.startsWith('--arch=')) arches.push(a.slice('--arch='.length));
    else throw new Error(`unknown argument ${a}\nusage: node build/build.mjs [--arch ${Object.keys(ARCHES).join('|')}]... [--all] [--entry FILE] [--runner-only]`);
  }
  for (const a of arches) if (!(a in ARCHES)) throw new Error(`unknown arch ${a}; known: ${Object.keys(ARCHES).join(', ')}`);
  opts.arches = arches.length > 0 ? [...new Set(arches)] : ['x86_64'];
  return opts;
}

async function sh(cmd, args, opts = {}) {
  try {
    return await run(cmd, args, { cwd: root, maxBuffer: 64 << 20, ...opts });
  } catch (e) {
    throw new Error(`${cmd} ${args.join(' ')} failed:\n${e.stderr ?? ''}${e.stdout ?? ''}${e.message}`);
  }
}

function newestMtime(dir) {
  let newest = 0;
  for (const f of readdirSync(dir)) {
    if (/\.(c|h)$|^Makefile$|^VERSION$/.test(f)) newest = Math.max(newest, statSync(join(dir, f)).mtimeMs);
  }
  return newest;
}

/** 1. The esbuild bundle of the CLI. */
async function bundle(entry) {
  if (!existsSync(entry)) {
    entry = join(root, 'build/placeholder-main.ts');
    console.warn(`build: src/cli/main.ts does not exist yet, bundling ${relative(root, entry)}`);
  }
  const outfile = join(root, 'dist/wgts.js');
  await build({
    entryPoints: [entry], bundle: true, format: 'esm', target: 'es2020', platform: 'neutral',
    mainFields: ['module', 'main'], external: ['os', 'std', 'wgts_native'], minify: true,
    define: { __WGTS_VERSION__: JSON.stringify(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version) },
    outfile: privateName(outfile), logLevel: 'warning',
  });
  renameSync(privateName(outfile), outfile);
  return outfile;
}

/** 2. The host qjsc (and qjs, for test/quickjs.test.ts). */
async function ensureHostQjsc() {
  await sh(join(root, 'build/build-qjs-host.sh'), []);
  if (!existsSync(hostQjsc)) await sh('make', ['-C', dirname(hostQjsc), `-j${availableParallelism()}`, 'qjsc']);
}

/**
 * 3. Bytecode of the bundle as C. Function bytecode is little-endian on disk
 * and swapped on load by big-endian CPUs, but QuickJS 2025-04-26 stores each
 * compiled regular expression as raw bytes in the writer's byte order and
 * does not swap those: a little-endian qjsc makes regular expressions that
 * crash a big-endian CPU. So big-endian targets get bytecode from their own
 * qjsc, run under qemu-user (qjscCommand).
 */
async function compileBundle(bundleFile, qjsc = [hostQjsc], name = 'wgts_bundle.c') {
  const out = join(root, '.cache/build', name);
  mkdirSync(dirname(out), { recursive: true });
  // -c: bytecode only (our own main() in native/main.c); -s: drop debug info;
  // -M: wgts_native is a C module, not a file to load.
  await sh(qjsc[0], [...qjsc.slice(1), '-c', '-m', '-s', '-N', 'wgts_bundle', '-M', 'wgts_native', '-o', privateName(out), bundleFile]);
  renameSync(privateName(out), out);
  return out;
}

/** Big-endian arches and the qemu-user that runs their qjsc. */
const BIG_ENDIAN = { mips: 'qemu-mips-static' };

/** qjsc built for a big-endian arch (static, like wgts), as a command run through qemu-user. */
async function qjscCommand(arch, cc, qjsDir, lib, libs) {
  const qemu = BIG_ENDIAN[arch];
  try {
    await sh(qemu, ['-version']);
  } catch {
    throw new Error(`${qemu} not found (apt-get install qemu-user-static): ${arch} bytecode must come from its own qjsc`);
  }
  const exe = join(qjsDir, 'qjsc-target');
  if (!existsSync(exe) || statSync(exe).mtimeMs < statSync(lib).mtimeMs) {
    const version = readFileSync(join(quickjsSrc, 'VERSION'), 'utf8').trim();
    const obj = join(qjsDir, 'qjsc-target.o');
    await sh(cc[0], [...cc.slice(1), '-O2', '-D_GNU_SOURCE', `-DCONFIG_VERSION="${version}"`, '-c', join(qjsDir, 'qjsc.c'), '-o', obj]);
    await sh(cc[0], [...cc.slice(1), '-static', '-o', privateName(exe), obj, lib, '-lm', '-lpthread', '-ldl', ...libs]);
    renameSync(privateName(exe), exe);
  }
  return [qemu, exe];
}

/** The compiler command (gcc plus flags) and the libraries to link last, for one arch. */
async function toolchain(arch) {
  const [prefix, libs] = ARCHES[arch];
  const gcc = `${prefix}gcc`;
  if (!SOFT_FLOAT.has(arch)) return { cc: [gcc], libs, cacheTag: '' };
  await sh(join(root, 'build/musl-softfloat.sh'), [arch]);
  const sf = join(root, `.cache/musl-sf-${arch}`);
  return {
    cc: [gcc, '-specs', join(sf, 'lib/musl-gcc.specs'), '-msoft-float', '-march=mips32r2', '-idirafter', join(sf, 'kernel-include')],
    // musl's own objects call the soft-float routines too, hence one group;
    // libsoftfp.a must come before libgcc.a, whose versions use the FPU.
    libs: ['-Wl,--start-group', '-lc', join(sf, 'lib/libsoftfp.a'), '-lgcc', ...libs, '-Wl,--end-group'],
    cacheTag: '-musl-sf',
  };
}

/** 4. libquickjs.a for one arch, cached until the QuickJS source changes. */
async function quickjsLib(arch, tc) {
  const [prefix] = ARCHES[arch];
  const dir = join(root, `.cache/qjs-${arch}${tc.cacheTag}`);
  const lib = join(dir, 'libquickjs.a');
  await sh(join(root, 'build/fetch-quickjs.sh'), []);
  if (existsSync(lib) && statSync(lib).mtimeMs > newestMtime(quickjsSrc)) return { dir, lib };
  const work = privateName(dir);
  rmSync(work, { recursive: true, force: true });
  cpSync(quickjsSrc, work, { recursive: true });
  const ccOverride = tc.cc.length > 1 ? [`CC=${tc.cc.join(' ')}`] : [];
  await sh('make', ['-C', work, `-j${availableParallelism()}`, `CROSS_PREFIX=${prefix}`, ...ccOverride, 'libquickjs.a']);
  rmSync(dir, { recursive: true, force: true });
  try {
    renameSync(work, dir);
  } catch (e) {
    if (!existsSync(lib)) throw e; // another build finished the same library first
    rmSync(work, { recursive: true, force: true });
  }
  return { dir, lib };
}

/**
 * armel only. libatomic.a (QuickJS's 64-bit Atomics) has IFUNC dispatchers
 * whose first alternative, libat_*_i1, is ARMv7 code (ldrexd, dmb). They pick
 * it only when libat_have_strexbhd is set, and nothing sets it (GCC's
 * libatomic/config/linux/arm/init.c has an empty constructor), so on every
 * CPU the kernel-helper or lock-based routine runs. Linked anyway, the v7
 * objects put ARMv6K+/v7 instructions in the binary and mark it
 * Tag_CPU_arch v7. Defining each *_i1 the linker would look for as the
 * generic routine of the same object keeps them out; what runs is unchanged.
 */
async function armv5AtomicAliases(prefix, inputs) {
  const libatomic = (await sh(`${prefix}gcc`, ['-print-file-name=libatomic.a'])).stdout.trim();
  const members = new Map(); // archive member -> { defines, needs }
  for (const line of (await sh(`${prefix}nm`, ['-A', libatomic])).stdout.split('\n')) {
    const m = /:([^:\s]+):\s*[0-9a-f]*\s+([A-Za-z])\s+(\S+)$/.exec(line);
    if (!m) continue;
    const [, member, type, symbol] = m;
    if (!members.has(member)) members.set(member, { defines: new Set(), needs: new Set() });
    if (type === 'U') members.get(member).needs.add(symbol);
    else if (/[A-Zi]/.test(type)) members.get(member).defines.add(symbol);
  }
  // Which members the link pulls in, without the v7 alternatives.
  const wanted = new Set();
  for (const line of (await sh(`${prefix}nm`, ['-u', ...inputs])).stdout.split('\n')) {
    const m = /^\s*U\s+(\S+)$/.exec(line);
    if (m) wanted.add(m[1]);
  }
  const pulled = new Set();
  for (let grew = true; grew;) {
    grew = false;
    for (const [member, { defines, needs }] of members) {
      if (pulled.has(member) || ![...defines].some((s) => wanted.has(s))) continue;
      pulled.add(member);
      for (const s of needs) if (!s.endsWith('_i1')) wanted.add(s);
      grew = true;
    }
  }
  const aliases = [];
  for (const member of pulled) {
    const { defines, needs } = members.get(member);
    for (const s of needs) {
      const generic = s.slice(0, -'_i1'.length);
      if (s.endsWith('_i1') && defines.has(generic)) aliases.push(`-Wl,--defsym=${s}=${generic}`);
    }
  }
  return aliases;
}

async function compile(cc, src, obj, includeDir, flags) {
  const { stderr } = await sh(cc[0], [...cc.slice(1), ...flags, '-isystem', includeDir, '-c', src, '-o', privateName(obj)]);
  if (stderr.trim()) console.warn(stderr.trimEnd());
  renameSync(privateName(obj), obj);
  return obj;
}

/** 5. Objects and the two static executables for one arch. */
async function buildArch(arch, bundleC /* null: wgts-js only */) {
  const [prefix] = ARCHES[arch];
  try {
    await sh(`${prefix}gcc`, ['--version']);
  } catch {
    throw new Error(`${prefix}gcc not found: apt-get install gcc-${prefix.replace(/-$/, '')}`);
  }
  const tc = await toolchain(arch);
  const cc = tc.cc;
  const { dir: qjsDir, lib } = await quickjsLib(arch, tc);
  const objDir = join(root, `.cache/build-${arch}${tc.cacheTag}`);
  mkdirSync(objDir, { recursive: true });
  const obj = (src, flags = CFLAGS) => compile(cc, src, join(objDir, src.replace(/^.*\//, '').replace(/\.c$/, '.o')), qjsDir, flags);
  const moduleObjs = await Promise.all(MODULE_SOURCES.map((f) => obj(join(root, 'native', f))));
  const runnerObj = await obj(join(root, 'native/runner.c'));
  const outDir = join(root, 'dist', arch);
  mkdirSync(outDir, { recursive: true });
  const linkLibs = [lib, '-lm', '-lpthread', '-ldl', ...tc.libs];
  const link = async (name, objects) => {
    const out = join(outDir, name);
    // Before the inputs: ld must know these symbols when it scans libatomic.a.
    const aliases = arch === 'armel' ? await armv5AtomicAliases(prefix, [...objects, lib]) : [];
    const { stderr } = await sh(cc[0], [...cc.slice(1), '-static', '-O2', '-s', ...aliases, '-o', privateName(out), ...objects, ...linkLibs]);
    renameSync(privateName(out), out);
    // static glibc warns that dlopen (QuickJS's .so module loader, unused by wgts) needs shared libraries at run time;
    // soft-float links warn about libgcc's integer-only objects (64-bit division), which are flagged hard-float
    const warnings = stderr.split('\n').filter((l) => l.trim() && !/js_module_loader_so|Using 'dlopen' in statically linked|uses -mhard-float/.test(l));
    if (warnings.length > 0) console.warn(warnings.join('\n'));
    return out;
  };
  const outputs = [link('wgts-js', [runnerObj, ...moduleObjs])];
  if (bundleC !== null && BIG_ENDIAN[arch]) {
    const qjsc = await qjscCommand(arch, cc, qjsDir, lib, tc.libs);
    bundleC = await compileBundle(join(root, 'dist/wgts.js'), qjsc, `wgts_bundle-${arch}.c`);
  }
  if (bundleC !== null) {
    const [mainObj, bundleObj] = await Promise.all([obj(join(root, 'native/main.c')), obj(bundleC, ['-O2'])]);
    outputs.unshift(link('wgts', [mainObj, bundleObj, ...moduleObjs]));
  }
  return Promise.all(outputs);
}

async function main() {
  const { arches, entry, runnerOnly } = parseArgs(process.argv.slice(2));
  const started = Date.now();
  let bundleC = null;
  if (!runnerOnly) {
    const bundleFile = await bundle(entry);
    console.log(`${'dist/wgts.js'.padEnd(22)} ${String(statSync(bundleFile).size).padStart(9)} bytes`);
    await ensureHostQjsc();
    bundleC = await compileBundle(bundleFile);
  }
  let failed = 0;
  for (const arch of arches) {
    try {
      for (const out of await buildArch(arch, bundleC)) {
        console.log(`${relative(root, out).padEnd(22)} ${String(statSync(out).size).padStart(9)} bytes`);
      }
    } catch (e) {
      failed++;
      console.error(`build ${arch} failed: ${e.message}`);
    }
  }
  console.log(`built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (failed > 0) process.exit(1);
}

// Builds share caches (.cache/qjs-<arch>, dist/); tests run two at a time and
// may both build, so one build runs at a time: re-run under flock(1).
if (process.env.WGTS_BUILD_LOCKED !== '1') {
  mkdirSync(join(root, '.cache'), { recursive: true });
  const r = spawnSync('flock', [join(root, '.cache/build.lock'), process.execPath, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    { stdio: 'inherit', env: { ...process.env, WGTS_BUILD_LOCKED: '1' } });
  process.exit(r.status ?? 1);
}

main().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
