// wgts in one namespace, wireguard-go in another, and the UDP relay
// (udp-relay.mjs) on the path between them, so a test can impair, capture
// and replay what goes over the wire. Built on test/helpers (namespaces,
// daemons); everything is torn down with the tap test that made it.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Test } from 'tap';
import { generateKeyPair, type TestKeyPair } from '../../test/helpers/keys.js';
import {
  createNetnsPair, run, startWgts, startWireguardGo, uniqueIfname, type NetnsPair, type WgDumpPeer,
  type WireguardGo,
} from '../../test/helpers/netns.js';

export const WGTS_PORT = 51820;
export const GO_PORT = 51821;
/** The peer (wireguard-go) sends here; the relay forwards to wgts from RELAY_INNER_PORT. */
export const RELAY_OUTER_PORT = 51830;
export const RELAY_INNER_PORT = 51831;

const RELAY_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'udp-relay.mjs');

export interface Impairment {
  loss?: number;
  duplicate?: number;
  reorder?: number;
  delayMs?: number;
  /** extra delay of the datagrams picked by `reorder` */
  reorderDelayMs?: number;
}

export interface DirectionStats {
  received: number;
  forwarded: number;
  dropped: number;
  duplicated: number;
  heldBack: number;
  outOfOrder: number;
  /** by WireGuard message type (1 initiation, 2 response, 3 cookie, 4 transport) */
  byType: Record<string, number>;
  forwardedByType: Record<string, number>;
}

export interface RelayStats {
  in: DirectionStats;
  out: DirectionStats;
  replayed: number;
}

/** Direction 'in' is wireguard-go -> wgts, 'out' wgts -> wireguard-go. */
export type Direction = 'in' | 'out';

export class Relay {
  private nextId = 1;
  private readonly waiting = new Map<number, (reply: Record<string, unknown>) => void>();
  private readonly ready: Promise<void>;
  private output = '';

  constructor(readonly child: ChildProcess) {
    let markReady: () => void = () => {};
    let fail: (e: Error) => void = () => {};
    this.ready = new Promise((res, rej) => { markReady = res; fail = rej; });
    child.once('exit', (code) => fail(new Error(`relay exited (${code}): ${this.output}`)));
    child.stderr!.on('data', (c: Buffer) => { this.output += c.toString(); });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const reply = JSON.parse(line) as Record<string, unknown>;
      if (reply.ready) { markReady(); return; }
      const done = this.waiting.get(reply.id as number);
      this.waiting.delete(reply.id as number);
      done?.(reply);
    });
  }

  started(): Promise<void> {
    return this.ready;
  }

  command(cmd: Record<string, unknown>): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`relay did not answer ${JSON.stringify(cmd)}`)), 5_000);
      this.waiting.set(id, (reply) => { clearTimeout(timer); res(reply); });
      this.child.stdin!.write(JSON.stringify({ ...cmd, id }) + '\n');
    });
  }

  impair(dir: Direction, settings: Impairment): Promise<unknown> {
    return this.command({ cmd: 'impair', dir, settings });
  }

  async clear(): Promise<void> {
    await this.impair('in', {});
    await this.impair('out', {});
  }

  capture(on: boolean, clear = false): Promise<unknown> {
    return this.command({ cmd: 'capture', on, clear });
  }

  async replay(dir: Direction, types?: number[]): Promise<number> {
    return (await this.command({ cmd: 'replay', dir, types })).replayed as number;
  }

  async stats(): Promise<RelayStats> {
    return (await this.command({ cmd: 'stats' })).stats as RelayStats;
  }

  async resetStats(): Promise<void> {
    await this.command({ cmd: 'resetStats' });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const gone = new Promise((r) => this.child.once('exit', r));
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3_000);
    await gone;
    clearTimeout(timer);
  }
}

export interface RelayRig {
  pair: NetnsPair;
  relay: Relay;
  wgts: WireguardGo;
  go: WireguardGo;
  wgtsKeys: TestKeyPair;
  goKeys: TestKeyPair;
  /** tunnel addresses */
  wgtsV4: string;
  goV4: string;
  /** runs argv in wgts's / wireguard-go's namespace */
  execWgts: NetnsPair['a']['exec'];
  execGo: NetnsPair['b']['exec'];
  /** Starts wgts again with the same interface name, keys and peer (after it died). */
  restartWgts(): Promise<WireguardGo>;
  /** Stops wireguard-go and starts a fresh process with the same keys and peer. */
  restartGo(): Promise<WireguardGo>;
  wgtsPeer(): Promise<WgDumpPeer>;
  goPeer(): Promise<WgDumpPeer>;
  /** Packets wgts wrote into its TUN so far (the interface's RX counter): exactly what it delivered. */
  tunDelivered(): Promise<number>;
}

export interface RelayRigOptions {
  purpose: string;
  seed?: number;
  wgtsLogLevel?: 'verbose' | 'error';
  /** persistent keepalive of wgts towards wireguard-go, seconds */
  wgtsKeepalive?: number;
}

export async function createRelayRig(t: Test, o: RelayRigOptions): Promise<RelayRig> {
  const pair = await createNetnsPair({ purpose: o.purpose });
  const stops: (() => Promise<void>)[] = [];
  t.teardown(async () => {
    for (const s of stops.reverse()) await s();
    await pair.destroy();
  });
  const wgtsKeys = generateKeyPair();
  const goKeys = generateKeyPair();
  const [wgtsV4, goV4] = pair.tunnel.v4;

  const child = spawn('ip', ['netns', 'exec', pair.a.ns, process.execPath, RELAY_SCRIPT, pair.a.v4, String(RELAY_OUTER_PORT),
    String(RELAY_INNER_PORT), pair.a.v4, String(WGTS_PORT), pair.b.v4, String(GO_PORT), String(o.seed ?? 1)], { stdio: ['pipe', 'pipe', 'pipe'] });
  const relay = new Relay(child);
  stops.push(() => relay.stop());
  await relay.started();

  const wgtsIf = uniqueIfname('w');
  const wgtsOptions = {
    privateKey: wgtsKeys.privateKey,
    listenPort: WGTS_PORT,
    logLevel: o.wgtsLogLevel ?? 'verbose',
    peers: [{ publicKey: goKeys.publicKey, allowedIps: [`${goV4}/32`], endpoint: `${pair.a.v4}:${RELAY_INNER_PORT}`,
      persistentKeepalive: o.wgtsKeepalive }],
    addresses: [`${wgtsV4}/${pair.tunnel.v4Prefix}`],
  };
  const goIf = uniqueIfname('g');
  const goOptions = {
    privateKey: goKeys.privateKey,
    listenPort: GO_PORT,
    peers: [{ publicKey: wgtsKeys.publicKey, allowedIps: [`${wgtsV4}/32`], endpoint: `${pair.a.v4}:${RELAY_OUTER_PORT}` }],
    addresses: [`${goV4}/${pair.tunnel.v4Prefix}`],
  };
  // Each start adds its own stop: a stopped daemon's stop() is a no-op.
  const startOwnWgts = async () => {
    const d = await startWgts(pair.a.ns, wgtsIf, wgtsOptions);
    stops.push(() => d.stop());
    return d;
  };
  const startOwnGo = async () => {
    const d = await startWireguardGo(pair.b.ns, goIf, goOptions);
    stops.push(() => d.stop());
    return d;
  };
  const rig: RelayRig = {
    pair, relay, wgtsKeys, goKeys, wgtsV4, goV4,
    wgts: await startOwnWgts(),
    go: await startOwnGo(),
    execWgts: pair.a.exec,
    execGo: pair.b.exec,
    restartWgts: async () => (rig.wgts = await startOwnWgts()),
    restartGo: async () => {
      await rig.go.stop();
      return (rig.go = await startOwnGo());
    },
    wgtsPeer: async () => (await rig.wgts.wgShow()).peers[0]!,
    goPeer: async () => (await rig.go.wgShow()).peers[0]!,
    tunDelivered: async () => {
      const r = await run(['ip', '-n', pair.a.ns, '-j', '-s', 'link', 'show', 'dev', wgtsIf]);
      return (JSON.parse(r.stdout) as { stats64: { rx: { packets: number } } }[])[0]!.stats64.rx.packets;
    },
  };
  return rig;
}

export interface PingStats {
  sent: number;
  received: number;
  duplicates: number;
  /** ms; NaN when nothing came back */
  avgMs: number;
  maxMs: number;
  output: string;
}

/** ping with the summary parsed, duplicates and round-trip times included. */
export async function pingStats(exec: RelayRig['execGo'], to: string, count: number, intervalS: number,
  waitS = 2): Promise<PingStats> {
  const r = await exec(['ping', '-4', '-n', '-q', '-c', String(count), '-i', String(intervalS), '-W', String(waitS), to],
    { allowFail: true, timeoutMs: (count * intervalS + waitS + 10) * 1000 });
  const out = r.stdout + r.stderr;
  const m = /(\d+) packets transmitted, (\d+) received(?:, \+(\d+) duplicates)?/.exec(out);
  const rtt = /= [\d.]+\/([\d.]+)\/([\d.]+)\//.exec(out);
  return {
    sent: m ? Number(m[1]) : 0,
    received: m ? Number(m[2]) : 0,
    duplicates: m?.[3] ? Number(m[3]) : 0,
    avgMs: rtt ? Number(rtt[1]) : NaN,
    maxMs: rtt ? Number(rtt[2]) : NaN,
    output: out,
  };
}
