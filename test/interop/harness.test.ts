// Proves the interop harness on its own, without wgts: two wireguard-go
// peers in two namespaces joined by one veth pair.
import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPair, generatePresharedKey } from '../helpers/keys.js';
import {
  WG_SOCKET_DIR,
  createNetnsPair,
  listNamespaces,
  ownedResources,
  requireInterop,
  startWireguardGo,
  uniqueIfname,
  type NetnsPair,
  type WireguardGo,
} from '../helpers/netns.js';

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Starts wireguard-go on both ends of `pair` as peers of each other; a knows b's endpoint. */
async function startPeers(pair: NetnsPair, psk: { a?: string; b?: string }): Promise<[WireguardGo, WireguardGo]> {
  const ka = generateKeyPair();
  const kb = generateKeyPair();
  const { v4, v6 } = pair.tunnel;
  const b = await startWireguardGo(pair.b.ns, uniqueIfname('w'), {
    privateKey: kb.privateKey,
    peers: [{ publicKey: ka.publicKey, presharedKey: psk.b, allowedIps: [`${v4[0]}/32`, `${v6[0]}/128`] }],
    addresses: [`${v4[1]}/24`, `${v6[1]}/64`],
  });
  const a = await startWireguardGo(pair.a.ns, uniqueIfname('w'), {
    privateKey: ka.privateKey,
    peers: [
      {
        publicKey: kb.publicKey,
        presharedKey: psk.a,
        allowedIps: [`${v4[1]}/32`, `${v6[1]}/128`],
        endpoint: `${pair.b.v4}:${b.listenPort}`,
      },
    ],
    addresses: [`${v4[0]}/24`, `${v6[0]}/64`],
  });
  return [a, b];
}

async function teardown(pair: NetnsPair, peers: WireguardGo[]): Promise<void> {
  for (const p of peers) await p.stop();
  await pair.destroy();
}

if (requireInterop(t)) {
  t.test('two wireguard-go peers ping each other, then leave nothing behind', async (t) => {
    const pair = await createNetnsPair({ purpose: 'harness' });
    const peers: WireguardGo[] = [];
    t.teardown(() => teardown(pair, peers));
    const psk = generatePresharedKey().base64;
    const [a, b] = await startPeers(pair, { a: psk, b: psk });
    peers.push(a, b);

    for (const w of [a, b]) {
      t.equal(readFileSync(`/proc/${w.pid}/comm`, 'utf8').trim(), 'wireguard-go', 'the pid we hold is wireguard-go itself');
      t.ok(w.listenPort > 0 && w.listenPort < 65536, `listen port ${w.listenPort} read back`);
    }

    const { v4, v6 } = pair.tunnel;
    const ping4 = await a.exec(['ping', '-c', '3', '-i', '0.2', '-W', '2', v4[1]], { allowFail: true });
    t.equal(ping4.code, 0, 'IPv4 ping across the tunnel', { output: ping4.stdout + ping4.stderr });
    t.match(ping4.stdout, /3 received/);
    const ping6 = await b.exec(['ping', '-6', '-c', '3', '-i', '0.2', '-W', '2', v6[0]], { allowFail: true });
    t.equal(ping6.code, 0, 'IPv6 ping the other way', { output: ping6.stdout + ping6.stderr });

    const showA = await a.wgShow();
    const showB = await b.wgShow();
    t.equal(showA.publicKey, a.publicKey);
    t.equal(showA.peers.length, 1);
    t.equal(showB.peers.length, 1);
    const now = Date.now() / 1000;
    for (const [name, s] of [
      ['a', showA],
      ['b', showB],
    ] as const) {
      const p = s.peers[0]!;
      t.ok(p.latestHandshake > now - 60 && p.latestHandshake <= now + 1, `${name}: recent handshake (${p.latestHandshake})`);
      t.ok(p.rx >= 6 * 84, `${name}: rx ${p.rx} covers six echo packets`);
      t.ok(p.tx >= 6 * 84, `${name}: tx ${p.tx} covers six echo packets`);
      t.equal(p.presharedKey, psk, `${name}: PSK configured`);
    }
    t.equal(showA.peers[0]!.endpoint, `${pair.b.v4}:${b.listenPort}`, 'a sends to the configured endpoint');
    t.equal(showB.peers[0]!.endpoint, `${pair.a.v4}:${a.listenPort}`, 'b learned a’s endpoint from the handshake');
    t.match(a.output(), /Sending handshake initiation/, 'verbose log captured');

    await teardown(pair, peers);
    const left = await listNamespaces();
    t.notOk(left.includes(pair.a.ns) || left.includes(pair.b.ns), 'namespaces deleted');
    for (const w of [a, b]) {
      t.notOk(pidAlive(w.pid), `wireguard-go ${w.pid} exited`);
      t.notOk(existsSync(join(WG_SOCKET_DIR, `${w.ifname}.sock`)), `${w.ifname}.sock removed`);
    }
    t.same(ownedResources(), { namespaces: [], leases: [], wireguardGoPids: [] }, 'nothing left registered');
  });

  t.test('a PSK mismatch gives no handshake (the harness can see failure)', async (t) => {
    const pair = await createNetnsPair({ purpose: 'harnessneg' });
    const peers: WireguardGo[] = [];
    t.teardown(() => teardown(pair, peers));
    const [a, b] = await startPeers(pair, { a: generatePresharedKey().base64, b: generatePresharedKey().base64 });
    peers.push(a, b);
    const ping = await a.exec(['ping', '-c', '1', '-W', '2', pair.tunnel.v4[1]], { allowFail: true });
    t.not(ping.code, 0, 'ping fails');
    t.equal((await a.wgShow()).peers[0]!.latestHandshake, 0, 'a: no handshake');
    t.equal((await b.wgShow()).peers[0]!.latestHandshake, 0, 'b: no handshake');
  });
}
