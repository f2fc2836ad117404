// Two peers on a VirtualNetwork, with every datagram recorded at the virtual
// time it was sent, a switch to drop or hold datagrams in flight, and
// numbered packets so a test can tell exactly which ones arrived.
import type { Endpoint } from '../../src/platform/platform.js';
import type { Peer } from '../../src/device/peer.js';
import { readCounter, readU32 } from '../../src/protocol/messages.js';
import { type Datagram, ipv4Packet, type Node, seededRandom, VirtualClock, VirtualNetwork } from './virtual.js';

export const INITIATION = 1;
export const RESPONSE = 2;
export const TRANSPORT = 4;

export interface Sent {
  /** Virtual ms when the device handed the datagram to the network. */
  at: number;
  from: string;
  to: string;
  type: number;
  len: number;
  datagram: Datagram;
}

export interface Pair {
  clock: VirtualClock;
  net: VirtualNetwork;
  a: Node;
  b: Node;
  /** a's record of b, and b's record of a. */
  pa: Peer;
  pb: Peer;
  sent: Sent[];
  logs: { at: number; node: string; message: string }[];
  /** Datagrams the network swallowed or held back, in order. */
  held: Datagram[];
  /** Return 'drop' or 'hold' to stop a datagram at delivery time; anything else delivers it. */
  intercept: ((d: Datagram, type: number, from: string) => 'drop' | 'hold' | 'pass') | null;
}

const PORT = 51820;
const ADDRESS = { a: '192.0.2.1', b: '192.0.2.2' } as const;

export function nodeName(ep: Endpoint): string {
  return ep.address === ADDRESS.a ? 'a' : ep.address === ADDRESS.b ? 'b' : ep.address;
}

/** a (10.0.0.1) and b (10.0.0.2) as peers of each other, no session yet. */
export function makePair(seed = 1): Pair {
  const clock = new VirtualClock();
  const net = new VirtualNetwork(clock, seededRandom(seed));
  const sent: Sent[] = [];
  const logs: Pair['logs'] = [];
  const add = (name: 'a' | 'b'): Node => {
    const endpoint: Endpoint = { address: ADDRESS[name], port: PORT };
    return net.addNode(name, endpoint.address, PORT, {
      // Same as the network's own sender, plus a timestamped record.
      sendUdp: (buf, off, len, to) => {
        const datagram = { from: endpoint, to, data: buf.slice(off, off + len) };
        net.log.push(datagram);
        net.queue.push(datagram);
        sent.push({ at: clock.now(), from: name, to: nodeName(to), type: buf[off]!, len, datagram });
      },
      logger: {
        error: (message) => logs.push({ at: clock.now(), node: name, message }),
        verbose: (message) => logs.push({ at: clock.now(), node: name, message }),
      },
    });
  };
  const a = add('a');
  const b = add('b');
  net.pair(a, ['10.0.0.1/32'], b, ['10.0.0.2/32']);
  const pair: Pair = {
    clock, net, a, b, sent, logs, held: [], intercept: null,
    pa: a.device.peerByKey(b.publicKey)!,
    pb: b.device.peerByKey(a.publicKey)!,
  };
  net.filter = (d) => {
    const verdict = pair.intercept?.(d, d.data[0]!, nodeName(d.from)) ?? 'pass';
    if (verdict === 'hold' || verdict === 'drop') pair.held.push(d);
    return verdict === 'pass';
  };
  return pair;
}

/** An IPv4 packet whose payload starts with a 32-bit sequence number. */
export function numbered(src: string, dst: string, seq: number, payload = 64): Uint8Array {
  const p = ipv4Packet(src, dst, payload);
  p[20] = seq >>> 24; p[21] = seq >>> 16; p[22] = seq >>> 8; p[23] = seq;
  return p;
}

export function sequenceOf(p: Uint8Array): number {
  return ((p[20]! << 24) | (p[21]! << 16) | (p[22]! << 8) | p[23]!) >>> 0;
}

/** Sends numbered packet `seq` from `from` to the other node; returns it. */
export function send(pair: Pair, from: 'a' | 'b', seq: number, payload = 64): Uint8Array {
  const p = from === 'a' ? numbered('10.0.0.1', '10.0.0.2', seq, payload) : numbered('10.0.0.2', '10.0.0.1', seq, payload);
  (from === 'a' ? pair.a : pair.b).device.sendPacket(p, 0, p.length);
  return p;
}

/** Sequence numbers a node delivered to its TUN, in order. */
export function deliveredSeqs(node: Node): number[] {
  return node.delivered.map(sequenceOf);
}

/** Hands a datagram to its destination directly (held packets, replays). */
export function inject(pair: Pair, d: Datagram): void {
  const node = nodeName(d.to) === 'a' ? pair.a : pair.b;
  const copy = d.data.slice();
  node.device.receiveDatagram(copy, 0, copy.length, d.from);
}

/** Delivers only the first queued datagram (no filter): for stepping through a handshake. */
export function deliverOne(pair: Pair): Sent['type'] {
  const d = pair.net.queue.shift();
  if (!d) throw new Error('nothing queued');
  inject(pair, d);
  return d.data[0]!;
}

export function sentBy(pair: Pair, from: 'a' | 'b', type: number, since = -Infinity): Sent[] {
  return pair.sent.filter((s) => s.from === from && s.type === type && s.at >= since);
}

/** Advances virtual time to the absolute instant `at`, delivering as it goes. */
export function runUntil(pair: Pair, at: number): void {
  const now = pair.clock.now();
  if (at < now) throw new Error(`cannot go back in time from ${now} to ${at}`);
  pair.net.run(at - now);
}

/** a sends packet 0 at the current time; the handshake and delivery complete at once. */
export function establish(pair: Pair): void {
  send(pair, 'a', 0);
  pair.net.deliver();
  if (!pair.pa.keypairs.current || !pair.pb.keypairs.current) throw new Error('no session');
}

export function receiverIndexOf(d: Datagram): number {
  return readU32(d.data, 4) | 0;
}

export function counterOf(d: Datagram): number {
  return readCounter(d.data, 8);
}
