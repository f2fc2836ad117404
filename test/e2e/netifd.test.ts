// `wgts --netifd IFACE`, the OpenWrt mode, end to end: the daemon reads a
// UCI network file, talks to a mock ubusd and tunnels to a real wireguard-go
// in another namespace. The mock (test/helpers/mock-ubusd.ts) stands in for
// ubusd + netifd, which no registry ships; since there is no netifd to act on
// the notify_proto messages, the test applies the address netifd would apply.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { generateKeyPair } from '../helpers/keys.js';
import { addMockNetifd, MockUbusd, NodeUbusClient } from '../helpers/mock-ubusd.js';
import { netifdPeers, within, wgtsNetworkFile, wgtsPeerSection, wgtsStatusPeers } from '../helpers/netifd-rig.js';
import {
  adoptDaemon, createNetnsPair, nsExec, processGone, requireInterop, run, stopAdopted,
  waitGone,
} from '../helpers/netns.js';
import { waitFor } from '../helpers/tunnel.js';
import { VirtualClock } from '../helpers/virtual.js';
import { wgtsBinary } from '../helpers/wgts-binary.js';

const LISTEN_PORT = 51820; // the daemon has its namespace to itself

interface Netifd {
  child: ChildProcess;
  pid: number;
  stderr(): string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `ip netns exec <ns> wgts --netifd <iface>` in the foreground, as netifd's proto_run_command runs it. */
function startNetifd(binary: string, ns: string, iface: string, env: Record<string, string>): Netifd {
  const child = spawn('ip', ['netns', 'exec', ns, binary, '--netifd', iface], {
    env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => { err += c.toString('utf8'); });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })));
  if (child.pid === undefined) throw new Error('could not spawn wgts --netifd');
  return { child, pid: child.pid, stderr: () => err, exit };
}

if (requireInterop(t)) {
  const binary = await wgtsBinary();

  t.test('wgts --netifd against a mock ubusd and wireguard-go', async (t) => {
    const pair = await createNetnsPair({ purpose: 'netifd' });
    t.teardown(() => pair.destroy());
    const dir = mkdtempSync(join(tmpdir(), 'wgts-netifd-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));

    const { iface, ours, theirs, ourV4, theirV4, wggo } = await netifdPeers(t, pair);

    const socketPath = join(dir, 'ubus.sock');
    const mock = await MockUbusd.start(socketPath);
    t.teardown(() => mock.close());
    const calls = addMockNetifd(mock, [iface]);

    const networkPath = join(dir, 'network');
    const config = wgtsNetworkFile(iface, { privateKey: ours.privateKey, listenPort: LISTEN_PORT, addresses: [`${ourV4}/24`] }, [{
      publicKey: theirs.publicKey, allowedIps: [`${theirV4}/32`], routeAllowedIps: true,
      endpointHost: pair.b.v4, endpointPort: wggo.listenPort, description: 'wireguard-go peer',
    }]);
    writeFileSync(networkPath, config);
    const env = { WGTS_UCI_NETWORK: networkPath, WGTS_UBUS_SOCKET: socketPath, LOG_LEVEL: 'verbose' };

    const d = startNetifd(binary, pair.a.ns, iface, env);
    adoptDaemon(d.pid, pair.a.ns, iface); // stopped with the namespace should the test fail early
    t.teardown(() => stopAdopted(d.pid));
    const logs = () => ({ wgts: d.stderr(), wireguardGo: wggo.output() });

    // 1-2. What netifd hears.
    const link = await waitFor(() => calls.find((c) => c.action === 0) ?? null, 5_000, 'notify_proto action 0');
    t.equal(link.interface, iface, 'link update names the interface');
    t.equal(link.data.ifname, iface, 'the device is named after the section');
    t.equal(link.data['link-up'], true, 'link-up');
    t.same(link.data.ipaddr, [{ ipaddr: ourV4, mask: '24' }], 'the configured address');
    t.same(link.data.routes, [{ target: theirV4, netmask: '32' }], 'a route for the allowed IP (route_allowed_ips)');
    const dep = await waitFor(() => calls.find((c) => c.action === 6) ?? null, 5_000, 'notify_proto action 6');
    t.equal(dep.data.host, pair.b.v4, 'host dependency on the endpoint address');

    // What netifd would do with the update.
    await run(['ip', '-n', pair.a.ns, 'addr', 'add', `${ourV4}/24`, 'dev', iface]);
    await run(['ip', '-n', pair.a.ns, 'link', 'set', iface, 'up']);
    const ping = async () => (await nsExec(pair.a.ns, ['ping', '-c', '2', '-i', '0.2', '-W', '2', theirV4], { allowFail: true })).code;
    t.equal(await ping(), 0, 'ping through the tunnel', logs());

    await waitFor(() => mock.objectByPath(`wgts.${iface}`), 5_000, `wgts.${iface} on ubus`);
    const luci = new NodeUbusClient(socketPath, new VirtualClock());
    await luci.connect();
    t.teardown(() => luci.close());
    const status = () => wgtsStatusPeers(luci, iface);
    const before = await status();
    t.equal(before.length, 1, 'one peer');
    const first = before[0]!;
    t.equal(first.public_key, theirs.publicKey, 'the wireguard-go peer');
    t.equal(first.description, 'wireguard-go peer', 'with its description');
    t.ok(first.latest_handshake > 0, 'a handshake happened');
    t.ok(first.transfer_rx > 0 && first.transfer_tx > 0, 'transfer counters moved');

    // 3. Reload with one peer more: only the difference is applied.
    const extra = generateKeyPair();
    const extraSection = wgtsPeerSection(iface, { publicKey: extra.publicKey, allowedIps: ['192.0.2.7/32'], description: 'made up' });
    appendFileSync(networkPath, extraSection);
    const linksBefore = calls.filter((c) => c.action === 0).length;
    d.child.kill('SIGHUP');
    const reloaded = await waitFor(async () => {
      const peers = await status();
      return peers.length === 2 ? peers : null;
    }, 5_000, 'two peers after SIGHUP');
    const again = reloaded.find((p) => p.public_key === theirs.publicKey);
    t.ok(again, 'the first peer is still there');
    t.equal(again?.latest_handshake, first.latest_handshake, 'its session survived: no new handshake');
    t.same(reloaded.find((p) => p.public_key === extra.publicKey)?.allowed_ips, ['192.0.2.7/32'], 'the new peer with its allowed IP');
    await waitFor(() => calls.filter((c) => c.action === 0).length > linksBefore, 5_000, 'a link update after the reload');
    t.equal(await ping(), 0, 'ping still works after the reload', logs());
    const handshakeAfterReload = (await status()).find((p) => p.public_key === theirs.publicKey)!.latest_handshake;
    t.equal(handshakeAfterReload, first.latest_handshake, 'still the first handshake after more traffic');

    // 4. A broken file: refused at start, and refused on reload.
    const goodText = config + extraSection;
    const brokenText = goodText.replace(`option listen_port '${LISTEN_PORT}'`, "option listen_port '70000'");
    const brokenPath = join(dir, 'network.broken');
    writeFileSync(brokenPath, brokenText);
    const bad = startNetifd(binary, pair.a.ns, iface, { ...env, WGTS_UCI_NETWORK: brokenPath });
    // Not adopted: forgetting an adopted daemon unlinks the UAPI socket of that name, the running one's.
    t.teardown(() => { if (!processGone(bad.pid)) process.kill(bad.pid, 'SIGKILL'); });
    const badExit = await within(bad.exit, 5_000, 'wgts --netifd with a broken file to exit');
    t.not(badExit.code, 0, 'a broken file: non-zero exit');
    t.match(bad.stderr(), /network\.\S+\.listen_port \(line 4\): '70000'/, 'stderr names the option and its line');
    t.ok(bad.stderr().includes(`network.${iface}.listen_port`), 'with the full option path');

    writeFileSync(networkPath, brokenText);
    const statusBefore = await status();
    const logLength = d.stderr().length;
    d.child.kill('SIGHUP');
    await waitFor(() => /Reload refused/.test(d.stderr().slice(logLength)), 5_000, 'the reload to be refused');
    t.match(d.stderr().slice(logLength), /listen_port \(line 4\)/, 'the refusal names the option');
    t.notOk(processGone(d.pid), 'the daemon keeps running');
    t.equal(await ping(), 0, 'ping still works with the old configuration', logs());
    const statusAfter = await status();
    t.same(statusAfter.map((p) => [p.public_key, p.allowed_ips, p.latest_handshake]),
      statusBefore.map((p) => [p.public_key, p.allowed_ips, p.latest_handshake]), 'status unchanged');

    // 5. SIGTERM: clean exit, the TUN goes with it.
    d.child.kill('SIGTERM');
    const exit = await within(d.exit, 5_000, 'wgts --netifd to exit on SIGTERM');
    t.same(exit, { code: 0, signal: null }, 'exit status 0', logs());
    t.ok(await waitGone(d.pid, 1_000), 'process gone');
    const links = await run(['ip', '-n', pair.a.ns, 'link', 'show', iface], { allowFail: true });
    t.not(links.code, 0, 'the TUN device is gone');
  });
}
