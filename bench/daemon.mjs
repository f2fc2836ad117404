// The real wgts daemon in a network namespace of its own, configured over
// its UAPI socket as `wg` does, for the memory and scale figures
// (bench/memory.mjs, bench/scale.mjs). On a router arch it runs under
// qemu-user; then the daemon's own memory is the guest's pages, counted from
// the emulator's /proc/<pid>/smaps (see guestRssKiB).
import { spawn, execFileSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { ROOT } from '../test/helpers/qjs-bundle.mjs';
import { userCpu } from '../test-qemu/common.mjs';

const SOCK_DIR = '/var/run/wireguard';
const STATIC_QEMU = { mips: 'qemu-mips-static', mipsel: 'qemu-mipsel-static', armel: 'qemu-arm-static', armhf: 'qemu-arm-static', aarch64: 'qemu-aarch64-static' };

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function quiet(cmd, args) {
  try { execFileSync(cmd, args, { stdio: 'ignore', timeout: 10_000 }); } catch { /* already gone */ }
}

/** Seeded bytes (mulberry32): the same keys every run, so runs compare. */
export function seededBytes(seed) {
  let a = seed >>> 0;
  return (n) => {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) {
      a = (a + 0x6d2b79f5) >>> 0;
      let x = a;
      x = Math.imul(x ^ (x >>> 15), x | 1);
      x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
      out[i] = (x ^ (x >>> 14)) & 255;
    }
    return out;
  };
}

export function privateKeyHex(bytes) {
  const k = bytes(32);
  k[0] &= 248;
  k[31] = (k[31] & 127) | 64;
  return k.toString('hex');
}

/**
 * A daemon: `wgts -f IFNAME` in namespace NS (arch x86_64 natively, others
 * under qemu-<arch>-static with the router CPU). Names carry our pid.
 */
export async function startDaemon(arch, tag) {
  const ns = `wgts-bench-${process.pid}-${tag}`;
  const ifname = `wgb${process.pid}${tag}`.slice(0, 15);
  const binary = join(ROOT, 'dist', arch, 'wgts');
  if (!existsSync(binary)) throw new Error(`${binary} is missing: npm run build -- --arch ${arch}`);
  quiet('ip', ['netns', 'del', ns]);
  execFileSync('ip', ['netns', 'add', ns], { timeout: 10_000 });
  const argv = arch === 'x86_64' ? [binary, '-f', ifname]
    : [STATIC_QEMU[arch], '-cpu', userCpu(arch, binary), binary, '-f', ifname];
  // ip netns exec execs the command: the child's pid is the daemon's (or the emulator's).
  const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'error' } });
  let output = '';
  child.stdout.on('data', (c) => { output = (output + c).slice(-4096); });
  child.stderr.on('data', (c) => { output = (output + c).slice(-4096); });
  const exited = new Promise((r) => child.once('exit', (code, signal) => r(code ?? signal)));
  const sock = join(SOCK_DIR, `${ifname}.sock`);
  const d = {
    arch, ns, ifname, sock, pid: child.pid, binary,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
      rmSync(sock, { force: true });
      quiet('ip', ['netns', 'del', ns]);
    },
  };
  for (let i = 0; i < 300 && !existsSync(sock); i++) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    await sleep(100);
  }
  if (!existsSync(sock)) {
    await d.stop();
    throw new Error(`wgts (${arch}) did not create its UAPI socket within 30 s: ${output.trim().slice(-500)}`);
  }
  return d;
}

/** One UAPI request; resolves to the reply text (up to the blank line). */
export function uapi(sock, request, timeoutMs = 900_000) {
  return new Promise((resolvePromise, reject) => {
    const c = connect(sock);
    let reply = '';
    const timer = setTimeout(() => { c.destroy(); reject(new Error(`UAPI request timed out after ${timeoutMs} ms`)); }, timeoutMs);
    c.setEncoding('utf8');
    c.on('data', (d) => {
      reply += d;
      if (reply.endsWith('\n\n')) { clearTimeout(timer); c.end(); resolvePromise(reply); }
    });
    c.on('error', (e) => { clearTimeout(timer); reject(e); });
    c.on('close', () => { clearTimeout(timer); if (!reply.endsWith('\n\n')) reject(new Error(`UAPI connection closed: ${reply}`)); });
    c.write(request);
  });
}

/** `set=1` with body lines; throws unless errno=0. Returns the milliseconds it took. */
export async function uapiSet(sock, lines) {
  const t0 = process.hrtime.bigint();
  const reply = await uapi(sock, `set=1\n${lines.join('\n')}\n\n`);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (!/^errno=0$/m.test(reply)) throw new Error(`UAPI set failed: ${reply.trim()}`);
  return ms;
}

export async function uapiPeerCount(sock) {
  const reply = await uapi(sock, 'get=1\n\n');
  return (reply.match(/^public_key=/gm) ?? []).length;
}

export function processStatusKiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: field('VmRSS'), hwm: field('VmHWM') };
}

/** The page-aligned virtual address of the first PT_LOAD of a 32-bit ELF, or null. */
function firstLoadAddress(path) {
  const fd = openSync(path, 'r');
  try {
    const h = Buffer.alloc(52);
    readSync(fd, h, 0, 52, 0);
    if (h.readUInt32BE(0) !== 0x7f454c46 || h[4] !== 1) return null; // ELF32 only
    const le = h[5] === 1;
    const u16 = (b, o) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
    const u32 = (b, o) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
    const phoff = u32(h, 28), phentsize = u16(h, 42), phnum = u16(h, 44);
    const ph = Buffer.alloc(phentsize * phnum);
    readSync(fd, ph, 0, ph.length, phoff);
    for (let i = 0; i < phnum; i++) {
      if (u32(ph, i * phentsize) === 1) return u32(ph, i * phentsize + 8) & ~0xfff; // PT_LOAD p_vaddr
    }
    return null;
  } finally {
    closeSync(fd);
  }
}

/**
 * The guest's resident memory under qemu-user: qemu keeps the 32-bit guest's
 * whole address space in one 4 GiB window of its own (guest_base), so the
 * Rss of the emulator's mappings inside that window is what the guest has
 * touched — the figure VmRSS would show on the router — and everything
 * outside it is the emulator (its code, translated-code cache, heap).
 * guest_base comes from where the binary's first segment is mapped.
 */
export function guestRssKiB(pid, binary) {
  const vaddr = firstLoadAddress(binary);
  if (vaddr === null) throw new Error(`${binary}: not a 32-bit ELF`);
  const smaps = readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n');
  let base = null;
  for (const line of smaps) {
    const m = /^([0-9a-f]+)-[0-9a-f]+ \S+ 0+ \S+ \d+\s+(\S.*)$/.exec(line);
    if (m && m[2] === binary) { base = BigInt(`0x${m[1]}`) - BigInt(vaddr); break; }
  }
  if (base === null) throw new Error(`${binary} is not mapped in process ${pid}`);
  const end = base + (1n << 32n);
  let inside = 0, outside = 0, current = null;
  for (const line of smaps) {
    const range = /^([0-9a-f]+)-([0-9a-f]+) /.exec(line);
    if (range) { current = BigInt(`0x${range[1]}`); continue; }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && current !== null) {
      if (current >= base && current < end) inside += Number(rss[1]);
      else outside += Number(rss[1]);
    }
  }
  return { guest_rss: inside, emulator_rss: outside, guest_base: `0x${base.toString(16)}` };
}

/** The daemon's memory: VmRSS/VmHWM natively, the guest's pages under qemu-user. */
export function daemonMemoryKiB(d) {
  const status = processStatusKiB(d.pid);
  if (d.arch === 'x86_64') return { rss_kib: status.rss, hwm_kib: status.hwm };
  const g = guestRssKiB(d.pid, d.binary);
  return { rss_kib: g.guest_rss, hwm_kib: null, emulator_process_rss_kib: status.rss, emulator_process_hwm_kib: status.hwm };
}

/** Leftovers of bench runs whose process is gone (namespaces wgts-bench-<pid>-*, their sockets). */
export function removeDaemonLeftovers() {
  const dead = (pid) => {
    try { process.kill(Number(pid), 0); return false; } catch (e) { return e.code === 'ESRCH'; }
  };
  let names = [];
  try { names = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8', timeout: 5000 }).split('\n').map((l) => l.split(' ')[0]); } catch { /* none */ }
  for (const ns of names) {
    const m = /^wgts-bench-(\d+)-[a-z]+$/.exec(ns);
    if (m && dead(m[1])) quiet('ip', ['netns', 'del', ns]);
  }
}
