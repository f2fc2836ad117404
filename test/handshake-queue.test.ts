// The handshake queue (src/device/handshake-queue.ts, Device option
// queueHandshakes, as the router runtime runs): transport packets are handled
// as they arrive while handshake messages wait for processHandshakes; the
// queue is bounded and drops when full; how full it is puts the device under
// load, so a CPU that falls behind demands cookies however few handshakes it
// still handles per second.
import t from 'tap';
import { INITIATION_SIZE, MESSAGE_COOKIE_REPLY, MESSAGE_INITIATION, MESSAGE_RESPONSE } from '../src/protocol/constants.js';
import { LoadDetector } from '../src/protocol/load.js';
import { HANDSHAKE_QUEUE_CAPACITY, HandshakeQueue } from '../src/device/handshake-queue.js';
import type { Endpoint } from '../src/platform/platform.js';
import { parseCidr } from '../src/routing/ip.js';
import { numbered, sequenceOf } from './helpers/lifecycle.js';
import { messageTypes, seededRandom, VirtualClock, VirtualNetwork } from './helpers/virtual.js';

function world() {
  const clock = new VirtualClock();
  const net = new VirtualNetwork(clock, seededRandom(3));
  const a = net.addNode('a', '192.0.2.1', 51820);
  const b = net.addNode('b', '192.0.2.2', 51820, { queueHandshakes: true });
  net.pair(a, ['10.0.0.1/32'], b, ['10.0.0.2/32']);
  return { clock, net, a, b };
}

/** A real initiation (valid mac1) to b from a key b does not know. */
function strangersInitiation(w: ReturnType<typeof world>): Uint8Array {
  const c = w.net.addNode('c', '192.0.2.3', 51820);
  c.device.applyChange({
    replacePeers: false,
    peers: [{
      publicKey: w.b.publicKey, remove: false, updateOnly: false, presharedKey: null, endpoint: w.b.endpoint,
      replaceAllowedIps: true, allowedIps: [{ cidr: parseCidr('10.0.0.2/32')!, remove: false }],
    }],
  });
  const p = numbered('10.0.0.3', '10.0.0.2', 0);
  c.device.sendPacket(p, 0, p.length);
  const i = w.net.queue.findIndex((d) => d.from === c.endpoint && d.data[0] === MESSAGE_INITIATION);
  return w.net.queue.splice(i, 1)[0]!.data;
}

/** Delivers until quiet, letting b handle its queued handshakes after each round (as the runtime does after a read). */
function settle(w: ReturnType<typeof world>): void {
  for (let i = 0; i < 20; i++) {
    w.net.deliver();
    if (w.b.device.processHandshakes(Infinity) === 0 && w.net.queue.length === 0) return;
  }
  throw new Error('did not settle');
}

t.test('HandshakeQueue: FIFO, copies, bounded, refuses oversize', async (t) => {
  const q = new HandshakeQueue(3);
  const from: Endpoint = { address: '192.0.2.9', port: 9 };
  const msg = (n: number) => new Uint8Array(92).fill(n);
  const buf = msg(1);
  t.ok(q.push(buf, 0, 92, from));
  buf.fill(9); // the queue kept its own copy
  t.ok(q.push(msg(2), 0, 92, from));
  t.ok(q.push(msg(3), 0, 92, from));
  t.notOk(q.push(msg(4), 0, 92, from), 'full');
  t.notOk(new HandshakeQueue(3).push(new Uint8Array(INITIATION_SIZE + 1), 0, INITIATION_SIZE + 1, from), 'larger than a slot');
  const seen: number[] = [];
  while (q.shift((b, off, len, f) => { seen.push(b[off]!, len); t.equal(f, from); })) { /* drain */ }
  t.same(seen, [1, 92, 2, 92, 3, 92], 'oldest first, bytes as pushed');
  t.equal(q.length, 0);
  t.ok(q.push(msg(5), 0, 92, from), 'room again after draining (the ring wraps)');
});

t.test('LoadDetector: an eighth of the queue waiting means under load, for one second', async (t) => {
  const load = new LoadDetector(32);
  t.notOk(load.backlog(31, 256, 0));
  t.ok(load.backlog(32, 256, 0));
  t.ok(load.underLoad(999));
  t.notOk(load.underLoad(1000));
});

t.test('with the queue: handshakes wait for processHandshakes, and then complete', async (t) => {
  const w = world();
  const first = numbered('10.0.0.1', '10.0.0.2', 1);
  w.a.device.sendPacket(first, 0, first.length);
  w.net.deliver();
  t.same(messageTypes(w.net.log), [MESSAGE_INITIATION], 'b has not answered yet');
  t.equal(w.b.device.handshakeQueue?.length, 1, 'the initiation waits');
  settle(w);
  t.same(messageTypes(w.net.log).slice(0, 2), [MESSAGE_INITIATION, MESSAGE_RESPONSE]);
  t.same(w.b.delivered.map(sequenceOf), [1], 'the staged packet arrived');
});

t.test('a flood of initiations: data keeps flowing, the queue drops the excess, and b turns to cookies', async (t) => {
  const w = world();
  const first = numbered('10.0.0.1', '10.0.0.2', 0);
  w.a.device.sendPacket(first, 0, first.length);
  settle(w);
  t.same(w.b.delivered.map(sequenceOf), [0], 'session up');

  // 1,000 initiations with a valid mac1 from strangers, interleaved with a's data.
  const b = w.b;
  const forged = strangersInitiation(w);
  w.net.log.length = 0;
  for (let i = 0; i < 1000; i++) {
    const from: Endpoint = { address: `10.99.${i >> 8}.${i & 255}`, port: 40000 };
    const copy = forged.slice();
    b.device.receiveDatagram(copy, 0, copy.length, from);
    if (i % 100 === 50) {
      const p = numbered('10.0.0.1', '10.0.0.2', 1 + i / 100);
      w.a.device.sendPacket(p, 0, p.length);
      w.net.deliver();
    }
  }
  t.same(b.delivered.map(sequenceOf), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 'every data packet delivered while the flood waited');
  t.equal(b.device.handshakeQueue?.length, HANDSHAKE_QUEUE_CAPACITY, 'the queue is full');
  t.equal(b.device.stats.handshakesDropped, 1000 - HANDSHAKE_QUEUE_CAPACITY, 'the rest were dropped on arrival');
  t.ok(b.device.load.underLoad(w.clock.now()), 'the backlog put b under load');
  t.equal(w.net.log.filter((d) => d.from === b.endpoint).length, 0, 'nothing answered yet');

  b.device.processHandshakes(Infinity);
  const replies = w.net.queue.filter((d) => d.from === b.endpoint);
  t.equal(replies.length, HANDSHAKE_QUEUE_CAPACITY, 'one reply per queued initiation');
  t.ok(replies.every((d) => d.data[0] === MESSAGE_COOKIE_REPLY), 'all cookie replies: no handshake work for strangers under load');
});

t.test('processHandshakes stops when its time slice is used up', async (t) => {
  const w = world();
  let now = 0;
  // A clock that advances 1 ms per reading, as if each message took that long.
  Object.defineProperty(w.b.device, 'clock', { value: { ...w.clock, now: () => now++, wallMs: () => w.clock.wallMs() } });
  const forged = strangersInitiation(w);
  for (let i = 0; i < 10; i++) w.b.device.receiveDatagram(forged.slice(), 0, forged.length, { address: '10.9.9.9', port: i + 1 });
  const left = w.b.device.processHandshakes(3);
  t.ok(left > 0 && left < 10, `some handled, ${left} left for the next slice`);
  t.equal(w.b.device.processHandshakes(0), left - 1, 'a zero budget still handles one');
});
