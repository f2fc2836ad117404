// `wg show` on wgts against what really went over the wire: after a known
// amount of ping traffic, the byte counters equal the sizes of the WireGuard
// messages sent (handshake 148/92 bytes, transport 32 + the packet padded to
// 16), and mirror wireguard-go's counters exactly; handshake times agree.
import t from 'tap';
import { requireInterop, type WgDumpPeer } from '../helpers/netns.js';
import { createTunnel, logsOf, ping, waitFor, type Side } from '../helpers/tunnel.js';
import { wgtsBinary } from '../helpers/wgts-binary.js';

const INITIATION = 148;
const RESPONSE = 92;

/** Bytes of one transport message carrying an IPv4 ICMP echo with `payload` bytes. */
function transportBytes(payload: number): number {
  const inner = 20 + 8 + payload;
  return 32 + Math.ceil(inner / 16) * 16;
}

/** Both sides' view once nothing changes any more between two looks (no packet in flight). */
async function quietCounters(a: Side, b: Side): Promise<[WgDumpPeer, WgDumpPeer]> {
  let last = '';
  return waitFor(async () => {
    const pair: [WgDumpPeer, WgDumpPeer] = [await a.peer(), await b.peer()];
    const key = JSON.stringify(pair.map((p) => [p.rx, p.tx]));
    const stable = key === last;
    last = key;
    return stable ? pair : null;
  }, 5_000, 'the counters to settle', 300);
}

if (requireInterop(t)) {
  await wgtsBinary();

  t.test('byte counts and handshake times match what was sent', async (t) => {
    // Only wgts knows the endpoint, so it initiates: its tx starts with the initiation.
    const tun = await createTunnel(t, { purpose: 'status', left: 'wgts', right: 'wireguard-go', outer: 4, endpoints: 'left' });
    const { left: wgts, right: wggo } = tun;
    const logs = () => logsOf(wgts.daemon, wggo.daemon);
    const zero = await quietCounters(wgts, wggo);
    t.same(zero.map((p) => [p.rx, p.tx, p.latestHandshake]), [[0, 0, 0], [0, 0, 0]], 'all zero before traffic');

    const start = Math.floor(Date.now() / 1000);
    t.equal((await ping(wgts, wggo.v4, { count: 5, size: 100 })).received, 5, 'five 100-byte pings wgts -> wireguard-go', logs());
    t.equal((await ping(wggo, wgts.v4, { count: 3, size: 300 })).received, 3, 'three 300-byte pings wireguard-go -> wgts', logs());
    const end = Math.ceil(Date.now() / 1000);

    const [w, g] = await quietCounters(wgts, wggo);
    t.equal(w.tx, g.rx, 'wgts tx equals wireguard-go rx', logs());
    t.equal(w.rx, g.tx, 'wgts rx equals wireguard-go tx', logs());
    const wgtsSent = INITIATION + 5 * transportBytes(100) + 3 * transportBytes(300);
    const wggoSent = RESPONSE + 5 * transportBytes(100) + 3 * transportBytes(300);
    t.equal(w.tx, wgtsSent, `wgts tx = initiation + 5 requests + 3 replies = ${wgtsSent}`, logs());
    t.equal(w.rx, wggoSent, `wgts rx = response + 5 replies + 3 requests = ${wggoSent}`, logs());

    t.ok(w.latestHandshake >= start && w.latestHandshake <= end, `wgts handshake time ${w.latestHandshake} within the traffic [${start}, ${end}]`);
    t.ok(Math.abs(w.latestHandshake - g.latestHandshake) <= 1, `handshake times agree (wgts ${w.latestHandshake}, wireguard-go ${g.latestHandshake})`);

    // The per-field forms of wg show read the same numbers.
    const transfer = (await wgts.daemon.wg(['show', wgts.daemon.ifname, 'transfer'])).stdout.trim().split('\t');
    t.same(transfer, [wggo.keys.publicKey, String(w.rx), String(w.tx)], '`wg show transfer` agrees');
    const hs = (await wgts.daemon.wg(['show', wgts.daemon.ifname, 'latest-handshakes'])).stdout.trim().split('\t');
    t.same(hs, [wggo.keys.publicKey, String(w.latestHandshake)], '`wg show latest-handshakes` agrees');
    const human = (await wgts.daemon.wg(['show', wgts.daemon.ifname])).stdout;
    t.match(human, /latest handshake: (Now|\d+ seconds? ago)/, '`wg show` prints a recent handshake');

    // More traffic: exactly that much more on both sides.
    t.equal((await ping(wggo, wgts.v4, { count: 10, size: 1000, intervalS: 0.05 })).received, 10, 'ten 1000-byte pings wireguard-go -> wgts', logs());
    const [w2, g2] = await quietCounters(wgts, wggo);
    t.equal(w2.tx - w.tx, 10 * transportBytes(1000), 'wgts sent exactly ten 1000-byte replies more');
    t.equal(w2.rx - w.rx, 10 * transportBytes(1000), 'wgts received exactly ten 1000-byte requests more');
    t.equal(w2.tx, g2.rx, 'still: wgts tx equals wireguard-go rx');
    t.equal(w2.rx, g2.tx, 'still: wgts rx equals wireguard-go tx');
    t.equal(w2.latestHandshake, w.latestHandshake, 'no new handshake');
  });
}
