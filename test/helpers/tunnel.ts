// End-to-end rigs: two namespaces joined by a veth, a userspace WireGuard
// daemon in each (wgts or wireguard-go, started the same way), and tools to
// drive real traffic through them (ping in the namespaces) and to poll their
// state with bounded waits instead of sleeping.
import type { Test } from 'tap';
import { base64ToHex, generateKeyPair, generatePresharedKey, type TestKeyPair } from './keys.js';
import {
  createNetnsPair,
  startWgts,
  startWireguardGo,
  uniqueIfname,
  type ExecResult,
  type NetnsPair,
  type RunOptions,
  type WgDumpPeer,
  type WgPeerConfig,
  type WireguardGo,
  type WgtsOptions,
} from './netns.js';

export type Impl = 'wgts' | 'wireguard-go';

/** Starts `impl` in `ns` with the same options either way. */
export function startImpl(impl: Impl, ns: string, ifname: string, opts: WgtsOptions): Promise<WireguardGo> {
  return impl === 'wgts' ? startWgts(ns, ifname, opts) : startWireguardGo(ns, ifname, opts);
}

// ---- polling and traffic ----

/** Polls `probe` every `everyMs` until it returns something other than null/false; throws after `ms`. */
export async function waitFor<T>(probe: () => Promise<T | null | false> | T | null | false, ms: number, what: string,
  everyMs = 100): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== null && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface Execer {
  exec(argv: string[], opts?: RunOptions): Promise<ExecResult>;
}

export interface PingOptions {
  count?: number;
  /** payload bytes (-s) */
  size?: number;
  /** -M do: fail instead of fragmenting */
  dontFragment?: boolean;
  /** seconds to wait for each reply (-W) */
  waitS?: number;
  /** seconds between requests (-i) */
  intervalS?: number;
  /** requests sent at once before waiting for replies (-l) */
  preload?: number;
}

export interface PingResult {
  sent: number;
  received: number;
  output: string;
}

/** Runs ping inside a namespace and reports how many replies came back. */
export async function ping(from: Execer, to: string, o: PingOptions = {}): Promise<PingResult> {
  const count = o.count ?? 3;
  const argv = ['ping', to.includes(':') ? '-6' : '-4', '-n', '-q', '-c', String(count), '-i', String(o.intervalS ?? 0.2),
    '-W', String(o.waitS ?? 2)];
  if (o.size !== undefined) argv.push('-s', String(o.size));
  if (o.dontFragment) argv.push('-M', 'do');
  if (o.preload !== undefined) argv.push('-l', String(o.preload));
  argv.push(to);
  const limit = (count * (o.intervalS ?? 0.2) + (o.waitS ?? 2) + 5) * 1000;
  const r = await from.exec(argv, { allowFail: true, timeoutMs: limit });
  const m = /(\d+) packets transmitted, (\d+) received/.exec(r.stdout);
  return { sent: m ? Number(m[1]) : 0, received: m ? Number(m[2]) : 0, output: r.stdout + r.stderr };
}

/**
 * Pings once a second until one reply arrives (after a roam or a restart the
 * first packets may be lost while a handshake completes); false after `ms`.
 */
export async function pingUntil(from: Execer, to: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  do {
    if ((await ping(from, to, { count: 1, waitS: 1 })).received === 1) return true;
  } while (Date.now() < deadline);
  return false;
}

// ---- a two-namespace tunnel ----

export interface Side {
  impl: Impl;
  daemon: WireguardGo;
  keys: TestKeyPair;
  ns: string;
  /** veth (outer) addresses */
  outerV4: string;
  outerV6: string;
  /** tunnel (inner) addresses */
  v4: string;
  v6: string;
  port: number;
  exec(argv: string[], opts?: RunOptions): Promise<ExecResult>;
  /** This side's view of its only peer (`wg show dump`). */
  peer(): Promise<WgDumpPeer>;
}

export interface TunnelOptions {
  purpose: string;
  left: Impl;
  right: Impl;
  /** Address family of the endpoints (the veth addresses). */
  outer: 4 | 6;
  /** Which sides are told the other's endpoint; a side that is not must learn it from a handshake. */
  endpoints?: 'both' | 'left' | 'right';
  psk?: boolean;
  /** persistent keepalive in seconds, per side */
  keepaliveLeft?: number;
  keepaliveRight?: number;
  /** LOG_LEVEL of wgts sides (default verbose) */
  logLevelWgts?: 'verbose' | 'error';
}

export interface Tunnel {
  pair: NetnsPair;
  left: Side;
  right: Side;
  psk: { base64: string; hex: string } | null;
}

export const LEFT_PORT = 51820;
export const RIGHT_PORT = 51821;

/** Brackets an IPv6 address for host:port. */
export function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Two namespaces and a tunnel between them; everything is torn down with `t`. */
export async function createTunnel(t: Test, o: TunnelOptions): Promise<Tunnel> {
  const pair = await createNetnsPair({ purpose: o.purpose });
  const stops: (() => Promise<void>)[] = [];
  t.teardown(async () => {
    for (const s of stops.reverse()) await s();
    await pair.destroy();
  });
  const psk = o.psk ? generatePresharedKey() : null;
  const leftKeys = generateKeyPair();
  const rightKeys = generateKeyPair();
  const endpoints = o.endpoints ?? 'both';
  const [lv4, rv4] = pair.tunnel.v4;
  const [lv6, rv6] = pair.tunnel.v6;
  const outer = (end: { v4: string; v6: string }) => (o.outer === 4 ? end.v4 : end.v6);

  const peerConfig = (keys: TestKeyPair, v4: string, v6: string, endpoint: string | undefined,
    keepalive: number | undefined): WgPeerConfig => ({
    publicKey: keys.publicKey,
    presharedKey: psk?.base64,
    allowedIps: [`${v4}/32`, `${v6}/128`],
    endpoint,
    persistentKeepalive: keepalive,
  });
  // A side that knows no endpoint cannot send; start it first so the other finds it listening.
  const leftFirst = endpoints === 'right';
  let leftDaemon: WireguardGo | null = null;
  const startLeft = async () => {
    leftDaemon = await startImpl(o.left, pair.a.ns, uniqueIfname('l'), {
      privateKey: leftKeys.privateKey,
      logLevel: o.logLevelWgts,
      listenPort: LEFT_PORT,
      peers: [peerConfig(rightKeys, rv4, rv6, endpoints !== 'right' ? hostPort(outer(pair.b), RIGHT_PORT) : undefined,
        o.keepaliveLeft)],
      addresses: [`${lv4}/${pair.tunnel.v4Prefix}`, `${lv6}/${pair.tunnel.v6Prefix}`],
    });
    const d = leftDaemon;
    stops.push(() => d.stop());
    return d;
  };
  if (leftFirst) await startLeft();
  const rightDaemon = await startImpl(o.right, pair.b.ns, uniqueIfname('r'), {
    privateKey: rightKeys.privateKey,
    logLevel: o.logLevelWgts,
    listenPort: RIGHT_PORT,
    peers: [peerConfig(leftKeys, lv4, lv6, endpoints !== 'left' ? hostPort(outer(pair.a), LEFT_PORT) : undefined,
      o.keepaliveRight)],
    addresses: [`${rv4}/${pair.tunnel.v4Prefix}`, `${rv6}/${pair.tunnel.v6Prefix}`],
  });
  stops.push(() => rightDaemon.stop());
  const left = leftDaemon ?? (await startLeft());

  const side = (impl: Impl, daemon: WireguardGo, keys: TestKeyPair, end: NetnsPair['a'], v4: string, v6: string,
    port: number): Side => ({
    impl, daemon, keys, ns: end.ns, outerV4: end.v4, outerV6: end.v6, v4, v6, port,
    exec: end.exec,
    peer: async () => {
      const dump = await daemon.wgShow();
      if (dump.peers.length !== 1) throw new Error(`expected one peer on ${daemon.ifname}, found ${dump.peers.length}`);
      return dump.peers[0]!;
    },
  });
  return {
    pair,
    psk,
    left: side(o.left, left, leftKeys, pair.a, lv4, lv6, LEFT_PORT),
    right: side(o.right, rightDaemon, rightKeys, pair.b, rv4, rv6, RIGHT_PORT),
  };
}

/** The UAPI form of a key, for grepping logs. */
export function keyForms(base64: string): string[] {
  return [base64, base64ToHex(base64)];
}

/** Tap `extra` carrying the tail of daemons' output; tap prints it only when the assertion fails. */
export function logsOf(...daemons: WireguardGo[]): { logs: Record<string, string> } {
  const logs: Record<string, string> = {};
  for (const d of daemons) logs[d.ifname] = d.output().slice(-3000);
  return { logs };
}
