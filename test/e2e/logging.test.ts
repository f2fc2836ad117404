// wgts's log in the foreground: LOG_LEVEL=verbose gives wireguard-go style
// DEBUG lines tagged with the interface name; LOG_LEVEL=error gives none; and
// no private key or preshared key ever shows up, in base64 or in hex.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireInterop } from '../helpers/netns.js';
import { createTunnel, keyForms, ping } from '../helpers/tunnel.js';
import { wgtsBinary } from '../helpers/wgts-binary.js';

const LINE = /^(DEBUG|ERROR): \((\S+)\) \d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d \S/;

if (requireInterop(t)) {
  await wgtsBinary();
  t.jobs = 2;

  t.test('LOG_LEVEL=verbose: DEBUG lines with the interface name, no secrets', async (t) => {
    const tun = await createTunnel(t, { purpose: 'log', left: 'wgts', right: 'wgts', outer: 4, psk: true, keepaliveLeft: 1 });
    const { left, right } = tun;
    t.equal((await ping(left, right.v4, { count: 2 })).received, 2, 'traffic');
    // Pass the keys through every UAPI path that carries them: read back, synced, set again.
    const ifname = left.daemon.ifname;
    const conf = (await left.daemon.wg(['showconf', ifname])).stdout;
    t.match(conf, tun.psk!.base64, 'showconf gives root the PSK (the UAPI carries it, the log must not)');
    const dir = mkdtempSync(join(tmpdir(), 'wgts-e2e-log-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'wg.conf'), conf, { mode: 0o600 });
    writeFileSync(join(dir, 'private'), left.keys.privateKey, { mode: 0o600 });
    writeFileSync(join(dir, 'psk'), tun.psk!.base64, { mode: 0o600 });
    await left.daemon.wg(['syncconf', ifname, join(dir, 'wg.conf')]);
    await left.daemon.wg(['set', ifname, 'private-key', join(dir, 'private'), 'peer', right.keys.publicKey, 'preshared-key', join(dir, 'psk')]);
    await left.daemon.wg(['setconf', ifname, join(dir, 'wg.conf')]);
    t.equal((await ping(left, right.v4, { count: 1, waitS: 5 })).received, 1, 'traffic after setconf');
    const logs = [left.daemon, right.daemon].map((d) => ({ d, text: '' }));
    await right.daemon.stop();
    await left.daemon.stop();
    for (const l of logs) l.text = l.d.output();

    for (const { d, text } of logs) {
      const lines = text.split('\n').filter((l) => l.length > 0);
      t.ok(lines.length >= 4, `${d.ifname}: it logged (${lines.length} lines)`, { log: text });
      const bad = lines.filter((l) => !LINE.test(l));
      t.same(bad, [], `${d.ifname}: every line is "LEVEL: (ifname) date time message"`);
      const names = new Set(lines.map((l) => LINE.exec(l)?.[2]));
      t.same([...names], [d.ifname], `${d.ifname}: every line carries its interface name`);
      t.ok(lines.some((l) => l.startsWith('DEBUG: ')), `${d.ifname}: DEBUG lines`);
      t.match(text, /handshake/i, `${d.ifname}: handshakes are logged`);
      const secrets = [...keyForms(left.keys.privateKey), ...keyForms(right.keys.privateKey), ...keyForms(tun.psk!.base64)];
      const leaked = secrets.filter((s) => text.toLowerCase().includes(s.toLowerCase()));
      t.same(leaked, [], `${d.ifname}: no private key or PSK in the log (base64 or hex)`);
    }
  });

  t.test('LOG_LEVEL=error: no DEBUG lines', async (t) => {
    const tun = await createTunnel(t, { purpose: 'quiet', left: 'wgts', right: 'wireguard-go', outer: 4, logLevelWgts: 'error' });
    t.equal((await ping(tun.left, tun.right.v4, { count: 2 })).received, 2, 'traffic');
    await tun.left.daemon.stop();
    t.equal(tun.left.daemon.output(), '', 'nothing logged by wgts');
  });
}
