// Virtual time, seeded randomness and an in-process network: two or more
// Devices talk through a queue the test controls, so every protocol and
// timer story runs deterministically without sockets or sleeping.
import type { Clock, Endpoint, RandomSource } from '../../src/platform/platform.js';
import { Device, type DeviceOptions } from '../../src/device/device.js';
import { generatePrivateKey, publicKeyFromPrivate } from '../../src/crypto/keys.js';
import { parseCidr } from '../../src/routing/ip.js';

interface PendingTimer { at: number; seq: number; fn: () => void; cancelled: boolean }

export class VirtualClock implements Clock {
  private t = 0;
  private seq = 0;
  private timers: PendingTimer[] = [];
  constructor(private readonly wallBase = 1_750_000_000_000) {}
  now(): number { return this.t; }
  wallMs(): number { return this.wallBase + this.t; }
  setTimer(fn: () => void, delayMs: number): unknown {
    const timer = { at: this.t + Math.max(0, delayMs), seq: this.seq++, fn, cancelled: false };
    this.timers.push(timer);
    return timer;
  }
  clearTimer(handle: unknown): void {
    (handle as PendingTimer).cancelled = true;
  }
  /** Number of live (uncancelled) platform timers. */
  get pendingCount(): number {
    return this.timers.filter((x) => !x.cancelled).length;
  }
  /** Advances virtual time by ms, firing due timers in order; `between` runs after each timer (e.g. deliver packets). */
  advance(ms: number, between?: () => void): void {
    const end = this.t + ms;
    for (;;) {
      this.timers = this.timers.filter((x) => !x.cancelled);
      let next: PendingTimer | null = null;
      for (const x of this.timers) if (x.at <= end && (!next || x.at < next.at || (x.at === next.at && x.seq < next.seq))) next = x;
      if (!next) break;
      this.t = Math.max(this.t, next.at);
      next.cancelled = true;
      next.fn();
      between?.();
    }
    this.t = end;
  }
}

/** xorshift128+ style generator: deterministic, NOT for real keys. */
export function seededRandom(seed: number): RandomSource {
  let a = seed >>> 0 || 1, b = 0x9e3779b9, c = 0x243f6a88, d = 0xb7e15162;
  return (out) => {
    for (let i = 0; i < out.length; i++) {
      const t = a ^ (a << 11);
      a = b; b = c; c = d;
      d = (d ^ (d >>> 19) ^ (t ^ (t >>> 8))) >>> 0;
      out[i] = d & 255;
    }
  };
}

export interface Datagram { from: Endpoint; to: Endpoint; data: Uint8Array }

export interface Node {
  name: string;
  device: Device;
  endpoint: Endpoint;
  privateKey: Uint8Array;
  publicKey: Uint8Array;
  /** Decrypted packets the device delivered. */
  delivered: Uint8Array[];
}

/** A lossless in-order network the test drives; `filter` may drop or inspect datagrams. */
export class VirtualNetwork {
  readonly queue: Datagram[] = [];
  readonly log: Datagram[] = [];
  readonly nodes = new Map<string, Node>();
  filter: ((d: Datagram) => boolean) | null = null;

  constructor(readonly clock: VirtualClock, private readonly random: RandomSource) {}

  addNode(name: string, address: string, port: number, extra: Partial<DeviceOptions> = {}): Node {
    const endpoint: Endpoint = { address, port };
    const node: Node = {
      name, endpoint, delivered: [],
      privateKey: generatePrivateKey(this.random),
      publicKey: new Uint8Array(32),
      device: null as unknown as Device,
    };
    node.publicKey = publicKeyFromPrivate(node.privateKey);
    node.device = new Device({
      clock: this.clock,
      random: this.random,
      sendUdp: (buf, off, len, to) => {
        const d = { from: endpoint, to, data: buf.slice(off, off + len) };
        this.log.push(d);
        this.queue.push(d);
      },
      writeTun: (buf, off, len) => { node.delivered.push(buf.slice(off, off + len)); },
      ...extra,
    });
    node.device.applyChange({ privateKey: node.privateKey, listenPort: port, replacePeers: false, peers: [] });
    this.nodes.set(`${address}:${port}`, node);
    return node;
  }

  /** Makes a and b peers of each other with the given allowed IPs. */
  pair(a: Node, aAllowed: string[], b: Node, bAllowed: string[], opts: { psk?: Uint8Array; keepalive?: number; endpoints?: boolean } = {}): void {
    const peerOf = (other: Node, allowed: string[]) => ({
      publicKey: other.publicKey, remove: false, updateOnly: false,
      presharedKey: opts.psk ?? null,
      ...(opts.endpoints === false ? {} : { endpoint: other.endpoint }),
      ...(opts.keepalive !== undefined ? { persistentKeepalive: opts.keepalive } : {}),
      replaceAllowedIps: true,
      allowedIps: allowed.map((c) => ({ cidr: parseCidr(c)!, remove: false })),
    });
    a.device.applyChange({ replacePeers: false, peers: [peerOf(b, bAllowed)] });
    b.device.applyChange({ replacePeers: false, peers: [peerOf(a, aAllowed)] });
  }

  /** Delivers queued datagrams (and whatever they provoke) until the network is quiet. Bounded. */
  deliver(max = 10_000): number {
    let n = 0;
    while (this.queue.length > 0) {
      if (++n > max) throw new Error('network did not go quiet');
      const d = this.queue.shift()!;
      if (this.filter && !this.filter(d)) continue;
      const node = this.nodes.get(`${d.to.address}:${d.to.port}`);
      if (!node) continue;
      const copy = d.data.slice();
      node.device.receiveDatagram(copy, 0, copy.length, d.from);
    }
    return n;
  }

  /** Advances time while delivering packets after every timer. */
  run(ms: number): void {
    this.deliver();
    this.clock.advance(ms, () => this.deliver());
    this.deliver();
  }
}

/** A minimal IPv4 packet (no checksums: the device does not check them). */
export function ipv4Packet(src: string, dst: string, payload = 8): Uint8Array {
  const p = new Uint8Array(20 + payload);
  p[0] = 0x45; p[2] = (20 + payload) >> 8; p[3] = (20 + payload) & 255; p[8] = 64; p[9] = 17;
  p.set(src.split('.').map(Number), 12);
  p.set(dst.split('.').map(Number), 16);
  for (let i = 0; i < payload; i++) p[20 + i] = i & 255;
  return p;
}

/** A minimal IPv6 packet. */
export function ipv6Packet(src: Uint8Array, dst: Uint8Array, payload = 8): Uint8Array {
  const p = new Uint8Array(40 + payload);
  p[0] = 0x60; p[4] = payload >> 8; p[5] = payload & 255; p[6] = 17; p[7] = 64;
  p.set(src, 8); p.set(dst, 24);
  for (let i = 0; i < payload; i++) p[40 + i] = (i * 7) & 255;
  return p;
}

export function messageTypes(ds: Datagram[]): number[] {
  return ds.map((d) => d.data[0]!);
}
