// The timer state machine (whitepaper §6.2-§6.5, wireguard-go timers.go,
// kernel timers.c), run entirely in virtual time.
import t from 'tap';
import {
  KEEPALIVE_TIMEOUT, MAX_TIMER_HANDSHAKES, REJECT_AFTER_TIME, REKEY_TIMEOUT, REKEY_TIMEOUT_JITTER_MAX,
} from '../src/protocol/constants.js';
import { LazyTimer, PeerTimers, type TimerActions } from '../src/protocol/timers.js';
import type { RandomSource } from '../src/platform/platform.js';
import { VirtualClock } from './helpers/virtual.js';
import {
  deliveredSeqs, establish, INITIATION, makePair, type Pair, runUntil, send, sentBy, TRANSPORT,
} from './helpers/lifecycle.js';

/** A VirtualClock that also counts how often a platform timer was armed. */
class CountingClock extends VirtualClock {
  armed = 0;
  override setTimer(fn: () => void, delayMs: number): unknown {
    this.armed++;
    return super.setTimer(fn, delayMs);
  }
}

function lazy() {
  const clock = new CountingClock();
  const fired: number[] = [];
  const timer = new LazyTimer(clock, () => fired.push(clock.now()));
  return { clock, fired, timer };
}

const gaps = (xs: number[]): number[] => xs.slice(1).map((x, i) => x - xs[i]!);

t.test('LazyTimer', async (t) => {
  t.test('fires exactly at the deadline, once', async (t) => {
    const { clock, fired, timer } = lazy();
    timer.mod(1000);
    t.ok(timer.pending);
    clock.advance(999);
    t.same(fired, [], 'not a millisecond early');
    clock.advance(1);
    t.same(fired, [1000]);
    t.notOk(timer.pending, 'no longer pending once fired');
    clock.advance(10_000);
    t.same(fired, [1000], 'does not fire again');
    t.equal(clock.pendingCount, 0);
  });

  t.test('pushing the deadline later does not re-arm the platform timer', async (t) => {
    const { clock, fired, timer } = lazy();
    timer.mod(1000);
    t.equal(clock.armed, 1);
    for (let i = 0; i < 999; i++) {
      clock.advance(1);
      timer.mod(1000);
    }
    t.equal(clock.armed, 1, '999 extensions, still the one platform timer');
    t.equal(clock.pendingCount, 1);
    // The stale platform timer expires at 1000 and re-arms once for the real deadline, 999 + 1000.
    clock.advance(1);
    t.same(fired, []);
    t.equal(clock.armed, 2);
    clock.advance(998);
    t.same(fired, []);
    clock.advance(1);
    t.same(fired, [1999]);
  });

  t.test('an early platform expiry re-arms for the remaining time only', async (t) => {
    const { clock, fired, timer } = lazy();
    timer.mod(1000);
    clock.advance(400);
    timer.mod(1000); // deadline 1400
    clock.advance(600); // the platform timer fires at 1000, too early
    t.same(fired, []);
    t.equal(clock.armed, 2, 're-armed once');
    t.equal(clock.pendingCount, 1);
    clock.advance(399);
    t.same(fired, []);
    clock.advance(1);
    t.same(fired, [1400]);
  });

  t.test('moving the deadline earlier re-arms', async (t) => {
    const { clock, fired, timer } = lazy();
    timer.mod(5000);
    timer.mod(1000);
    t.equal(clock.armed, 2);
    t.equal(clock.pendingCount, 1, 'the old platform timer was cancelled');
    clock.advance(1000);
    t.same(fired, [1000]);
    clock.advance(10_000);
    t.same(fired, [1000], 'the cancelled 5000 ms timer never fires');
    t.equal(clock.pendingCount, 0);
  });

  t.test('del cancels', async (t) => {
    const { clock, fired, timer } = lazy();
    timer.mod(1000);
    timer.del();
    t.notOk(timer.pending);
    t.equal(clock.pendingCount, 0, 'platform timer cleared');
    clock.advance(5000);
    t.same(fired, []);
    timer.del(); // idempotent
    timer.mod(100);
    clock.advance(100);
    t.same(fired, [5100], 'usable again after del');
  });

  t.test('del after an extension cancels the pending re-arm too', async (t) => {
    const { clock, fired, timer } = lazy();
    timer.mod(1000);
    clock.advance(500);
    timer.mod(1000);
    clock.advance(600); // early expiry at 1000 re-armed for 1500
    timer.del();
    clock.advance(5000);
    t.same(fired, []);
    t.equal(clock.pendingCount, 0);
  });

  t.test('mod from inside the callback makes a periodic timer', async (t) => {
    const clock = new CountingClock();
    const fired: number[] = [];
    const timer: LazyTimer = new LazyTimer(clock, () => { fired.push(clock.now()); timer.mod(250); });
    timer.mod(250);
    clock.advance(1000);
    t.same(fired, [250, 500, 750, 1000]);
    t.equal(clock.pendingCount, 1);
  });
});

/** Records what PeerTimers asks its peer to do. */
function fakeActions(clock: VirtualClock) {
  const calls: { at: number; what: string }[] = [];
  const actions: TimerActions = {
    sendKeepalive: () => calls.push({ at: clock.now(), what: 'keepalive' }),
    sendHandshakeInitiation: (isRetry) => calls.push({ at: clock.now(), what: isRetry ? 'retry' : 'initiate' }),
    dropStagedPackets: () => calls.push({ at: clock.now(), what: 'drop' }),
    zeroKeyMaterial: () => calls.push({ at: clock.now(), what: 'zero' }),
    clearEndpointSource: () => calls.push({ at: clock.now(), what: 'clearSource' }),
    log: () => {},
  };
  return { calls, actions };
}

/** A RandomSource that always yields the little-endian u16 `value`. */
function constantRandom(value: number): RandomSource {
  return (out) => { for (let i = 0; i < out.length; i++) out[i] = i % 2 === 0 ? value & 255 : (value >>> 8) & 255; };
}

t.test('PeerTimers: retransmission jitter stays below REKEY_TIMEOUT_JITTER_MAX', async (t) => {
  for (const [raw, jitter] of [[0, 0], [333, 333], [334, 0], [0xffff, 0xffff % 334]] as const) {
    const clock = new VirtualClock();
    const { calls, actions } = fakeActions(clock);
    const timers = new PeerTimers(clock, constantRandom(raw), actions);
    timers.handshakeInitiated();
    clock.advance(REKEY_TIMEOUT + jitter - 1);
    t.equal(calls.length, 0, `raw ${raw}: nothing before ${REKEY_TIMEOUT + jitter} ms`);
    clock.advance(1);
    t.same(calls.map((c) => c.what), ['clearSource', 'retry'], `raw ${raw}: retry at exactly ${REKEY_TIMEOUT + jitter} ms`);
    t.ok(jitter < REKEY_TIMEOUT_JITTER_MAX);
  }
});

t.test('PeerTimers: attempt counting, in isolation', async (t) => {
  const clock = new VirtualClock();
  const { calls, actions } = fakeActions(clock);
  const timers = new PeerTimers(clock, constantRandom(0), actions);
  // The peer calls handshakeInitiated after each initiation it actually sends.
  actions.sendHandshakeInitiation = () => { calls.push({ at: clock.now(), what: 'retry' }); timers.handshakeInitiated(); };
  timers.handshakeInitiated();
  clock.advance(200_000);
  const retries = calls.filter((c) => c.what === 'retry');
  t.equal(retries.length, MAX_TIMER_HANDSHAKES + 1, '19 retries after the first initiation');
  t.same(calls.filter((c) => c.what === 'drop').map((c) => c.at), [(MAX_TIMER_HANDSHAKES + 2) * REKEY_TIMEOUT],
    'staged packets dropped at the 20th expiry');
  t.same(timers.pendingTimers(), ['zeroKeyMaterial']);
  clock.advance(REJECT_AFTER_TIME * 3);
  t.same(calls.filter((c) => c.what === 'zero').map((c) => c.at), [(MAX_TIMER_HANDSHAKES + 2) * REKEY_TIMEOUT + REJECT_AFTER_TIME * 3]);
  t.same(timers.pendingTimers(), []);
});

t.test('PeerTimers: stop disarms everything', async (t) => {
  const clock = new VirtualClock();
  const { calls, actions } = fakeActions(clock);
  const timers = new PeerTimers(clock, constantRandom(7), actions);
  timers.persistentKeepaliveInterval = 25;
  timers.handshakeInitiated();
  timers.dataSent();
  timers.dataReceived();
  timers.sessionDerived();
  timers.anyAuthenticatedPacketTraversal();
  t.same(timers.pendingTimers().sort(),
    ['newHandshake', 'persistentKeepalive', 'retransmitHandshake', 'sendKeepalive', 'zeroKeyMaterial']);
  timers.stop();
  t.same(timers.pendingTimers(), []);
  t.equal(clock.pendingCount, 0);
  clock.advance(1_000_000);
  t.same(calls, []);
});

/** b is unreachable: every datagram towards it is lost. */
function unreachable(pair: Pair): void {
  pair.intercept = (d) => (d.to.address === pair.b.endpoint.address ? 'drop' : 'pass');
}

t.test('handshake retransmission and giving up', async (t) => {
  const pair = makePair(11);
  const { a, pa } = pair;
  unreachable(pair);
  for (let seq = 1; seq <= 3; seq++) send(pair, 'a', seq);
  t.equal(pa.staged.length, 3, 'packets wait for a session');
  t.notOk(pa.timers.pendingTimers().includes('zeroKeyMaterial'), 'no key zeroing scheduled while no session exists');
  runUntil(pair, 90_000);
  t.equal(pa.staged.length, 3, 'still staged while retrying');

  runUntil(pair, 150_000);
  const times = sentBy(pair, 'a', INITIATION).map((s) => s.at);
  // Why 20: the first initiation leaves handshakeAttempts at 0. Each expiry of
  // the retransmit timer with attempts <= MAX_TIMER_HANDSHAKES (18) increments
  // it and retries, so retries happen at attempts 1..19: 19 retries. The
  // expiry that finds attempts = 19 > 18 gives up. 1 + 19 = 20 =
  // MAX_TIMER_HANDSHAKES + 2, which is also the count in wireguard-go's and the
  // kernel's "did not complete after %d attempts, giving up" message.
  t.equal(times.length, MAX_TIMER_HANDSHAKES + 2, '20 initiations in total');
  t.equal(times[0], 0);
  const intervals = gaps(times);
  t.ok(intervals.every((g) => g >= REKEY_TIMEOUT && g < REKEY_TIMEOUT + REKEY_TIMEOUT_JITTER_MAX),
    `every retry REKEY_TIMEOUT + jitter (< 334 ms) after the previous: ${intervals.join(',')}`);
  t.ok(new Set(intervals).size > 1, 'the jitter actually varies');
  const gaveUp = pair.logs.filter((l) => l.node === 'a' && l.message.includes('after 20 attempts, giving up'));
  t.equal(gaveUp.length, 1, 'gives up once');
  const gaveUpAt = gaveUp[0]!.at;
  const last = times[times.length - 1]!;
  t.ok(gaveUpAt - last >= REKEY_TIMEOUT && gaveUpAt - last < REKEY_TIMEOUT + REKEY_TIMEOUT_JITTER_MAX,
    `gives up at the 20th expiry (${gaveUpAt} ms), REKEY_TIMEOUT + jitter after the last initiation`);
  t.ok(gaveUpAt >= 20 * REKEY_TIMEOUT && gaveUpAt < 20 * (REKEY_TIMEOUT + REKEY_TIMEOUT_JITTER_MAX),
    'about REKEY_ATTEMPT_TIME + 2 × REKEY_TIMEOUT after the first attempt');
  t.equal(a.device.indices.size, 1, 'the last handshake still holds its index');

  // Replay the same story (same seed, so the same jitter) to look just before and at the give-up instant.
  const replay = makePair(11);
  unreachable(replay);
  for (let seq = 1; seq <= 3; seq++) send(replay, 'a', seq);
  runUntil(replay, gaveUpAt - 1);
  t.equal(replay.pa.staged.length, 3, 'staged packets kept until the attempts run out');
  t.notOk(replay.pa.timers.pendingTimers().includes('zeroKeyMaterial'));
  runUntil(replay, gaveUpAt);
  t.equal(replay.pa.staged.length, 0, 'staged packets dropped on giving up');
  t.same(replay.pa.timers.pendingTimers(), ['zeroKeyMaterial'], 'giving up schedules key zeroing and nothing else');
  t.equal(replay.a.device.indices.size, 1, 'the last handshake still holds its index');

  runUntil(replay, gaveUpAt + REJECT_AFTER_TIME * 3 - 1);
  t.equal(sentBy(replay, 'a', INITIATION).length, 20, 'no initiation after giving up');
  t.equal(replay.a.device.indices.size, 1);
  runUntil(replay, gaveUpAt + REJECT_AFTER_TIME * 3);
  t.equal(replay.a.device.indices.size, 0, 'zeroKeyMaterial fired 3 × REJECT_AFTER_TIME after giving up: handshake index freed');
  t.equal(replay.pa.handshake.localIndex, 0);
  t.same(replay.pa.timers.pendingTimers(), []);

  // The link comes back: new traffic gets through, the dropped packets never do.
  replay.intercept = null;
  send(replay, 'a', 4);
  replay.net.deliver();
  t.same(deliveredSeqs(replay.b), [4], 'only the packet sent after recovery arrives');
  t.equal(a.delivered.length, 0);
});

t.test('new data restarts the attempt count, so a busy peer keeps retrying', async (t) => {
  const pair = makePair(12);
  unreachable(pair);
  for (let at = 0; at <= 300_000; at += 30_000) {
    runUntil(pair, at);
    send(pair, 'a', at);
  }
  runUntil(pair, 300_001);
  const n = sentBy(pair, 'a', INITIATION).length;
  t.ok(n > MAX_TIMER_HANDSHAKES + 2, `${n} initiations in 300 s: never gave up`);
  t.equal(pair.pa.staged.length, 11, 'nothing dropped');
});

t.test('handshake initiation rate limit', async (t) => {
  t.test('two sends before the handshake completes produce one initiation', async (t) => {
    const pair = makePair(13);
    send(pair, 'a', 1);
    send(pair, 'a', 2);
    t.equal(sentBy(pair, 'a', INITIATION).length, 1);
    pair.net.deliver();
    t.same(deliveredSeqs(pair.b), [1, 2], 'both staged packets delivered in order');
    t.equal(sentBy(pair, 'a', INITIATION).length, 1);
  });

  t.test('no second initiation within REKEY_TIMEOUT of the first', async (t) => {
    const pair = makePair(14);
    unreachable(pair);
    send(pair, 'a', 1);
    runUntil(pair, REKEY_TIMEOUT - 1);
    send(pair, 'a', 2);
    t.same(sentBy(pair, 'a', INITIATION).map((s) => s.at), [0], 'a send at 4999 ms is rate limited');
    runUntil(pair, REKEY_TIMEOUT + REKEY_TIMEOUT_JITTER_MAX);
    const times = sentBy(pair, 'a', INITIATION).map((s) => s.at);
    t.equal(times.length, 2, 'the retransmission goes out');
    t.ok(times[1]! >= REKEY_TIMEOUT);
  });

  t.test('a responder does not initiate within REKEY_TIMEOUT of its response', async (t) => {
    const pair = makePair(15);
    // Hold a's confirming keepalive so b only has an unconfirmed `next` session.
    pair.intercept = (_d, type, from) => (from === 'a' && type === TRANSPORT ? 'hold' : 'pass');
    pair.a.device.forceRekey();
    pair.net.deliver();
    t.ok(pair.pb.keypairs.next, 'b holds the session as next');
    t.equal(pair.pb.keypairs.current, null);
    runUntil(pair, 1000);
    send(pair, 'b', 7);
    t.equal(sentBy(pair, 'b', INITIATION).length, 0, 'b stages instead of crossing a with its own initiation');
    t.equal(pair.pb.staged.length, 1);
    // The keepalive arrives: b's session is confirmed and the staged packet goes.
    pair.intercept = null;
    for (const d of pair.held.splice(0)) pair.net.queue.push(d);
    pair.net.deliver();
    t.same(deliveredSeqs(pair.a), [7]);
    t.equal(sentBy(pair, 'b', INITIATION).length, 0);
  });
});

t.test('passive keepalive', async (t) => {
  t.test('sent KEEPALIVE_TIMEOUT after receiving data when nothing was sent back', async (t) => {
    const pair = makePair(21);
    establish(pair);
    runUntil(pair, 60_000);
    const fromB = pair.sent.filter((s) => s.from === 'b');
    t.same(fromB.map((s) => [s.at, s.type, s.len]), [[0, 2, 92], [KEEPALIVE_TIMEOUT, TRANSPORT, 32]],
      'b: the response, then one 32-byte keepalive at exactly 10 s');
    t.equal(pair.a.delivered.length, 0, 'a keepalive is not written to the TUN');
    t.same(sentBy(pair, 'a', TRANSPORT).map((s) => [s.at, s.len]), [[0, 128]],
      'a answers no keepalive with a keepalive');
  });

  t.test('not sent when data went back in the meantime', async (t) => {
    const pair = makePair(22);
    establish(pair);
    runUntil(pair, 4000);
    send(pair, 'b', 1);
    runUntil(pair, 60_000);
    t.same(pair.sent.filter((s) => s.from === 'b').map((s) => [s.at, s.len]), [[0, 92], [4000, 128]],
      'b sent its response and its data, no keepalive');
    t.same(sentBy(pair, 'a', TRANSPORT).map((s) => [s.at, s.len]), [[0, 128], [4000 + KEEPALIVE_TIMEOUT, 32]],
      'a keepalives b\'s data 10 s later');
  });

  t.test('more data received while the timer runs asks for one more keepalive', async (t) => {
    const pair = makePair(23);
    establish(pair);
    runUntil(pair, 5000);
    send(pair, 'a', 1);
    runUntil(pair, 60_000);
    t.same(sentBy(pair, 'b', TRANSPORT).map((s) => [s.at, s.len]),
      [[KEEPALIVE_TIMEOUT, 32], [2 * KEEPALIVE_TIMEOUT, 32]]);
  });
});

t.test('new handshake when sent data gets no answer', async (t) => {
  t.test('KEEPALIVE_TIMEOUT + REKEY_TIMEOUT + jitter after the first unanswered data', async (t) => {
    const pair = makePair(31);
    establish(pair);
    runUntil(pair, 20_000);
    pair.intercept = (_d, _type, from) => (from === 'b' ? 'drop' : 'pass');
    send(pair, 'a', 1);
    runUntil(pair, 30_000);
    send(pair, 'a', 2); // does not push the timer back
    runUntil(pair, 34_999);
    t.same(sentBy(pair, 'a', INITIATION, 1).map((s) => s.at), [], 'no initiation before 15 s');
    t.ok(sentBy(pair, 'b', TRANSPORT, 30_000).some((s) => s.at === 30_000 && s.len === 32),
      'b did answer with a keepalive, but it was lost');
    runUntil(pair, 35_000 + REKEY_TIMEOUT_JITTER_MAX);
    const times = sentBy(pair, 'a', INITIATION, 1).map((s) => s.at);
    t.equal(times.length, 1);
    t.ok(times[0]! >= 20_000 + KEEPALIVE_TIMEOUT + REKEY_TIMEOUT &&
      times[0]! < 20_000 + KEEPALIVE_TIMEOUT + REKEY_TIMEOUT + REKEY_TIMEOUT_JITTER_MAX, `initiation at ${times[0]}`);
  });

  t.test('any authenticated reply cancels it', async (t) => {
    const pair = makePair(32);
    establish(pair);
    runUntil(pair, 20_000);
    send(pair, 'a', 1);
    runUntil(pair, 110_000);
    t.same(sentBy(pair, 'a', INITIATION, 1), [], 'b\'s keepalive at 30 s was enough');
    t.same(sentBy(pair, 'b', TRANSPORT, 20_000).map((s) => [s.at, s.len]), [[30_000, 32]]);
  });

  t.test('keepalives alone do not arm it', async (t) => {
    const pair = makePair(33);
    establish(pair);
    runUntil(pair, 20_000);
    pair.intercept = (_d, _type, from) => (from === 'b' ? 'drop' : 'pass');
    pair.a.device.applyChange({ replacePeers: false, peers: [{
      publicKey: pair.b.publicKey, remove: false, updateOnly: true, persistentKeepalive: 7,
      replaceAllowedIps: false, allowedIps: [],
    }] });
    runUntil(pair, 100_000);
    t.ok(sentBy(pair, 'a', TRANSPORT, 1).length >= 10, 'a keeps sending keepalives into the void');
    t.same(sentBy(pair, 'a', INITIATION, 1), [], 'but never starts a handshake for lack of answers');
  });
});

function setKeepalive(pair: Pair, seconds: number): void {
  pair.a.device.applyChange({ replacePeers: false, peers: [{
    publicKey: pair.b.publicKey, remove: false, updateOnly: true, persistentKeepalive: seconds,
    replaceAllowedIps: false, allowedIps: [],
  }] });
}

t.test('persistent keepalive', async (t) => {
  t.test('turning it on sends one at once, then one every N s of silence; 0 stops it', async (t) => {
    const pair = makePair(41);
    establish(pair);
    runUntil(pair, 20_000);
    setKeepalive(pair, 25);
    t.same(sentBy(pair, 'a', TRANSPORT, 20_000).map((s) => [s.at, s.len]), [[20_000, 32]], 'immediate keepalive');
    runUntil(pair, 80_000);
    send(pair, 'a', 1); // data restarts the interval, and so does b's passive keepalive at 90 s
    runUntil(pair, 115_500);
    setKeepalive(pair, 0);
    runUntil(pair, 400_000);
    t.same(sentBy(pair, 'a', TRANSPORT, 20_000).map((s) => [s.at, s.len]), [
      [20_000, 32], [45_000, 32], [70_000, 32], [80_000, 128], [115_000, 32],
    ]);
    t.same(sentBy(pair, 'b', TRANSPORT, 20_000).map((s) => [s.at, s.len]), [[90_000, 32]],
      'b answers data with a passive keepalive, keepalives with nothing');
    t.same(sentBy(pair, 'a', INITIATION, 1), [], 'no handshake was needed');
  });

  t.test('changing a running interval does not send at once', async (t) => {
    const pair = makePair(42);
    establish(pair);
    runUntil(pair, 20_000);
    setKeepalive(pair, 25);
    runUntil(pair, 30_000);
    setKeepalive(pair, 15);
    t.same(sentBy(pair, 'a', TRANSPORT, 20_000).map((s) => s.at), [20_000]);
    runUntil(pair, 70_000);
    // The running timer still expires at 45 s; from then on the interval is 15 s.
    t.same(sentBy(pair, 'a', TRANSPORT, 20_000).map((s) => s.at), [20_000, 45_000, 60_000]);
  });

  t.test('with no session, the first keepalive starts a handshake and goes out after it', async (t) => {
    const pair = makePair(43);
    setKeepalive(pair, 25);
    t.same(pair.sent.map((s) => s.type), [INITIATION]);
    pair.net.deliver();
    t.same(pair.sent.map((s) => [s.from, s.type, s.len]), [['a', 1, 148], ['b', 2, 92], ['a', 4, 32]]);
    runUntil(pair, 60_000);
    t.same(sentBy(pair, 'a', TRANSPORT).map((s) => s.at), [0, 25_000, 50_000]);
  });
});

t.test('zero key material', async (t) => {
  t.test('3 × REJECT_AFTER_TIME after the last session was derived, every key is gone', async (t) => {
    const pair = makePair(51);
    establish(pair);
    const { a, b, pa, pb } = pair;
    runUntil(pair, REJECT_AFTER_TIME * 3 - 1);
    t.ok(pa.keypairs.current && pb.keypairs.current);
    t.equal(a.device.indices.size, 1);
    t.equal(b.device.indices.size, 1);
    const keys = [pa.keypairs.current!.sendKey, pb.keypairs.current!.sendKey];
    runUntil(pair, REJECT_AFTER_TIME * 3);
    for (const [name, peer, device] of [['a', pa, a.device], ['b', pb, b.device]] as const) {
      t.equal(peer.keypairs.current, null, `${name}: current gone`);
      t.equal(peer.keypairs.previous, null, `${name}: previous gone`);
      t.equal(peer.keypairs.next, null, `${name}: next gone`);
      t.equal(device.indices.size, 0, `${name}: index table empty`);
      t.same(peer.timers.pendingTimers(), [], `${name}: no timer left`);
    }
    t.ok(keys.every((k) => k.every((x) => x === 0)), 'the keys were wiped, not just unlinked');
    // And the tunnel still works: a new handshake on demand.
    send(pair, 'b', 9);
    pair.net.deliver();
    t.same(deliveredSeqs(a), [9]);
  });

  t.test('each new session restarts the countdown', async (t) => {
    const pair = makePair(52);
    establish(pair);
    runUntil(pair, 121_000);
    send(pair, 'a', 1); // older than REKEY_AFTER_TIME: rekeys
    pair.net.deliver();
    t.equal(sentBy(pair, 'a', INITIATION).length, 2);
    runUntil(pair, REJECT_AFTER_TIME * 3 + 1000);
    t.ok(pair.pa.keypairs.current, 'not zeroed 540 s after the first session');
    t.ok(pair.pb.keypairs.current);
    runUntil(pair, 121_000 + REJECT_AFTER_TIME * 3 - 1);
    t.ok(pair.pa.keypairs.current);
    runUntil(pair, 121_000 + REJECT_AFTER_TIME * 3);
    t.equal(pair.pa.keypairs.current, null);
    t.equal(pair.pa.keypairs.previous, null);
    t.equal(pair.pb.keypairs.current, null);
    t.equal(pair.a.device.indices.size + pair.b.device.indices.size, 0);
  });
});

t.test('KEEPALIVE_TIMEOUT constant matches the whitepaper', async (t) => {
  t.equal(KEEPALIVE_TIMEOUT, 10_000);
  t.equal(REKEY_TIMEOUT, 5_000);
  t.equal(MAX_TIMER_HANDSHAKES, 18);
});
