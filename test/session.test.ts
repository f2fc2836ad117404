// Session lifecycle in virtual time: when sessions are renewed, how long
// they may be used, how the previous/current/next slots rotate, and that
// hours of traffic across many rekeys lose nothing and leak nothing.
import t from 'tap';
import {
  REJECT_AFTER_MESSAGES, REJECT_AFTER_TIME, REKEY_AFTER_MESSAGES, REKEY_AFTER_TIME, REKEY_TIMEOUT,
  REKEY_TIMEOUT_JITTER_MAX, KEEPALIVE_TIMEOUT,
} from '../src/protocol/constants.js';
import { Keypair } from '../src/protocol/keypair.js';
import {
  counterOf, deliveredSeqs, deliverOne, establish, inject, INITIATION, makePair, type Pair, receiverIndexOf,
  RESPONSE, runUntil, send, sentBy, TRANSPORT,
} from './helpers/lifecycle.js';

const LAST_MINUTE = REJECT_AFTER_TIME - KEEPALIVE_TIMEOUT - REKEY_TIMEOUT;
const gaps = (xs: number[]): number[] => xs.slice(1).map((x, i) => x - xs[i]!);
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const isZero = (k: Uint8Array): boolean => k.every((x) => x === 0);

/** Takes the datagram just queued out of the network, to deliver later (or never). */
function holdLast(pair: Pair) {
  const d = pair.net.queue.pop();
  if (!d) throw new Error('nothing queued');
  return d;
}

t.test('rekey after time', async (t) => {
  t.test('the initiator starts a handshake on its first send after REKEY_AFTER_TIME', async (t) => {
    const pair = makePair(101);
    establish(pair);
    const first = pair.pa.keypairs.current!;
    runUntil(pair, REKEY_AFTER_TIME);
    send(pair, 'a', 1);
    t.same(pair.sent.filter((s) => s.at === REKEY_AFTER_TIME).map((s) => s.type), [TRANSPORT],
      'exactly REKEY_AFTER_TIME old: not yet');
    pair.net.deliver();
    runUntil(pair, REKEY_AFTER_TIME + 1);
    send(pair, 'a', 2);
    t.same(pair.sent.filter((s) => s.at === REKEY_AFTER_TIME + 1).map((s) => [s.from, s.type]),
      [['a', TRANSPORT], ['a', INITIATION]], 'the packet still goes under the old session, then the initiation');
    pair.net.deliver();
    t.equal(pair.pa.keypairs.current!.createdAt, REKEY_AFTER_TIME + 1, 'new session');
    t.equal(pair.pa.keypairs.previous, first, 'old one kept as previous');
    t.same(deliveredSeqs(pair.b), [0, 1, 2]);
  });

  t.test('the responder does not rekey on send, however old its session', async (t) => {
    const pair = makePair(102);
    establish(pair);
    runUntil(pair, 150_000);
    send(pair, 'b', 1);
    t.same(pair.sent.filter((s) => s.at === 150_000).map((s) => [s.from, s.type]), [['b', TRANSPORT]]);
    pair.net.deliver();
    t.same(sentBy(pair, 'b', INITIATION), []);
    // The initiator's passive keepalive, 10 s later, is a send too, and that rekeys.
    runUntil(pair, 170_000);
    t.same(sentBy(pair, 'a', INITIATION, 1).map((s) => s.at), [150_000 + KEEPALIVE_TIMEOUT]);
    t.same(sentBy(pair, 'b', INITIATION), [], 'b never initiated');
    t.equal(pair.pb.keypairs.current!.createdAt, 160_000);
  });
});

t.test('last-minute rekey on receive', async (t) => {
  t.test('the initiator asks once per session, from REJECT_AFTER_TIME - KEEPALIVE_TIMEOUT - REKEY_TIMEOUT on', async (t) => {
    const pair = makePair(111);
    establish(pair);
    t.equal(LAST_MINUTE, 165_000);
    runUntil(pair, LAST_MINUTE - 1);
    send(pair, 'b', 1);
    pair.net.deliver();
    t.same(sentBy(pair, 'a', INITIATION, 1), [], 'one millisecond early: nothing');

    runUntil(pair, LAST_MINUTE);
    pair.intercept = (_d, type, from) => (from === 'a' && type === INITIATION ? 'drop' : 'pass');
    send(pair, 'b', 2);
    pair.net.deliver();
    t.same(sentBy(pair, 'a', INITIATION, 1).map((s) => s.at), [LAST_MINUTE], 'receiving data now triggers one');
    t.ok(pair.pa.sentLastMinuteHandshake);

    // Lift the REKEY_TIMEOUT rate limit so only the once-per-session rule can hold the next one back.
    pair.pa.lastSentHandshake = -Infinity;
    runUntil(pair, LAST_MINUTE + 500);
    send(pair, 'b', 3);
    pair.net.deliver();
    t.same(sentBy(pair, 'a', INITIATION, 1).map((s) => s.at), [LAST_MINUTE], 'not asked twice for the same session');
    t.same(deliveredSeqs(pair.a), [1, 2, 3], 'the data itself is delivered');

    // The retransmission completes the handshake; the new session may ask again.
    pair.intercept = null;
    runUntil(pair, LAST_MINUTE + REKEY_TIMEOUT + REKEY_TIMEOUT_JITTER_MAX);
    const created = pair.pa.keypairs.current!.createdAt;
    t.ok(created >= LAST_MINUTE + REKEY_TIMEOUT && created < LAST_MINUTE + REKEY_TIMEOUT + REKEY_TIMEOUT_JITTER_MAX,
      `new session from the retry at ${created}`);
    t.notOk(pair.pa.sentLastMinuteHandshake, 'flag reset for the new session');
  });

  t.test('the responder does not', async (t) => {
    const pair = makePair(112);
    establish(pair);
    runUntil(pair, 170_000);
    pair.intercept = (_d, type) => (type === INITIATION ? 'drop' : 'pass');
    send(pair, 'a', 1); // a rekeys on send (dropped); b receives the data on its 170 s old session
    pair.net.deliver();
    t.same(deliveredSeqs(pair.b), [0, 1]);
    t.same(sentBy(pair, 'b', INITIATION), []);
    t.notOk(pair.pb.sentLastMinuteHandshake);
  });
});

t.test('reject after time', async (t) => {
  t.test('Keypair boundaries', async (t) => {
    const kp = new Keypair(new Uint8Array(32), new Uint8Array(32), true, 1000, 1, 2);
    t.ok(kp.canSend(1000 + REJECT_AFTER_TIME - 1));
    t.ok(kp.canReceive(1000 + REJECT_AFTER_TIME - 1));
    t.notOk(kp.canSend(1000 + REJECT_AFTER_TIME));
    t.notOk(kp.canReceive(1000 + REJECT_AFTER_TIME));
    kp.sendCounter = REJECT_AFTER_MESSAGES - 1;
    t.ok(kp.canSend(1000));
    kp.sendCounter = REJECT_AFTER_MESSAGES;
    t.notOk(kp.canSend(1000));
    t.ok(kp.canReceive(1000), 'the send counter does not limit receiving');
  });

  for (const who of ['a', 'b'] as const) {
    t.test(`an expired session does not send (${who === 'a' ? 'initiator' : 'responder'}): the packet waits for a new handshake`, async (t) => {
      const pair = makePair(who === 'a' ? 121 : 122);
      establish(pair);
      runUntil(pair, REJECT_AFTER_TIME);
      send(pair, who, 1);
      t.same(pair.sent.filter((s) => s.at === REJECT_AFTER_TIME).map((s) => [s.from, s.type]), [[who, INITIATION]],
        'no transport under the expired key, only an initiation');
      t.equal((who === 'a' ? pair.pa : pair.pb).staged.length, 1);
      pair.net.deliver();
      t.same(deliveredSeqs(who === 'a' ? pair.b : pair.a), who === 'a' ? [0, 1] : [1]);
      t.equal((who === 'a' ? pair.pa : pair.pb).keypairs.current!.createdAt, REJECT_AFTER_TIME);
    });
  }

  t.test('an expired session does not receive', async (t) => {
    const pair = makePair(123);
    establish(pair);
    runUntil(pair, 170_000);
    send(pair, 'b', 1);
    const late = holdLast(pair);
    runUntil(pair, REJECT_AFTER_TIME);
    const invalid = pair.a.device.stats.invalid;
    inject(pair, late);
    t.same(pair.a.delivered, [], 'dropped');
    t.equal(pair.a.device.stats.invalid, invalid + 1);
    t.same(sentBy(pair, 'a', INITIATION, 1), [], 'an unauthenticated packet triggers nothing');
  });
});

t.test('message limits', async (t) => {
  t.test('REKEY_AFTER_MESSAGES comes before REJECT_AFTER_MESSAGES', async (t) => {
    t.ok(REKEY_AFTER_MESSAGES < REJECT_AFTER_MESSAGES, 'otherwise the rekey by count could never happen');
    t.ok(Number.isSafeInteger(REKEY_AFTER_MESSAGES + 1));
  });

  t.test('a handshake is requested once the counter passes REKEY_AFTER_MESSAGES', async (t) => {
    const pair = makePair(131);
    establish(pair);
    runUntil(pair, 20_000);
    const kp = pair.pa.keypairs.current!;
    kp.sendCounter = REKEY_AFTER_MESSAGES - 1;
    send(pair, 'a', 1);
    t.same(pair.net.queue.map((d) => [d.data[0], counterOf(d)]), [[TRANSPORT, REKEY_AFTER_MESSAGES - 1]],
      'counter REKEY_AFTER_MESSAGES - 1: no rekey yet');
    send(pair, 'a', 2);
    t.same(pair.net.queue.map((d) => d.data[0]), [TRANSPORT, TRANSPORT, INITIATION],
      'after sending counter REKEY_AFTER_MESSAGES the next counter is past it: rekey');
    t.equal(counterOf(pair.net.queue[1]!), REKEY_AFTER_MESSAGES);
    pair.net.deliver();
    t.same(deliveredSeqs(pair.b), [0, 1, 2], 'the receiver accepts those counters');
    t.not(pair.pa.keypairs.current, kp, 'new session');
    t.equal(pair.pa.keypairs.current!.sendCounter, 1, 'the new session starts from 0 (one keepalive sent)');
  });

  t.test('the rule holds for the responder too', async (t) => {
    const pair = makePair(132);
    establish(pair);
    runUntil(pair, 20_000);
    pair.pb.keypairs.current!.sendCounter = REKEY_AFTER_MESSAGES;
    send(pair, 'b', 1);
    t.same(pair.net.queue.map((d) => [d.data[0], nameOfSender(pair, d.from.address)]), [[TRANSPORT, 'b'], [INITIATION, 'b']]);
    pair.net.deliver();
    t.same(deliveredSeqs(pair.a), [1]);
    t.ok(pair.pb.keypairs.current!.isInitiator, 'b now holds a session it initiated');
  });

  t.test('no packet is sent with a counter at REJECT_AFTER_MESSAGES', async (t) => {
    const pair = makePair(133);
    establish(pair);
    runUntil(pair, 20_000);
    pair.pa.keypairs.current!.sendCounter = REJECT_AFTER_MESSAGES - 1;
    send(pair, 'a', 1);
    t.same(pair.net.queue.map((d) => [d.data[0], d.data[0] === TRANSPORT ? counterOf(d) : -1]),
      [[TRANSPORT, REJECT_AFTER_MESSAGES - 1], [INITIATION, -1]], 'the last usable counter, and a rekey request');
    send(pair, 'a', 2);
    t.equal(pair.net.queue.length, 2, 'the session refuses to send: nothing new on the wire');
    t.equal(pair.pa.staged.length, 1, 'the packet waits for the new session');
    pair.net.deliver();
    t.same(deliveredSeqs(pair.b), [0, 1, 2]);
    const last = pair.sent[pair.sent.length - 1]!;
    t.equal(last.type, TRANSPORT);
    t.equal(counterOf(last.datagram), 0, 'packet 2 went under the new session, counter 0 (staged data replaces the keepalive)');
  });
});

function nameOfSender(pair: Pair, address: string): string {
  return address === pair.a.endpoint.address ? 'a' : 'b';
}

t.test('key rotation', async (t) => {
  t.test('slots during and after a rekey, and packets in flight under the old session', async (t) => {
    const pair = makePair(141);
    const { a, b, pa, pb } = pair;
    establish(pair);
    const a1 = pa.keypairs.current!;
    const b1 = pb.keypairs.current!;
    t.same(a1.sendKey, b1.receiveKey, 'one session, seen from both ends');
    t.ok(a1.isInitiator);
    t.notOk(b1.isInitiator);
    t.same([pa.keypairs.previous, pa.keypairs.next, pb.keypairs.previous, pb.keypairs.next], [null, null, null, null]);

    runUntil(pair, 121_000);
    send(pair, 'b', 101);
    const b101 = holdLast(pair);
    send(pair, 'b', 102);
    const b102 = holdLast(pair);
    send(pair, 'a', 201);
    const a201 = pair.net.queue.shift()!;
    t.equal(a201.data[0], TRANSPORT);
    t.same(pair.net.queue.map((d) => d.data[0]), [INITIATION], 'a sent under the old session, then asked for a new one');

    t.equal(deliverOne(pair), INITIATION);
    const b2 = pb.keypairs.next!;
    t.ok(b2, 'responder: the new session waits in next');
    t.equal(pb.keypairs.current, b1, 'responder keeps sending under the old one');
    t.equal(pb.keypairs.previous, null);

    t.equal(deliverOne(pair), RESPONSE);
    const a2 = pa.keypairs.current!;
    t.not(a2, a1, 'initiator: new current at once');
    t.equal(pa.keypairs.previous, a1, 'initiator: old current becomes previous');
    t.equal(pa.keypairs.next, null);
    t.same(a2.sendKey, b2.receiveKey);

    // b has not seen a's confirmation yet, so its data still goes under the old session, which a can still read.
    send(pair, 'b', 103);
    t.equal(receiverIndexOf(pair.net.queue[1]!), a1.localIndex, 'b103 is addressed to the old session');
    t.equal(deliverOne(pair), TRANSPORT); // a's keepalive under the new session: confirmation
    t.equal(pb.keypairs.current, b2, 'responder: confirmed by the first packet under it');
    t.equal(pb.keypairs.previous, b1);
    t.equal(pb.keypairs.next, null);
    t.equal(deliverOne(pair), TRANSPORT);
    t.same(deliveredSeqs(a), [103], 'decrypted with the previous session');

    inject(pair, b101);
    inject(pair, a201);
    t.same(deliveredSeqs(a), [103, 101], 'a late packet under the previous session still arrives');
    t.same(deliveredSeqs(b), [0, 201]);

    // A second rotation: the first session is now gone for good.
    pair.net.deliver();
    runUntil(pair, 130_000);
    a.device.forceRekey();
    pair.net.deliver();
    t.equal(pa.keypairs.previous, a2);
    t.equal(pb.keypairs.previous, b2);
    t.equal(a.device.indices.get(a1.localIndex), undefined, 'the first session\'s index is freed');
    t.equal(b.device.indices.get(b1.localIndex), undefined);
    t.ok(isZero(a1.sendKey) && isZero(a1.receiveKey) && isZero(b1.sendKey), 'and its keys wiped');
    const invalid = a.device.stats.invalid;
    inject(pair, b102);
    t.same(deliveredSeqs(a), [103, 101], 'a packet two sessions old is dropped');
    t.equal(a.device.stats.invalid, invalid + 1);
  });

  t.test('crossed rekeys: the winner keeps the old session for packets still in flight', async (t) => {
    // Both ends start a handshake at the same instant while a session is up.
    // Each consumes the other's initiation, which wipes its own, so both
    // responses are refused and both ends hold a dead responder session in
    // `next`. The first retransmission wins; the loser keeps sending under
    // the old session until the winner's confirmation reaches it, so the
    // winner must keep the old session (not the dead `next`) as previous.
    for (const seed of [144, 145, 146]) {
      const pair = makePair(seed);
      establish(pair);
      runUntil(pair, 30_000);
      const old = pair.pa.keypairs.current!;
      pair.a.device.forceRekey();
      pair.b.device.forceRekey();
      for (let i = 0; i < 4; i++) deliverOne(pair);
      t.ok(pair.pa.keypairs.next && pair.pb.keypairs.next, `seed ${seed}: both hold an unconfirmed next`);
      t.equal(pair.pa.keypairs.current, old);
      // Let time pass without delivering anything until the first retransmission goes out.
      while (pair.net.queue.length === 0) pair.clock.advance(1);
      t.equal(pair.net.queue.length, 1);
      const winner = pair.net.queue[0]!.from.address === pair.a.endpoint.address ? 'a' : 'b';
      const loser = winner === 'a' ? 'b' : 'a';
      const w = winner === 'a' ? pair.pa : pair.pb;
      const deadNext = w.keypairs.next!;
      const winnerNode = winner === 'a' ? pair.a : pair.b;
      const before = winnerNode.delivered.length;
      t.equal(deliverOne(pair), INITIATION);
      send(pair, loser, 1); // behind the response, under the old session
      t.equal(deliverOne(pair), RESPONSE);
      t.equal(w.keypairs.previous!.createdAt, 0, `seed ${seed}: ${winner} keeps the old session as previous`);
      t.equal(w.keypairs.next, null);
      t.ok(isZero(deadNext.sendKey), 'the dead responder session is dropped');
      t.equal(deliverOne(pair), TRANSPORT);
      t.same(deliveredSeqs(winnerNode).slice(before), [1], `seed ${seed}: the in-flight packet is read`);
      pair.net.deliver();
      send(pair, 'a', 2);
      send(pair, 'b', 2);
      pair.net.deliver();
      t.same(deliveredSeqs(pair.b).at(-1), 2);
      t.same(deliveredSeqs(pair.a).at(-1), 2);
    }
  });

  t.test('an initiator drops an unconfirmed responder session when its own handshake completes', async (t) => {
    // The other ordering of the same choice: here b did complete its handshake
    // and uses that session, but a never saw data under it. The kernel and
    // wireguard-go would move it to previous (and drop the old current); wgts
    // drops it and keeps the old current, which is right for crossed rekeys
    // (above). Packets b sends under its session before a's confirmation
    // reaches it are refused; the tunnel recovers within one round trip.
    const pair = makePair(142);
    const { a, pa, pb } = pair;
    send(pair, 'b', 1);
    t.equal(deliverOne(pair), INITIATION);
    t.equal(deliverOne(pair), RESPONSE);
    holdLast(pair); // b's data under its new session: lost
    const sb = pa.keypairs.next!;
    t.ok(sb);
    t.equal(pa.keypairs.current, null);
    runUntil(pair, REKEY_TIMEOUT); // a's response counts as a handshake sent: wait out the rate limit
    send(pair, 'a', 2);
    t.equal(deliverOne(pair), INITIATION);
    t.equal(deliverOne(pair), RESPONSE);
    t.equal(pa.keypairs.next, null);
    t.equal(pa.keypairs.previous, null, 'a had no current to keep');
    t.ok(isZero(sb.sendKey), 'b\'s session is gone at a');
    pair.net.deliver();
    t.same(deliveredSeqs(pair.b), [2]);
    send(pair, 'b', 3);
    pair.net.deliver();
    t.same(deliveredSeqs(a), [3], 'b switched to a\'s session on its confirmation');
    t.same(pb.keypairs.current!.receiveKey, pa.keypairs.current!.sendKey);
  });

  t.test('30 rekeys, alternating initiators, leak no index', async (t) => {
    const pair = makePair(143);
    const { a, b } = pair;
    establish(pair);
    const sizes: string[] = [];
    const lost: number[] = [];
    for (let i = 1; i <= 30; i++) {
      runUntil(pair, i * 30_000);
      (i % 2 === 0 ? a : b).device.forceRekey();
      pair.net.deliver();
      send(pair, 'a', i);
      send(pair, 'b', i);
      pair.net.deliver();
      if (deliveredSeqs(b).at(-1) !== i || deliveredSeqs(a).at(-1) !== i) lost.push(i);
      sizes.push(`${a.device.indices.size}/${b.device.indices.size}`);
    }
    t.same(lost, [], 'every round trip worked');
    t.same(sizes, range(30).map(() => '2/2'), 'previous + current on each side, nothing else');
    t.equal(sentBy(pair, 'a', INITIATION).length, 1 + 15);
    t.equal(sentBy(pair, 'b', INITIATION).length, 15);
  });
});

t.test('simultaneous initiation', async (t) => {
  t.test('from scratch: both sides send first, the crossing handshakes resolve', async (t) => {
    const pair = makePair(151);
    send(pair, 'a', 1);
    send(pair, 'b', 1);
    runUntil(pair, 3 * (REKEY_TIMEOUT + REKEY_TIMEOUT_JITTER_MAX));
    t.same(deliveredSeqs(pair.b), [1]);
    t.same(deliveredSeqs(pair.a), [1]);
    const ka = pair.pa.keypairs.current!;
    const kb = pair.pb.keypairs.current!;
    t.same(ka.sendKey, kb.receiveKey, 'one shared current session');
    t.same(ka.receiveKey, kb.sendKey);
    t.ok(sentBy(pair, 'a', INITIATION).length + sentBy(pair, 'b', INITIATION).length <= 4, 'converged after few attempts');
    send(pair, 'a', 2);
    send(pair, 'b', 2);
    pair.net.deliver();
    t.same(deliveredSeqs(pair.b), [1, 2]);
    t.same(deliveredSeqs(pair.a), [1, 2]);
    t.same(pair.pa.timers.pendingTimers().filter((x) => x === 'retransmitHandshake'), []);
    t.same(pair.pb.timers.pendingTimers().filter((x) => x === 'retransmitHandshake'), []);
  });

  t.test('both rekey at once while traffic flows: nothing is lost', async (t) => {
    for (const seed of [152, 153, 154]) {
      const pair = makePair(seed);
      establish(pair);
      runUntil(pair, 30_000);
      pair.a.device.forceRekey();
      pair.b.device.forceRekey();
      let seq = 1;
      for (let at = 30_000; at <= 60_000; at += 100) {
        runUntil(pair, at);
        send(pair, 'a', seq);
        send(pair, 'b', seq);
        seq++;
      }
      pair.net.deliver();
      t.same(deliveredSeqs(pair.b), range(seq), `seed ${seed}: a→b complete and in order`);
      t.same(deliveredSeqs(pair.a), range(seq).slice(1), `seed ${seed}: b→a complete and in order`);
      t.ok(pair.pa.keypairs.current!.createdAt > 30_000, 'a new session was established');
      t.same(pair.pa.keypairs.current!.sendKey, pair.pb.keypairs.current!.receiveKey);
    }
  });
});

t.test('two hours of traffic both ways', async (t) => {
  const pair = makePair(161);
  const { a, b } = pair;
  const END = 2 * 3600_000;
  let seqA = 0;
  let seqB = 0;
  let maxIndices = 0;
  for (let at = 0; at <= END; at += 100) {
    runUntil(pair, at);
    if (at % 1000 === 0) send(pair, 'a', seqA++);
    if (at >= 700 && (at - 700) % 1300 === 0) send(pair, 'b', seqB++);
    pair.net.deliver();
    maxIndices = Math.max(maxIndices, a.device.indices.size, b.device.indices.size);
  }
  t.same(deliveredSeqs(b), range(seqA), `all ${seqA} packets a→b arrived, once, in order`);
  t.same(deliveredSeqs(a), range(seqB), `all ${seqB} packets b→a arrived, once, in order`);

  const rekeys = sentBy(pair, 'a', INITIATION).map((s) => s.at);
  const intervals = gaps(rekeys);
  t.ok(intervals.every((g) => g > REKEY_AFTER_TIME && g <= REKEY_AFTER_TIME + 1000),
    'a rekeys on its first send after REKEY_AFTER_TIME, every time');
  t.equal(rekeys.length, 1 + Math.floor(END / (REKEY_AFTER_TIME + 1000)), `${rekeys.length} handshakes in two hours`);
  t.same(sentBy(pair, 'b', INITIATION), [], 'the responder never needed to initiate');
  t.equal(sentBy(pair, 'b', RESPONSE).length, rekeys.length, 'every initiation answered: no retransmissions');
  t.ok(maxIndices <= 3, `index table never above ${maxIndices}`);
  t.equal(a.device.indices.size, 2);
  t.equal(b.device.indices.size, 2);
  t.equal(a.device.stats.invalid + b.device.stats.invalid, 0, 'no packet was refused');
});

t.test('half an hour with a one-minute outage: traffic resumes and staged packets survive', async (t) => {
  const pair = makePair(171);
  const { a, b } = pair;
  const OUT_FROM = 600_000;
  const OUT_TO = 660_000;
  const sentAt = { a: new Map<number, number>(), b: new Map<number, number>() };
  let seqA = 0;
  let seqB = 0;
  pair.intercept = () => {
    const now = pair.clock.now();
    return now >= OUT_FROM && now < OUT_TO ? 'drop' : 'pass';
  };
  for (let at = 0; at <= 1800_000; at += 100) {
    runUntil(pair, at);
    if (at % 1000 === 0) { sentAt.a.set(seqA, at); send(pair, 'a', seqA++); }
    if (at >= 700 && (at - 700) % 1300 === 0) { sentAt.b.set(seqB, at); send(pair, 'b', seqB++); }
    pair.net.deliver();
  }
  const recovered = OUT_TO + REKEY_TIMEOUT + REKEY_TIMEOUT_JITTER_MAX;
  for (const [from, to] of [['a', b], ['b', a]] as const) {
    const got = new Set(deliveredSeqs(to));
    t.equal(got.size, deliveredSeqs(to).length, `${from}: no duplicates`);
    const missing = [...sentAt[from]].filter(([seq, at]) => !got.has(seq) && (at < OUT_FROM || at >= recovered));
    t.same(missing, [], `${from}: everything sent before the outage or after recovery arrived`);
    const lostDuring = [...sentAt[from]].filter(([seq]) => !got.has(seq)).length;
    t.ok(lostDuring > 0 && lostDuring <= (OUT_TO - OUT_FROM) / 1000 + 1, `${from}: ${lostDuring} lost, all during the outage`);
  }
  t.ok(a.device.indices.size <= 3 && b.device.indices.size <= 3);
});
