import t from 'tap';
import { toHex } from '../src/crypto/encoding.js';
import { formatCidr, parseCidr } from '../src/routing/ip.js';
import type { Cidr } from '../src/routing/ip.js';
import type { ConfigTarget, DeviceChange, DeviceStatus, PeerChange } from '../src/control/config.js';
import { MAX_SET_REQUEST_CHARS, UapiSession, formatUapiGet, parseUapiSet } from '../src/control/uapi.js';

const key = (n: number): Uint8Array => new Uint8Array(32).fill(n);
const hex = (n: number): string => toHex(key(n));
const cidr = (text: string): Cidr => parseCidr(text)!;
const ZERO_HEX = '0'.repeat(64);

/** Parses a body that must succeed. */
function ok(body: string): DeviceChange {
  const result = parseUapiSet(body);
  if ('errno' in result) throw new Error(`unexpected error: ${result.message}`);
  return result.change;
}

/** The errno of a body that must fail. */
function errnoOf(body: string): number {
  const result = parseUapiSet(body);
  return 'errno' in result ? result.errno : 0;
}

function ips(peer: PeerChange): string[] {
  return peer.allowedIps.map((e) => (e.remove ? '-' : '') + formatCidr(e.cidr));
}

/**
 * Stands in for the real Device (which has its own tests): records every
 * change it is given and answers status() with a fixed value.
 */
class FakeTarget implements ConfigTarget {
  changes: DeviceChange[] = [];
  result = 0;
  throwOnApply = false;
  throwOnStatus = false;
  constructor(public current: DeviceStatus = { privateKey: null, listenPort: 0, fwmark: 0, peers: [] }) {}
  status(): DeviceStatus {
    if (this.throwOnStatus) throw new Error('status broke');
    return this.current;
  }
  applyChange(change: DeviceChange): number {
    if (this.throwOnApply) throw new Error('apply broke');
    this.changes.push(change);
    return this.result;
  }
}

const FIXED_STATUS: DeviceStatus = {
  privateKey: key(1),
  listenPort: 51820,
  fwmark: 0x1234,
  peers: [
    {
      publicKey: key(2),
      presharedKey: key(3),
      endpoint: { address: '192.0.2.1', port: 51820 },
      lastHandshakeWallMs: 1_700_000_000_123,
      rxBytes: 1000,
      txBytes: 2000,
      persistentKeepalive: 25,
      allowedIps: [cidr('10.0.0.0/24'), cidr('fd00::/64')],
    },
    {
      publicKey: key(4),
      presharedKey: null,
      endpoint: null,
      lastHandshakeWallMs: 0,
      rxBytes: 0,
      txBytes: 0,
      persistentKeepalive: 0,
      allowedIps: [],
    },
  ],
};

t.test('parseUapiSet: every key wg sends', async (t) => {
  const change = ok(
    [
      `private_key=${hex(1)}`,
      'listen_port=51820',
      'fwmark=4294967295',
      'replace_peers=true',
      `public_key=${hex(2)}`,
      'protocol_version=1',
      `preshared_key=${hex(3)}`,
      'endpoint=[2001:db8::1]:51821',
      'persistent_keepalive_interval=25',
      'replace_allowed_ips=true',
      'allowed_ip=10.0.0.0/8',
      'allowed_ip=-10.1.0.0/16',
      'allowed_ip=fd00::/64',
      `public_key=${hex(4)}`,
      'update_only=true',
      'endpoint=192.0.2.7:1',
      `public_key=${hex(5)}`,
      'remove=true',
      '',
    ].join('\n'),
  );
  t.same(change.privateKey, key(1));
  t.equal(change.listenPort, 51820);
  t.equal(change.fwmark, 4294967295);
  t.equal(change.replacePeers, true);
  t.equal(change.peers.length, 3);
  const [a, b, c] = change.peers as [PeerChange, PeerChange, PeerChange];
  t.same(a.publicKey, key(2));
  t.same(a.presharedKey, key(3));
  t.same(a.endpoint, { address: '2001:db8::1', port: 51821 });
  t.equal(a.persistentKeepalive, 25);
  t.equal(a.replaceAllowedIps, true);
  t.same(ips(a), ['10.0.0.0/8', '-10.1.0.0/16', 'fd00::/64']);
  t.equal(a.remove, false);
  t.equal(a.updateOnly, false);
  t.equal(b.updateOnly, true);
  t.same(b.endpoint, { address: '192.0.2.7', port: 1 });
  t.equal(b.presharedKey, undefined, 'absent preshared_key leaves it unchanged');
  t.equal(b.persistentKeepalive, undefined);
  t.equal(b.replaceAllowedIps, false);
  t.equal(c.remove, true);
});

t.test('parseUapiSet: empty body, missing trailing newline, absent fields', async (t) => {
  t.same(ok(''), { replacePeers: false, peers: [] });
  const change = ok('listen_port=0');
  t.equal(change.listenPort, 0);
  t.equal('privateKey' in change, false, 'unset fields stay undefined');
  t.equal('fwmark' in change, false);
});

t.test('parseUapiSet: keys are hex in either case; all-zero keys clear', async (t) => {
  const upper = 'AB'.repeat(32);
  const change = ok(`private_key=${upper}\npublic_key=${upper}\npreshared_key=${'aB'.repeat(32)}\n`);
  t.same(change.privateKey, new Uint8Array(32).fill(0xab));
  t.same(change.peers[0]!.publicKey, new Uint8Array(32).fill(0xab));
  t.same(change.peers[0]!.presharedKey, new Uint8Array(32).fill(0xab));
  const cleared = ok(`private_key=${ZERO_HEX}\npublic_key=${hex(2)}\npreshared_key=${ZERO_HEX}\n`);
  t.equal(cleared.privateKey, null);
  t.equal(cleared.peers[0]!.presharedKey, null);
});

t.test('parseUapiSet: numbers', async (t) => {
  t.equal(ok('listen_port=65535').listenPort, 65535);
  t.equal(ok('listen_port=00080').listenPort, 80, 'leading zeros, as Go ParseUint');
  t.equal(ok('fwmark=0').fwmark, 0);
  t.equal(ok(`public_key=${hex(2)}\npersistent_keepalive_interval=65535`).peers[0]!.persistentKeepalive, 65535);
  for (const bad of ['65536', '-1', '+1', '', ' 1', '1 ', '0x10', '1e3', '99999999999999999999999']) {
    t.equal(errnoOf(`listen_port=${bad}`), -22, `listen_port=${JSON.stringify(bad)}`);
    t.equal(errnoOf(`public_key=${hex(2)}\npersistent_keepalive_interval=${bad}`), -22, `keepalive ${bad}`);
  }
  t.equal(errnoOf('fwmark=4294967296'), -22);
  t.equal(errnoOf('fwmark=-5'), -22);
});

t.test('parseUapiSet: error paths and errno values', async (t) => {
  const peer = `public_key=${hex(2)}\n`;
  const cases: [string, string, number][] = [
    ['line without =', 'listen_port\n', -71],
    ['line without = inside a peer', `${peer}garbage\n`, -71],
    ['blank line inside the body', 'listen_port=1\n\nfwmark=1\n', -71],
    ['short private_key', `private_key=${hex(1).slice(2)}\n`, -22],
    ['non-hex private_key', `private_key=${'g'.repeat(64)}\n`, -22],
    ['long public_key', `public_key=${hex(2)}00\n`, -22],
    ['bad preshared_key', `${peer}preshared_key=xyz\n`, -22],
    ['replace_peers=false', 'replace_peers=false\n', -22],
    ['replace_peers=TRUE', 'replace_peers=TRUE\n', -22],
    ['update_only=1', `${peer}update_only=1\n`, -22],
    ['remove=false', `${peer}remove=false\n`, -22],
    ['replace_allowed_ips=yes', `${peer}replace_allowed_ips=yes\n`, -22],
    ['endpoint host name', `${peer}endpoint=vpn.example.com:51820\n`, -22],
    ['endpoint unbracketed v6', `${peer}endpoint=2001:db8::1:51820\n`, -22],
    ['endpoint without port', `${peer}endpoint=192.0.2.1\n`, -22],
    ['endpoint port too big', `${peer}endpoint=192.0.2.1:65536\n`, -22],
    ['allowed_ip without length', `${peer}allowed_ip=10.0.0.1\n`, -22],
    ['allowed_ip length too big', `${peer}allowed_ip=10.0.0.0/33\n`, -22],
    ['allowed_ip garbage', `${peer}allowed_ip=ten/8\n`, -22],
    ['allowed_ip double minus', `${peer}allowed_ip=--10.0.0.0/8\n`, -22],
    ['protocol_version=2', `${peer}protocol_version=2\n`, -22],
    ['protocol_version as device key', 'protocol_version=1\n', -22],
    ['unknown device key', 'listen_prot=1\n', -22],
    ['unknown peer key', `${peer}allowed_ips=10.0.0.0/8\n`, -22],
    ['empty key', '=1\n', -22],
    ['peer key before any public_key', 'allowed_ip=10.0.0.0/8\n', -22],
    ['private_key after a peer', `${peer}private_key=${hex(1)}\n`, -22],
    ['listen_port after a peer', `${peer}listen_port=1\n`, -22],
    ['fwmark after a peer', `${peer}fwmark=1\n`, -22],
    ['replace_peers after a peer', `${peer}replace_peers=true\n`, -22],
    ['get-only key', `${peer}rx_bytes=5\n`, -22],
  ];
  for (const [name, body, errno] of cases) t.equal(errnoOf(body), errno, name);
});

t.test('parseUapiSet: messages name the line and key, never the value', async (t) => {
  const secret = 'a1'.repeat(31) + 'zz';
  const result = parseUapiSet(`listen_port=1\nprivate_key=${secret}\n`);
  t.ok('errno' in result);
  if (!('errno' in result)) return;
  t.match(result.message, /line 2/);
  t.match(result.message, /private_key/);
  t.notMatch(result.message, /a1a1/);
  const psk = parseUapiSet(`public_key=${hex(2)}\npreshared_key=${secret}\n`);
  t.ok('errno' in psk && !psk.message.includes(secret) && psk.message.includes('preshared_key'));
  const noEquals = parseUapiSet(`public_key=${hex(2)}\n${hex(9)}\n`);
  t.ok('errno' in noEquals && !noEquals.message.includes(hex(9)) && /line 2/.test(noEquals.message));
  const order = parseUapiSet(`public_key=${hex(2)}\nfwmark=1\n`);
  t.ok('errno' in order && /fwmark/.test(order.message) && /after the first public_key/.test(order.message));
});

t.test('parseUapiSet: replace_allowed_ips acts at its position', async (t) => {
  const change = ok(
    [
      `public_key=${hex(2)}`,
      'allowed_ip=10.1.0.0/16',
      'allowed_ip=-10.2.0.0/16',
      'replace_allowed_ips=true',
      'allowed_ip=10.3.0.0/16',
      'allowed_ip=-10.4.0.0/16',
    ].join('\n'),
  );
  const peer = change.peers[0]!;
  t.equal(peer.replaceAllowedIps, true);
  // 10.1/16 was taken from its owner before the replace, then dropped with the rest.
  t.same(ips(peer), ['10.1.0.0/16', '-10.1.0.0/16', '10.3.0.0/16', '-10.4.0.0/16']);

  const plain = ok(`public_key=${hex(2)}\nallowed_ip=10.1.0.0/16\n`).peers[0]!;
  t.equal(plain.replaceAllowedIps, false, 'without the key, prefixes are added to the existing ones');
  t.same(ips(plain), ['10.1.0.0/16']);

  const perPeer = ok(`public_key=${hex(2)}\nreplace_allowed_ips=true\npublic_key=${hex(3)}\nallowed_ip=10.9.0.0/16\n`);
  t.equal(perPeer.peers[0]!.replaceAllowedIps, true);
  t.equal(perPeer.peers[1]!.replaceAllowedIps, false, 'it does not carry over to the next peer');
});

t.test('parseUapiSet: allowed_ip host bits are zeroed', async (t) => {
  const peer = ok(`public_key=${hex(2)}\nallowed_ip=10.1.2.3/8\nallowed_ip=fd00::1/64\n`).peers[0]!;
  t.same(ips(peer), ['10.0.0.0/8', 'fd00::/64']);
});

t.test('parseUapiSet: remove drops the peer block but still validates it', async (t) => {
  const change = ok(
    [
      `public_key=${hex(2)}`,
      'endpoint=192.0.2.1:5',
      'allowed_ip=10.0.0.0/8',
      'remove=true',
      'persistent_keepalive_interval=5',
      'allowed_ip=10.1.0.0/16',
      `public_key=${hex(3)}`,
      'persistent_keepalive_interval=7',
    ].join('\n'),
  );
  const [removed, next] = change.peers as [PeerChange, PeerChange];
  t.equal(removed.remove, true);
  t.equal(removed.endpoint, undefined);
  t.equal(removed.persistentKeepalive, undefined);
  t.same(removed.allowedIps, []);
  t.equal(next.remove, false, 'the next public_key starts afresh');
  t.equal(next.persistentKeepalive, 7);
  t.equal(errnoOf(`public_key=${hex(2)}\nremove=true\nendpoint=nonsense\n`), -22);
  t.equal(errnoOf(`public_key=${hex(2)}\nremove=true\nlisten_port=1\n`), -22);
});

t.test('parseUapiSet: the same key may appear twice, each block kept in order', async (t) => {
  const change = ok(`public_key=${hex(2)}\npersistent_keepalive_interval=1\npublic_key=${hex(2)}\npersistent_keepalive_interval=2\n`);
  t.equal(change.peers.length, 2);
  t.same(
    change.peers.map((p) => p.persistentKeepalive),
    [1, 2],
  );
});

t.test('formatUapiGet: exact text, wireguard-go key order', async (t) => {
  t.equal(
    formatUapiGet(FIXED_STATUS),
    [
      `private_key=${hex(1)}`,
      'listen_port=51820',
      'fwmark=4660',
      `public_key=${hex(2)}`,
      `preshared_key=${hex(3)}`,
      'protocol_version=1',
      'endpoint=192.0.2.1:51820',
      'last_handshake_time_sec=1700000000',
      'last_handshake_time_nsec=123000000',
      'tx_bytes=2000',
      'rx_bytes=1000',
      'persistent_keepalive_interval=25',
      'allowed_ip=10.0.0.0/24',
      'allowed_ip=fd00::/64',
      `public_key=${hex(4)}`,
      `preshared_key=${ZERO_HEX}`,
      'protocol_version=1',
      'last_handshake_time_sec=0',
      'last_handshake_time_nsec=0',
      'tx_bytes=0',
      'rx_bytes=0',
      'persistent_keepalive_interval=0',
      'errno=0',
      '',
      '',
    ].join('\n'),
  );
  t.equal(formatUapiGet({ privateKey: null, listenPort: 0, fwmark: 0, peers: [] }), 'errno=0\n\n', 'empty device');
  const v6 = formatUapiGet({
    privateKey: null,
    listenPort: 0,
    fwmark: 0,
    peers: [{ ...FIXED_STATUS.peers[1]!, endpoint: { address: 'fd00::1', port: 9 } }],
  });
  t.match(v6, /\nendpoint=\[fd00::1\]:9\n/);
});

t.test('formatUapiGet output parses back as a set (device and peer keys)', async (t) => {
  // A get response is not a valid set (get-only keys), but its settable part is.
  const settable = formatUapiGet(FIXED_STATUS)
    .split('\n')
    .filter((l) => /^(private_key|listen_port|fwmark|public_key|preshared_key|protocol_version|endpoint|persistent_keepalive_interval|allowed_ip)=/.test(l))
    .join('\n');
  const change = ok(settable);
  t.same(change.privateKey, key(1));
  t.equal(change.fwmark, 0x1234);
  t.same(ips(change.peers[0]!), ['10.0.0.0/24', 'fd00::/64']);
  t.equal(change.peers[1]!.presharedKey, null);
});

t.test('UapiSession: get and set', async (t) => {
  const target = new FakeTarget(FIXED_STATUS);
  const session = new UapiSession(target);
  t.same(session.feed('get=1\n\n'), [formatUapiGet(FIXED_STATUS)]);
  t.same(session.feed(`set=1\nlisten_port=1234\npublic_key=${hex(7)}\n\n`), ['errno=0\n\n']);
  t.equal(target.changes.length, 1);
  t.equal(target.changes[0]!.listenPort, 1234);
  t.same(target.changes[0]!.peers[0]!.publicKey, key(7));
  t.same(session.feed('set=1\n\n'), ['errno=0\n\n'], 'empty set');
  t.same(target.changes[1], { replacePeers: false, peers: [] });
  t.equal(session.closed, false);
});

t.test('UapiSession: a bad set changes nothing and the connection goes on', async (t) => {
  const target = new FakeTarget();
  const logs: string[] = [];
  const session = new UapiSession(target, (m) => logs.push(m));
  t.same(session.feed(`set=1\nlisten_port=1\npublic_key=${hex(2)}\nfwmark=3\n\nset=1\nnoequals\n\nget=1\n\n`), [
    'errno=-22\n\n',
    'errno=-71\n\n',
    'errno=0\n\n',
  ]);
  t.equal(target.changes.length, 0, 'applyChange never saw the bad requests');
  t.equal(logs.length, 2);
  t.match(logs[0]!, /fwmark/);
  t.equal(session.closed, false);
});

t.test('UapiSession: the log says what a set changed, or why it failed, and never a key', async (t) => {
  const target = new FakeTarget();
  const logs: string[] = [];
  const session = new UapiSession(target, (m) => logs.push(m), { strerror: (e) => (e === 98 ? 'Address already in use' : `E${e}`) });
  session.feed(`set=1\nprivate_key=${hex(1)}\nlisten_port=51820\npublic_key=${hex(2)}\npublic_key=${hex(3)}\nremove=true\n\n`);
  t.same(logs, ['UAPI set applied: private key, listen port 51820, 1 peer added or updated, 1 peer removed']);
  session.feed('set=1\n\n');
  t.equal(logs[1], 'UAPI set applied: no changes');
  target.result = -98;
  session.feed('set=1\nlisten_port=1\n\n');
  t.equal(logs[2], 'UAPI set failed, nothing changed: Address already in use');
  t.notOk(logs.join('\n').includes(hex(1)) || logs.join('\n').includes(hex(2)), 'no key in the log');
});

t.test('UapiSession: applyChange errno and failures', async (t) => {
  const target = new FakeTarget();
  const session = new UapiSession(target);
  target.result = -98;
  t.same(session.feed('set=1\nlisten_port=1\n\n'), ['errno=-98\n\n']);
  target.result = 98;
  t.same(session.feed('set=1\nlisten_port=1\n\n'), ['errno=-98\n\n'], 'a positive errno is sent negated');
  target.result = 0;
  target.throwOnApply = true;
  t.same(session.feed('set=1\nlisten_port=1\n\n'), ['errno=-55\n\n']);
  target.throwOnStatus = true;
  t.same(session.feed('get=1\n\n'), ['errno=5\n\n'], 'get errno is never negative');
});

t.test('UapiSession: several requests in one feed, responses in order', async (t) => {
  const target = new FakeTarget(FIXED_STATUS);
  const session = new UapiSession(target);
  const get = formatUapiGet(FIXED_STATUS);
  t.same(session.feed('get=1\n\nset=1\nfwmark=1\n\nget=1\n\nset=1\nfwmark=2\n\n'), [get, 'errno=0\n\n', get, 'errno=0\n\n']);
  t.same(
    target.changes.map((c) => c.fwmark),
    [1, 2],
  );
});

t.test('UapiSession: split at every boundary gives the same result', async (t) => {
  const stream =
    `set=1\nprivate_key=${hex(1)}\nreplace_peers=true\npublic_key=${hex(2)}\nendpoint=[fd00::1]:51820\n` +
    'allowed_ip=10.0.0.0/8\n\nget=1\n\nset=1\n\nset=1\nlisten_port=x\n\n';
  const reference = new FakeTarget(FIXED_STATUS);
  const expected = new UapiSession(reference).feed(stream);
  t.equal(expected.length, 4);
  t.equal(expected[3], 'errno=-22\n\n');
  for (let cut = 0; cut <= stream.length; cut++) {
    const target = new FakeTarget(FIXED_STATUS);
    const session = new UapiSession(target);
    const got = [...session.feed(stream.slice(0, cut)), ...session.feed(stream.slice(cut))];
    if (JSON.stringify(got) !== JSON.stringify(expected) || target.changes.length !== 2) {
      t.fail(`split at ${cut} differs`);
      return;
    }
    t.same(target.changes, reference.changes);
  }
  const target = new FakeTarget(FIXED_STATUS);
  const session = new UapiSession(target);
  const got: string[] = [];
  for (const ch of stream) got.push(...session.feed(ch));
  t.same(got, expected, 'one character at a time');
});

t.test('UapiSession: partial input yields nothing until complete', async (t) => {
  const session = new UapiSession(new FakeTarget());
  t.same(session.feed('set=1\nlisten_port=1\n'), []);
  t.same(session.feed('\n'), ['errno=0\n\n']);
  t.same(session.feed('get=1\n'), []);
  t.same(session.feed('\n'), ['errno=0\n\n']);
});

t.test('UapiSession: get=1 must be followed by a blank line', async (t) => {
  const target = new FakeTarget();
  const session = new UapiSession(target);
  // As wireguard-go: one character is consumed and -EINVAL answered; here the
  // rest ("\n") then reads as an empty, unknown operation line.
  t.same(session.feed('get=1\nx\n'), ['errno=-22\n\n']);
  t.equal(session.closed, true);
  const again = new UapiSession(target);
  t.same(again.feed('get=1\nxget=1\n\n'), ['errno=-22\n\n', 'errno=0\n\n'], 'the stream continues after the one character');
});

t.test('UapiSession: unknown operation closes the connection', async (t) => {
  for (const op of ['hello\n', 'get=2\n\n', 'set=1 \n\n', 'GET=1\n\n', 'set=1\r\n\r\n', '\n', 'get=1\r\n']) {
    const logs: string[] = [];
    const session = new UapiSession(new FakeTarget(), (m) => logs.push(m));
    t.same(session.feed(op), [], JSON.stringify(op));
    t.equal(session.closed, true, JSON.stringify(op));
    t.equal(logs.length, 1);
    t.same(session.feed('get=1\n\n'), [], 'nothing is served after closing');
  }
  const session = new UapiSession(new FakeTarget());
  t.same(session.feed('get=1\n\nbogus\nget=1\n\n'), ['errno=0\n\n'], 'earlier responses are still returned');
  t.equal(session.closed, true);
  const long = new UapiSession(new FakeTarget());
  long.feed('settings');
  t.equal(long.closed, true, 'an over-long operation line closes without waiting for its newline');
  const short = new UapiSession(new FakeTarget());
  short.feed('set=');
  t.equal(short.closed, false, 'a prefix of a valid operation waits');
});

t.test('UapiSession: oversize set request', async (t) => {
  const target = new FakeTarget();
  const session = new UapiSession(target, () => {}, { maxSetChars: 100 });
  const line = 'listen_port=1\n'; // 14 characters
  t.same(session.feed('set=1\n' + line.repeat(7) + '\n'), ['errno=0\n\n'], '98 characters fit');
  t.same(session.feed('set=1\n' + line.repeat(7)), []);
  t.same(session.feed(line), ['errno=-22\n\n'], 'overflow is answered before the terminator arrives');
  t.equal(session.closed, true);
  t.equal(target.changes.length, 1);

  const oneShot = new UapiSession(new FakeTarget(), () => {}, { maxSetChars: 100 });
  t.same(oneShot.feed('set=1\n' + line.repeat(8) + '\nget=1\n\n'), ['errno=-22\n\n'], 'complete but too long');
  t.equal(oneShot.closed, true);

  const real = new UapiSession(new FakeTarget());
  const huge = 'set=1\n' + 'x'.repeat(MAX_SET_REQUEST_CHARS + 1);
  t.same(real.feed(huge), ['errno=-22\n\n'], 'the default bound');
  t.equal(real.closed, true);
});

t.test('UapiSession: 10,000 peers with 5 prefixes each fit the default bound', async (t) => {
  const lines = [`private_key=${hex(1)}`, 'listen_port=51820', 'fwmark=4294967295', 'replace_peers=true'];
  const peerKey = new Uint8Array(32);
  for (let i = 0; i < 10_000; i++) {
    peerKey.fill(0xee);
    peerKey[0] = i & 0xff;
    peerKey[1] = i >> 8;
    const group = (i + 1).toString(16);
    lines.push(
      `public_key=${toHex(peerKey)}`,
      `preshared_key=${toHex(peerKey)}`,
      `endpoint=[2001:db8:ffff:ffff:ffff:ffff:ffff:${group}]:65535`,
      'persistent_keepalive_interval=65535',
      'replace_allowed_ips=true',
    );
    for (let j = 0; j < 5; j++) lines.push(`allowed_ip=fd00:ffff:ffff:ffff:ffff:ffff:${group}:${j + 1}/128`);
  }
  const request = `set=1\n${lines.join('\n')}\n\n`;
  t.ok(request.length < MAX_SET_REQUEST_CHARS, `${request.length} characters`);
  const target = new FakeTarget();
  const session = new UapiSession(target);
  const responses: string[] = [];
  for (let at = 0; at < request.length; at += 4096) responses.push(...session.feed(request.slice(at, at + 4096)));
  t.same(responses, ['errno=0\n\n']);
  t.equal(target.changes[0]!.peers.length, 10_000);
  t.equal(target.changes[0]!.peers[9_999]!.allowedIps.length, 5);
});
