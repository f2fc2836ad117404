// Network namespaces, veth links, real wireguard-go peers and wgts daemons
// for interop and end-to-end tests.
//
// Everything made here carries this process's pid in its name and is
// registered, so destroy()/stop() and an exit hook remove exactly what this
// process made. Names: namespaces `wgts-test-<purpose>-<pid>[-k]`, veths and
// WireGuard interfaces `wt<pid36>_<k><tag>` (Linux allows 15 characters).
// Test subnets: 10.231.<n>.0/24 and fd77:7774:0:<n>::/64 on the veth,
// 10.232.<n>.0/24 and fd77:7775:0:<n>::/64 inside the tunnel; <n> is leased
// through a lock file so parallel test processes never share one.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publicKeyOf } from './keys.js';
import { wgtsBinary } from './wgts-binary.js';

export const WG_SOCKET_DIR = '/var/run/wireguard';
const LEASE_DIR = '/run/wgts-test';
const NS_PREFIX = 'wgts-test-';

// ---- running commands ----

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  timeoutMs?: number;
  /** Resolve with a non-zero code instead of rejecting. */
  allowFail?: boolean;
}

/** Runs argv (no shell) with a hard time limit. */
export function run(argv: string[], opts: RunOptions = {}): Promise<ExecResult> {
  const timeout = opts.timeoutMs ?? 15_000;
  return new Promise((resolve, reject) => {
    execFile(argv[0]!, argv.slice(1), { timeout, killSignal: 'SIGKILL', encoding: 'utf8' }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: number | string; killed?: boolean }) | null;
      const code = e ? (typeof e.code === 'number' ? e.code : -1) : 0;
      const result = { code, stdout, stderr };
      if (e && (!opts.allowFail || e.killed)) {
        const why = e.killed ? `timed out after ${timeout} ms` : `exited with ${String(e.code)}`;
        reject(new Error(`${argv.join(' ')}: ${why}\n${stderr}${stdout}`));
      } else resolve(result);
    });
  });
}

/** Runs argv inside namespace `ns`. */
export function nsExec(ns: string, argv: string[], opts?: RunOptions): Promise<ExecResult> {
  return run(['ip', 'netns', 'exec', ns, ...argv], opts);
}

function quietSync(argv: string[]): void {
  spawnSync(argv[0]!, argv.slice(1), { stdio: 'ignore', timeout: 5_000 });
}

// ---- environment gate ----

/** Why interop tests cannot run here, or null when they can. */
export function interopUnavailableReason(): string | null {
  if (process.platform !== 'linux') return `needs Linux, this is ${process.platform}`;
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, veth, TUN)';
  if (!existsSync('/dev/net/tun')) return '/dev/net/tun is missing';
  const tools: [string, string[]][] = [
    ['wireguard-go', ['--version']],
    ['wg', ['--version']],
    ['ip', ['netns', 'list']],
    ['ping', ['-V']],
  ];
  for (const [cmd, args] of tools) {
    const r = spawnSync(cmd, args, { stdio: 'ignore', timeout: 5_000 });
    if (r.error || r.status !== 0) return `\`${cmd} ${args.join(' ')}\` does not work (${r.error?.message ?? `exit ${r.status}`})`;
  }
  return null;
}

/** Throws a clear error unless this process may build namespaces and run wireguard-go. */
export function requireRoot(): void {
  const reason = interopUnavailableReason();
  if (reason) {
    throw new Error(
      `interop tests cannot run: ${reason}. Install wireguard-go, wireguard-tools, iproute2 and iputils-ping and run as root, ` +
        'or set WGTS_SKIP_INTEROP=1 to skip them.',
    );
  }
}

interface Plannable {
  plan(n: number, comment?: string): void;
}

/**
 * Gate for an interop test file: true when it can run; false (and the test is
 * planned as skipped) when the environment lacks something and
 * WGTS_SKIP_INTEROP=1; otherwise throws so the suite fails loudly.
 */
export function requireInterop(t: Plannable): boolean {
  const reason = interopUnavailableReason();
  if (!reason) return true;
  if (process.env.WGTS_SKIP_INTEROP === '1') {
    t.plan(0, `skip: WGTS_SKIP_INTEROP=1 and ${reason}`);
    return false;
  }
  requireRoot();
  return false;
}

// ---- what this process owns (for exit cleanup) ----

const owned = {
  namespaces: new Set<string>(),
  leases: new Set<string>(),
  /** wireguard-go and wgts processes (children, or adopted daemons), by pid */
  wireguardGo: new Map<number, { ns: string; socket: string }>(),
};
let counter = 0;
let exitHookInstalled = false;
const pid36 = process.pid.toString(36);

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const [pid, w] of owned.wireguardGo) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
      rmQuiet(w.socket);
    }
    for (const ns of owned.namespaces) quietSync(['ip', 'netns', 'delete', ns]);
    for (const lease of owned.leases) rmQuiet(lease);
  });
}

function rmQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* not there */
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A fresh interface name (<= 15 chars) unique to this process. */
export function uniqueIfname(tag = 'g'): string {
  const name = `wt${pid36}_${(counter++).toString(36)}${tag}`;
  if (name.length > 15) throw new Error(`interface name too long: ${name}`);
  return name;
}

/**
 * Removes leftovers of crashed test runs, judged by the pid in their names:
 * our namespaces whose creator is gone, and WireGuard sockets of ours whose
 * creator is gone (unlinking the socket makes an orphaned wireguard-go exit).
 */
function sweepStale(): void {
  if (existsSync(WG_SOCKET_DIR)) {
    for (const f of readdirSync(WG_SOCKET_DIR)) {
      const m = /^wt([0-9a-z]+)_[0-9a-z]+\.sock$/.exec(f);
      // Our own pid's sockets may belong to an earlier process that had this pid: the caller unlinks by exact name.
      if (m && parseInt(m[1]!, 36) !== process.pid && !pidAlive(parseInt(m[1]!, 36))) rmQuiet(join(WG_SOCKET_DIR, f));
    }
  }
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8', timeout: 5_000 });
  for (const line of (r.stdout ?? '').split('\n')) {
    const m = /^(wgts-test-[a-z0-9]+-(\d+)(?:-\d+)?)(?:\s|$)/.exec(line);
    if (m && Number(m[2]) !== process.pid && !pidAlive(Number(m[2]))) quietSync(['ip', 'netns', 'delete', m[1]!]);
  }
  if (existsSync(LEASE_DIR)) {
    for (const f of readdirSync(LEASE_DIR)) {
      let holder = NaN;
      try {
        holder = Number(readFileSync(join(LEASE_DIR, f), 'utf8'));
      } catch {
        continue;
      }
      if (holder > 0 && holder !== process.pid && !pidAlive(holder)) rmQuiet(join(LEASE_DIR, f));
    }
  }
}

/** Leases a subnet index 1..250 through an exclusive lock file holding our pid. */
function leaseSubnet(): { index: number; lease: string } {
  mkdirSync(LEASE_DIR, { recursive: true });
  for (let i = 0; i < 250; i++) {
    const index = ((process.pid + counter + i) % 250) + 1;
    const lease = join(LEASE_DIR, `net-${index}`);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(lease, 'wx');
        writeFileSync(fd, String(process.pid));
        closeSync(fd);
        owned.leases.add(lease);
        return { index, lease };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        let holder = NaN;
        try {
          holder = Number(readFileSync(lease, 'utf8'));
        } catch {
          /* vanished meanwhile: retry */
        }
        if (holder === process.pid || pidAlive(holder)) break; // taken, by us or a live process
        rmQuiet(lease); // stale lease from a dead process: retry once
      }
    }
  }
  throw new Error('no free test subnet in 10.231.1-250.0/24');
}

function releaseSubnet(lease: string): void {
  rmQuiet(lease);
  owned.leases.delete(lease);
}

function namespaceName(purpose: string): string {
  if (!/^[a-z0-9]+$/.test(purpose)) throw new Error(`purpose must be [a-z0-9]+: ${purpose}`);
  let name = `${NS_PREFIX}${purpose}-${process.pid}`;
  for (let k = 1; owned.namespaces.has(name); k++) name = `${NS_PREFIX}${purpose}-${process.pid}-${k}`;
  owned.namespaces.add(name); // reserved now: rigs of one process may be built concurrently
  return name;
}

/** Addresses for the two ends of the tunnel that rides on subnet `index`. */
export function tunnelAddresses(index: number) {
  return {
    v4: [`10.232.${index}.1`, `10.232.${index}.2`] as const,
    v6: [`fd77:7775:0:${index}::1`, `fd77:7775:0:${index}::2`] as const,
    v4Prefix: 24,
    v6Prefix: 64,
  };
}

async function createNamespace(name: string): Promise<void> {
  // A crashed run with the same pid may have left this exact name behind.
  await run(['ip', 'netns', 'delete', name], { allowFail: true });
  await run(['ip', 'netns', 'add', name]);
  owned.namespaces.add(name);
  await run(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
}

async function deleteNamespace(name: string): Promise<void> {
  // Stop our wireguard-go processes inside first: a namespace lives on while a process is in it.
  for (const [pid, w] of owned.wireguardGo) if (w.ns === name) await killAndWait(pid, w.socket);
  await run(['ip', 'netns', 'delete', name], { allowFail: true });
  owned.namespaces.delete(name);
}

async function addAddresses(ns: string | null, ifname: string, v4: string, v6: string): Promise<void> {
  const ip = ns ? ['ip', '-n', ns] : ['ip'];
  await run([...ip, 'addr', 'add', v4, 'dev', ifname]);
  await run([...ip, '-6', 'addr', 'add', v6, 'dev', ifname, 'nodad']); // usable at once, no DAD wait
  await run([...ip, 'link', 'set', ifname, 'up']);
}

// ---- root namespace <-> one namespace ----

export interface NetnsLink {
  index: number;
  ns: string;
  /** veth end in the root namespace */
  hostIf: string;
  /** veth end inside `ns` */
  nsIf: string;
  hostV4: string;
  nsV4: string;
  hostV6: string;
  nsV6: string;
  /** Inner addresses reserved for a tunnel over this link: [0] the host side, [1] the namespace side. */
  tunnel: ReturnType<typeof tunnelAddresses>;
  exec(argv: string[], opts?: RunOptions): Promise<ExecResult>;
  destroy(): Promise<void>;
}

export interface NetnsLinkOptions {
  /** Short lowercase word naming the test, part of the namespace name. */
  purpose: string;
}

/** A namespace joined to the root namespace by a veth pair on a leased private subnet. */
export async function createNetnsLink(opts: NetnsLinkOptions): Promise<NetnsLink> {
  installExitHook();
  sweepStale();
  const ns = namespaceName(opts.purpose);
  const { index, lease } = leaseSubnet();
  const hostIf = uniqueIfname('h');
  const nsIf = hostIf.slice(0, -1) + 'n';
  const link: NetnsLink = {
    index,
    ns,
    hostIf,
    nsIf,
    hostV4: `10.231.${index}.1`,
    nsV4: `10.231.${index}.2`,
    hostV6: `fd77:7774:0:${index}::1`,
    nsV6: `fd77:7774:0:${index}::2`,
    tunnel: tunnelAddresses(index),
    exec: (argv, o) => nsExec(ns, argv, o),
    destroy: async () => {
      await deleteNamespace(ns); // takes the inner veth end, and with it the host end
      await run(['ip', 'link', 'delete', hostIf], { allowFail: true });
      releaseSubnet(lease);
    },
  };
  try {
    await run(['ip', 'link', 'delete', hostIf], { allowFail: true });
    await createNamespace(ns);
    await run(['ip', 'link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf, 'netns', ns]);
    await addAddresses(null, hostIf, `${link.hostV4}/24`, `${link.hostV6}/64`);
    await addAddresses(ns, nsIf, `${link.nsV4}/24`, `${link.nsV6}/64`);
  } catch (e) {
    await link.destroy();
    throw e;
  }
  return link;
}

// ---- namespace <-> namespace ----

export interface NetnsEnd {
  ns: string;
  ifname: string;
  v4: string;
  v6: string;
  exec(argv: string[], opts?: RunOptions): Promise<ExecResult>;
}

export interface NetnsPair {
  index: number;
  a: NetnsEnd;
  b: NetnsEnd;
  /** Inner addresses reserved for a tunnel: [0] for a, [1] for b. */
  tunnel: ReturnType<typeof tunnelAddresses>;
  destroy(): Promise<void>;
}

/** Two namespaces joined directly by one veth pair; the root namespace sees none of it. */
export async function createNetnsPair(opts: NetnsLinkOptions): Promise<NetnsPair> {
  installExitHook();
  sweepStale();
  const nsA = namespaceName(`${opts.purpose}a`);
  const nsB = namespaceName(`${opts.purpose}b`);
  const { index, lease } = leaseSubnet();
  const ifA = uniqueIfname('a');
  const ifB = ifA.slice(0, -1) + 'b';
  const end = (ns: string, ifname: string, host: number): NetnsEnd => ({
    ns,
    ifname,
    v4: `10.231.${index}.${host}`,
    v6: `fd77:7774:0:${index}::${host}`,
    exec: (argv, o) => nsExec(ns, argv, o),
  });
  const pair: NetnsPair = {
    index,
    a: end(nsA, ifA, 1),
    b: end(nsB, ifB, 2),
    tunnel: tunnelAddresses(index),
    destroy: async () => {
      await deleteNamespace(nsA);
      await deleteNamespace(nsB);
      releaseSubnet(lease);
    },
  };
  try {
    await createNamespace(nsA);
    await createNamespace(nsB);
    await run(['ip', '-n', nsA, 'link', 'add', ifA, 'type', 'veth', 'peer', 'name', ifB, 'netns', nsB]);
    await addAddresses(nsA, ifA, `${pair.a.v4}/24`, `${pair.a.v6}/64`);
    await addAddresses(nsB, ifB, `${pair.b.v4}/24`, `${pair.b.v6}/64`);
  } catch (e) {
    await pair.destroy();
    throw e;
  }
  return pair;
}

// ---- one hub namespace <-> several spoke namespaces ----

export interface NetnsSpoke {
  ns: string;
  /** the veth end in the hub, and its addresses */
  hubIf: string;
  hubV4: string;
  hubV6: string;
  /** the veth end in this spoke, and its addresses */
  ifname: string;
  v4: string;
  v6: string;
  /** inner (tunnel) addresses for this spoke */
  tunnelV4: string;
  tunnelV6: string;
  exec(argv: string[], opts?: RunOptions): Promise<ExecResult>;
}

export interface NetnsStar {
  hub: string;
  /** inner (tunnel) addresses for the hub; prefixes are /24 and /64 */
  tunnelV4: string;
  tunnelV6: string;
  spokes: NetnsSpoke[];
  hubExec(argv: string[], opts?: RunOptions): Promise<ExecResult>;
  destroy(): Promise<void>;
}

/**
 * A hub namespace joined to `spokes` namespaces, each by its own veth pair
 * on its own leased subnet (hub .1, spoke .2). The tunnel addresses come
 * from the first lease: hub 10.232.<n>.1, spoke k 10.232.<n>.<k+2>.
 */
export async function createNetnsStar(opts: NetnsLinkOptions & { spokes: number }): Promise<NetnsStar> {
  installExitHook();
  sweepStale();
  const hub = namespaceName(`${opts.purpose}h`);
  const leases: string[] = [];
  const namespaces = [hub];
  const spokes: NetnsSpoke[] = [];
  let first = 0;
  const star: NetnsStar = {
    hub,
    tunnelV4: '',
    tunnelV6: '',
    spokes,
    hubExec: (argv, o) => nsExec(hub, argv, o),
    destroy: async () => {
      for (const ns of namespaces) await deleteNamespace(ns);
      for (const l of leases) releaseSubnet(l);
    },
  };
  try {
    await createNamespace(hub);
    for (let k = 0; k < opts.spokes; k++) {
      const { index, lease } = leaseSubnet();
      leases.push(lease);
      if (k === 0) first = index;
      const ns = namespaceName(`${opts.purpose}${k}`);
      namespaces.push(ns);
      await createNamespace(ns);
      const hubIf = uniqueIfname('h');
      const ifname = hubIf.slice(0, -1) + 's';
      const t = tunnelAddresses(first);
      const spoke: NetnsSpoke = {
        ns,
        hubIf,
        hubV4: `10.231.${index}.1`,
        hubV6: `fd77:7774:0:${index}::1`,
        ifname,
        v4: `10.231.${index}.2`,
        v6: `fd77:7774:0:${index}::2`,
        tunnelV4: `${t.v4[0].replace(/\.1$/, '')}.${k + 2}`,
        tunnelV6: `${t.v6[0].replace(/::1$/, '')}::${k + 2}`,
        exec: (argv, o) => nsExec(ns, argv, o),
      };
      spokes.push(spoke);
      await run(['ip', '-n', hub, 'link', 'add', hubIf, 'type', 'veth', 'peer', 'name', ifname, 'netns', ns]);
      await addAddresses(hub, hubIf, `${spoke.hubV4}/24`, `${spoke.hubV6}/64`);
      await addAddresses(ns, ifname, `${spoke.v4}/24`, `${spoke.v6}/64`);
    }
    const t = tunnelAddresses(first);
    star.tunnelV4 = t.v4[0];
    star.tunnelV6 = t.v6[0];
  } catch (e) {
    await star.destroy();
    throw e;
  }
  return star;
}

// ---- wireguard-go ----

export interface WgPeerConfig {
  /** base64 */
  publicKey: string;
  presharedKey?: string;
  allowedIps: string[];
  /** host:port, IPv6 as [addr]:port */
  endpoint?: string;
  persistentKeepalive?: number;
}

export interface WireguardGoOptions {
  /** base64 */
  privateKey: string;
  /** 0 or absent: wireguard-go picks one; read it back from `listenPort`. */
  listenPort?: number;
  peers: WgPeerConfig[];
  /** CIDRs for the WireGuard interface, e.g. 10.232.1.2/24, fd77:7775:0:1::2/64 */
  addresses: string[];
  mtu?: number;
  startTimeoutMs?: number;
}

export interface WgDumpPeer {
  publicKey: string;
  presharedKey: string | null;
  endpoint: string | null;
  allowedIps: string[];
  /** Unix seconds, 0 when there was none */
  latestHandshake: number;
  rx: number;
  tx: number;
  persistentKeepalive: number | null;
}

export interface WgDump {
  publicKey: string;
  listenPort: number;
  fwmark: string;
  peers: WgDumpPeer[];
}

export interface WireguardGo {
  ns: string;
  ifname: string;
  pid: number;
  publicKey: string;
  listenPort: number;
  /** stdout+stderr of wireguard-go so far (LOG_LEVEL=verbose), for diagnostics */
  output(): string;
  /** `wg show <if> dump`, parsed */
  wgShow(): Promise<WgDump>;
  /** `wg <args...>` inside the namespace, e.g. ['set', ifname, 'peer', key, 'remove'] */
  wg(args: string[]): Promise<ExecResult>;
  exec(argv: string[], opts?: RunOptions): Promise<ExecResult>;
  /** Whether the process has exited. */
  exited(): boolean;
  /** SIGTERM, wait, SIGKILL if needed; removes a leftover socket file. */
  stop(): Promise<void>;
}

const OUTPUT_LIMIT = 256 * 1024;

export function parseWgDump(text: string): WgDump {
  const lines = text.split('\n').filter((l) => l.length > 0);
  const head = lines[0]?.split('\t');
  if (!head || head.length !== 4) throw new Error(`unexpected wg dump:\n${text}`);
  const none = (s: string) => (s === '(none)' ? null : s);
  const peers = lines.slice(1).map((line): WgDumpPeer => {
    const f = line.split('\t');
    if (f.length !== 8) throw new Error(`unexpected wg dump peer line: ${line}`);
    return {
      publicKey: f[0]!,
      presharedKey: none(f[1]!),
      endpoint: none(f[2]!),
      allowedIps: f[3] === '(none)' ? [] : f[3]!.split(','),
      latestHandshake: Number(f[4]),
      rx: Number(f[5]),
      tx: Number(f[6]),
      persistentKeepalive: f[7] === 'off' ? null : Number(f[7]),
    };
  });
  return { publicKey: head[1]!, listenPort: Number(head[2]), fwmark: head[3]!, peers };
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

const children = new Map<number, ChildProcess>();

async function killAndWait(pid: number, socket: string): Promise<void> {
  const child = children.get(pid);
  if (child && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    if (!(await waitExit(child, 3_000))) {
      child.kill('SIGKILL');
      if (!(await waitExit(child, 3_000))) throw new Error(`wireguard-go pid ${pid} survived SIGKILL`);
    }
  } else if (!child && !processGone(pid)) {
    // An adopted daemon (not our child): signal by pid and watch /proc.
    process.kill(pid, 'SIGTERM');
    if (!(await waitGone(pid, 3_000))) {
      process.kill(pid, 'SIGKILL');
      if (!(await waitGone(pid, 3_000))) throw new Error(`daemon pid ${pid} survived SIGKILL`);
    }
  }
  if (socket) rmQuiet(socket);
  children.delete(pid);
  owned.wireguardGo.delete(pid);
}

/**
 * Whether process `pid` has ended. A daemon is re-parented to pid 1, which
 * may never reap it, so a zombie counts as ended.
 */
export function processGone(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return true;
  }
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state === 'Z' || state === 'X';
}

/** Polls until `pid` has ended or `ms` have passed; true when it ended. */
export async function waitGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!processGone(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

/**
 * Registers a daemon this process started indirectly (e.g. a daemonizing
 * `wgts IFNAME`), so that deleting its namespace or exiting stops it.
 */
export function adoptDaemon(pid: number, ns: string, ifname: string): void {
  installExitHook();
  owned.wireguardGo.set(pid, { ns, socket: join(WG_SOCKET_DIR, `${ifname}.sock`) });
}

/** Stops an adopted daemon (SIGTERM, then SIGKILL) unless it has ended already; forgets it. */
export function stopAdopted(pid: number): Promise<void> {
  const w = owned.wireguardGo.get(pid);
  return killAndWait(pid, w?.socket ?? '');
}

function wgConfText(o: WireguardGoOptions): string {
  const lines = ['[Interface]', `PrivateKey = ${o.privateKey}`];
  if (o.listenPort) lines.push(`ListenPort = ${o.listenPort}`);
  for (const p of o.peers) {
    lines.push('', '[Peer]', `PublicKey = ${p.publicKey}`);
    if (p.presharedKey) lines.push(`PresharedKey = ${p.presharedKey}`);
    if (p.allowedIps.length) lines.push(`AllowedIPs = ${p.allowedIps.join(', ')}`);
    if (p.endpoint) lines.push(`Endpoint = ${p.endpoint}`);
    if (p.persistentKeepalive) lines.push(`PersistentKeepalive = ${p.persistentKeepalive}`);
  }
  return lines.join('\n') + '\n';
}

/**
 * Starts `wireguard-go -f <ifname>` inside `ns`, configures it with `wg
 * setconf`, puts the addresses on the interface and brings it up.
 * `ifname` must be unique machine-wide (UAPI sockets share one directory): use uniqueIfname().
 */
export function startWireguardGo(ns: string, ifname: string, opts: WireguardGoOptions): Promise<WireguardGo> {
  return startDaemon('wireguard-go', ['wireguard-go', '-f', ifname], { LOG_LEVEL: 'verbose' }, ns, ifname, opts);
}

export interface WgtsOptions extends WireguardGoOptions {
  /** LOG_LEVEL for wgts (default verbose, so output() has something to show) */
  logLevel?: 'verbose' | 'error' | 'silent';
}

/**
 * Starts the wgts executable (`wgts -f <ifname>`, path from wgtsBinary())
 * inside `ns` and sets it up exactly like startWireguardGo: same options,
 * same handle, so tests can swap one implementation for the other.
 */
export async function startWgts(ns: string, ifname: string, opts: WgtsOptions): Promise<WireguardGo> {
  const binary = await wgtsBinary();
  return startDaemon('wgts', [binary, '-f', ifname], { LOG_LEVEL: opts.logLevel ?? 'verbose' }, ns, ifname, opts);
}

/** A userspace WireGuard daemon in the foreground, with its output collected. */
async function startDaemon(label: string, argv: string[], env: Record<string, string>, ns: string, ifname: string,
  opts: WireguardGoOptions): Promise<WireguardGo> {
  installExitHook();
  if (ifname.length > 15) throw new Error(`interface name too long: ${ifname}`);
  const socket = join(WG_SOCKET_DIR, `${ifname}.sock`);
  rmQuiet(socket); // a stale socket of this exact name would fool the readiness wait

  let out = '';
  // `ip netns exec` execs in place, so the child's pid is the daemon's.
  const child = spawn('ip', ['netns', 'exec', ns, ...argv], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const collect = (chunk: Buffer) => {
    out += chunk.toString('utf8');
    if (out.length > OUTPUT_LIMIT) out = out.slice(-OUTPUT_LIMIT / 2);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  if (child.pid === undefined) throw new Error(`could not start ${label}: ${(await spawnError).message}`);
  const pid = child.pid;
  children.set(pid, child);
  owned.wireguardGo.set(pid, { ns, socket });

  const fail = async (why: string): Promise<never> => {
    await killAndWait(pid, socket);
    throw new Error(`${label} ${ifname} in ${ns}: ${why}\n--- its output ---\n${out}`);
  };

  // Polling is fine here: this is process start-up, not a protocol timer.
  const deadline = Date.now() + (opts.startTimeoutMs ?? 5_000);
  while (!existsSync(socket)) {
    if (child.exitCode !== null || child.signalCode !== null) return fail(`exited early (${child.exitCode ?? child.signalCode})`);
    if (Date.now() > deadline) return fail(`no UAPI socket at ${socket} within ${opts.startTimeoutMs ?? 5_000} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }

  const confPath = join(tmpdir(), `wgts-test-${process.pid}-${ifname}.conf`);
  try {
    writeFileSync(confPath, wgConfText(opts), { mode: 0o600 });
    await nsExec(ns, ['wg', 'setconf', ifname, confPath]);
    if (opts.mtu) await run(['ip', '-n', ns, 'link', 'set', ifname, 'mtu', String(opts.mtu)]);
    for (const cidr of opts.addresses) {
      const v6 = cidr.includes(':');
      await run(['ip', '-n', ns, ...(v6 ? ['-6'] : []), 'addr', 'add', cidr, 'dev', ifname, ...(v6 ? ['nodad'] : [])]);
    }
    await run(['ip', '-n', ns, 'link', 'set', ifname, 'up']);
  } catch (e) {
    return fail((e as Error).message);
  } finally {
    rmQuiet(confPath);
  }

  const wg = (args: string[]) => nsExec(ns, ['wg', ...args]);
  const wgShow = async () => parseWgDump((await wg(['show', ifname, 'dump'])).stdout);
  const listenPort = (await wgShow()).listenPort;
  return {
    ns,
    ifname,
    pid,
    publicKey: publicKeyOf(opts.privateKey),
    listenPort,
    output: () => out,
    wgShow,
    wg,
    exec: (argv, o) => nsExec(ns, argv, o),
    exited: () => child.exitCode !== null || child.signalCode !== null,
    stop: () => killAndWait(pid, socket),
  };
}

/** Namespaces currently present, per `ip netns list`. */
export async function listNamespaces(): Promise<string[]> {
  const r = await run(['ip', 'netns', 'list']);
  return r.stdout
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((s) => s.length > 0);
}

/** Test-side view of what this process still owns; empty after a clean teardown. */
export function ownedResources(): { namespaces: string[]; leases: string[]; wireguardGoPids: number[] } {
  return {
    namespaces: [...owned.namespaces],
    leases: [...owned.leases],
    wireguardGoPids: [...owned.wireguardGo.keys()],
  };
}
