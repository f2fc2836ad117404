// Stealth: a device answers only peers it knows, holding the right keys.
// Strangers, peers with the wrong preshared key and removed peers get no
// session, no data through, and (apart from a cookie reply under load to
// someone who knows our public key) no answer at all.
import t from 'tap';
import {
  MESSAGE_COOKIE_REPLY, MESSAGE_INITIATION, MESSAGE_RESPONSE, MESSAGE_TRANSPORT, REKEY_ATTEMPT_TIME,
} from '../src/protocol/constants.js';
import { isZero } from '../src/crypto/equal.js';
import { generatePresharedKey } from '../src/crypto/keys.js';
import { parseCidr } from '../src/routing/ip.js';
import { inject, takeOnly } from './helpers/forge.js';
import { snapshotKey, snapshotState } from './helpers/snapshot.js';
import { ipv4Packet, messageTypes, type Node, seededRandom, VirtualClock, VirtualNetwork } from './helpers/virtual.js';

function world(seed: number, bThreshold?: number) {
  const clock = new VirtualClock();
  const random = seededRandom(seed);
  const net = new VirtualNetwork(clock, random);
  const a = net.addNode('a', '192.0.2.1', 51820);
  const b = net.addNode('b', '192.0.2.2', 51820, bThreshold !== undefined ? { underLoadThreshold: bThreshold } : {});
  return { clock, random, net, a, b };
}
type World = ReturnType<typeof world>;

function send(from: Node, src: string, dst: string): Uint8Array {
  const p = ipv4Packet(src, dst);
  from.device.sendPacket(p, 0, p.length);
  return p;
}

/** Datagrams sent by `node` so far. */
function sentBy(w: World, node: Node) {
  return w.net.log.filter((d) => d.from === node.endpoint);
}

/** `stranger` has B as a peer; B has never heard of it. */
function addStranger(w: World): Node {
  const s = w.net.addNode('stranger', '192.0.2.66', 51820);
  s.device.applyChange({ replacePeers: false, peers: [{
    publicKey: w.b.publicKey, remove: false, updateOnly: false, endpoint: w.b.endpoint,
    replaceAllowedIps: true, allowedIps: [{ cidr: parseCidr('10.0.0.0/24')!, remove: false }],
  }] });
  return s;
}

function setPsk(node: Node, peer: Node, psk: Uint8Array | null): void {
  node.device.applyChange({ replacePeers: false, peers: [{
    publicKey: peer.publicKey, remove: false, updateOnly: true, presharedKey: psk, replaceAllowedIps: false, allowedIps: [],
  }] });
}

function removePeer(node: Node, peer: Node): void {
  node.device.applyChange({ replacePeers: false, peers: [{
    publicKey: peer.publicKey, remove: true, updateOnly: false, replaceAllowedIps: false, allowedIps: [],
  }] });
}

t.test('a stranger gets no answer and changes nothing', async (t) => {
  const w = world(1);
  w.net.pair(w.a, ['10.0.0.1/32'], w.b, ['10.0.0.2/32']); // B has a peer, just not this one
  const s = addStranger(w);
  send(s, '10.0.0.9', '10.0.0.2');
  const init = takeOnly(w.net, MESSAGE_INITIATION).data;
  const base = snapshotKey(w.b.device);
  const invalid = w.b.device.stats.invalid;
  t.same(inject(w.net, w.b, init, s.endpoint).sent, [], 'no reply to its initiation');
  t.equal(snapshotKey(w.b.device), base, 'B unchanged');
  t.equal(w.b.device.stats.invalid, invalid + 1, 'counted as invalid');

  // Left to its retransmission timers for the whole rekey attempt time.
  w.net.run(REKEY_ATTEMPT_TIME + 30_000);
  t.ok(sentBy(w, s).length >= 10, `the stranger kept trying (${sentBy(w, s).length} initiations)`);
  t.same([...new Set(messageTypes(sentBy(w, s)))], [MESSAGE_INITIATION], 'with initiations only');
  t.same(sentBy(w, w.b), [], 'B never sent a single datagram');
  t.equal(w.b.device.status().peers.length, 1, 'and learnt no peer');
  t.same(w.b.delivered, []);
});

/** B's snapshot minus what cookie replies and the rate limiter legitimately change under load. */
function withoutLoadDefences(node: Node): string {
  const snap = snapshotState(node.device);
  const all = { ...(snap.all as Record<string, unknown>) };
  delete all['cookieChecker'];
  delete all['rateLimiter'];
  delete all['rateLimiterCollected'];
  return JSON.stringify({ ...snap, cookieChecker: null, rateLimiter: null, all });
}

t.test('under load, a stranger who knows our key gets a cookie reply and nothing more', async (t) => {
  const w = world(2, 0);
  const s = addStranger(w);
  const base = withoutLoadDefences(w.b);
  send(s, '10.0.0.9', '10.0.0.2');
  w.net.deliver();
  t.same(messageTypes(w.net.log), [MESSAGE_INITIATION, MESSAGE_COOKIE_REPLY], 'the cookie reply');
  w.net.run(10_000);
  t.ok(sentBy(w, s).length >= 2, 'the stranger retried with its cookie');
  t.same(messageTypes(sentBy(w, w.b)).filter((x) => x !== MESSAGE_COOKIE_REPLY), [], 'B never sent anything but cookie replies');
  t.equal(withoutLoadDefences(w.b), base, 'B unchanged apart from its cookie secret and rate-limiter buckets');
});

t.test('a peer with the wrong preshared key never gets a session', async (t) => {
  for (const [label, pskA, pskB] of [
    ['different keys', 1, 2],
    ['only the initiator has one', 1, 0],
    ['only the responder has one', 0, 2],
  ] as const) {
    const w = world(3);
    const keys = [null, generatePresharedKey(w.random), generatePresharedKey(w.random)];
    w.net.pair(w.a, ['10.0.0.1/32'], w.b, ['10.0.0.2/32']);
    setPsk(w.a, w.b, keys[pskA]!);
    setPsk(w.b, w.a, keys[pskB]!);
    send(w.a, '10.0.0.1', '10.0.0.2');
    w.net.run(REKEY_ATTEMPT_TIME + 30_000);
    const types = messageTypes(w.net.log);
    t.ok(types.filter((x) => x === MESSAGE_INITIATION).length >= 10, `${label}: the initiator kept trying`);
    t.ok(types.includes(MESSAGE_RESPONSE), `${label}: the responder, unable to tell, did answer`);
    t.notOk(types.includes(MESSAGE_TRANSPORT), `${label}: but no transport packet ever went out`);
    const pa = w.a.device.peerByKey(w.b.publicKey)!;
    const pb = w.b.device.peerByKey(w.a.publicKey)!;
    t.same([pa.keypairs.current, pa.keypairs.next, pb.keypairs.current], [null, null, null], `${label}: no usable session either side`);
    t.equal(pa.lastHandshakeWallMs, 0, `${label}: the initiator never completed a handshake`);
    t.same([w.a.delivered, w.b.delivered], [[], []], `${label}: nothing delivered`);

    // The other direction fails the same way.
    w.net.log.length = 0;
    send(w.b, '10.0.0.2', '10.0.0.1');
    w.net.run(20_000);
    t.notOk(messageTypes(w.net.log).includes(MESSAGE_TRANSPORT), `${label}: nor when the other side initiates`);
    t.same([w.a.delivered, w.b.delivered], [[], []]);
  }

  // Control: the same story with equal keys works.
  const w = world(3);
  const psk = generatePresharedKey(w.random);
  w.net.pair(w.a, ['10.0.0.1/32'], w.b, ['10.0.0.2/32'], { psk });
  const p = send(w.a, '10.0.0.1', '10.0.0.2');
  w.net.deliver();
  t.same(w.b.delivered, [p], 'with matching preshared keys the packet arrives');
});

t.test('a removed peer gets no answer', async (t) => {
  const w = world(4);
  w.net.pair(w.a, ['10.0.0.1/32'], w.b, ['10.0.0.2/32']);
  removePeer(w.b, w.a);
  t.equal(w.b.device.peerByKey(w.a.publicKey), null);
  const base = snapshotKey(w.b.device);
  send(w.a, '10.0.0.1', '10.0.0.2');
  w.net.run(REKEY_ATTEMPT_TIME + 30_000);
  t.ok(sentBy(w, w.a).length >= 10, 'A kept trying');
  t.same(sentBy(w, w.b), [], 'B never answered');
  t.equal(snapshotKey(w.b.device), base, 'B unchanged');
});

t.test('removing a peer frees its routes and indices and stops its timers', async (t) => {
  const w = world(5);
  const c = w.net.addNode('c', '192.0.2.3', 51820);
  w.net.pair(w.a, ['10.0.0.1/32'], w.b, ['10.0.0.2/32']);
  w.net.pair(c, ['10.0.0.3/32'], w.b, ['10.0.0.2/32']);
  send(w.a, '10.0.0.1', '10.0.0.2');
  send(c, '10.0.0.3', '10.0.0.2');
  w.net.deliver();
  const removed = w.b.device.peerByKey(w.a.publicKey)!;
  const kept = w.b.device.peerByKey(c.publicKey)!;
  const oldKeypair = removed.keypairs.current!;
  t.ok(oldKeypair, 'A had a session on B');
  t.ok(w.b.device.indices.get(oldKeypair.localIndex), 'filed under its index');
  t.not(removed.timers.pendingTimers().length, 0, 'with timers running');
  // A transport packet from A that B has not seen yet, to try after the removal.
  send(w.a, '10.0.0.1', '10.0.0.2');
  const late = takeOnly(w.net, MESSAGE_TRANSPORT).data;
  // And a handshake of B's in progress, whose index must go too.
  w.clock.advance(1000);
  w.b.device.forceRekey(w.a.publicKey);
  w.net.queue.length = 0;
  const handshakeIndex = removed.handshake.localIndex;
  t.not(handshakeIndex, 0, 'B has a handshake with A in progress');

  removePeer(w.b, w.a);

  t.equal(w.b.device.indices.get(oldKeypair.localIndex), undefined, 'its session index is free');
  t.equal(w.b.device.indices.get(handshakeIndex), undefined, 'its handshake index is free');
  const keptIndices = [kept.keypairs.previous, kept.keypairs.current, kept.keypairs.next].filter((k) => k).length
    + (kept.handshake.localIndex !== 0 ? 1 : 0);
  t.equal(w.b.device.indices.size, keptIndices, 'only the remaining peer\'s indices are left');
  t.ok(isZero(oldKeypair.sendKey) && isZero(oldKeypair.receiveKey), 'its session keys are wiped');
  t.same(removed.timers.pendingTimers(), [], 'its timers are stopped');

  const noRoute = w.b.device.stats.noRoute;
  const toA = ipv4Packet('10.0.0.2', '10.0.0.1');
  t.equal(w.b.device.sendPacket(toA, 0, toA.length), false, 'its allowed IPs no longer route');
  t.equal(w.b.device.stats.noRoute, noRoute + 1);
  t.same(w.b.device.status().peers.map((p) => p.allowedIps.length), [1], 'only the remaining peer has allowed IPs');
  const toC = ipv4Packet('10.0.0.2', '10.0.0.3');
  t.equal(w.b.device.sendPacket(toC, 0, toC.length), true, 'the other peer still routes');

  const r = inject(w.net, w.b, late, w.a.endpoint);
  t.same([r.sent, r.delivered], [[], []], 'its in-flight transport packet is dropped');

  w.net.queue.length = 0;
  w.net.log.length = 0;
  w.net.filter = (d) => d.from !== w.a.endpoint; // A's own retries are not the point here
  w.net.run(10 * 60_000);
  t.same(sentBy(w, w.b).filter((d) => d.to.address === w.a.endpoint.address), [], 'B never sends to the removed peer again');
});
