// Structure-aware fuzzing of the device's datagram entry (receiveDatagram).
// Valid messages of every kind are captured from real in-process handshakes
// and sessions, then mutated field by field (indices swapped for ones the
// victim really holds, keys for low-order points, counters for their limits,
// fields spliced from other captured messages, bytes flipped, cut, extended),
// often with mac1 recomputed so the forgery reaches the Noise layer, and
// handed to the victim inside a larger buffer. Every forgery that does not
// authenticate must leave the whole device as it was (snapshotState), send
// nothing (under load: at most one cookie reply), deliver nothing, and be
// counted. A last, stateful target runs real traffic over a network that
// duplicates, reorders, corrupts and forges, and checks that only what the
// peer sent is delivered, each packet once.
// Counts scale with WGTS_FUZZ_RUNS (see helpers/fuzz.ts).
import t from 'tap';
import { appendFileSync } from 'node:fs';
import { MAC_LEN, mac } from '../src/crypto/blake2s.js';
import {
  INITIATION_SIZE, MESSAGE_COOKIE_REPLY, MESSAGE_INITIATION, MESSAGE_RESPONSE, MESSAGE_TRANSPORT, RESPONSE_SIZE,
} from '../src/protocol/constants.js';
import type { Device } from '../src/device/device.js';
import type { Endpoint } from '../src/platform/platform.js';
import { withValidMac1 } from './helpers/forge.js';
import { bytesEqual, envBudgetMs, envRuns, envSeed, failureLines, fuzz, mutateBytes, Rng } from './helpers/fuzz.js';
import { deepState, snapshotState } from './helpers/snapshot.js';
import { ipv4Packet, messageTypes, type Node, seededRandom, VirtualClock, VirtualNetwork } from './helpers/virtual.js';

const NEVER_UNDER_LOAD = { underLoadThreshold: 1e9 };
const ALWAYS_UNDER_LOAD = { underLoadThreshold: 0 };

function world(seed: number, bOptions = NEVER_UNDER_LOAD) {
  const clock = new VirtualClock();
  const net = new VirtualNetwork(clock, seededRandom(seed));
  const a = net.addNode('a', '192.0.2.1', 51820, NEVER_UNDER_LOAD);
  const b = net.addNode('b', '192.0.2.2', 51820, bOptions);
  net.pair(a, ['10.0.0.1/32'], b, ['10.0.0.2/32']);
  return { clock, net, a, b };
}
type World = ReturnType<typeof world>;

function take(w: World, type: number): Uint8Array {
  const i = w.net.queue.findIndex((d) => d.data[0] === type);
  if (i < 0) throw new Error(`no queued datagram of type ${type}: [${messageTypes(w.net.queue).join(',')}]`);
  return w.net.queue.splice(i, 1)[0]!.data;
}

function sendFromA(w: World, payload = 8): Uint8Array {
  const p = ipv4Packet('10.0.0.1', '10.0.0.2', payload);
  w.a.device.sendPacket(p, 0, p.length);
  return p;
}

/** A field of a message: [offset, length]; length -1 = to the end. */
type Layout = Record<string, [number, number]>;
const INITIATION_LAYOUT: Layout = {
  type: [0, 1], reserved: [1, 3], sender: [4, 4], ephemeral: [8, 32], static: [40, 48], timestamp: [88, 28], mac1: [116, 16], mac2: [132, 16],
};
const RESPONSE_LAYOUT: Layout = {
  type: [0, 1], reserved: [1, 3], sender: [4, 4], receiver: [8, 4], ephemeral: [12, 32], empty: [44, 16], mac1: [60, 16], mac2: [76, 16],
};
const COOKIE_LAYOUT: Layout = { type: [0, 1], reserved: [1, 3], receiver: [4, 4], nonce: [8, 24], cookie: [32, 32] };
const TRANSPORT_LAYOUT: Layout = { type: [0, 1], reserved: [1, 3], receiver: [4, 4], counter: [8, 8], content: [16, -1] };

const LOW_ORDER = [
  new Uint8Array(32),
  Uint8Array.of(1, ...new Array<number>(31).fill(0)),
  Uint8Array.from([0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4, 0x6a,
    0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00]),
  Uint8Array.from([0xec, ...new Array<number>(30).fill(0xff), 0x7f]),
  Uint8Array.from([0xed, ...new Array<number>(30).fill(0xff), 0x7f]),
];

/** What a forgery looks like to the victim, and whether it is just the original in disguise. */
interface Forgery { data: Uint8Array; off: number; len: number; note: string }

interface Kind {
  name: string;
  w: World;
  victim: Node;
  from: Endpoint;
  original: Uint8Array;
  layout: Layout;
  /** The receiver's public key, for recomputing mac1 (handshake messages only). */
  mac1For: Uint8Array | null;
  /** A cookie that makes mac2 valid (the handshake-under-load-with-cookie kind). */
  cookie: Uint8Array | null;
  /** Whether the victim demands cookies: a valid-mac1 forgery then earns one cookie reply. */
  underLoad: boolean;
  /** The rate limiter may change (mac2-valid forgeries reach it by design). */
  rateLimiterMayChange: boolean;
  /** Bytes not covered by authentication, given whether mac1 (and mac2) were recomputed. */
  uncovered(remac: boolean): Set<number>;
  /** Checks the original is still accepted (control, after the run). */
  control(): string | null;
}

function range(from: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => from + i);
}

function handshakeUncovered(size: number, underLoad: boolean) {
  return (remac: boolean): Set<number> => {
    const s = new Set<number>();
    // mac1 covers the sender index; Noise does not. Recomputing mac1 makes a new sender index (and mac1 bytes) acceptable.
    if (remac) for (const i of [...range(4, 4), ...range(size - 32, 16)]) s.add(i);
    // mac2 is only looked at under load (and, when it is, recomputing is done below, so it is covered).
    if (!underLoad || remac) for (const i of range(size - 16, 16)) s.add(i);
    return s;
  };
}

/** The indices a device holds (IndexTable's private map, reached without widening its API). */
function indicesOf(d: Device): number[] {
  return [...(d.indices as unknown as { entries: Map<number, unknown> }).entries.keys()];
}

function forge(rng: Rng, k: Kind, all: Kind[]): { f: Forgery; remac: boolean } {
  let m: Uint8Array = k.original.slice();
  const fields = Object.entries(k.layout);
  const steps = 1 + (rng.chance(0.7) ? 0 : rng.int(4));
  const notes: string[] = [];
  for (let s = 0; s < steps; s++) {
    const [name, [off, n0]] = rng.pick(fields);
    const n = n0 < 0 ? Math.max(0, m.length - off) : n0;
    if (off + n > m.length || rng.chance(0.25)) {
      m = mutateBytes(rng, m, all.map((x) => x.original), 2048);
      notes.push('bytes');
      continue;
    }
    const choice = rng.int(8);
    notes.push(`${name}:${choice}`);
    switch (choice) {
      case 0: m[off + rng.int(n)]! ^= 1 << rng.int(8); break;
      case 1: m.fill(rng.pick([0, 0xff]), off, off + n); break;
      case 2: m.set(rng.bytes(n), off); break;
      case 3: if (n === 4) { // an index the victim (or the other side) really holds
        const idx = rng.pick([...indicesOf(k.victim.device), ...indicesOf(k.w.a.device), ...indicesOf(k.w.b.device), 0, -1]);
        new DataView(m.buffer, m.byteOffset).setUint32(off, idx >>> 0, true);
      } else m[off + rng.int(n)] = rng.int(256); break;
      case 4: if (n === 32) m.set(rng.pick(LOW_ORDER), off); else m[off] = (m[off]! + 1) & 255; break;
      case 5: if (n === 8) { // counters at their limits
        const v = rng.pick([0, 1, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 2 ** 64 - 1]);
        const dv = new DataView(m.buffer, m.byteOffset);
        dv.setUint32(off, v % 2 ** 32, true); dv.setUint32(off + 4, Math.min(Math.floor(v / 2 ** 32), 2 ** 32 - 1), true);
      } else m[off + rng.int(n)] = 0; break;
      case 6: { // the same field from another captured message (same layout position)
        const other = rng.pick(all).original;
        if (other.length >= off + n) m.set(other.subarray(off, off + n), off);
        break;
      }
      default: m[0] = rng.pick([1, 2, 3, 4]); break; // retype: another parser sees these bytes
    }
  }
  let remac = false;
  if (k.mac1For && m.length >= 32 && rng.chance(0.6)) {
    m = withValidMac1(m, k.mac1For);
    remac = true;
    if (k.cookie && rng.chance(0.7)) {
      const at = m.length - MAC_LEN;
      m.set(mac(k.cookie, m.subarray(0, at)), at);
    }
  }
  // Framing: the datagram sits inside a larger buffer, garbage on both sides.
  const before = rng.chance(0.5) ? rng.int(9) : 0;
  const after = rng.chance(0.5) ? rng.int(9) : 0;
  const data = new Uint8Array(before + m.length + after).fill(0xa5);
  data.set(m, before);
  return { f: { data, off: before, len: m.length, note: `${notes.join(' ')}${remac ? ' +mac1' : ''}` }, remac };
}

/** True when the forgery differs from the original only where authentication does not look. */
function equivalent(k: Kind, f: Forgery, remac: boolean): boolean {
  if (f.len !== k.original.length) return false;
  const uncovered = k.uncovered(remac);
  for (let i = 0; i < f.len; i++) if (f.data[f.off + i] !== k.original[i] && !uncovered.has(i)) return false;
  return true;
}

function stateKey(k: Kind): string {
  const d = k.victim.device;
  if (!k.rateLimiterMayChange) return JSON.stringify(snapshotState(d));
  const s = snapshotState(d);
  const skip = new Set<unknown>([d.clock, d.logger, d.aead, d.scratch, d.stats, d.load, d.rateLimiter]);
  const all = deepState(d, skip) as Record<string, unknown>;
  delete all.rateLimiterCollected;
  return JSON.stringify({ ...s, rateLimiter: null, all });
}

// ----------------------------------------------------------- the kinds --

function kinds(): Kind[] {
  const out: Kind[] = [];

  { // initiation to an idle responder
    const w = world(101);
    sendFromA(w);
    const init = take(w, MESSAGE_INITIATION);
    w.net.queue.length = 0;
    out.push({
      name: 'initiation', w, victim: w.b, from: w.a.endpoint, original: init, layout: INITIATION_LAYOUT, mac1For: w.b.publicKey,
      cookie: null, underLoad: false, rateLimiterMayChange: false, uncovered: handshakeUncovered(INITIATION_SIZE, false),
      control: () => {
        w.b.device.receiveDatagram(init.slice(), 0, init.length, w.a.endpoint);
        return messageTypes(w.net.queue).includes(MESSAGE_RESPONSE) ? null : 'the original initiation is not answered';
      },
    });
  }

  { // response to a waiting initiator
    const w = world(102);
    sendFromA(w);
    const init = take(w, MESSAGE_INITIATION);
    w.b.device.receiveDatagram(init, 0, init.length, w.a.endpoint);
    const response = take(w, MESSAGE_RESPONSE);
    w.net.queue.length = 0;
    out.push({
      name: 'response', w, victim: w.a, from: w.b.endpoint, original: response, layout: RESPONSE_LAYOUT, mac1For: w.a.publicKey,
      cookie: null, underLoad: false, rateLimiterMayChange: false, uncovered: handshakeUncovered(RESPONSE_SIZE, false),
      control: () => {
        w.a.device.receiveDatagram(response.slice(), 0, response.length, w.b.endpoint);
        return w.a.device.peerByKey(w.b.publicKey)!.keypairs.current ? null : 'the original response does not complete the handshake';
      },
    });
  }

  { // cookie reply to an initiator whose responder is under load
    const w = world(103, ALWAYS_UNDER_LOAD);
    sendFromA(w);
    const init = take(w, MESSAGE_INITIATION);
    w.b.device.receiveDatagram(init, 0, init.length, w.a.endpoint);
    const reply = take(w, MESSAGE_COOKIE_REPLY);
    w.net.queue.length = 0;
    out.push({
      name: 'cookie-reply', w, victim: w.a, from: w.b.endpoint, original: reply, layout: COOKIE_LAYOUT, mac1For: null,
      cookie: null, underLoad: false, rateLimiterMayChange: false,
      // Only the receiver index picks the peer; another index of the same peer is the same cookie reply.
      uncovered: () => new Set(indicesOf(w.a.device).length === 1 ? [] : range(4, 4)),
      control: () => {
        const before = JSON.stringify(deepState(w.a.device.peerByKey(w.b.publicKey)!.cookies));
        w.a.device.receiveDatagram(reply.slice(), 0, reply.length, w.b.endpoint);
        return JSON.stringify(deepState(w.a.device.peerByKey(w.b.publicKey)!.cookies)) !== before ? null : 'the original cookie reply is not taken';
      },
    });
  }

  { // initiations to a responder under load: forgeries with a valid mac1 earn a cookie reply, nothing else
    const w = world(104, ALWAYS_UNDER_LOAD);
    sendFromA(w);
    const init = take(w, MESSAGE_INITIATION);
    // Warm up: the first cookie reply creates the cookie secret (a state change that real initiations cause too).
    w.b.device.receiveDatagram(init.slice(), 0, init.length, w.a.endpoint);
    w.net.queue.length = 0;
    out.push({
      name: 'initiation-under-load', w, victim: w.b, from: w.a.endpoint, original: init, layout: INITIATION_LAYOUT, mac1For: w.b.publicKey,
      cookie: null, underLoad: true, rateLimiterMayChange: false, uncovered: () => new Set(),
      control: () => {
        w.b.device.receiveDatagram(init.slice(), 0, init.length, w.a.endpoint);
        return messageTypes(w.net.queue).join() === `${MESSAGE_COOKIE_REPLY}` ? null : 'the original does not get its cookie reply';
      },
    });
  }

  { // initiations carrying a valid cookie (mac2) to a responder under load: they reach the rate limiter and Noise
    const w = world(105, ALWAYS_UNDER_LOAD);
    sendFromA(w);
    const first = take(w, MESSAGE_INITIATION);
    w.b.device.receiveDatagram(first, 0, first.length, w.a.endpoint);
    const reply = take(w, MESSAGE_COOKIE_REPLY);
    w.a.device.receiveDatagram(reply, 0, reply.length, w.b.endpoint);
    w.clock.advance(5500); // retransmission: the new initiation carries mac2
    const init = take(w, MESSAGE_INITIATION);
    w.net.queue.length = 0;
    // The cookie A holds (what a man in the middle who saw the reply still cannot decrypt).
    const cookie = (w.a.device.peerByKey(w.b.publicKey)!.cookies as unknown as { cookie: Uint8Array }).cookie.slice();
    const mac2Ok = bytesEqual(mac(cookie, init.subarray(0, INITIATION_SIZE - MAC_LEN)), init.subarray(INITIATION_SIZE - MAC_LEN));
    if (!mac2Ok) throw new Error('setup: the retransmitted initiation does not carry mac2');
    out.push({
      name: 'initiation-with-cookie', w, victim: w.b, from: w.a.endpoint, original: init, layout: INITIATION_LAYOUT, mac1For: w.b.publicKey,
      cookie, underLoad: true, rateLimiterMayChange: true, uncovered: (remac) => new Set(remac ? [...range(4, 4), ...range(116, 32)] : []),
      control: () => {
        // The forgeries with a valid cookie used up this source's handshake budget; it refills within a second.
        w.clock.advance(1000);
        w.net.queue.length = 0;
        w.b.device.receiveDatagram(init.slice(), 0, init.length, w.a.endpoint);
        return messageTypes(w.net.queue).includes(MESSAGE_RESPONSE) ? null : 'the original initiation with its cookie is not answered';
      },
    });
  }

  for (const keepalive of [false, true]) { // transport data and keepalives on a confirmed session
    const w = world(keepalive ? 107 : 106);
    sendFromA(w);
    w.net.deliver();
    let inner: Uint8Array | null = null;
    if (keepalive) w.a.device.peerByKey(w.b.publicKey)!.sendKeepalive();
    else inner = sendFromA(w, 100);
    const packet = take(w, MESSAGE_TRANSPORT);
    w.net.queue.length = 0;
    out.push({
      name: keepalive ? 'keepalive' : 'transport', w, victim: w.b, from: w.a.endpoint, original: packet, layout: TRANSPORT_LAYOUT,
      mac1For: null, cookie: null, underLoad: false, rateLimiterMayChange: false, uncovered: () => new Set(),
      control: () => {
        const n = w.b.delivered.length;
        const rx = w.b.device.peerByKey(w.a.publicKey)!.rxBytes;
        w.b.device.receiveDatagram(packet.slice(), 0, packet.length, w.a.endpoint);
        if (inner) return w.b.delivered.length === n + 1 && bytesEqual(w.b.delivered[n]!, inner) ? null : 'the original packet is not delivered';
        return w.b.device.peerByKey(w.a.publicKey)!.rxBytes > rx ? null : 'the original keepalive is not taken';
      },
    });
  }

  { // the initiator's first packet, which confirms the responder's session
    const w = world(108);
    sendFromA(w);
    const init = take(w, MESSAGE_INITIATION);
    w.b.device.receiveDatagram(init, 0, init.length, w.a.endpoint);
    const response = take(w, MESSAGE_RESPONSE);
    w.a.device.receiveDatagram(response, 0, response.length, w.b.endpoint);
    const first = take(w, MESSAGE_TRANSPORT);
    w.net.queue.length = 0;
    out.push({
      name: 'first-transport', w, victim: w.b, from: w.a.endpoint, original: first, layout: TRANSPORT_LAYOUT,
      mac1For: null, cookie: null, underLoad: false, rateLimiterMayChange: false, uncovered: () => new Set(),
      control: () => {
        w.b.device.receiveDatagram(first.slice(), 0, first.length, w.a.endpoint);
        return w.b.device.peerByKey(w.a.publicKey)!.keypairs.current ? null : 'the original first packet does not confirm the session';
      },
    });
  }
  return out;
}

const built = kinds();
const runsPerKind = Math.max(1, Math.round(envRuns(500 * built.length) / built.length));

for (const [i, k] of built.entries()) {
  t.test(`forged ${k.name} (${k.original.length} bytes)`, async (t) => {
    const baseline = stateKey(k);
    const cookieReplyIsFine = k.underLoad;
    let cookieReplies = 0;
    const r = await fuzz({
      target: `device-${k.name}`,
      runs: runsPerKind,
      seed: 0xde00 + i,
      generate: (rng) => forge(rng, k, built),
      check: ({ f, remac }) => {
        if (equivalent(k, f, remac)) return false; // the original in disguise: it would (rightly) be accepted
        const d = k.victim.device;
        const queued = k.w.net.queue.length;
        const delivered = k.victim.delivered.length;
        const counted = d.stats.invalid + d.stats.cookieRepliesSent + d.stats.rateLimited;
        d.receiveDatagram(f.data.slice(), f.off, f.len, { ...k.from });
        const sent = k.w.net.queue.splice(queued);
        const problems: string[] = [];
        if (k.victim.delivered.length !== delivered) problems.push('delivered a packet');
        const types = messageTypes(sent);
        if (types.length > (cookieReplyIsFine ? 1 : 0) || types.some((x) => x !== MESSAGE_COOKIE_REPLY)) problems.push(`sent [${types.join(',')}]`);
        cookieReplies += types.length;
        if (d.stats.invalid + d.stats.cookieRepliesSent + d.stats.rateLimited !== counted + 1) problems.push('not counted exactly once');
        if (stateKey(k) !== baseline) problems.push('state changed');
        if (k.rateLimiterMayChange && d.rateLimiter.size > 1) problems.push(`rate limiter holds ${d.rateLimiter.size} sources`);
        if (problems.length) throw new Error(`${problems.join(', ')} [${f.note}]`);
      },
      serialize: ({ f }) => f.data.subarray(f.off, f.off + f.len),
    });
    t.same(failureLines(r), [], `${r.checked} forgeries (of ${r.runs}; seed ${r.seed}, ${r.ms} ms) dropped without a trace`);
    t.ok(r.checked > r.runs / 2, 'most mutations were real forgeries, not the original in disguise');
    if (cookieReplyIsFine) t.ok(cookieReplies > 0, `valid-mac1 forgeries earned cookie replies (${cookieReplies}), so the fuzz reached past mac1`);
    if (k.rateLimiterMayChange) t.ok(k.victim.device.stats.rateLimited > 0, `the rate limiter held (${k.victim.device.stats.rateLimited} forgeries with a valid cookie refused before Noise)`);
    t.equal(k.control(), null, 'the untouched original is still accepted afterwards (control)');
  });
}

t.test('random datagrams of every type and length, against a device with a live session', async (t) => {
  const w = world(109);
  sendFromA(w);
  w.net.deliver();
  const baseline = JSON.stringify(snapshotState(w.b.device));
  const r = await fuzz({
    target: 'device-random',
    runs: runsPerKind,
    seed: 0xde99,
    generate: (rng) => {
      const len = rng.pick([0, 1, 3, 4, 15, 16, 31, 32, 33, 63, 64, 65, 91, 92, 93, 147, 148, 149, rng.int(1600)]);
      const b = rng.bytes(len);
      if (len > 0 && rng.chance(0.8)) b[0] = rng.between(0, 5);
      if (len > 3 && rng.chance(0.8)) b.fill(0, 1, 4);
      if (len >= 8 && rng.chance(0.5)) new DataView(b.buffer).setUint32(4, rng.pick(indicesOf(w.b.device)) >>> 0, true);
      if (len >= 8 && rng.chance(0.3) && (b[0] === 1 || b[0] === 2) && len >= 32) return withValidMac1(b, w.b.publicKey);
      return b;
    },
    check: (b) => {
      const q = w.net.queue.length;
      const n = w.b.delivered.length;
      w.b.device.receiveDatagram(b.slice(), 0, b.length, { ...w.a.endpoint });
      if (w.net.queue.length !== q || w.b.delivered.length !== n) throw new Error('answered or delivered');
      if (JSON.stringify(snapshotState(w.b.device)) !== baseline) throw new Error('state changed');
    },
    serialize: (b) => b,
  });
  t.same(failureLines(r), [], `${r.runs} random datagrams (seed ${r.seed}, ${r.ms} ms) dropped without a trace`);
});

/** The stateful target has no fuzz() call: report it to the reliability runner by hand. */
function reportRounds(rounds: number, ms: number, failures: number): void {
  const file = process.env.WGTS_FUZZ_REPORT;
  if (file) appendFileSync(file, `${JSON.stringify({ target: 'device-hostile-network', seed: envSeed(0x7a11), runs: rounds, checked: rounds, ms: Math.round(ms), failures })}\n`);
}

t.test('traffic over a hostile network: only what the peer sent is delivered, each packet once', async (t) => {
  const rng = new Rng(envSeed(0x7a11));
  const w = world(110);
  const sent = new Map<string, number>();
  const key = (p: Uint8Array) => Array.from(p, (b) => b.toString(16).padStart(2, '0')).join('');
  let forged = 0;
  // The network duplicates, delays (reorders), corrupts and forges datagrams in both directions.
  const held: typeof w.net.queue = [];
  w.net.filter = (d) => {
    if (rng.chance(0.1)) held.push(d); // delivered later, out of order
    if (rng.chance(0.1)) w.net.queue.push({ ...d, data: d.data.slice() }); // duplicate
    if (rng.chance(0.15)) { // a forgery alongside
      let m = mutateBytes(rng, d.data, [], 2048);
      if ((m[0] === MESSAGE_INITIATION || m[0] === MESSAGE_RESPONSE) && m.length >= 32 && rng.chance(0.5)) {
        const node = w.net.nodes.get(`${d.to.address}:${d.to.port}`)!;
        m = withValidMac1(m, node.publicKey);
      }
      if (!bytesEqual(m, d.data)) { w.net.queue.push({ ...d, data: m }); forged++; }
    }
    return !rng.chance(0.05); // and loses some
  };
  const budget = envBudgetMs();
  const started = performance.now();
  let rounds = Math.max(20, Math.round(envRuns(2000) / 10));
  for (let round = 0; round < rounds; round++) {
    if (performance.now() - started > budget) { rounds = round; break; }
    const p = ipv4Packet('10.0.0.1', '10.0.0.2', 20 + rng.int(200));
    p[28] = round & 255; p[29] = round >> 8; // unique payloads
    sent.set(key(p), (sent.get(key(p)) ?? 0) + 1);
    w.a.device.sendPacket(p, 0, p.length);
    const back = ipv4Packet('10.0.0.2', '10.0.0.1', 8);
    if (rng.chance(0.3)) w.b.device.sendPacket(back, 0, back.length);
    w.net.deliver(100_000);
    if (rng.chance(0.3)) { w.net.queue.push(...held.splice(0)); w.net.deliver(100_000); }
    w.clock.advance(rng.pick([1, 10, 100, 1000, 6000]), () => w.net.deliver(100_000));
  }
  w.net.filter = null;
  w.net.queue.push(...held.splice(0));
  w.net.run(30_000);
  const counts = new Map<string, number>();
  for (const p of w.b.delivered) counts.set(key(p), (counts.get(key(p)) ?? 0) + 1);
  const foreign = [...counts.keys()].filter((k) => !sent.has(k));
  const twice = [...counts].filter(([k, n]) => n > (sent.get(k) ?? 0));
  t.same(foreign, [], `nothing delivered that A did not send (${forged} forgeries on the wire)`);
  t.same(twice, [], 'no packet delivered twice despite duplicates and replays');
  t.ok(w.b.delivered.length > rounds / 4, `most packets got through (${w.b.delivered.length} of ${rounds})`);
  reportRounds(rounds, performance.now() - started, foreign.length + twice.length);
  const last = ipv4Packet('10.0.0.1', '10.0.0.2', 33);
  w.a.device.sendPacket(last, 0, last.length);
  w.net.run(20_000);
  t.ok(w.b.delivered.some((p) => bytesEqual(p, last)), 'the tunnel still works on a clean network afterwards');
});
