// Faults around a running wgts (real binary, wireguard-go as the peer, the
// UDP relay on the path standing in for netem, which this kernel lacks):
// a lossy, slow, reordering path and a dead one; the peer restarting; wgts
// killed with SIGKILL and brought back by a supervisor loop (the test plays
// procd's part); its TUN deleted; its UDP port taken; its configuration
// reloaded while traffic flows. Each time traffic must resume without manual
// action and the log must say what happened.
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair } from '../../test/helpers/keys.js';
import {
  adoptDaemon, createNetnsLink, requireInterop, startWgts, stopAdopted, uniqueIfname, WG_SOCKET_DIR, type WireguardGo,
} from '../../test/helpers/netns.js';
import { logsOf, waitFor } from '../../test/helpers/tunnel.js';
import { wgtsBinary } from '../../test/helpers/wgts-binary.js';
import { createRelayRig, pingStats, RELAY_INNER_PORT, type RelayRig } from '../tools/relay-rig.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Pings once a second until a reply comes back; seconds it took, or null after `limitS`. */
async function secondsUntilReply(exec: RelayRig['execGo'], to: string, limitS: number): Promise<number | null> {
  const start = Date.now();
  while (Date.now() - start < limitS * 1000) {
    if ((await pingStats(exec, to, 1, 1, 1)).received === 1) return (Date.now() - start) / 1000;
  }
  return null;
}

function logsMatch(d: WireguardGo, re: RegExp): boolean {
  return re.test(d.output());
}


if (requireInterop(t)) {
  await wgtsBinary();
  t.jobs = 2;

  t.test('a lossy, slow, reordering path; then a dead one; then a clean one', async (t) => {
    const rig = await createRelayRig(t, { purpose: 'lossy', seed: 3 });
    const { relay } = rig;
    t.equal((await pingStats(rig.execGo, rig.wgtsV4, 2, 0.2)).received, 2, 'session up');

    for (const dir of ['in', 'out'] as const) await relay.impair(dir, { loss: 0.1, delayMs: 20, reorder: 0.2, reorderDelayMs: 30 });
    const lossy = await pingStats(rig.execGo, rig.wgtsV4, 150, 0.02, 3);
    t.comment(`10% loss, 20 ms delay, 20% reordered by 30 ms, each way: ${lossy.received}/${lossy.sent} replies ` +
      `(about 81% expected), rtt avg ${lossy.avgMs} ms max ${lossy.maxMs} ms`);
    t.ok(lossy.received >= lossy.sent * 0.65, 'traffic keeps flowing on a lossy path', { ping: lossy.output });
    t.equal(lossy.duplicates, 0, 'no duplicates');

    const before = await rig.wgtsPeer();
    for (const dir of ['in', 'out'] as const) await relay.impair(dir, { loss: 1 });
    // wgts keeps sending (pings from its side) and hears nothing: after 15 s it must retry handshakes.
    const dead = pingStats(rig.execWgts, rig.goV4, 24, 1, 1);
    const noticed = await waitFor(() => logsMatch(rig.wgts, /stopped hearing back/), 25_000, 'wgts noticing the dead path')
      .then(() => true, () => false);
    t.ok(noticed, 'wgts logs that it stopped hearing back and retries the handshake', logsOf(rig.wgts));
    t.equal((await dead).received, 0, 'nothing gets through a dead path (the relay works)');

    await relay.clear();
    const back = await secondsUntilReply(rig.execWgts, rig.goV4, 20);
    t.ok(back !== null, `traffic resumes once the path is back (${back?.toFixed(1)} s)`, logsOf(rig.wgts, rig.go));
    await sleep(2_000); // a retried handshake may still be crossing the path just restored
    const clean = await pingStats(rig.execWgts, rig.goV4, 20, 0.05);
    t.equal(clean.received, 20, 'and stays up', { ping: clean.output, ...logsOf(rig.wgts) });
    t.ok((await rig.wgtsPeer()).latestHandshake >= before.latestHandshake, 'wg show still reports the session');
  });

  t.test('the peer restarts', async (t) => {
    const rig = await createRelayRig(t, { purpose: 'peerrestart', seed: 5 });
    t.equal((await pingStats(rig.execGo, rig.wgtsV4, 2, 0.2)).received, 2, 'session up');

    await rig.restartGo();
    const fromPeer = await secondsUntilReply(rig.execGo, rig.wgtsV4, 15);
    t.ok(fromPeer !== null, `the restarted peer's traffic flows (${fromPeer?.toFixed(1)} s): wgts accepts its new handshake`,
      logsOf(rig.wgts, rig.go));

    // Now wgts speaks first to a peer that lost its session: wgts must notice and re-handshake by itself.
    await rig.restartGo();
    const fromWgts = await secondsUntilReply(rig.execWgts, rig.goV4, 30);
    t.ok(fromWgts !== null, `wgts re-establishes the session itself (${fromWgts?.toFixed(1)} s)`, logsOf(rig.wgts, rig.go));
    t.comment(`peer restart: traffic from the peer back after ${fromPeer?.toFixed(1)} s; ` +
      `from wgts (which must time out its stale session first) after ${fromWgts?.toFixed(1)} s`);
  });

  // With persistent keepalive (as a router that must come back by itself would be configured) the new wgts
  // starts the handshake; without it, the peer's own timers (10 s keepalive + 5 s rekey) bring it back.
  for (const keepalive of [25, 0]) {
    t.test(`SIGKILL, and a supervisor restarts wgts (persistent keepalive ${keepalive || 'off'})`, async (t) => {
      const rig = await createRelayRig(t, { purpose: 'sigkill', seed: 9, wgtsKeepalive: keepalive || undefined });
      t.equal((await pingStats(rig.execGo, rig.wgtsV4, 2, 0.2)).received, 2, 'session up');
      await sleep(1_100); // so that a new handshake shows in latest-handshake
      const goBefore = await rig.goPeer();

      // The supervisor (standing in for procd + the netifd proto handler): restart and reconfigure on exit.
      let stopped = false;
      const restarts: { pid: number; ms: number }[] = [];
      const supervisor = (async () => {
        while (!stopped) {
          if (rig.wgts.exited()) {
            const old = rig.wgts;
            const diedAt = Date.now();
            await rig.restartWgts();
            restarts.push({ pid: old.pid, ms: Date.now() - diedAt });
          }
          await sleep(50);
        }
      })();
      t.teardown(async () => { stopped = true; await supervisor; });

      const killed = rig.wgts.pid;
      process.kill(killed, 'SIGKILL');
      await waitFor(() => restarts.length > 0, 10_000, 'the supervisor restarting wgts');
      t.equal(restarts[0]!.pid, killed, 'the supervisor saw the killed daemon exit');
      t.not(rig.wgts.pid, killed, `a new wgts runs (restarted and configured in ${restarts[0]!.ms} ms)`);

      const back = await secondsUntilReply(rig.execGo, rig.wgtsV4, 30);
      t.ok(back !== null, `the peer's traffic flows again without manual action (${back?.toFixed(1)} s)`, logsOf(rig.wgts, rig.go));
      if (keepalive) t.match(rig.wgts.output(), /Sending handshake initiation/, 'the new wgts started the handshake itself');
      else t.match(rig.wgts.output(), /Received handshake initiation/, 'the peer started the new handshake');
      t.ok((await rig.goPeer()).latestHandshake > goBefore.latestHandshake, 'wireguard-go shows a new handshake');
      t.comment(`SIGKILL (keepalive ${keepalive || 'off'}): supervisor restarted wgts in ${restarts[0]!.ms} ms, ` +
        `traffic back after ${back?.toFixed(1)} s`);
      stopped = true;
      await supervisor;
    });
  }

  t.test('the TUN device deleted under it', async (t) => {
    // Our own wgts process, so that its exit code can be read.
    const link = await createNetnsLink({ purpose: 'tundel' });
    t.teardown(() => link.destroy());
    const ifname = uniqueIfname('t');
    const child = spawn('ip', ['netns', 'exec', link.ns, await wgtsBinary(), '-f', ifname],
      { env: { ...process.env, LOG_LEVEL: 'verbose' }, stdio: ['ignore', 'pipe', 'pipe'] });
    adoptDaemon(child.pid!, link.ns, ifname);
    let output = '';
    child.stdout!.on('data', (c: Buffer) => { output += c.toString(); });
    child.stderr!.on('data', (c: Buffer) => { output += c.toString(); });
    const exit = new Promise<{ code: number | null; signal: string | null }>((res) =>
      child.once('exit', (code, signal) => res({ code, signal })));
    t.teardown(() => stopAdopted(child.pid!));
    const socket = join(WG_SOCKET_DIR, `${ifname}.sock`);
    await waitFor(() => existsSync(socket), 5_000, 'the UAPI socket');
    await link.exec(['ip', 'link', 'set', ifname, 'up']);
    await link.exec(['ip', 'link', 'delete', ifname]);
    const ended = await Promise.race([exit, sleep(5_000).then(() => null)]);
    t.ok(ended, 'wgts exits within 5 s', { output });
    t.equal(ended?.code, 0, 'with exit code 0 (an orderly shutdown)', { output });
    t.match(output, /Shutting down: (interface removed|TUN device (removed|unusable))/, 'and its log says why', { output });
    t.notOk(existsSync(socket), 'its UAPI socket is gone');
  });

  t.test('the UDP port is taken', async (t) => {
    const rig = await createRelayRig(t, { purpose: 'porttaken' });
    t.equal((await pingStats(rig.execGo, rig.wgtsV4, 2, 0.2)).received, 2, 'session up');
    const TAKEN = 51900;
    const holder = spawn('ip', ['netns', 'exec', rig.pair.a.ns, process.execPath, '-e',
      `const s = require('dgram').createSocket('udp4'); s.bind(${TAKEN}, () => console.log('bound')); ` +
      `process.stdin.on('end', () => process.exit(0)); process.stdin.resume();`], { stdio: ['pipe', 'pipe', 'inherit'] });
    t.teardown(() => { holder.stdin!.end(); });
    await new Promise<void>((res) => holder.stdout!.once('data', () => res()));

    const moved = await rig.wgts.wg(['set', rig.wgts.ifname, 'listen-port', String(TAKEN)]).then(
      () => ({ code: 0, stderr: '' }), (e: Error) => ({ code: 1, stderr: e.message }));
    t.not(moved.code, 0, 'wg set listen-port to a taken port fails');
    t.match(moved.stderr, /Address already in use/, 'with a clear error', { stderr: moved.stderr });
    t.equal((await rig.wgts.wgShow()).listenPort, 51820, 'wgts keeps its old port');
    t.equal((await pingStats(rig.execGo, rig.wgtsV4, 3, 0.1)).received, 3, 'and its traffic');
    t.match(rig.wgts.output(), /UAPI set failed, nothing changed: Address already in use/, 'its log records the refused change and why');

    // At start-up: a fresh daemon whose configuration asks for the taken port.
    const fresh = startWgts(rig.pair.a.ns, uniqueIfname('p'), {
      privateKey: generateKeyPair().privateKey, listenPort: TAKEN, peers: [], addresses: [],
    });
    const err = await fresh.then(async (d) => { await d.stop(); return ''; }, (e: Error) => e.message);
    t.match(err, /Address already in use/, 'configuring a new wgts with the taken port fails with the same clear error',
      { error: err });
    t.notOk(rig.wgts.exited(), 'the running wgts is unaffected');
  });

  t.test('configuration reloaded while traffic flows', async (t) => {
    const rig = await createRelayRig(t, { purpose: 'reload' });
    t.equal((await pingStats(rig.execGo, rig.wgtsV4, 2, 0.2)).received, 2, 'session up');
    const dir = mkdtempSync(join(tmpdir(), 'wgts-reload-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const ifname = rig.wgts.ifname;
    const extra = generateKeyPair();
    const conf = (withExtra: boolean, keepalive: number) => [
      '[Interface]', `PrivateKey = ${rig.wgtsKeys.privateKey}`, 'ListenPort = 51820', '',
      '[Peer]', `PublicKey = ${rig.goKeys.publicKey}`, `AllowedIPs = ${rig.goV4}/32`,
      `Endpoint = ${rig.pair.a.v4}:${RELAY_INNER_PORT}`, `PersistentKeepalive = ${keepalive}`,
      ...(withExtra ? ['', '[Peer]', `PublicKey = ${extra.publicKey}`, 'AllowedIPs = 10.233.1.0/24'] : []), '',
    ].join('\n');
    writeFileSync(join(dir, 'sync.conf'), conf(true, 15), { mode: 0o600 });
    writeFileSync(join(dir, 'set.conf'), conf(false, 0), { mode: 0o600 });
    const before = await rig.wgtsPeer();
    await sleep(1_100); // a new handshake would change latest-handshake's second

    // syncconf applies a difference: the session survives, not one packet lost.
    const during = pingStats(rig.execGo, rig.wgtsV4, 100, 0.02, 2);
    await sleep(500);
    await rig.wgts.wg(['syncconf', ifname, join(dir, 'sync.conf')]);
    await rig.wgts.wg(['set', ifname, 'peer', rig.goKeys.publicKey, 'allowed-ips', `${rig.goV4}/32,10.233.2.0/24`]);
    const synced = await during;
    const show = await rig.wgts.wgShow();
    t.equal(synced.received, synced.sent, `syncconf mid-traffic: no loss (${synced.received}/${synced.sent})`, { ping: synced.output });
    t.equal(show.peers.length, 2, 'the new peer is there');
    t.equal(show.peers.find((p) => p.publicKey === rig.goKeys.publicKey)?.persistentKeepalive, 15, 'the changed keepalive applied');
    t.equal((await rig.wgtsPeer()).latestHandshake, before.latestHandshake, 'the session was kept (no new handshake)');

    // setconf replaces every peer (as wireguard-go and the kernel do): the session goes. The peer keeps
    // sending under the old one until its own timers (keepalive 10 s + rekey 5 s) make it re-handshake.
    await rig.wgts.wg(['setconf', ifname, join(dir, 'set.conf')]);
    const resumed = await secondsUntilReply(rig.execGo, rig.wgtsV4, 30);
    t.comment(`setconf mid-traffic (peers replaced, session dropped): traffic back after ${resumed?.toFixed(1)} s`);
    t.ok(resumed !== null, 'traffic resumes by itself after setconf', logsOf(rig.wgts, rig.go));
    t.equal((await rig.wgts.wgShow()).peers.length, 1, 'setconf left exactly the configured peer');
    t.notOk(rig.wgts.exited(), 'wgts still running');
    t.notMatch(rig.wgts.output(), /^ERROR/m, 'no errors logged');
    t.match(rig.wgts.output(), /Sending handshake initiation|Received handshake initiation/,
      'the log shows the session being re-established');
  });
}
