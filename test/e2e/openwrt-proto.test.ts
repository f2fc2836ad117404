// The whole netifd cycle through openwrt/files/wgts.sh: BusyBox ash runs the
// unchanged proto script in an OpenWrt-like root (test/helpers/openwrt-root.ts)
// inside a network namespace; the netifd-proto.sh stand-in starts the real
// /usr/sbin/wgts (dist/x86_64/wgts) as netifd would. The daemon finds
// /etc/config/network and /var/run/ubus/ubus.sock where a router has them,
// inside the root, without WGTS_* overrides; the socket is the test's mock
// ubusd with its netifd network.interface stand-in. There is no netifd to act
// on notify_proto, so the test applies addresses and routes as netifd would.
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import t from 'tap';
import { generateKeyPair } from '../helpers/keys.js';
import { addMockNetifd, MockUbusd, NodeUbusClient } from '../helpers/mock-ubusd.js';
import { netifdPeers, wgtsNetworkFile, wgtsPeerSection, wgtsStatusPeers } from '../helpers/netifd-rig.js';
import {
  adoptDaemon, createNetnsPair, nsExec, processGone, requireInterop, run, stopAdopted,
  waitGone,
} from '../helpers/netns.js';
import { createOpenwrtRoot, openwrtRootUnavailableReason } from '../helpers/openwrt-root.js';
import { waitFor } from '../helpers/tunnel.js';
import { VirtualClock } from '../helpers/virtual.js';
import { wgtsBinary } from '../helpers/wgts-binary.js';

const LISTEN_PORT = 51820; // the daemon has its namespace to itself
const TEARDOWN_LIMIT_MS = 5_000; // netifd SIGKILLs the task 5 s after teardown starts

if (requireInterop(t)) {
  const reason = openwrtRootUnavailableReason();
  if (reason) throw new Error(`openwrt-proto e2e cannot run: ${reason}`);
  const binary = await wgtsBinary();

  t.test('setup, renew and teardown through wgts.sh start, reload and stop wgts --netifd', async (t) => {
    const pair = await createNetnsPair({ purpose: 'owrt' });
    t.teardown(() => pair.destroy());
    const root = createOpenwrtRoot({ wgtsBinary: binary });
    t.teardown(() => root.destroy()); // safe while a task still runs: the host sees only placeholders

    const { iface, ours, theirs, ourV4, theirV4, wggo } = await netifdPeers(t, pair);

    mkdirSync(root.host('/tmp/run/ubus'), { recursive: true });
    const socketPath = root.host('/tmp/run/ubus/ubus.sock'); // /var/run/ubus/ubus.sock inside: /var -> /tmp
    const mock = await MockUbusd.start(socketPath);
    t.teardown(() => mock.close());
    const calls = addMockNetifd(mock, [iface]);

    const settings = { privateKey: ours.privateKey, listenPort: LISTEN_PORT, addresses: [`${ourV4}/24`] };
    const networkPath = root.host('/etc/config/network');
    writeFileSync(networkPath, wgtsNetworkFile(iface, settings, [{
      publicKey: theirs.publicKey, allowedIps: [`${theirV4}/32`], routeAllowedIps: true,
      endpointHost: pair.b.v4, endpointPort: wggo.listenPort, description: 'wireguard-go peer',
    }]));
    // The interface section as netifd passes it to the script: blobmsg JSON, options typed as declared.
    const config = { proto: 'wgts', private_key: ours.privateKey, listen_port: LISTEN_PORT, addresses: settings.addresses };
    const env = { LOG_LEVEL: 'verbose' };
    const logs = () => ({ wgts: root.taskOutput(iface), wireguardGo: wggo.output(), calls: root.calls() });

    // setup: the script asks for the daemon and returns; the daemon reports the link.
    const setup = await root.action('setup', iface, config, { ns: pair.a.ns, env });
    t.equal(setup.code, 0, 'setup exits 0', { stderr: setup.stderr });
    const pid = root.taskPid(iface);
    if (pid === null) throw new Error(`no proto task started\n${JSON.stringify(logs())}`);
    adoptDaemon(pid, pair.a.ns, iface); // stopped with the namespace should the test fail early
    t.teardown(() => stopAdopted(pid));
    t.same(root.notifications()[0], { action: 1, command: ['/usr/sbin/wgts', '--netifd', iface], interface: iface },
      'setup asked netifd to run /usr/sbin/wgts --netifd <iface>');

    const link = await waitFor(() => calls.find((c) => c.action === 0) ?? null, 5_000, 'notify_proto action 0')
      .catch((e: Error) => { throw new Error(`${e.message}\n${JSON.stringify(logs(), null, 1)}`); });
    t.equal(link.interface, iface, 'link update names the interface');
    t.equal(link.data.ifname, iface, 'the device is named after the section');
    t.equal(link.data['link-up'], true, 'link-up');
    t.same(link.data.ipaddr, [{ ipaddr: ourV4, mask: '24' }], 'the configured address');
    t.same(link.data.routes, [{ target: theirV4, netmask: '32' }], 'a route for the allowed IP (route_allowed_ips)');
    const dep = await waitFor(() => calls.find((c) => c.action === 6) ?? null, 5_000, 'notify_proto action 6');
    t.equal(dep.interface, iface, 'host dependency for the interface');
    t.equal(dep.data.host, pair.b.v4, 'on the endpoint address');

    // What netifd does with the update.
    const ipaddr = link.data.ipaddr as { ipaddr: string; mask: string }[];
    const routes = link.data.routes as { target: string; netmask: string }[];
    for (const a of ipaddr) await run(['ip', '-n', pair.a.ns, 'addr', 'add', `${a.ipaddr}/${a.mask}`, 'dev', iface]);
    await run(['ip', '-n', pair.a.ns, 'link', 'set', iface, 'up']);
    for (const r of routes) await run(['ip', '-n', pair.a.ns, 'route', 'replace', `${r.target}/${r.netmask}`, 'dev', iface]);
    const ping = async () => (await nsExec(pair.a.ns, ['ping', '-c', '2', '-i', '0.2', '-W', '2', theirV4], { allowFail: true })).code;
    t.equal(await ping(), 0, 'ping through the tunnel to wireguard-go', logs());

    await waitFor(() => mock.objectByPath(`wgts.${iface}`), 5_000, `wgts.${iface} on ubus`);
    const luci = new NodeUbusClient(socketPath, new VirtualClock());
    await luci.connect();
    t.teardown(() => luci.close());
    const first = (await wgtsStatusPeers(luci, iface))[0]!;
    t.equal(first.public_key, theirs.publicKey, 'status shows the wireguard-go peer');
    t.ok(first.latest_handshake > 0, 'with a handshake');

    // renew (e.g. `ifup` on a running interface): SIGHUP, only the difference is applied.
    const extra = generateKeyPair();
    appendFileSync(networkPath, wgtsPeerSection(iface, { publicKey: extra.publicKey, allowedIps: ['192.0.2.7/32'] }));
    const renew = await root.action('renew', iface, config, { ns: pair.a.ns, env });
    t.equal(renew.code, 0, 'renew exits 0', { stderr: renew.stderr });
    t.same(root.notifications().at(-1), { action: 2, signal: 1, interface: iface }, 'renew asked netifd for SIGHUP');
    const reloaded = await waitFor(async () => {
      const peers = await wgtsStatusPeers(luci, iface);
      return peers.length === 2 ? peers : null;
    }, 5_000, 'two peers after renew');
    t.equal(reloaded.find((p) => p.public_key === theirs.publicKey)?.latest_handshake, first.latest_handshake,
      'the first peer kept its session');
    t.equal(await ping(), 0, 'ping still works after renew', logs());

    // teardown (ifdown): SIGTERM, gone within netifd's limit, the TUN with it.
    const started = Date.now();
    const teardown = await root.action('teardown', iface, config, { ns: pair.a.ns, env });
    t.equal(teardown.code, 0, 'teardown exits 0', { stderr: teardown.stderr });
    t.same(root.notifications().at(-1), { action: 2, interface: iface }, 'teardown asked netifd for SIGTERM');
    t.ok(root.calls().some((c) => c[0] === 'netifd' && c[1] === 'signalled' && c[3] === String(pid) && c[4] === '15'),
      'the stand-in sent SIGTERM to the daemon');
    const gone = await waitGone(pid, TEARDOWN_LIMIT_MS - (Date.now() - started));
    t.ok(gone, `the daemon is gone within ${TEARDOWN_LIMIT_MS} ms of teardown (${Date.now() - started} ms)`, logs());
    const exit = await waitFor(() => root.taskExit(iface) ?? null, 2_000, 'the exit status').catch(() => null);
    t.equal(exit, 0, 'the daemon exited 0', logs());
    const links = await run(['ip', '-n', pair.a.ns, 'link', 'show', iface], { allowFail: true });
    t.not(links.code, 0, 'the TUN device is gone');
    t.ok(processGone(pid), 'nothing left running');
    t.same(root.calls().filter((c) => c[0] === 'unsupported'), [], 'no unsupported stand-in helper used');
  });
}
