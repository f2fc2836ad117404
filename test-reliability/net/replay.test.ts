// Replay, reordering and duplication on a real path: wgts and wireguard-go
// in two namespaces with the UDP relay between them (this kernel lacks
// sch_netem, so the relay stands in for `tc qdisc ... netem`). The relay
// duplicates and reorders what wireguard-go sends to wgts, and captures real
// handshake and transport datagrams to send them again later. What wgts
// delivered is read from its TUN's RX counter, so a packet delivered twice
// cannot hide.
import t from 'tap';
import { requireInterop } from '../../test/helpers/netns.js';
import { logsOf } from '../../test/helpers/tunnel.js';
import { wgtsBinary } from '../../test/helpers/wgts-binary.js';
import { createRelayRig, pingStats, RELAY_OUTER_PORT } from '../tools/relay-rig.js';

const INITIATION = '1';
const RESPONSE = '2';
const TRANSPORT = '4';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

if (requireInterop(t)) {
  await wgtsBinary();

  t.test('duplicated, reordered and replayed datagrams towards wgts', async (t) => {
    const rig = await createRelayRig(t, { purpose: 'replay', seed: 7 });
    const { relay } = rig;
    const logs = () => logsOf(rig.wgts, rig.go);
    await relay.capture(true, true);

    // 1. wgts initiates: the capture gets wireguard-go's response.
    const first = await pingStats(rig.execWgts, rig.goV4, 3, 0.2);
    t.equal(first.received, 3, 'wgts -> wireguard-go through the relay', { ping: first.output, ...logs() });
    // 2. wireguard-go forgets wgts and initiates itself: the capture gets an initiation wgts accepted.
    await rig.go.wg(['set', rig.go.ifname, 'peer', rig.wgtsKeys.publicKey, 'remove']);
    await rig.go.wg(['set', rig.go.ifname, 'peer', rig.wgtsKeys.publicKey, 'allowed-ips', `${rig.wgtsV4}/32`,
      'endpoint', `${rig.pair.a.v4}:${RELAY_OUTER_PORT}`]);
    const second = await pingStats(rig.execGo, rig.wgtsV4, 3, 0.2);
    t.equal(second.received, 3, 'wireguard-go initiates a new session and traffic flows', { ping: second.output, ...logs() });
    let s = await relay.stats();
    t.ok((s.in.byType[INITIATION] ?? 0) >= 1, 'captured an initiation from wireguard-go');
    t.ok((s.in.byType[RESPONSE] ?? 0) >= 1, 'captured a response from wireguard-go');

    // 3. Duplicates and reordering on the way in: every echo request is delivered once, none is lost.
    await relay.impair('in', { duplicate: 0.3, reorder: 0.3, reorderDelayMs: 30 });
    await relay.resetStats();
    const before = await rig.tunDelivered();
    const COUNT = 200;
    const shaken = await pingStats(rig.execGo, rig.wgtsV4, COUNT, 0.01, 3);
    await sleep(300); // the last held-back copies
    const delivered = (await rig.tunDelivered()) - before;
    s = await relay.stats();
    t.comment(`duplicate+reorder: ${s.in.duplicated} duplicated, ${s.in.heldBack} held back 30 ms, ` +
      `${s.in.outOfOrder} arrived out of order; ping ${shaken.received}/${shaken.sent}, +${shaken.duplicates} dup`);
    t.ok(s.in.duplicated >= COUNT / 10, `the relay duplicated datagrams (${s.in.duplicated})`);
    t.ok(s.in.outOfOrder >= COUNT / 10, `the relay reordered datagrams (${s.in.outOfOrder} out of order)`);
    t.equal(shaken.duplicates, 0, 'no echo request was answered twice', { ping: shaken.output });
    t.equal(delivered, shaken.sent, 'wgts delivered each echo request exactly once (TUN RX counter)');
    t.equal(shaken.received, shaken.sent, 'reordered packets within the window were accepted: nothing lost',
      { ping: shaken.output, ...logs() });
    await relay.clear();

    // 4. Replayed transport datagrams: nothing is delivered, the counters do not move.
    await relay.capture(false);
    await sleep(1_100); // a handshake in this second would show in latest-handshake
    const peerBefore = await rig.wgtsPeer();
    const deliveredBefore = await rig.tunDelivered();
    await relay.resetStats();
    const replayedTransport = await relay.replay('in', [Number(TRANSPORT)]);
    t.ok(replayedTransport >= COUNT, `replayed ${replayedTransport} captured transport datagrams`);
    await sleep(1_000);
    t.equal(await rig.tunDelivered(), deliveredBefore, 'no replayed transport datagram was delivered');
    t.equal((await rig.wgtsPeer()).rx, peerBefore.rx, 'wgts counted none of them as received');

    // 5. Replayed handshake messages: no response, no new session.
    const replayedHandshakes = await relay.replay('in', [1, 2]);
    t.ok(replayedHandshakes >= 2, `replayed ${replayedHandshakes} captured handshake messages`);
    await sleep(1_000);
    s = await relay.stats();
    t.equal(s.out.byType[RESPONSE] ?? 0, 0, 'wgts answered no replayed initiation');
    t.equal(s.out.byType[INITIATION] ?? 0, 0, 'and started no handshake of its own');
    const peerAfter = await rig.wgtsPeer();
    t.equal(peerAfter.latestHandshake, peerBefore.latestHandshake, 'latest handshake unchanged (wg show)');

    // 6. Everything again, three times over, while traffic flows: still nothing twice.
    const midBefore = await rig.tunDelivered();
    const during = pingStats(rig.execGo, rig.wgtsV4, 50, 0.02);
    for (let i = 0; i < 3; i++) {
      await relay.replay('in');
      await sleep(200);
    }
    const mixed = await during;
    await sleep(300);
    t.equal(mixed.duplicates, 0, 'no duplicate replies while old datagrams are replayed into live traffic');
    t.equal(mixed.received, mixed.sent, 'live traffic unaffected by the replays', { ping: mixed.output });
    t.equal((await rig.tunDelivered()) - midBefore, mixed.sent, 'only the live echo requests were delivered');
    t.equal((await rig.wgtsPeer()).latestHandshake, peerBefore.latestHandshake, 'still no new handshake');
    t.notOk(rig.wgts.exited(), 'wgts is still running');
  });

  t.test('delay with heavy reordering (packets 20 apart) stays inside the replay window', async (t) => {
    const rig = await createRelayRig(t, { purpose: 'reorder', seed: 11 });
    const { relay } = rig;
    t.equal((await pingStats(rig.execGo, rig.wgtsV4, 2, 0.2)).received, 2, 'session up');
    await relay.impair('in', { delayMs: 5, reorder: 0.5, reorderDelayMs: 200 });
    await relay.impair('out', { delayMs: 5, reorder: 0.5, reorderDelayMs: 200 });
    await relay.resetStats();
    const before = await rig.tunDelivered();
    const p = await pingStats(rig.execGo, rig.wgtsV4, 150, 0.01, 3);
    await sleep(400);
    const s = await relay.stats();
    t.comment(`delay 5 ms, half held back 200 ms: ${s.in.outOfOrder} out of order towards wgts; ` +
      `ping ${p.received}/${p.sent}, rtt avg ${p.avgMs} ms max ${p.maxMs} ms`);
    t.ok(s.in.outOfOrder >= 30, 'many datagrams arrived out of order');
    t.equal(p.received, p.sent, 'all accepted', { ping: p.output, ...logsOf(rig.wgts, rig.go) });
    t.equal((await rig.tunDelivered()) - before, p.sent, 'each delivered once');
  });
}
