// A wgts hub with several peers, each in its own namespace: `wg syncconf`
// changing or dropping one peer leaves the other's session alone; a removed
// peer and a stranger (a key wgts does not know) get no answer at all.
import t, { type Test } from 'tap';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, type TestKeyPair } from '../helpers/keys.js';
import { createNetnsStar, requireInterop, uniqueIfname, type NetnsSpoke, type NetnsStar, type WgDump, type WireguardGo } from '../helpers/netns.js';
import { createTunnel, logsOf, ping, startImpl, type Impl } from '../helpers/tunnel.js';
import { wgtsBinary } from '../helpers/wgts-binary.js';

const HUB_PORT = 51820;
const SPOKE_PORT = 51821;

interface Spoke {
  net: NetnsSpoke;
  keys: TestKeyPair;
  daemon: WireguardGo;
  /** allowed IPs the hub routes to this spoke */
  allowed: string[];
}

interface Hub {
  star: NetnsStar;
  keys: TestKeyPair;
  daemon: WireguardGo;
  spokes: Spoke[];
}

/**
 * wgts in the hub; spoke k runs impls[k]. A spoke listed in `strangers`
 * knows the hub, but the hub was never told about it.
 */
async function createHub(t: Test, purpose: string, impls: Impl[], strangers: number[] = []): Promise<Hub> {
  const star = await createNetnsStar({ purpose, spokes: impls.length });
  const stops: (() => Promise<void>)[] = [];
  t.teardown(async () => {
    for (const s of stops.reverse()) await s();
    await star.destroy();
  });
  const hubKeys = generateKeyPair();
  const spokeKeys = impls.map(() => generateKeyPair());
  const allowed = star.spokes.map((s) => [`${s.tunnelV4}/32`, `${s.tunnelV6}/128`]);
  const daemon = await startImpl('wgts', star.hub, uniqueIfname('h'), {
    privateKey: hubKeys.privateKey,
    listenPort: HUB_PORT,
    peers: star.spokes.flatMap((s, k) => (strangers.includes(k) ? [] : [{
      publicKey: spokeKeys[k]!.publicKey,
      allowedIps: allowed[k]!,
      endpoint: `${s.v4}:${SPOKE_PORT}`,
    }])),
    addresses: [`${star.tunnelV4}/24`, `${star.tunnelV6}/64`],
  });
  stops.push(() => daemon.stop());
  const spokes: Spoke[] = [];
  for (const [k, net] of star.spokes.entries()) {
    const d = await startImpl(impls[k]!, net.ns, uniqueIfname('s'), {
      privateKey: spokeKeys[k]!.privateKey,
      listenPort: SPOKE_PORT,
      peers: [{ publicKey: hubKeys.publicKey, allowedIps: [`${star.tunnelV4}/32`, `${star.tunnelV6}/128`], endpoint: `${net.hubV4}:${HUB_PORT}` }],
      addresses: [`${net.tunnelV4}/24`, `${net.tunnelV6}/64`],
    });
    stops.push(() => d.stop());
    spokes.push({ net, keys: spokeKeys[k]!, daemon: d, allowed: allowed[k]! });
  }
  return { star, keys: hubKeys, daemon, spokes };
}

function peerIn(dump: WgDump, publicKey: string) {
  return dump.peers.find((p) => p.publicKey === publicKey) ?? null;
}

/** Lines in which a daemon reports handshake messages (both implementations log each one). */
function handshakeLines(d: WireguardGo): number {
  return d.output().split('\n').filter((l) => /handshake (initiation|response)/i.test(l)).length;
}

/** wg-style config for the hub with the given peers. */
function hubConf(hub: Hub, peers: { spoke: Spoke; allowed: string[] }[]): string {
  const lines = ['[Interface]', `PrivateKey = ${hub.keys.privateKey}`, `ListenPort = ${HUB_PORT}`];
  for (const p of peers) {
    lines.push('', '[Peer]', `PublicKey = ${p.spoke.keys.publicKey}`, `AllowedIPs = ${p.allowed.join(', ')}`,
      `Endpoint = ${p.spoke.net.v4}:${SPOKE_PORT}`);
  }
  return lines.join('\n') + '\n';
}

async function syncconf(hub: Hub, conf: string): Promise<void> {
  const path = join(tmpdir(), `wgts-e2e-${process.pid}-${hub.daemon.ifname}.conf`);
  writeFileSync(path, conf, { mode: 0o600 });
  await hub.daemon.wg(['syncconf', hub.daemon.ifname, path]);
}

if (requireInterop(t)) {
  await wgtsBinary();
  t.jobs = 3;

  t.test('wg syncconf changing one peer leaves the other session untouched', async (t) => {
    const hub = await createHub(t, 'sync', ['wireguard-go', 'wgts']);
    const [changed, bystander] = hub.spokes as [Spoke, Spoke];
    const logs = () => logsOf(hub.daemon, changed.daemon, bystander.daemon);
    const hubSide = { exec: hub.star.hubExec };
    for (const s of hub.spokes) {
      t.equal((await ping(hubSide, s.net.tunnelV4, { count: 2 })).received, 2,
        `hub reaches the ${s.daemon.ifname} spoke (${s === changed ? 'wireguard-go' : 'wgts'})`, logs());
    }
    const before = await hub.daemon.wgShow();
    const handshakesBefore = handshakeLines(bystander.daemon);
    t.ok(handshakesBefore > 0, "the other peer's log shows its handshake (so a new one would show too)");
    const changedHandshakesBefore = handshakeLines(changed.daemon);

    const extra = '10.99.0.0/24';
    await syncconf(hub, hubConf(hub, [{ spoke: changed, allowed: [...changed.allowed, extra] }, { spoke: bystander, allowed: bystander.allowed }]));
    const after = await hub.daemon.wgShow();
    t.same(peerIn(after, changed.keys.publicKey)?.allowedIps.sort(), [...changed.allowed, extra].sort(), 'the changed peer has the new allowed IPs');
    t.same(peerIn(after, bystander.keys.publicKey)?.allowedIps.sort(), [...bystander.allowed].sort(), "the other peer's allowed IPs are as they were");

    t.equal((await ping(hubSide, bystander.net.tunnelV4, { count: 3 })).received, 3, 'hub -> other peer still works', logs());
    t.equal((await ping(bystander.net, hub.star.tunnelV4, { count: 3 })).received, 3, 'other peer -> hub still works', logs());
    t.equal((await ping(hubSide, changed.net.tunnelV4, { count: 2 })).received, 2, 'hub -> changed peer works', logs());
    const later = await hub.daemon.wgShow();
    t.equal(peerIn(later, bystander.keys.publicKey)?.latestHandshake, peerIn(before, bystander.keys.publicKey)?.latestHandshake,
      "the other peer's latest handshake is unchanged");
    t.equal(handshakeLines(bystander.daemon), handshakesBefore, 'the other peer saw no new handshake message', logs());
    t.equal(handshakeLines(changed.daemon), changedHandshakesBefore, 'nor did the changed peer (allowed IPs only)', logs());
    t.ok(peerIn(later, bystander.keys.publicKey)!.rx > peerIn(before, bystander.keys.publicKey)!.rx, "the other peer's counters kept counting");

    // Dropping the changed peer from the file removes it, and still nothing happens to the other one.
    await syncconf(hub, hubConf(hub, [{ spoke: bystander, allowed: bystander.allowed }]));
    const dropped = await hub.daemon.wgShow();
    t.same(dropped.peers.map((p) => p.publicKey), [bystander.keys.publicKey], 'syncconf without the first peer removes it');
    t.equal((await ping(hubSide, bystander.net.tunnelV4, { count: 2 })).received, 2, 'the other peer still works', logs());
    t.equal(handshakeLines(bystander.daemon), handshakesBefore, 'still without a new handshake', logs());
    t.equal(peerIn(await hub.daemon.wgShow(), bystander.keys.publicKey)?.latestHandshake, peerIn(before, bystander.keys.publicKey)?.latestHandshake,
      'latest handshake still the same');
  });

  t.test('a removed peer gets no answer', async (t) => {
    const tun = await createTunnel(t, { purpose: 'removed', left: 'wgts', right: 'wireguard-go', outer: 4 });
    const { left: wgts, right: peer } = tun;
    const logs = () => logsOf(wgts.daemon, peer.daemon);
    t.equal((await ping(peer, wgts.v4, { count: 2 })).received, 2, 'the peer reaches wgts before its removal', logs());
    await wgts.daemon.wg(['set', wgts.daemon.ifname, 'peer', peer.keys.publicKey, 'remove']);
    t.same((await wgts.daemon.wgShow()).peers, [], 'wgts lists no peer');

    // With its old session the peer sends transport data, which wgts can no longer decrypt.
    const rxBefore = (await peer.peer()).rx;
    t.equal((await ping(peer, wgts.v4, { count: 3, waitS: 1 })).received, 0, 'pings over the old session go unanswered');
    t.equal((await peer.peer()).rx, rxBefore, 'not one byte came back to the peer');

    // A fresh start on the peer's side: now it sends handshake initiations.
    await peer.daemon.wg(['set', peer.daemon.ifname, 'peer', wgts.keys.publicKey, 'remove']);
    await peer.daemon.wg(['set', peer.daemon.ifname, 'peer', wgts.keys.publicKey, 'allowed-ips', `${wgts.v4}/32`,
      'endpoint', `${wgts.outerV4}:${wgts.port}`]);
    t.equal((await ping(peer, wgts.v4, { count: 3, waitS: 1 })).received, 0, 'handshake initiations go unanswered');
    const fresh = await peer.peer();
    t.equal(fresh.latestHandshake, 0, 'the peer has no handshake');
    t.equal(fresh.rx, 0, 'and received nothing');
    t.ok(fresh.tx > 0, 'although it did send');
    t.notOk(wgts.daemon.exited(), 'wgts is still running');
  });

  t.test("a stranger's key gets no answer; the known peer is unaffected", async (t) => {
    const hub = await createHub(t, 'stranger', ['wireguard-go', 'wireguard-go'], [1]);
    const [friend, stranger] = hub.spokes as [Spoke, Spoke];
    const hubSide = { exec: hub.star.hubExec };
    const logs = () => logsOf(hub.daemon, stranger.daemon);
    t.equal((await ping(stranger.net, hub.star.tunnelV4, { count: 3, waitS: 1 })).received, 0, "the stranger's pings go unanswered", logs());
    const seen = (await stranger.daemon.wgShow()).peers[0]!;
    t.ok(seen.tx > 0, 'the stranger did send handshake initiations');
    t.equal(seen.rx, 0, 'the stranger received nothing');
    t.equal(seen.latestHandshake, 0, 'the stranger has no handshake');
    const hubDump = await hub.daemon.wgShow();
    t.same(hubDump.peers.map((p) => p.publicKey), [friend.keys.publicKey], 'wgts lists only the peer it was told about');
    t.equal(hubDump.peers[0]!.latestHandshake, 0, 'and no handshake happened on wgts at all');
    t.equal((await ping(hubSide, friend.net.tunnelV4, { count: 2 })).received, 2, 'the known peer works', logs());
  });
}
