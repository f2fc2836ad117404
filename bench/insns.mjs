// Guest instruction counts of the router runtime under qemu-user, per
// architecture, with the insncount TCG plugin (../shared/tools/insncount):
// the AEAD alone, the whole per-packet send and receive paths, a handshake,
// a cold start and allowed-IPs lookups at scale. Each steady-state figure is
// the difference of two runs of bench/qjs/costs.ts with N=a and N=b
// operations divided by b-a, so start-up and set-up drop out exactly.
// Counts do not depend on the machine's load. Used by bench/run.mjs (--only insns).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { bundleForQuickjs, ROOT } from '../test/helpers/qjs-bundle.mjs';
import { userCpu } from '../test-qemu/common.mjs';

export const ARCHES = ['mips', 'mipsel', 'armel', 'armhf', 'aarch64'];
/** Dynamic qemu-user binaries (the static ones cannot load plugins). */
const QEMU = { mips: 'qemu-mips', mipsel: 'qemu-mipsel', armel: 'qemu-arm', armhf: 'qemu-arm', aarch64: 'qemu-aarch64' };
const PACKET = 1420;
const BATCH = 32;
const PLUGIN_BUILD = resolve(ROOT, '../shared/tools/insncount/build.sh');
const CACHE = join(ROOT, '.cache/bench');

export function pluginPath() {
  if (!existsSync(PLUGIN_BUILD)) throw new Error(`${PLUGIN_BUILD} is missing (the insncount plugin)`);
  const r = spawnSync('sh', [PLUGIN_BUILD], { encoding: 'utf8', timeout: 600_000 });
  const so = r.stdout.trim().split('\n').pop();
  if (r.status !== 0 || !so || !existsSync(so)) throw new Error(`insncount build.sh failed:\n${r.stderr}${r.stdout}`);
  return so;
}

export async function bundleCosts() {
  mkdirSync(CACHE, { recursive: true });
  return bundleForQuickjs(join(ROOT, 'bench/qjs/costs.ts'), join(CACHE, 'costs.mjs'));
}

/** Runs argv under `nice`; { code, out, ms }. */
function runNice(cmd, args, timeoutMs) {
  return new Promise((resolvePromise) => {
    const started = Date.now();
    const child = spawn('nice', ['-n', '10', cmd, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const keep = (c) => { out = (out + c).slice(-65536); };
    child.stdout.setEncoding('utf8').on('data', keep);
    child.stderr.setEncoding('utf8').on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => keep(`\n${e.message}`));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code: code ?? signal, out, ms: Date.now() - started });
    });
  });
}

/** Guest instructions of one whole process: qemu-<arch> -cpu CPU -plugin SO binary args. */
async function count(arch, plugin, binary, args, timeoutMs = 900_000) {
  const cpu = userCpu(arch, binary);
  const r = await runNice(QEMU[arch], ['-cpu', cpu, '-plugin', plugin, binary, ...args], timeoutMs);
  const insns = /insns: (\d+)/.exec(r.out);
  if (r.code !== 0 || !insns) throw new Error(`${arch}: ${binary} ${args.join(' ')}: exit ${r.code}\n${r.out.slice(-2000)}`);
  return Number(insns[1]);
}

const per = (x, d) => Math.round(x / d);
const ratio = (x, y) => Number((x / y).toFixed(3));
const perByte = (x) => Number((x / PACKET).toFixed(2));

/** Every figure for one arch. `lookups`: also the allowed-IPs lookups (the slowest part). */
export async function measureArch(arch, { plugin, bundle, lookups = false, log = () => {} }) {
  const runner = join(ROOT, 'dist', arch, 'wgts-js');
  const wgts = join(ROOT, 'dist', arch, 'wgts');
  if (!existsSync(runner)) throw new Error(`${runner} is missing: npm run build -- --arch ${arch}`);
  const c = (...args) => count(arch, plugin, runner, [bundle, ...args.map(String)]);
  /** (count(b) - count(a)) / (b - a): the steady cost of one unit. */
  const diff = async (mode, a, b, extra = []) => {
    const [x, y] = [await c(mode, a, ...extra), await c(mode, b, ...extra)];
    return (y - x) / (b - a);
  };
  const cpu = userCpu(arch, runner);
  log(`${arch} (${cpu}): AEAD`);
  const seal = await diff('seal', 1, 21);
  const sealOpen = await diff('open', 1, 21);
  const open = sealOpen - seal;

  log(`${arch}: send and receive paths`);
  const MAXB = 11;
  const sendBatch = await diff('send', 1, MAXB);
  const sendFeed = await diff('send-feed', 1, MAXB);
  const recvBatch = await diff('recv', 1, MAXB, [MAXB]);
  const recvFeed = await diff('recv-feed', 1, MAXB, [MAXB]);
  const sendPath = (sendBatch - sendFeed) / BATCH;
  const recvPath = (recvBatch - recvFeed) / BATCH;
  // The Device alone (no I/O, no runtime glue): how the overhead splits.
  const sendDevice = ((await diff('send-device', 1, MAXB)) - (await diff('send-device-feed', 1, MAXB))) / BATCH;
  const recvDevice = (await diff('recv-device', 1, MAXB, [MAXB])) / BATCH;

  log(`${arch}: handshake, cold start`);
  const handshake = await diff('handshake', 1, 3);
  const empty = await c('empty');
  const cold = await c('coldstart');
  const binaryStartup = existsSync(wgts) ? await count(arch, plugin, wgts, ['--version']).catch(() => null) : null;

  let lookup = null;
  if (lookups) {
    log(`${arch}: allowed-IPs lookups among 50,000 prefixes`);
    lookup = {
      ipv4_per_lookup: per(await diff('lookup4', 1, 4001), 1),
      ipv6_per_lookup: per(await diff('lookup6', 1, 4001), 1),
    };
  }
  return {
    cpu,
    aead: {
      seal_per_packet: per(seal, 1), seal_per_byte: perByte(seal),
      open_per_packet: per(open, 1), open_per_byte: perByte(open),
    },
    send_path: {
      per_packet: per(sendPath, 1), per_byte: perByte(sendPath),
      overhead_per_packet: per(sendPath - seal, 1), ratio_to_aead: ratio(sendPath, seal),
      stand_in_per_packet: per(sendFeed / BATCH, 1),
      device_alone_per_packet: per(sendDevice, 1),
      device_overhead_per_packet: per(sendDevice - seal, 1),
      runtime_io_per_packet: per(sendPath - sendDevice, 1),
    },
    receive_path: {
      per_packet: per(recvPath, 1), per_byte: perByte(recvPath),
      overhead_per_packet: per(recvPath - open, 1), ratio_to_aead: ratio(recvPath, open),
      stand_in_per_packet: per(recvFeed / BATCH, 1),
      device_alone_per_packet: per(recvDevice, 1),
      device_overhead_per_packet: per(recvDevice - open, 1),
      runtime_io_per_packet: per(recvPath - recvDevice, 1),
    },
    handshake_per_pair: per(handshake, 1),
    cold_start: { process_total: cold, after_runtime_start: cold - empty, runtime_start_with_bench_bundle: empty },
    wgts_version_process: binaryStartup,
    lookup,
  };
}

/**
 * Wall-clock figures of the same program on this machine (x86_64, natively):
 * ms per handshake (both sides, median of 5 runs of 20) and the whole
 * cold-start process (median of 5). Depend on load.
 */
export async function hostTimes(bundle) {
  const runner = join(ROOT, 'dist/x86_64/wgts-js');
  if (!existsSync(runner)) return { error: 'dist/x86_64/wgts-js is missing' };
  const handshakes = [];
  for (let i = 0; i < 5; i++) {
    const hs = await runNice(runner, [bundle, 'handshake-time', '20'], 300_000);
    const line = hs.out.split('\n').find((l) => l.startsWith('{'));
    if (line) handshakes.push(JSON.parse(line).ms_per_handshake);
  }
  const cold = [];
  for (let i = 0; i < 5; i++) cold.push((await runNice(runner, [bundle, 'coldstart'], 60_000)).ms);
  const empty = [];
  for (let i = 0; i < 5; i++) empty.push((await runNice(runner, [bundle, 'empty'], 60_000)).ms);
  const median = (v) => v.sort((x, y) => x - y)[v.length >> 1];
  return {
    handshake_ms: handshakes.length > 0 ? median(handshakes) : null, // medians of 5 runs: one slow run is the machine, not wgts
    coldstart_process_ms: median(cold),
    empty_process_ms: median(empty),
    loadavg: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number),
  };
}

export function qemuVersion() {
  const r = spawnSync('qemu-mips', ['--version'], { encoding: 'utf8' });
  return /version ([^\s]+)/.exec(r.stdout ?? '')?.[1] ?? null;
}

export const METHOD = {
  counter: 'insncount TCG plugin (../shared/tools/insncount), dynamic qemu-user, every guest instruction; kernel work (syscalls) is not guest code and is not counted',
  differencing: 'steady-state figures are (count(N=b) - count(N=a)) / (b - a) of the same process: seal/open a=1 b=21, send/receive a=1 b=11 batches of 32, handshakes a=1 b=3, lookups a=1 b=4001',
  packet: `${PACKET}-byte IPv4 packets (the tunnel MTU: no padding), transport datagrams of ${PACKET + 32} bytes`,
  aead: 'createNativeAead(wgts_native): native/chacha20poly1305.c through the QuickJS binding, in place; open = (seal+open) - seal',
  send_path: 'Tun.drain (read() from the TUN stand-in) → Device.sendPacket (allowed-IPs lookup, seal in place, timers) → UdpBinding batch → sendmmsg, per packet, minus the stand-in\'s own sendmmsg that fills the TUN stand-in',
  receive_path: 'UdpBinding.drain (recvmmsg) → Device.receiveDatagram (index, replay, open in place, allowed-IPs check, timers) → Tun.write (write() to /dev/null), per packet, minus the stand-in\'s sendmmsg that delivers the datagrams',
  device_alone: 'the same Device calls with no I/O at all (datagrams dropped, packets delivered nowhere), to split the overhead into the Device\'s protocol work and the runtime\'s I/O glue (TUN/UDP classes, native calls)',
  stand_ins: 'TUN read: a loopback UDP socket read with read() (the same syscall as tunRead); TUN write: /dev/null; the peer: a plain Device in the same process whose datagrams go over loopback UDP. Device A is createQuickjsDevice with the real UdpBinding and Tun classes, real clock and getrandom, one core (no BatchAead)',
  handshake: 'initiation created, consumed, response created, consumed, keepalive sealed and opened (both sides, seeded keys), real crypto of the runtime (X25519 as the runtime resolves it, BLAKE2s, native AEAD)',
  cold_start: 'process start of wgts-js with the bench bundle, UAPI `set` text parsed and applied for two devices (keys derived, static-static DH), first 1420-byte packet staged, handshake, packet sealed, opened and delivered; after_runtime_start subtracts the `empty` run',
  lookup: '10,000 peers × 5 prefixes (IPv4 /32, /24, /24../28; IPv6 /128, /64), lookups of peers\' host addresses (hits at the deepest node)',
};
