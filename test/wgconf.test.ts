import t from 'tap';
import { toBase64 } from '../src/crypto/encoding.js';
import { formatCidr, parseCidr } from '../src/routing/ip.js';
import type { Cidr } from '../src/routing/ip.js';
import type { DeviceStatus } from '../src/control/config.js';
import { formatWgConf, parseWgConf, wgConfigToChange } from '../src/control/wgconf.js';
import type { WgConfError, WgConfig } from '../src/control/wgconf.js';

const key = (n: number): Uint8Array => new Uint8Array(32).fill(n);
const b64 = (n: number): string => toBase64(key(n));
const cidr = (text: string): Cidr => parseCidr(text)!;

function ok(text: string, opts?: { allowQuickFields?: boolean }): WgConfig {
  const result = parseWgConf(text, opts);
  if ('errors' in result) throw new Error(`unexpected errors: ${JSON.stringify(result.errors)}`);
  return result.config;
}

function errorsOf(text: string, opts?: { allowQuickFields?: boolean }): WgConfError[] {
  const result = parseWgConf(text, opts);
  return 'errors' in result ? result.errors : [];
}

const FULL = `# a comment line
[Interface]
PrivateKey = ${b64(1)}   # trailing comment
  listenport=51820
FwMark = 0x1f

[peer]
PublicKey = ${b64(2)}
PresharedKey = ${b64(3)}
AllowedIPs = 10.0.0.0/24, fd00::/64
AllowedIPs = 192.168.1.7
Endpoint = vpn.example.com:51820
PersistentKeepalive = 25

[PEER]
publickey=${b64(4)}
Endpoint = [2001:DB8::1]:443\r
PersistentKeepalive = off\r
`;

t.test('parseWgConf: a full file', async (t) => {
  const config = ok(FULL);
  t.same(config.privateKey, key(1));
  t.equal(config.listenPort, 51820);
  t.equal(config.fwmark, 0x1f);
  t.equal(config.quick, undefined);
  t.equal(config.peers.length, 2);
  const [a, b] = config.peers;
  t.same(a!.publicKey, key(2));
  t.same(a!.presharedKey, key(3));
  t.same(a!.allowedIps.map(formatCidr), ['10.0.0.0/24', 'fd00::/64', '192.168.1.7/32'], 'AllowedIPs lines accumulate');
  t.same(a!.endpoint, { host: 'vpn.example.com', port: 51820 });
  t.equal(a!.persistentKeepalive, 25);
  t.equal(a!.line, 7);
  t.same(b!.publicKey, key(4));
  t.equal(b!.presharedKey, null);
  t.same(b!.allowedIps, []);
  t.same(b!.endpoint, { host: '2001:db8::1', port: 443 }, 'numeric hosts come back canonical');
  t.equal(b!.persistentKeepalive, 0);
  t.equal(b!.line, 15);
});

t.test('parseWgConf: empty and minimal files', async (t) => {
  t.same(ok(''), { privateKey: null, listenPort: null, fwmark: null, peers: [] });
  t.same(ok('[Interface]\n'), { privateKey: null, listenPort: null, fwmark: null, peers: [] });
  const peerOnly = ok(`[Peer]\nPublicKey=${b64(2)}`);
  t.equal(peerOnly.peers[0]!.persistentKeepalive, null);
  t.equal(peerOnly.peers[0]!.endpoint, null);
});

t.test('parseWgConf: value forms', async (t) => {
  const fwmark = (v: string): number | null => ok(`[Interface]\nFwMark = ${v}\n`).fwmark;
  t.equal(fwmark('off'), 0);
  t.equal(fwmark('OFF'), 0);
  t.equal(fwmark('0'), 0);
  t.equal(fwmark('4294967295'), 4294967295);
  t.equal(fwmark('0xffffffff'), 4294967295);
  t.equal(fwmark('0xABC'), 0xabc);
  for (const bad of ['0x', '0X10', '0x100000000', '4294967296', '-1', 'on', 'x10']) {
    t.same(
      errorsOf(`[Interface]\nFwMark = ${bad}\n`).map((e) => e.line),
      [2],
      `FwMark ${bad}`,
    );
  }
  t.equal(ok('[Interface]\nListenPort = 0\n').listenPort, 0);
  t.equal(ok('[Interface]\nListenPort = 65535\n').listenPort, 65535);
  for (const bad of ['65536', 'http', '-1']) t.equal(errorsOf(`[Interface]\nListenPort = ${bad}\n`).length, 1, `ListenPort ${bad}`);
  const peer = `[Peer]\nPublicKey = ${b64(2)}\n`;
  t.equal(ok(`${peer}PersistentKeepalive = 65535`).peers[0]!.persistentKeepalive, 65535);
  t.equal(errorsOf(`${peer}PersistentKeepalive = 65536`).length, 1);
  t.equal(ok(`${peer}PresharedKey = ${toBase64(new Uint8Array(32))}`).peers[0]!.presharedKey, null, 'all-zero PSK is none');
  t.same(ok(`${peer}Endpoint = 192.0.2.1:1`).peers[0]!.endpoint, { host: '192.0.2.1', port: 1 });
  t.same(ok(`${peer}Endpoint = fd00::1:51820`).peers[0]!.endpoint, { host: 'fd00::1', port: 51820 }, 'last colon splits, as wg');
  t.same(ok(`${peer}Endpoint = [::ffff:192.0.2.1]:9`).peers[0]!.endpoint, { host: '::ffff:192.0.2.1', port: 9 });
  for (const bad of ['192.0.2.1', '192.0.2.1:', '192.0.2.1:0', 'host:70000', '[fd00::1]51820', '[fd00::1', 'bad/host:1', 'é.com:1', 'a..b:1', ':51820']) {
    t.equal(errorsOf(`${peer}Endpoint = ${bad}`).length, 1, `Endpoint ${bad}`);
  }
  t.same(
    ok(`${peer}AllowedIPs = 10.1.2.3/8,::/0 , 0.0.0.0/0`).peers[0]!.allowedIps.map(formatCidr),
    ['10.0.0.0/8', '::/0', '0.0.0.0/0'],
  );
});

t.test('parseWgConf: every error is reported with its line, and no secret is echoed', async (t) => {
  const secret = 'c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2V=';
  const text = [
    'ListenPort = 1', // 1: outside a section
    '[Interface]', // 2
    `PrivateKey = ${secret.slice(0, 40)}`, // 3: bad key
    'ListenPort = 99999', // 4
    'Bogus = 1', // 5
    'just words', // 6
    '[Peer]', // 7
    `PresharedKey = ${secret}x`, // 8
    'AllowedIPs = 10.0.0.0/33, 10.0.0.1, nonsense', // 9: two bad entries
    'AllowedIPs = 10.0.0.0/8,', // 10: empty entry
    'Endpoint = ', // 11: no value
    'PersistentKeepalive = soon', // 12
    '[Peer]', // 13: no PublicKey
    'AllowedIPs = +10.0.0.0/8, -10.1.0.0/16', // 14: incremental entries
    '[Peer]', // 15
    'PublicKey = short', // 16: bad, but present
    '[Server]', // 17
    'Whatever = 1', // 18: skipped under an unknown section
    '[Interface]', // 19
    'ListenPort = 5', // 20: fine
  ].join('\n');
  const errors = errorsOf(text);
  t.same(
    errors.map((e) => e.line),
    [1, 3, 4, 5, 6, 7, 8, 9, 9, 10, 11, 12, 13, 14, 14, 16, 17],
  );
  const byLine = (n: number): string[] => errors.filter((e) => e.line === n).map((e) => e.message);
  t.match(byLine(1)[0], /ListenPort.*outside/);
  t.match(byLine(3)[0], /PrivateKey/);
  t.match(byLine(4)[0], /ListenPort/);
  t.match(byLine(5)[0], /Bogus/);
  t.match(byLine(7)[0], /no PublicKey/, 'the peer with no PublicKey line is named by its header line');
  t.match(byLine(8)[0], /PresharedKey/);
  t.match(byLine(9)[0], /10\.0\.0\.0\/33/);
  t.match(byLine(9)[1], /nonsense/);
  t.match(byLine(11)[0], /Endpoint.*no value/);
  t.match(byLine(12)[0], /PersistentKeepalive/);
  t.match(byLine(13)[0], /no PublicKey/);
  t.match(byLine(14)[0], /incremental/);
  t.match(byLine(16)[0], /PublicKey/);
  t.match(byLine(17)[0], /\[Server\]/);
  for (const e of errors) {
    t.notOk(e.message.includes(secret.slice(0, 20)), `line ${e.line} does not echo the key`);
    t.ok(e.line >= 1 && e.line <= 20);
  }
});

t.test('parseWgConf: wg-quick fields', async (t) => {
  const text = [
    '[Interface]',
    'Address = 10.0.0.2/24, fd00::2/64',
    'Address = 10.9.0.2/32 # second',
    'DNS = 1.1.1.1, example.com',
    'MTU = 1420',
    'Table = off',
    'PreUp = echo "pre up" # shell comment stays',
    'PostUp = iptables -A FORWARD -i %i -j ACCEPT',
    'PreDown = true',
    'postdown = iptables -D FORWARD -i %i -j ACCEPT',
    'SaveConfig = true',
    `PrivateKey = ${b64(1)}`,
  ].join('\n');
  const errors = errorsOf(text);
  t.same(
    errors.map((e) => e.line),
    [2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
    'errors without allowQuickFields, one per line',
  );
  t.match(errors[0]!.message, /Address.*wg-quick/);
  const config = ok(text, { allowQuickFields: true });
  t.same(config.privateKey, key(1));
  t.same(config.quick, {
    Address: ['10.0.0.2/24, fd00::2/64', '10.9.0.2/32'],
    DNS: ['1.1.1.1, example.com'],
    MTU: ['1420'],
    Table: ['off'],
    PreUp: ['echo "pre up" # shell comment stays'],
    PostUp: ['iptables -A FORWARD -i %i -j ACCEPT'],
    PreDown: ['true'],
    PostDown: ['iptables -D FORWARD -i %i -j ACCEPT'],
    SaveConfig: ['true'],
  });
  const inPeer = errorsOf(`[Peer]\nPublicKey = ${b64(2)}\nAddress = 10.0.0.1/32\n`, { allowQuickFields: true });
  t.same(
    inPeer.map((e) => e.line),
    [3],
    'wg-quick fields belong to [Interface] only',
  );
  const proto = errorsOf('[Interface]\nconstructor = 1\n__proto__ = 2\n', { allowQuickFields: true });
  t.same(
    proto.map((e) => e.line),
    [2, 3],
    'object property names are not fields',
  );
});

t.test('wgConfigToChange: setconf semantics', async (t) => {
  const config = ok(FULL.replace('vpn.example.com', '198.51.100.9'));
  const result = wgConfigToChange(config);
  if ('errors' in result) throw new Error(JSON.stringify(result.errors));
  const change = result.change;
  t.same(change.privateKey, key(1));
  t.equal(change.listenPort, 51820);
  t.equal(change.fwmark, 0x1f);
  t.equal(change.replacePeers, true);
  t.equal(change.peers.length, 2);
  const [a, b] = change.peers;
  t.same(a!.publicKey, key(2));
  t.same(a!.presharedKey, key(3));
  t.same(a!.endpoint, { address: '198.51.100.9', port: 51820 });
  t.equal(a!.persistentKeepalive, 25);
  t.equal(a!.replaceAllowedIps, true);
  t.equal(a!.remove, false);
  t.equal(a!.updateOnly, false);
  t.same(
    a!.allowedIps.map((e) => [formatCidr(e.cidr), e.remove]),
    [
      ['10.0.0.0/24', false],
      ['fd00::/64', false],
      ['192.168.1.7/32', false],
    ],
  );
  t.same(b!.endpoint, { address: '2001:db8::1', port: 443 });
  t.equal(b!.presharedKey, null);
  t.equal(b!.replaceAllowedIps, true, 'a peer without AllowedIPs ends up with none');

  const bare = wgConfigToChange(ok(''));
  t.same(bare, { change: { privateKey: null, listenPort: 0, fwmark: 0, replacePeers: true, peers: [] } }, 'absent fields reset');
});

t.test('wgConfigToChange: host names and duplicate keys are errors', async (t) => {
  const named = wgConfigToChange(ok(FULL));
  t.same('errors' in named ? named.errors.map((e) => e.line) : [], [7]);
  t.match('errors' in named ? named.errors[0]!.message : '', /vpn\.example\.com.*resolve host names/);

  const text = `[Peer]\nPublicKey = ${b64(2)}\n[Peer]\nPublicKey = ${b64(3)}\n\n[Peer]\nPublicKey = ${b64(2)}\n`;
  const duplicate = wgConfigToChange(ok(text));
  t.same('errors' in duplicate ? duplicate.errors : [], [{ line: 6, message: 'PublicKey repeats the peer at line 1' }]);
});

const STATUS: DeviceStatus = {
  privateKey: key(1),
  listenPort: 51820,
  fwmark: 0xca6c,
  peers: [
    {
      publicKey: key(2),
      presharedKey: key(3),
      endpoint: { address: '2001:db8::7', port: 51820 },
      lastHandshakeWallMs: 5,
      rxBytes: 1,
      txBytes: 2,
      persistentKeepalive: 25,
      allowedIps: [cidr('10.0.0.0/24'), cidr('fd00::/64')],
    },
    {
      publicKey: key(4),
      presharedKey: null,
      endpoint: { address: '192.0.2.1', port: 9 },
      lastHandshakeWallMs: 0,
      rxBytes: 0,
      txBytes: 0,
      persistentKeepalive: 0,
      allowedIps: [],
    },
    {
      publicKey: key(5),
      presharedKey: new Uint8Array(32),
      endpoint: null,
      lastHandshakeWallMs: 0,
      rxBytes: 0,
      txBytes: 0,
      persistentKeepalive: 1,
      allowedIps: [cidr('192.168.0.0/16')],
    },
  ],
};

t.test('formatWgConf: exact text as wg showconf', async (t) => {
  t.equal(
    formatWgConf(STATUS),
    [
      '[Interface]',
      'ListenPort = 51820',
      'FwMark = 0xca6c',
      `PrivateKey = ${b64(1)}`,
      '',
      '[Peer]',
      `PublicKey = ${b64(2)}`,
      `PresharedKey = ${b64(3)}`,
      'AllowedIPs = 10.0.0.0/24, fd00::/64',
      'Endpoint = [2001:db8::7]:51820',
      'PersistentKeepalive = 25',
      '',
      '[Peer]',
      `PublicKey = ${b64(4)}`,
      'Endpoint = 192.0.2.1:9',
      '',
      '[Peer]',
      `PublicKey = ${b64(5)}`,
      'AllowedIPs = 192.168.0.0/16',
      'PersistentKeepalive = 1',
      '',
    ].join('\n'),
  );
  t.equal(formatWgConf({ privateKey: null, listenPort: 0, fwmark: 0, peers: [] }), '[Interface]\n\n');
});

t.test('round trip: formatWgConf -> parseWgConf -> the same config', async (t) => {
  const config = ok(formatWgConf(STATUS));
  t.same(config.privateKey, STATUS.privateKey);
  t.equal(config.listenPort, 51820);
  t.equal(config.fwmark, 0xca6c);
  t.equal(config.peers.length, STATUS.peers.length);
  config.peers.forEach((peer, i) => {
    const want = STATUS.peers[i]!;
    t.same(peer.publicKey, want.publicKey);
    t.same(peer.presharedKey, want.presharedKey !== null && want.presharedKey.some((x) => x) ? want.presharedKey : null);
    t.same(peer.allowedIps.map(formatCidr), want.allowedIps.map(formatCidr));
    t.same(peer.endpoint, want.endpoint && { host: want.endpoint.address, port: want.endpoint.port });
    t.equal(peer.persistentKeepalive ?? 0, want.persistentKeepalive);
  });
  // Back to a status (as a device applying the change would report it) and out again: identical text.
  const result = wgConfigToChange(config);
  if ('errors' in result) throw new Error(JSON.stringify(result.errors));
  const { change } = result;
  const again: DeviceStatus = {
    privateKey: change.privateKey ?? null,
    listenPort: change.listenPort ?? 0,
    fwmark: change.fwmark ?? 0,
    peers: change.peers.map((p) => ({
      publicKey: p.publicKey,
      presharedKey: p.presharedKey ?? null,
      endpoint: p.endpoint ?? null,
      lastHandshakeWallMs: 0,
      rxBytes: 0,
      txBytes: 0,
      persistentKeepalive: p.persistentKeepalive ?? 0,
      allowedIps: p.allowedIps.map((e) => e.cidr),
    })),
  };
  t.equal(formatWgConf(again), formatWgConf(STATUS));
});
