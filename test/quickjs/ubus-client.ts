// A tiny daemon for test/quickjs-ubus.test.ts, run by wgts-js: it connects to
// the mock ubusd at scriptArgs[1] through QuickjsUbus, hosts wgts.wg0 and a
// test object, and sends notify_proto after every (re)connection. It prints
// one line per event for the test to wait on.
import * as std from 'std';
import { linkUpdateMessage, notifyProto } from '../../src/control/netifd.js';
import { hostStatusObject } from '../../src/control/ubus-status.js';
import { keyFromBase64 } from '../../src/crypto/encoding.js';
import { QuickjsUbus } from '../../src/platform/quickjs-ubus.js';

function say(line: string): void {
  std.out.puts(`${line}\n`);
  std.out.flush();
}

const ubus = new QuickjsUbus({ error: (m) => say(`ERROR ${m}`), verbose: (m) => say(`LOG ${m}`) }, {
  paths: ['/nonexistent/ubus.sock', scriptArgs[1]!],
});
const peerKey = keyFromBase64('xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=')!;
hostStatusObject(ubus.connection, {
  ifname: 'wg0',
  publicKey: () => peerKey,
  status: () => ({
    privateKey: null, listenPort: 51820, fwmark: 0,
    peers: [{ publicKey: peerKey, presharedKey: null, endpoint: { address: '192.0.2.1', port: 51820 }, lastHandshakeWallMs: 0,
      rxBytes: 1, txBytes: 2, persistentKeepalive: 0, allowedIps: [] }],
  }),
});
ubus.connection.addObject('test.qjs', { echo: {} }, (req) => ({ data: req.data }));
ubus.onConnect = (id) => {
  say(`CONNECTED ${id}`);
  void notifyProto(ubus.connection, linkUpdateMessage('vpn', { ifname: 'wgts-vpn', up: true, ipaddr: [{ ipaddr: '10.9.0.2', mask: 24 }] }))
    .then((status) => say(`NOTIFY ${status}`));
};
ubus.start();
