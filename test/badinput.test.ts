// Bad input is dropped without changing any state, and nothing is sent in
// reply. Every message type is captured from a real in-process handshake
// before its receiver sees it, then cut, extended, retyped and bit-flipped;
// each forgery goes to the receiver alone and must leave its whole state
// (snapshotState) as it was, send nothing, deliver nothing, and count one
// invalid datagram. Afterwards the untouched original must still be
// accepted, which proves the forgeries were tried against a receiver that
// would have taken the real thing.
import t, { type Test } from 'tap';
import {
  COOKIE_REPLY_SIZE, INITIATION_SIZE, MESSAGE_COOKIE_REPLY, MESSAGE_INITIATION, MESSAGE_RESPONSE,
  MESSAGE_TRANSPORT, RESPONSE_SIZE, TRANSPORT_HEADER_SIZE,
} from '../src/protocol/constants.js';
import { COOKIE_REPLY, INITIATION, RESPONSE, TRANSPORT } from '../src/protocol/messages.js';
import type { Endpoint } from '../src/platform/platform.js';
import { encryptAndSend } from '../src/device/send.js';
import { extended, flipBit, inject, takeOnly, withByte, withU32, withValidMac1 } from './helpers/forge.js';
import { snapshotKey, snapshotState } from './helpers/snapshot.js';
import { ipv4Packet, messageTypes, type Node, seededRandom, VirtualClock, VirtualNetwork } from './helpers/virtual.js';

const MAC2_LEN = 16;
/** Far above anything a test sends: these tests are about bad input, not load (see cookie.test.ts). */
const NEVER_UNDER_LOAD = { underLoadThreshold: 1e9 };
/** Indices no device in these worlds allocated (checked where used). */
const UNKNOWN_INDEX = 0x5eed1dea;

function world(seed: number, bOptions: { underLoadThreshold: number } = NEVER_UNDER_LOAD) {
  const clock = new VirtualClock();
  const net = new VirtualNetwork(clock, seededRandom(seed));
  const a = net.addNode('a', '192.0.2.1', 51820, NEVER_UNDER_LOAD);
  const b = net.addNode('b', '192.0.2.2', 51820, bOptions);
  net.pair(a, ['10.0.0.1/32'], b, ['10.0.0.2/32']);
  return { clock, net, a, b };
}
type World = ReturnType<typeof world>;

function sendData(w: World, payload = 8): Uint8Array {
  const packet = ipv4Packet('10.0.0.1', '10.0.0.2', payload);
  w.a.device.sendPacket(packet, 0, packet.length);
  return packet;
}

/** A's initiation, not yet seen by B. */
function captureInitiation(w: World): Uint8Array {
  sendData(w);
  return takeOnly(w.net, MESSAGE_INITIATION).data;
}

/** B's response, not yet seen by A (A waits in CreatedInitiation). */
function captureResponse(w: World): Uint8Array {
  const init = captureInitiation(w);
  inject(w.net, w.b, init, w.a.endpoint);
  return takeOnly(w.net, MESSAGE_RESPONSE).data;
}

/** A transport packet from A under a confirmed session, not yet seen by B, and the IP packet inside (empty for a keepalive). */
function captureTransport(w: World, keepalive: boolean): { packet: Uint8Array; sent: Uint8Array } {
  sendData(w);
  w.net.deliver();
  let sent: Uint8Array = new Uint8Array(0);
  if (keepalive) w.a.device.peerByKey(w.b.publicKey)!.sendKeepalive();
  else sent = sendData(w, 100);
  return { packet: takeOnly(w.net, MESSAGE_TRANSPORT).data, sent };
}

/** B's cookie reply to A's initiation (B always under load), not yet seen by A. */
function captureCookieReply(w: World): Uint8Array {
  const init = captureInitiation(w);
  inject(w.net, w.b, init, w.a.endpoint);
  return takeOnly(w.net, MESSAGE_COOKIE_REPLY).data;
}

/** The message inside a larger buffer, with garbage before and after it. */
const FRAME_OFFSET = 7;
function framed(msg: Uint8Array): Uint8Array {
  const out = new Uint8Array(msg.length + FRAME_OFFSET + 9).fill(0xa5);
  out.set(msg, FRAME_OFFSET);
  return out;
}

/** A forged datagram: data[off, off+len) when given, else all of data. */
interface Case { name: string; data: Uint8Array; off?: number; len?: number }

/**
 * Sends every case to `victim` from `from` and collects what went wrong:
 * a reply, a delivery, a state change, or an invalid count other than +1.
 */
function runCases(t: Test, w: World, victim: Node, from: Endpoint, cases: Case[], what: string): void {
  t.equal(w.net.queue.length, 0, 'network quiet before the forgeries');
  const baseline = snapshotKey(victim.device);
  const problems: string[] = [];
  let firstChanged: string | null = null;
  for (const c of cases) {
    const invalidBefore = victim.device.stats.invalid;
    // A fresh copy of the source each time: the snapshot sees an endpoint replaced even by an equal one.
    const r = inject(w.net, victim, c.data, { ...from }, c.off, c.len);
    const wrong: string[] = [];
    if (r.sent.length > 0) wrong.push(`sent types [${messageTypes(r.sent).join(',')}]`);
    if (r.delivered.length > 0) wrong.push(`delivered ${r.delivered.length}`);
    const invalidDelta = victim.device.stats.invalid - invalidBefore;
    if (invalidDelta !== 1) wrong.push(`invalid +${invalidDelta}`);
    if (snapshotKey(victim.device) !== baseline) {
      wrong.push('state changed');
      firstChanged ??= c.name;
    }
    if (wrong.length > 0) problems.push(`${c.name}: ${wrong.join(', ')}`);
    w.net.queue.length = 0;
  }
  t.same(problems.slice(0, 20), [], `${what}: all ${cases.length} forgeries dropped silently (${problems.length} not)`);
  if (firstChanged !== null) t.comment(`first state change after: ${firstChanged}`);
}

/** Every shorter length, once as a short buffer and once with the cut bytes still in the buffer after the datagram. */
function truncations(msg: Uint8Array): Case[] {
  const out: Case[] = [];
  for (let len = 0; len < msg.length; len++) {
    out.push({ name: `truncated to ${len}`, data: msg.slice(0, len) });
    out.push({ name: `length ${len} with the rest of the message behind it`, data: msg, off: 0, len });
    const framed = new Uint8Array(msg.length + 8);
    framed.set(msg, 5);
    out.push({ name: `length ${len} at offset 5`, data: framed, off: 5, len });
  }
  return out;
}

function extensions(msg: Uint8Array, max: number): Case[] {
  const out: Case[] = [];
  for (let extra = 1; extra <= max; extra++) {
    out.push({ name: `extended by ${extra} zero-ish bytes`, data: extended(msg, extra, 0) });
    out.push({ name: `extended by ${extra} other bytes`, data: extended(msg, extra, 0x5a) });
  }
  return out;
}

function headerCases(msg: Uint8Array, remac?: Uint8Array): Case[] {
  const out: Case[] = [];
  const variants = (m: Uint8Array) => (remac ? [m, withValidMac1(m, remac)] : [m]);
  for (const type of [0, 1, 2, 3, 4, 5, 0x80, 0xff]) {
    if (type === msg[0]) continue;
    for (const [i, m] of variants(withByte(msg, 0, type)).entries()) out.push({ name: `type ${type}${i ? ' (mac1 redone)' : ''}`, data: m });
  }
  for (let off = 1; off < 4; off++) {
    for (const value of [1, 0x80, 0xff]) {
      for (const [i, m] of variants(withByte(msg, off, value)).entries()) {
        out.push({ name: `reserved byte ${off} = ${value}${i ? ' (mac1 redone)' : ''}`, data: m });
      }
    }
  }
  return out;
}

function bitFlips(msg: Uint8Array, bits: Iterable<number>, remacFor?: Uint8Array): Case[] {
  const out: Case[] = [];
  for (const bit of bits) {
    const flipped = flipBit(msg, bit);
    out.push({
      name: `bit ${bit} (byte ${bit >> 3}) flipped${remacFor ? ', mac1 redone' : ''}`,
      data: remacFor ? withValidMac1(flipped, remacFor) : flipped,
    });
  }
  return out;
}

/** X25519 public keys of small order (and non-canonical encodings of them): any DH with one is all zeros. */
const LOW_ORDER_POINTS: [string, Uint8Array][] = [
  ['0', new Uint8Array(32)],
  ['1', Uint8Array.of(1, ...new Array<number>(31).fill(0))],
  ['order 8', Uint8Array.from([0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4, 0x6a,
    0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00])],
  ['p - 1', Uint8Array.from([0xec, ...new Array<number>(30).fill(0xff), 0x7f])],
  ['p (zero, not reduced)', Uint8Array.from([0xed, ...new Array<number>(30).fill(0xff), 0x7f])],
  ['p + 1 (one, not reduced)', Uint8Array.from([0xee, ...new Array<number>(30).fill(0xff), 0x7f])],
];

function lowOrderEphemerals(msg: Uint8Array, at: number, receiverPublicKey: Uint8Array): Case[] {
  return LOW_ORDER_POINTS.map(([name, point]) => {
    const m = msg.slice();
    m.set(point, at);
    return { name: `ephemeral ${name}, mac1 redone`, data: withValidMac1(m, receiverPublicKey) };
  });
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i < to; i++) out.push(i);
  return out;
}

t.test('handshake initiation (148 bytes)', async (t) => {
  const w = world(11);
  const init = captureInitiation(w);
  t.equal(init.length, INITIATION_SIZE);
  const mac2Bits = (INITIATION_SIZE - MAC2_LEN) * 8;
  runCases(t, w, w.b, w.a.endpoint, truncations(init), 'truncations');
  runCases(t, w, w.b, w.a.endpoint, extensions(init, 64), 'extensions');
  runCases(t, w, w.b, w.a.endpoint, headerCases(init, w.b.publicKey), 'wrong type and reserved bytes');
  // mac2 is only looked at under load, so its bits are left out here (cookie.test.ts covers them).
  runCases(t, w, w.b, w.a.endpoint, bitFlips(init, range(0, mac2Bits)), 'every bit before mac2 flipped');
  // With mac1 recomputed the forgery reaches X25519 and the AEADs. The sender
  // index is not part of the Noise transcript (only mac1 covers it), so its
  // bits are skipped: a re-MACed initiation with another sender index is valid.
  runCases(t, w, w.b, w.a.endpoint, bitFlips(init, [...range(0, 32), ...range(INITIATION.ephemeral * 8, INITIATION.mac1 * 8)], w.b.publicKey),
    'every bit of type, ephemeral, static and timestamp flipped with a valid mac1');
  runCases(t, w, w.b, w.a.endpoint, lowOrderEphemerals(init, INITIATION.ephemeral, w.b.publicKey), 'low-order ephemeral keys');
  runCases(t, w, w.a, w.b.endpoint, [{ name: 'reflected to its sender', data: init }], 'reflection');

  const r = inject(w.net, w.b, framed(init), w.a.endpoint, FRAME_OFFSET, init.length);
  t.same(messageTypes(r.sent), [MESSAGE_RESPONSE], 'the untouched initiation is still answered');
});

t.test('the sender index is covered by mac1 only (why the bit flips above skip it)', async (t) => {
  const w = world(18);
  const init = captureInitiation(w);
  const forged = withValidMac1(withU32(init, INITIATION.senderIndex, 0x01020304), w.b.publicKey);
  const r = inject(w.net, w.b, forged, w.a.endpoint);
  t.same(messageTypes(r.sent), [MESSAGE_RESPONSE], 'accepted, as by any WireGuard');
  t.equal(r.sent[0]!.data[RESPONSE.receiverIndex], 0x04, 'and answered to the forged index, which the real initiator ignores');
});

t.test('under load, a forgery without a valid mac1 does not even earn a cookie reply', async (t) => {
  const w = world(17, { underLoadThreshold: 0 });
  const init = captureInitiation(w);
  const mac2Bits = (INITIATION_SIZE - MAC2_LEN) * 8;
  runCases(t, w, w.b, w.a.endpoint, [...truncations(init), ...extensions(init, 16), ...headerCases(init), ...bitFlips(init, range(0, mac2Bits))],
    'truncated, extended, retyped and bit-flipped initiations');
  const r = inject(w.net, w.b, init, w.a.endpoint);
  t.same(messageTypes(r.sent), [MESSAGE_COOKIE_REPLY], 'the untouched initiation gets its cookie reply (control)');
});

t.test('handshake response (92 bytes)', async (t) => {
  const w = world(12);
  const response = captureResponse(w);
  t.equal(response.length, RESPONSE_SIZE);
  const mac2Bits = (RESPONSE_SIZE - MAC2_LEN) * 8;
  runCases(t, w, w.a, w.b.endpoint, truncations(response), 'truncations');
  runCases(t, w, w.a, w.b.endpoint, extensions(response, 64), 'extensions');
  runCases(t, w, w.a, w.b.endpoint, headerCases(response, w.a.publicKey), 'wrong type and reserved bytes');
  runCases(t, w, w.a, w.b.endpoint, bitFlips(response, range(0, mac2Bits)), 'every bit before mac2 flipped');
  // Sender index skipped for the same reason as in the initiation.
  runCases(t, w, w.a, w.b.endpoint,
    bitFlips(response, [...range(0, 32), ...range(RESPONSE.receiverIndex * 8, RESPONSE.mac1 * 8)], w.a.publicKey),
    'every bit of type, receiver index, ephemeral and empty payload flipped with a valid mac1');
  runCases(t, w, w.a, w.b.endpoint, lowOrderEphemerals(response, RESPONSE.ephemeral, w.a.publicKey), 'low-order ephemeral keys');
  const sessionIndex = w.b.device.peerByKey(w.a.publicKey)!.keypairs.next!.localIndex;
  t.equal(w.a.device.indices.get(UNKNOWN_INDEX), undefined);
  runCases(t, w, w.a, w.b.endpoint, [
    { name: 'unknown receiver index', data: withValidMac1(withU32(response, RESPONSE.receiverIndex, UNKNOWN_INDEX), w.a.publicKey) },
    { name: 'receiver index zero', data: withValidMac1(withU32(response, RESPONSE.receiverIndex, 0), w.a.publicKey) },
  ], 'unknown receiver index');
  runCases(t, w, w.b, w.a.endpoint, [
    { name: 'reflected to its sender', data: response },
    { name: 'aimed at the responder\'s own session index', data: withValidMac1(withU32(response, RESPONSE.receiverIndex, sessionIndex), w.b.publicKey) },
  ], 'reflection, and a response aimed at a session index');

  const r = inject(w.net, w.a, framed(response), w.b.endpoint, FRAME_OFFSET, response.length);
  t.same(messageTypes(r.sent), [MESSAGE_TRANSPORT], 'the untouched response completes the handshake');
  t.ok(w.a.device.peerByKey(w.b.publicKey)!.keypairs.current);
});

t.test('cookie reply (64 bytes)', async (t) => {
  const w = world(13, { underLoadThreshold: 0 });
  const reply = captureCookieReply(w);
  t.equal(reply.length, COOKIE_REPLY_SIZE);
  t.equal(w.a.device.indices.get(UNKNOWN_INDEX), undefined);
  runCases(t, w, w.a, w.b.endpoint, truncations(reply), 'truncations');
  runCases(t, w, w.a, w.b.endpoint, extensions(reply, 64), 'extensions');
  runCases(t, w, w.a, w.b.endpoint, headerCases(reply), 'wrong type and reserved bytes');
  runCases(t, w, w.a, w.b.endpoint, bitFlips(reply, range(0, COOKIE_REPLY_SIZE * 8)), 'every bit flipped');
  runCases(t, w, w.a, w.b.endpoint, [
    { name: 'unknown receiver index', data: withU32(reply, COOKIE_REPLY.receiverIndex, UNKNOWN_INDEX) },
    { name: 'receiver index zero', data: withU32(reply, COOKIE_REPLY.receiverIndex, 0) },
  ], 'unknown receiver index');
  runCases(t, w, w.b, w.a.endpoint, [{ name: 'reflected to its sender', data: reply }], 'reflection');

  const cookiesBefore = JSON.stringify(snapshotState(w.a.device).peers);
  const r = inject(w.net, w.a, framed(reply), w.b.endpoint, FRAME_OFFSET, reply.length);
  t.same(r.sent, [], 'a cookie reply is never answered');
  t.not(JSON.stringify(snapshotState(w.a.device).peers), cookiesBefore, 'the untouched cookie reply is taken');
});

for (const keepalive of [true, false]) {
  t.test(`transport packet (${keepalive ? 'keepalive, 32 bytes' : 'data'})`, async (t) => {
    const w = world(keepalive ? 14 : 15);
    const { packet, sent } = captureTransport(w, keepalive);
    // B sends data that goes unanswered, so its new-handshake timer is armed: a forgery
    // counted as "authenticated traffic received" would disarm it.
    const fromB = ipv4Packet('10.0.0.2', '10.0.0.1');
    w.b.device.sendPacket(fromB, 0, fromB.length);
    takeOnly(w.net, MESSAGE_TRANSPORT);
    t.ok(w.b.device.peerByKey(w.a.publicKey)!.timers.pendingTimers().includes('newHandshake'), 'B waits to hear back');
    t.equal(packet.length, keepalive ? 32 : TRANSPORT_HEADER_SIZE + 128 + 16);
    t.equal(w.b.device.indices.get(UNKNOWN_INDEX), undefined);
    runCases(t, w, w.b, w.a.endpoint, truncations(packet), 'truncations');
    runCases(t, w, w.b, w.a.endpoint, extensions(packet, 64), 'extensions');
    runCases(t, w, w.b, w.a.endpoint, headerCases(packet), 'wrong type and reserved bytes');
    runCases(t, w, w.b, w.a.endpoint, bitFlips(packet, range(0, packet.length * 8)), 'every bit flipped');
    runCases(t, w, w.b, w.a.endpoint, [
      { name: 'unknown receiver index', data: withU32(packet, TRANSPORT.receiverIndex, UNKNOWN_INDEX) },
      { name: 'receiver index zero', data: withU32(packet, TRANSPORT.receiverIndex, 0) },
      { name: 'counter 2^53 (beyond exact integers)', data: withU32(withU32(packet, TRANSPORT.counter, 0), TRANSPORT.counter + 4, 0x200000) },
      { name: 'counter 2^64-1', data: withU32(withU32(packet, TRANSPORT.counter, 0xffffffff), TRANSPORT.counter + 4, 0xffffffff) },
    ], 'unknown index and impossible counters');
    runCases(t, w, w.a, w.b.endpoint, [{ name: 'reflected to its sender', data: packet }], 'reflection');

    // An index that names a handshake in progress, not a session, must not take transport data.
    w.b.device.forceRekey(w.a.publicKey);
    const hsIndex = w.b.device.peerByKey(w.a.publicKey)!.handshake.localIndex;
    t.not(hsIndex, 0, 'B has a handshake in progress');
    w.net.queue.length = 0;
    runCases(t, w, w.b, w.a.endpoint, [{ name: 'aimed at a handshake index', data: withU32(packet, TRANSPORT.receiverIndex, hsIndex) }],
      'transport aimed at a handshake index');

    const r = inject(w.net, w.b, framed(packet), w.a.endpoint, FRAME_OFFSET, packet.length);
    t.same(r.delivered, keepalive ? [] : [sent], 'the untouched packet is still accepted, and delivered intact');
    t.equal(w.b.device.peerByKey(w.a.publicKey)!.keypairs.current!.replay.check(readCounterOf(packet)), false,
      'and its counter is now taken');
  });
}

function readCounterOf(packet: Uint8Array): number {
  return new DataView(packet.buffer, packet.byteOffset).getUint32(TRANSPORT.counter, true);
}

t.test('the first transport packet, which confirms the responder\'s session', async (t) => {
  const w = world(19);
  const response = captureResponse(w);
  inject(w.net, w.a, response, w.b.endpoint);
  const first = takeOnly(w.net, MESSAGE_TRANSPORT).data;
  const pb = w.b.device.peerByKey(w.a.publicKey)!;
  t.ok(pb.keypairs.next && !pb.keypairs.current, 'B holds an unconfirmed session');
  runCases(t, w, w.b, w.a.endpoint, [...truncations(first), ...bitFlips(first, range(0, first.length * 8))],
    'truncated and bit-flipped copies');
  t.ok(pb.keypairs.next && !pb.keypairs.current, 'still unconfirmed');
  const r = inject(w.net, w.b, first, w.a.endpoint);
  t.equal(r.delivered.length, 1, 'the untouched packet is delivered');
  t.ok(pb.keypairs.current && !pb.keypairs.next, 'and confirms the session (control)');
});

t.test('an authenticated transport packet with a malformed IP packet inside is not delivered', async (t) => {
  const w = world(16);
  sendData(w);
  w.net.deliver();
  const pa = w.a.device.peerByKey(w.b.publicKey)!;
  const ipv4 = (len: number, totalLength: number, version = 4) => {
    const p = new Uint8Array(len);
    p[0] = (version << 4) | 5;
    p[2] = totalLength >> 8; p[3] = totalLength & 255;
    if (len >= 20) { p.set([10, 0, 0, 1], 12); p.set([10, 0, 0, 2], 16); }
    return p;
  };
  const ipv6 = (len: number, payloadLength: number) => {
    const p = new Uint8Array(len);
    p[0] = 0x60; p[4] = payloadLength >> 8; p[5] = payloadLength & 255;
    return p;
  };
  // Plaintext is zero-padded to 16 bytes, so "too short" means too short even with the padding.
  const cases: [string, Uint8Array][] = [
    ['one byte', Uint8Array.of(0x45)],
    ['IPv4 header of 19 bytes claiming 19', ipv4(19, 19)],
    ['IPv4 claiming more than it holds', ipv4(28, 100)],
    ['IPv4 claiming less than a header', ipv4(28, 10)],
    ['IPv4 claiming zero', ipv4(28, 0)],
    ['version 0', ipv4(28, 28, 0)],
    ['version 5', ipv4(28, 28, 5)],
    ['version 15', ipv4(28, 28, 15)],
    ['IPv6 header of 30 bytes', ipv6(30, 0)],
    ['IPv6 claiming more than it holds', ipv6(40, 100)],
  ];
  const problems: string[] = [];
  for (const [name, inner] of cases) {
    encryptAndSend(w.a.device, pa, pa.keypairs.current!, inner, 0, inner.length);
    const packet = takeOnly(w.net, MESSAGE_TRANSPORT).data;
    const invalid = w.b.device.stats.invalid;
    const r = inject(w.net, w.b, packet, w.a.endpoint);
    if (r.delivered.length > 0 || r.sent.length > 0 || w.b.device.stats.invalid !== invalid + 1) problems.push(name);
  }
  t.same(problems, [], 'none delivered, each counted invalid');
  const short = ipv4(28, 24);
  encryptAndSend(w.a.device, pa, pa.keypairs.current!, short, 0, short.length);
  const r = inject(w.net, w.b, takeOnly(w.net, MESSAGE_TRANSPORT).data, w.a.endpoint);
  t.same(r.delivered, [short.subarray(0, 24)], 'a packet is cut to the length its header claims (control)');
});

t.test('replayed messages', async (t) => {
  t.test('an initiation replayed after it was answered gets no second response (TAI64N)', async (t) => {
    const w = world(21);
    const init = captureInitiation(w);
    t.same(messageTypes(inject(w.net, w.b, init, w.a.endpoint).sent), [MESSAGE_RESPONSE]);
    w.net.queue.length = 0;
    w.clock.advance(1000); // well past the per-peer flood limit, so only the timestamp can refuse it
    w.net.queue.length = 0;
    runCases(t, w, w.b, w.a.endpoint, [{ name: 'replay', data: init }], 'same source');
    runCases(t, w, w.b, { address: '198.51.100.9', port: 4444 }, [{ name: 'replay', data: init }], 'other source');
  });

  t.test('an older initiation seen after a newer one is refused', async (t) => {
    const w = world(22);
    const older = captureInitiation(w);
    w.clock.advance(6000); // the retransmission timer fires: a newer initiation
    const newer = takeOnly(w.net, MESSAGE_INITIATION).data;
    t.same(messageTypes(inject(w.net, w.b, newer, w.a.endpoint).sent), [MESSAGE_RESPONSE]);
    w.net.queue.length = 0;
    w.clock.advance(1000);
    w.net.queue.length = 0;
    runCases(t, w, w.b, w.a.endpoint, [{ name: 'older initiation', data: older }], 'older timestamp');
  });

  t.test('a response replayed after the session exists is dropped', async (t) => {
    const w = world(23);
    const response = captureResponse(w);
    t.same(messageTypes(inject(w.net, w.a, response, w.b.endpoint).sent), [MESSAGE_TRANSPORT]);
    w.net.queue.length = 0;
    runCases(t, w, w.a, w.b.endpoint, [{ name: 'replay', data: response }], 'response replay');
  });

  t.test('a cookie reply is taken once', async (t) => {
    const w = world(24, { underLoadThreshold: 0 });
    const reply = captureCookieReply(w);
    inject(w.net, w.a, reply, w.b.endpoint);
    runCases(t, w, w.a, w.b.endpoint, [{ name: 'replay', data: reply }], 'cookie reply replay');
  });

  t.test('a transport packet is delivered once', async (t) => {
    const w = world(25);
    const { packet } = captureTransport(w, false);
    t.equal(inject(w.net, w.b, packet, w.a.endpoint).delivered.length, 1);
    runCases(t, w, w.b, w.a.endpoint, [{ name: 'replay', data: packet }], 'same source');
    runCases(t, w, w.b, { address: '198.51.100.9', port: 4444 }, [{ name: 'replay', data: packet }], 'other source');
    w.clock.advance(30_000);
    w.net.queue.length = 0;
    runCases(t, w, w.b, w.a.endpoint, [{ name: 'replay 30 s later', data: packet }], 'later');
  });
});

t.test('snapshotState sees the changes it is meant to catch', async (t) => {
  // Guards the guard: if the snapshot missed these, every test above would pass vacuously.
  const w = world(31);
  const peerB = w.b.device.peerByKey(w.a.publicKey)!;
  const base = snapshotKey(w.b.device);
  peerB.endpoint = { ...peerB.endpoint! };
  t.not(snapshotKey(w.b.device), base, 'an endpoint replaced by an equal copy');
  const init = captureInitiation(w);
  inject(w.net, w.b, init, w.a.endpoint);
  w.net.queue.length = 0;
  const afterHandshake = snapshotKey(w.b.device);
  peerB.handshake.lastInitiationConsumed -= 1;
  t.not(snapshotKey(w.b.device), afterHandshake, 'the flood-limit time');
  const kp = peerB.keypairs.next!;
  const s1 = snapshotKey(w.b.device);
  kp.replay.accept(5);
  t.not(snapshotKey(w.b.device), s1, 'one replay-window bit');
  const s2 = snapshotKey(w.b.device);
  kp.sendCounter++;
  t.not(snapshotKey(w.b.device), s2, 'a send counter');
  const s3 = snapshotKey(w.b.device);
  w.b.device.rateLimiter.allow(Uint8Array.of(1, 2, 3, 4), 0);
  t.not(snapshotKey(w.b.device), s3, 'the rate limiter');
  const s4 = snapshotKey(w.b.device);
  t.equal(snapshotKey(w.b.device), s4, 'and is stable when nothing happens');
});
