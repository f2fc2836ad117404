// What the qemu-user and qemu-system rows share: the target table, the CPU
// that fits a binary, builds, tool installation and child processes.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, openSync, readSync, closeSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../test/helpers/qjs-bundle.mjs';

export { ROOT };
export const CACHE = join(ROOT, '.cache/qemu');

/** The package's target arches under qemu-user, with the router CPU each stands for. */
export const USER_ARCHES = {
  mips: { qemu: 'qemu-mips-static', cpu: { soft: '24Kc', hard: '24Kf' } },
  mipsel: { qemu: 'qemu-mipsel-static', cpu: { soft: '24Kc', hard: '24Kf' } },
  armel: { qemu: 'qemu-arm-static', cpu: 'arm926' },
  armhf: { qemu: 'qemu-arm-static', cpu: 'cortex-a7' },
  aarch64: { qemu: 'qemu-aarch64-static', cpu: 'cortex-a53' },
};

/** Tools the matrix needs → the Debian package that has them. */
export const TOOL_PACKAGES = {
  'qemu-mips-static': 'qemu-user-static',
  'qemu-system-mipsel': 'qemu-system-mips',
  'qemu-system-arm': 'qemu-system-arm',
  'qemu-system-aarch64': 'qemu-system-arm',
  'wireguard-go': 'wireguard-go',
  wg: 'wireguard-tools',
  ip: 'iproute2',
  ping: 'iputils-ping',
  depmod: 'kmod',
  'dpkg-deb': 'dpkg',
};

export function have(command) {
  return spawnSync('sh', ['-c', `command -v "${command}"`], { stdio: 'ignore' }).status === 0;
}

/** Installs the Debian packages of missing tools (root only); returns what is still missing. */
export function ensureTools(tools, log) {
  const missing = tools.filter((t) => !have(t));
  if (missing.length === 0) return [];
  const packages = [...new Set(missing.map((t) => TOOL_PACKAGES[t] ?? t))];
  if (process.getuid?.() !== 0) return missing;
  log(`installing ${packages.join(' ')}`);
  const install = () => spawnSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...packages],
    { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0;
  if (!install()) {
    spawnSync('apt-get', ['update', '-q'], { stdio: ['ignore', 'ignore', 'inherit'] });
    install();
  }
  return missing.filter((t) => !have(t));
}

/**
 * Whether a static ELF binary uses hardware floating point, from its
 * headers: MIPS keeps the FP ABI in the PT_MIPS_ABIFLAGS segment (fp_abi 3 =
 * soft float), ARM in e_flags (EF_ARM_ABI_FLOAT_HARD / _SOFT).
 */
export function elfFloat(path) {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(64);
    readSync(fd, head, 0, 64, 0);
    if (head.readUInt32BE(0) !== 0x7f454c46) throw new Error(`${path} is not an ELF file`);
    const is64 = head[4] === 2;
    const le = head[5] === 1;
    const u16 = (b, o) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
    const u32 = (b, o) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
    const machine = u16(head, 18);
    if (is64) return 'hard';
    const flags = u32(head, 36);
    if (machine === 40) return flags & 0x400 ? 'hard' : 'soft'; // EM_ARM
    if (machine !== 8) return 'hard'; // not EM_MIPS
    const phoff = u32(head, 28), phentsize = u16(head, 42), phnum = u16(head, 44);
    const ph = Buffer.alloc(phentsize * phnum);
    readSync(fd, ph, 0, ph.length, phoff);
    for (let i = 0; i < phnum; i++) {
      if (u32(ph, i * phentsize) !== 0x70000003) continue; // PT_MIPS_ABIFLAGS
      const flagsBuf = Buffer.alloc(8);
      readSync(fd, flagsBuf, 0, 8, u32(ph, i * phentsize + 4));
      return flagsBuf[7] === 3 ? 'soft' : 'hard'; // Val_GNU_MIPS_ABI_FP_SOFT
    }
    return 'hard';
  } finally {
    closeSync(fd);
  }
}

/** The -cpu for a qemu-user arch: the router CPU, with an FPU only when the binary needs one. */
export function userCpu(arch, binary) {
  const cpu = USER_ARCHES[arch].cpu;
  return typeof cpu === 'string' ? cpu : cpu[elfFloat(binary)];
}

function newest(dir, pattern) {
  let n = 0;
  if (!existsSync(dir)) return 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) n = Math.max(n, newest(p, pattern));
    else if (pattern.test(e.name)) n = Math.max(n, statSync(p).mtimeMs);
  }
  return n;
}

/**
 * Builds dist/<arch>/wgts-js (and wgts when `full`) for the arches whose
 * binaries are missing or older than their sources.
 */
export function ensureBuilt(arches, full, log) {
  const native = Math.max(newest(join(ROOT, 'native'), /\.[ch]$/), statSync(join(ROOT, 'build/build.mjs')).mtimeMs);
  const ts = newest(join(ROOT, 'src'), /\.ts$/);
  const stale = arches.filter((a) => {
    const js = join(ROOT, 'dist', a, 'wgts-js');
    const wgts = join(ROOT, 'dist', a, 'wgts');
    if (!existsSync(js) || statSync(js).mtimeMs < native) return true;
    return full && (!existsSync(wgts) || statSync(wgts).mtimeMs < Math.max(native, ts));
  });
  if (stale.length === 0) return;
  log(`building ${full ? 'wgts and wgts-js' : 'wgts-js'} for ${stale.join(', ')}`);
  const args = [join(ROOT, 'build/build.mjs'), ...stale.flatMap((a) => ['--arch', a]), ...(full ? [] : ['--runner-only'])];
  const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`node build/build.mjs failed:\n${r.stderr}${r.stdout}`);
}

/** Runs a command to completion: { code, signal, out, ms, timedOut }; never rejects. */
export function runProcess(cmd, args, { timeoutMs = 600_000, input, env } = {}) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(cmd, args, { cwd: ROOT, env: env ? { ...process.env, ...env } : process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let timedOut = false;
    const keep = (chunk) => { out += chunk; if (out.length > 8 << 20) out = out.slice(-(4 << 20)); };
    child.stdout.setEncoding('utf8').on('data', keep);
    child.stderr.setEncoding('utf8').on('data', keep);
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, timeoutMs);
    child.on('error', (e) => { out += `\n${e.message}`; });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out, ms: Date.now() - started, timedOut });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? '');
  });
}

/** Runs async tasks with at most `limit` at a time; results in task order. */
export async function pool(tasks, limit) {
  const results = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, tasks.length)) }, worker));
  return results;
}
