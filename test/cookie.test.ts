// mac1, mac2 and cookie replies at the device level: mac1 is always
// required; under load a handshake without a valid mac2 earns exactly one
// cookie reply and nothing else; cookies are bound to the sender's address
// and die with the secret that made them; the per-source rate limiter
// throttles one address without shutting out another.
import t, { type Test } from 'tap';
import {
  COOKIE_REPLY_SIZE, COOKIE_SECRET_MAX_AGE, INITIATION_SIZE, MESSAGE_COOKIE_REPLY, MESSAGE_INITIATION,
  MESSAGE_RESPONSE, MESSAGE_TRANSPORT, REKEY_TIMEOUT, REKEY_TIMEOUT_JITTER_MAX,
} from '../src/protocol/constants.js';
import { COOKIE_REPLY, INITIATION, readU32, RESPONSE } from '../src/protocol/messages.js';
import { CookieChecker, CookieGenerator } from '../src/protocol/cookie.js';
import { isZero } from '../src/crypto/equal.js';
import type { Endpoint } from '../src/platform/platform.js';
import { flipBit, inject, takeOnly } from './helpers/forge.js';
import { type StateSnapshot, snapshotKey, snapshotState } from './helpers/snapshot.js';
import { ipv4Packet, messageTypes, type Node, seededRandom, VirtualClock, VirtualNetwork } from './helpers/virtual.js';

const MAC1_AT = INITIATION.mac1;
const MAC2_AT = INITIATION.mac2;
const RETRANSMIT_WAIT = REKEY_TIMEOUT + REKEY_TIMEOUT_JITTER_MAX;

/** B demands cookies when it sees more than `threshold` handshake messages a second (0: always). */
function world(seed: number, threshold: number) {
  const clock = new VirtualClock();
  const net = new VirtualNetwork(clock, seededRandom(seed));
  const a = net.addNode('a', '192.0.2.1', 51820);
  const b = net.addNode('b', '192.0.2.2', 51820, { underLoadThreshold: threshold });
  const c = net.addNode('c', '192.0.2.3', 51820);
  net.pair(a, ['10.0.0.1/32'], b, ['10.0.0.2/32']);
  net.pair(c, ['10.0.0.3/32'], b, ['10.0.0.2/32']);
  return { clock, net, a, b, c };
}
type World = ReturnType<typeof world>;

function sendFrom(node: Node, srcIp: string): Uint8Array {
  const packet = ipv4Packet(srcIp, '10.0.0.2');
  node.device.sendPacket(packet, 0, packet.length);
  return packet;
}

/** The cookie secret is the only thing a cookie reply may change on the responder. */
function withoutCookieSecret(s: StateSnapshot): string {
  const all = { ...(s.all as Record<string, unknown>) };
  delete all['cookieChecker'];
  return JSON.stringify({ ...s, cookieChecker: null, all });
}

/**
 * Lets `node` collect a cookie from B (B must be under load) and returns its
 * next initiation, which carries mac2, without delivering it.
 */
function initiationWithCookie(t: Test, w: World, node: Node, srcIp: string): Uint8Array {
  sendFrom(node, srcIp);
  const first = takeOnly(w.net, MESSAGE_INITIATION).data;
  t.ok(isZero(first.subarray(MAC2_AT)), 'a first initiation has no mac2');
  const reply = inject(w.net, w.b, first, node.endpoint).sent;
  if (messageTypes(reply).join() !== String(MESSAGE_COOKIE_REPLY)) throw new Error('expected a cookie reply');
  w.net.queue.length = 0;
  t.same(inject(w.net, node, reply[0]!.data, w.b.endpoint).sent, [], 'the cookie reply is taken silently');
  node.device.forceRekey(w.b.publicKey);
  const next = takeOnly(w.net, MESSAGE_INITIATION).data;
  t.notOk(isZero(next.subarray(MAC2_AT)), 'the next initiation carries mac2');
  return next;
}

t.test('mac1 is always required, even from a known peer', async (t) => {
  for (const threshold of [1e9, 0]) {
    const w = world(1, threshold);
    const label = threshold === 0 ? 'under load' : 'not under load';
    sendFrom(w.a, '10.0.0.1');
    const init = takeOnly(w.net, MESSAGE_INITIATION).data;
    const base = snapshotKey(w.b.device);
    const forgeries = [
      flipBit(init, MAC1_AT * 8),
      flipBit(init, MAC2_AT * 8 - 1),
      (() => { const m = init.slice(); m.fill(0, MAC1_AT, MAC2_AT); return m; })(),
      // A valid-looking mac1, keyed with the sender's own public key instead of the receiver's.
      (() => { const m = init.slice(); m.set(macWithKeyOf(w.a.publicKey, m), MAC1_AT); return m; })(),
    ];
    for (const [i, m] of forgeries.entries()) {
      const r = inject(w.net, w.b, m, w.a.endpoint);
      t.same(r.sent, [], `${label}: forgery ${i} gets no reply, not even a cookie`);
    }
    t.equal(snapshotKey(w.b.device), base, `${label}: and changes nothing`);
    t.equal(w.b.device.stats.cookieRepliesSent, 0);
    t.same(messageTypes(inject(w.net, w.b, init, w.a.endpoint).sent), [threshold === 0 ? MESSAGE_COOKIE_REPLY : MESSAGE_RESPONSE],
      `${label}: the real initiation is handled`);
  }
});

/** mac1 of msg computed under the mac1 key of `publicKey` (how a sender who has the wrong key would compute it). */
function macWithKeyOf(publicKey: Uint8Array, msg: Uint8Array): Uint8Array {
  const probe = msg.slice();
  new CookieGenerator(publicKey).addMacs(probe, INITIATION_SIZE, 0);
  return probe.subarray(MAC1_AT, MAC2_AT);
}

t.test('under load, an initiation without mac2 gets one cookie reply and changes nothing', async (t) => {
  const w = world(2, 0);
  sendFrom(w.a, '10.0.0.1');
  const init = takeOnly(w.net, MESSAGE_INITIATION).data;
  const before = snapshotState(w.b.device);
  const r = inject(w.net, w.b, init, w.a.endpoint);
  t.equal(r.sent.length, 1, 'exactly one datagram in answer');
  const reply = r.sent[0]!;
  t.equal(reply.data.length, COOKIE_REPLY_SIZE);
  t.equal(reply.data[0], MESSAGE_COOKIE_REPLY);
  t.same([...reply.data.subarray(1, 4)], [0, 0, 0], 'reserved bytes zero');
  t.equal(readU32(reply.data, COOKIE_REPLY.receiverIndex), readU32(init, INITIATION.senderIndex), 'addressed to the initiation\'s sender index');
  t.same(reply.to, w.a.endpoint, 'sent back to the source');
  t.same(r.delivered, []);
  t.equal(w.b.device.stats.cookieRepliesSent, 1);
  t.equal(withoutCookieSecret(snapshotState(w.b.device)), withoutCookieSecret(before), 'nothing but the cookie secret changed');
  const pb = w.b.device.peerByKey(w.a.publicKey)!;
  t.equal(pb.keypairs.next, null, 'no session');
  t.equal(pb.handshake.state, 0, 'no handshake');

  // The secret now exists: a second cookie-less initiation changes nothing at all.
  w.net.queue.length = 0;
  const again = snapshotKey(w.b.device);
  const r2 = inject(w.net, w.b, init, w.a.endpoint);
  t.same(messageTypes(r2.sent), [MESSAGE_COOKIE_REPLY]);
  t.not(r2.sent[0]!.data.subarray(COOKIE_REPLY.nonce, COOKIE_REPLY.nonce + 24).join(), reply.data.subarray(COOKIE_REPLY.nonce, COOKIE_REPLY.nonce + 24).join(),
    'each reply has a fresh nonce');
  t.equal(snapshotKey(w.b.device), again, 'the second cookie reply changed nothing');

  // mac2 is what is checked under load: a wrong one (any bit) gets a cookie reply, never a response.
  w.net.queue.length = 0;
  const wrong: string[] = [];
  for (let bit = MAC2_AT * 8; bit < INITIATION_SIZE * 8; bit++) {
    const res = inject(w.net, w.b, flipBit(init, bit), w.a.endpoint);
    if (messageTypes(res.sent).join() !== String(MESSAGE_COOKIE_REPLY)) wrong.push(`bit ${bit}: [${messageTypes(res.sent)}]`);
    w.net.queue.length = 0;
  }
  t.same(wrong, [], 'every mac2 bit flip is answered by a cookie reply only');
  t.equal(snapshotKey(w.b.device), again, 'and changes nothing');
});

t.test('the initiator takes the cookie and its retransmission is accepted', async (t) => {
  const w = world(3, 0);
  const packet = sendFrom(w.a, '10.0.0.1');
  w.net.deliver();
  t.same(messageTypes(w.net.log), [MESSAGE_INITIATION, MESSAGE_COOKIE_REPLY], 'a cookie reply instead of a response');
  const pa = w.a.device.peerByKey(w.b.publicKey)!;
  t.equal(pa.keypairs.current, null);
  w.net.run(RETRANSMIT_WAIT);
  t.same(messageTypes(w.net.log), [MESSAGE_INITIATION, MESSAGE_COOKIE_REPLY, MESSAGE_INITIATION, MESSAGE_RESPONSE, MESSAGE_TRANSPORT],
    'the retransmission carries mac2, is answered, and the staged packet follows');
  t.notOk(isZero(w.net.log[2]!.data.subarray(MAC2_AT)), 'the retransmitted initiation has a mac2');
  t.same(w.b.delivered, [packet], 'data arrives');
  t.equal(w.b.device.stats.cookieRepliesSent, 1);
});

/** B's cookie reply to A's first initiation, not yet delivered. */
function firstCookieReply(w: World): Uint8Array {
  sendFrom(w.a, '10.0.0.1');
  inject(w.net, w.b, takeOnly(w.net, MESSAGE_INITIATION).data, w.a.endpoint);
  return takeOnly(w.net, MESSAGE_COOKIE_REPLY).data;
}

t.test('an initiator under load sends the responder a cookie, and the handshake still completes', async (t) => {
  const clock = new VirtualClock();
  const net = new VirtualNetwork(clock, seededRandom(12));
  const a = net.addNode('a', '192.0.2.1', 51820, { underLoadThreshold: 0 });
  const b = net.addNode('b', '192.0.2.2', 51820, { underLoadThreshold: 0 });
  net.pair(a, ['10.0.0.1/32'], b, ['10.0.0.2/32']);
  const packet = sendFrom(a, '10.0.0.1');
  net.deliver();
  t.same(messageTypes(net.log), [MESSAGE_INITIATION, MESSAGE_COOKIE_REPLY], 'B wants a cookie from A');
  net.run(RETRANSMIT_WAIT);
  t.same(messageTypes(net.log).slice(2), [MESSAGE_INITIATION, MESSAGE_RESPONSE, MESSAGE_COOKIE_REPLY],
    'B accepts the retry; its response lacks mac2, so A answers with a cookie of its own');
  t.equal(net.log[4]!.from, a.endpoint);
  t.equal(a.device.peerByKey(b.publicKey)!.keypairs.current, null, 'A has no session yet');
  net.run(RETRANSMIT_WAIT);
  t.same(messageTypes(net.log).slice(5), [MESSAGE_INITIATION, MESSAGE_RESPONSE, MESSAGE_TRANSPORT],
    'on A\'s next retry B\'s response carries mac2 and is accepted');
  t.notOk(isZero(net.log[6]!.data.subarray(RESPONSE.mac2)), 'the response has a mac2');
  t.same(b.delivered, [packet], 'data arrives');
});

t.test('a bad cookie reply is ignored and the next initiation still lacks mac2', async (t) => {
  const cases: [string, (reply: Uint8Array, w: World) => Uint8Array][] = [
    ['wrong receiver index', (r) => { const m = r.slice(); m[COOKIE_REPLY.receiverIndex] ^= 1; return m; }],
    ['tampered nonce', (r) => flipBit(r, COOKIE_REPLY.nonce * 8 + 3)],
    ['tampered encrypted cookie', (r) => flipBit(r, COOKIE_REPLY.encryptedCookie * 8 + 9)],
    ['tampered tag', (r) => flipBit(r, COOKIE_REPLY_SIZE * 8 - 1)],
  ];
  for (const [name, tamper] of cases) {
    const w = world(4, 0);
    const reply = firstCookieReply(w);
    const base = snapshotKey(w.a.device);
    t.same(inject(w.net, w.a, tamper(reply, w), w.b.endpoint).sent, [], `${name}: no answer`);
    t.equal(snapshotKey(w.a.device), base, `${name}: initiator unchanged`);
    w.clock.advance(RETRANSMIT_WAIT);
    const retry = takeOnly(w.net, MESSAGE_INITIATION).data;
    t.ok(isZero(retry.subarray(MAC2_AT)), `${name}: the retransmission has no mac2`);
    t.same(messageTypes(inject(w.net, w.b, retry, w.a.endpoint).sent), [MESSAGE_COOKIE_REPLY], `${name}: and earns another cookie reply`);
  }

  // A genuine reply to an older initiation: its AEAD is bound to that initiation's mac1.
  const w = world(5, 0);
  const stale = firstCookieReply(w);
  w.clock.advance(RETRANSMIT_WAIT); // A sends a newer initiation with a new mac1
  takeOnly(w.net, MESSAGE_INITIATION);
  const base = snapshotKey(w.a.device);
  inject(w.net, w.a, stale, w.b.endpoint);
  t.equal(snapshotKey(w.a.device), base, 'a cookie reply to an older initiation is ignored');
});

t.test('rotating the cookie secret invalidates old cookies', async (t) => {
  const w = world(6, 0);
  const withCookie = initiationWithCookie(t, w, w.a, '10.0.0.1'); // the secret was born at t = 0
  // Let A's retransmissions fall on the floor meanwhile.
  w.clock.advance(COOKIE_SECRET_MAX_AGE - 1000);
  w.net.queue.length = 0;
  t.same(messageTypes(inject(w.net, w.b, withCookie, w.a.endpoint).sent), [MESSAGE_RESPONSE],
    'one second before the secret expires the cookie is still good');
  w.net.queue.length = 0;
  w.clock.advance(2000);
  w.net.queue.length = 0;
  // Were mac2 still valid, the replayed initiation would be dropped silently (old timestamp).
  const r = inject(w.net, w.b, withCookie, w.a.endpoint);
  t.same(messageTypes(r.sent), [MESSAGE_COOKIE_REPLY], 'one second after, the same mac2 earns a cookie reply');

  // The CookieChecker on its own, with times chosen freely.
  const random = seededRandom(7);
  const checker = new CookieChecker(w.b.publicKey, random);
  const generator = new CookieGenerator(w.b.publicKey);
  const source = Uint8Array.of(192, 0, 2, 1, 0xca, 0x6c);
  const msg = new Uint8Array(INITIATION_SIZE);
  msg[0] = MESSAGE_INITIATION;
  generator.addMacs(msg, INITIATION_SIZE, 0);
  t.ok(generator.consumeReply(checker.createReply(msg, INITIATION_SIZE, 0, source, 1000), 1000));
  generator.addMacs(msg, INITIATION_SIZE, 2000);
  t.ok(checker.checkMac2(msg, INITIATION_SIZE, source, 2000), 'fresh cookie accepted');
  t.ok(checker.checkMac2(msg, INITIATION_SIZE, source, 1000 + COOKIE_SECRET_MAX_AGE), 'accepted up to the secret\'s maximum age');
  t.notOk(checker.checkMac2(msg, INITIATION_SIZE, source, 1001 + COOKIE_SECRET_MAX_AGE), 'refused once the secret is too old');
  checker.createReply(msg, INITIATION_SIZE, 0, source, 2000 + COOKIE_SECRET_MAX_AGE); // rotates the secret
  t.notOk(checker.checkMac2(msg, INITIATION_SIZE, source, 2000 + COOKIE_SECRET_MAX_AGE), 'still refused under the new secret');
});

t.test('a cookie is bound to the source address and port', async (t) => {
  const w = world(8, 0);
  const withCookie = initiationWithCookie(t, w, w.a, '10.0.0.1');
  const base = snapshotKey(w.b.device);
  const elsewhere: Endpoint[] = [
    { address: w.a.endpoint.address, port: w.a.endpoint.port + 1 },
    { address: '192.0.2.99', port: w.a.endpoint.port },
    { address: '2001:db8::1', port: w.a.endpoint.port },
  ];
  for (const from of elsewhere) {
    const r = inject(w.net, w.b, withCookie, from);
    t.same(messageTypes(r.sent), [MESSAGE_COOKIE_REPLY], `from ${from.address}:${from.port}: a cookie reply, not a response`);
    t.same(r.sent[0]!.to, from, 'sent to where the initiation came from');
    w.net.queue.length = 0;
  }
  t.equal(snapshotKey(w.b.device), base, 'none of them changed B');
  t.same(messageTypes(inject(w.net, w.b, withCookie, w.a.endpoint).sent), [MESSAGE_RESPONSE], 'from the cookie\'s own source it is accepted');
});

t.test('the per-source rate limiter throttles one source, not another', async (t) => {
  const w = world(9, 0);
  initiationWithCookie(t, w, w.a, '10.0.0.1');
  const fromC = initiationWithCookie(t, w, w.c, '10.0.0.3');
  // A starts a fresh, valid handshake every 20 ms (the per-peer flood limit), all at one source.
  const answered: boolean[] = [];
  for (let i = 0; i < 12; i++) {
    w.clock.advance(20);
    w.net.queue.length = 0;
    w.a.device.forceRekey(w.b.publicKey);
    const init = takeOnly(w.net, MESSAGE_INITIATION).data;
    answered.push(messageTypes(inject(w.net, w.b, init, w.a.endpoint).sent).join() === String(MESSAGE_RESPONSE));
  }
  const refused = answered.filter((x) => !x).length;
  t.same(answered.slice(0, 5), [true, true, true, true, true], 'a burst of five is let through');
  t.ok(refused > 0, `the rest is throttled (${refused} of 12 refused: ${answered.map(Number).join('')})`);
  t.equal(w.b.device.stats.rateLimited, refused, 'each refusal was the rate limiter\'s');
  t.equal(w.b.device.stats.invalid, 0, 'none reached the handshake code');
  t.notOk(answered[answered.length - 1], 'A\'s source is limited right now');
  w.net.queue.length = 0;
  t.same(messageTypes(inject(w.net, w.b, fromC, w.c.endpoint).sent), [MESSAGE_RESPONSE], 'while another source gets through');
  w.clock.advance(1000);
  w.net.queue.length = 0;
  w.a.device.forceRekey(w.b.publicKey);
  const later = takeOnly(w.net, MESSAGE_INITIATION).data;
  t.same(messageTypes(inject(w.net, w.b, later, w.a.endpoint).sent), [MESSAGE_RESPONSE], 'and A\'s source recovers after a second');
});

t.test('cookies are demanded only above the load threshold', async (t) => {
  const w = world(10, 2);
  const types: number[][] = [];
  for (let i = 0; i < 3; i++) {
    w.net.queue.length = 0;
    w.clock.advance(30);
    w.a.device.forceRekey(w.b.publicKey);
    const init = takeOnly(w.net, MESSAGE_INITIATION).data;
    types.push(messageTypes(inject(w.net, w.b, init, w.a.endpoint).sent));
  }
  t.same(types, [[MESSAGE_RESPONSE], [MESSAGE_RESPONSE], [MESSAGE_COOKIE_REPLY]], 'two a second are fine, the third is under load');
  w.clock.advance(2100);
  w.net.queue.length = 0;
  w.a.device.forceRekey(w.b.publicKey);
  const init = takeOnly(w.net, MESSAGE_INITIATION).data;
  t.same(messageTypes(inject(w.net, w.b, init, w.a.endpoint).sent), [MESSAGE_RESPONSE], 'load mode ends once the rate drops');
});
