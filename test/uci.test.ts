import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import { toBase64 } from '../src/crypto/encoding.js';
import { Device } from '../src/device/device.js';
import type { DeviceChange, DeviceStatus, PeerChange } from '../src/control/config.js';
import { formatCidr, formatIp, parseCidr } from '../src/routing/ip.js';
import type { Cidr } from '../src/routing/ip.js';
import {
  diffForReload,
  hostDependencies,
  hostsToResolve,
  netifdUpdate,
  parseUci,
  toDeviceChange,
  translateWgtsInterface,
} from '../src/control/uci.js';
import type { UciError, UciParseError, UciSection, WgtsInterfaceConfig, WgtsPeerConfig } from '../src/control/uci.js';
import { VirtualClock, VirtualNetwork, ipv4Packet, messageTypes, seededRandom } from './helpers/virtual.js';

const FIXTURES = new URL('./fixtures/uci/', import.meta.url);
const fixture = (name: string): string => readFileSync(new URL(name, FIXTURES), 'utf8');

const b64ToBytes = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'base64'));
const hex = (bytes: Uint8Array | null): string | null => (bytes === null ? null : Buffer.from(bytes).toString('hex'));
const cidrs = (list: readonly Cidr[]): string[] => list.map(formatCidr);

function sections(text: string): UciSection[] {
  const result = parseUci(text);
  if ('errors' in result) throw new Error(`unexpected parse errors: ${JSON.stringify(result.errors)}`);
  return result.sections;
}

function parseErrors(text: string): UciParseError[] {
  const result = parseUci(text);
  return 'errors' in result ? result.errors : [];
}

/** Section → { option: value } for compact comparisons. */
function plain(list: UciSection[]): { type: string; name: string; anonymous: boolean; index: number; options: Record<string, string | string[]> }[] {
  return list.map((s) => ({
    type: s.type,
    name: s.name,
    anonymous: s.anonymous,
    index: s.index,
    options: Object.fromEntries([...s.options].map(([k, o]) => [k, o.value])),
  }));
}

function configOf(text: string, ifname: string): { config: WgtsInterfaceConfig; warnings: UciError[] } {
  const result = translateWgtsInterface(sections(text), ifname);
  if ('errors' in result) throw new Error(`unexpected errors: ${JSON.stringify(result.errors)}`);
  return result;
}

function errorsOf(text: string, ifname: string): UciError[] {
  const result = translateWgtsInterface(sections(text), ifname);
  if ('config' in result) throw new Error('a config came out although there should be errors');
  return result.errors;
}

// ------------------------------------------------------------ UCI syntax --

t.test('UCI syntax', async (t) => {
  t.test('options, lists, named and anonymous sections', async (t) => {
    const text = [
      "config interface 'lan'",
      "\toption proto 'static'",
      "\tlist dns '1.1.1.1'",
      '\tlist dns 8.8.8.8',
      '',
      'config rule',
      "\toption name 'a'",
      'config rule',
      'config interface wan',
      'config rule',
      "\toption name 'c'",
    ].join('\n');
    const list = sections(text);
    t.same(plain(list), [
      { type: 'interface', name: 'lan', anonymous: false, index: 0, options: { proto: 'static', dns: ['1.1.1.1', '8.8.8.8'] } },
      { type: 'rule', name: '@rule[0]', anonymous: true, index: 0, options: { name: 'a' } },
      { type: 'rule', name: '@rule[1]', anonymous: true, index: 1, options: {} },
      { type: 'interface', name: 'wan', anonymous: false, index: 1, options: {} },
      { type: 'rule', name: '@rule[2]', anonymous: true, index: 2, options: { name: 'c' } },
    ]);
    t.same(list.map((s) => s.line), [1, 6, 8, 9, 10], 'section lines');
    t.same(list[0]!.options.get('proto'), { value: 'static', line: 2, itemLines: [2] });
    t.same(list[0]!.options.get('dns'), { value: ['1.1.1.1', '8.8.8.8'], line: 3, itemLines: [3, 4] });
  });

  t.test('quoting: single quotes take everything literally, double quotes and bare words take backslash escapes', async (t) => {
    const text = [
      'config a b',
      "option s1 'it'\\''s'", // the way uci export writes a quote
      `option s2 'no \\escape "here"'`,
      'option d1 "say \\"hi\\" \\\\ \\t"', // \t is just t: uci has no escape sequences
      "option d2 \"it's\"",
      'option u1 back\\ slash\\#',
      "option c1 a'b c'\"d e\"f", // parts concatenate like shell words
      "option c2 '5''18'\"20\"",
      'option h1 value#comment',
      'option h2 "value#kept" # comment',
      "option h3 'value' # comment",
    ].join('\n');
    t.same(plain(sections(text))[0]!.options, {
      s1: "it's",
      s2: 'no \\escape "here"',
      d1: 'say "hi" \\ t',
      d2: "it's",
      u1: 'back slash#',
      c1: 'ab cd ef',
      c2: '51820',
      h1: 'value',
      h2: 'value#kept',
      h3: 'value',
    });
  });

  t.test('values across lines: quotes keep the newline, a trailing backslash joins lines', async (t) => {
    const text = "config a b\noption q 'one\ntwo'\noption d \"x\\\ny\"\noption u left\\\nright\noption after 1\n";
    const list = sections(text);
    t.same(plain(list)[0]!.options, { q: 'one\ntwo', d: 'xy', u: 'leftright', after: '1' });
    t.equal(list[0]!.options.get('after')!.line, 8, 'line numbers count physical lines');
  });

  t.test('comments, blank lines, indentation, CRLF and the one-letter commands', async (t) => {
    const text = "# head\r\n\r\n   \t# indented comment\r\nc interface 'wg0'  \r\n\to proto wgts\r\n\tl addresses '10.0.0.1/24'\r\n\tp network\r\n";
    t.same(plain(sections(text)), [{ type: 'interface', name: 'wg0', anonymous: false, index: 0, options: { proto: 'wgts', addresses: ['10.0.0.1/24'] } }]);
  });

  t.test("';' separates commands, as in uci", async (t) => {
    t.same(plain(sections("config a 'b'; option x '1'; list y '2';option z 3"))[0]!.options, { x: '1', y: ['2'], z: '3' });
    // After a bare word, uci's in-place parser overwrites the ';' and drops the rest of the line.
    t.same(plain(sections('config a b; option w 0\noption x 1; option y 2\noption z 3'))[0]!.options, { x: '1', z: '3' });
  });

  t.test('option and list semantics', async (t) => {
    const text = [
      'config a b',
      'option empty ""', // an empty value sets nothing
      'option keep 1',
      "option keep ''", // ... and does not delete either
      'option over 1',
      'option over 2',
      'list conv 1', // placeholder so conv starts as a list
      'option conv x', // an option replaces a list
      'option tolist a',
      'list tolist b', // a list keeps the option's value as first item
      "list withempty ''",
      'list withempty 2',
    ].join('\n');
    const s = sections(text)[0]!;
    t.same(plain([s])[0]!.options, { keep: '1', over: '2', conv: 'x', tolist: ['a', 'b'], withempty: ['', '2'] });
    t.same(s.options.get('tolist')!.itemLines, [9, 10]);
    t.equal(s.options.get('over')!.line, 6);
  });

  t.test('a repeated section name merges into the first section', async (t) => {
    const list = sections("config interface 'wg0'\n option a 1\nconfig rule\nconfig interface 'wg0'\n option b 2\n option a 3\n");
    t.same(plain(list), [
      { type: 'interface', name: 'wg0', anonymous: false, index: 0, options: { a: '3', b: '2' } },
      { type: 'rule', name: '@rule[0]', anonymous: true, index: 0, options: {} },
    ]);
    t.equal(list[0]!.line, 1);
  });

  t.test('syntax errors: each reported with its line, and no sections at all', async (t) => {
    t.same(parseErrors('option a b\n'), [{ line: 1, message: 'option/list command found before the first section' }]);
    t.same(parseErrors('config a b\nfrobnicate x\n'), [{ line: 2, message: "invalid command 'frobnicate'" }]);
    t.same(parseErrors('config\n'), [{ line: 1, message: "'config' without arguments" }]);
    t.same(parseErrors('config'), [{ line: 1, message: 'config without name' }]);
    t.same(parseErrors("config ''\n"), [{ line: 1, message: 'insufficient arguments' }]);
    t.same(parseErrors("config a 'b c'\n"), [{ line: 1, message: "invalid character in name field 'b c'" }]);
    t.same(parseErrors("config 'a b' c\n"), [{ line: 1, message: "invalid character in type field 'a b'" }]);
    t.same(parseErrors('config a b c\n'), [{ line: 1, message: 'too many arguments' }]);
    t.same(parseErrors('config a b\noption x 1 2\n'), [{ line: 2, message: 'too many arguments' }]);
    t.same(parseErrors('config a b\noption\n'), [{ line: 2, message: "'option' without arguments" }]);
    t.same(parseErrors('config a b\noption x-y 1\n'), [{ line: 2, message: "invalid character in name field 'x-y'" }]);
    t.same(parseErrors('config a b\nconfig c b\n'), [{ line: 2, message: "section of different type overwrites prior section with same name 'b'" }]);
    t.same(parseErrors("config a b\noption x 'open\nstill\n"), [{ line: 3, message: "EOF with unterminated ' (opened on line 2)" }]);
    t.same(parseErrors('config a b\noption x "open\n'), [{ line: 2, message: 'EOF with unterminated " (opened on line 2)' }]);
    t.same(parseErrors('config a b\noption x a\0b\n'), [{ line: 2, message: 'NUL character in the line' }]);
    t.same(parseErrors('package net-work\nconfig a b\n'), [], 'package names may have dashes');
  });

  t.test('the syntax-error fixture reports every error', async (t) => {
    t.same(parseErrors(fixture('syntax-error.network')), [
      { line: 3, message: "invalid character in name field 'bad name'" },
      { line: 8, message: 'too many arguments' },
      { line: 9, message: "EOF with unterminated ' (opened on line 9)" },
    ]);
  });

  t.test('empty input and comment-only input', async (t) => {
    t.same(sections(''), []);
    t.same(sections('# nothing\n\n'), []);
  });
});

// ------------------------------------------------------------ translation --

const KEY = {
  wg0: 'YC72NM5rmAWtgT4dmZCJ7Kk10f+bQHTzRVNMIzhDZX4=',
  laptop: 'iMwvSlhAvmQ/VuIluHbjBDkCBSzHCvMHWdP7o0KNyEc=',
  laptopPsk: 'ANHzbdQnYtn+1RACV6VXTF4yMDkHrFY02cUEPH3nRnw=',
  office: 'sCSnNcc69CM3fc68t/AX5KGFPfHHSv+TcGwfXsHs6XA=',
  phone: 'yOVXlbS69JB8isMBxzNRfv50Mh7+hvCL2t2YNopq4nk=',
  phonePrivate: 'wKkSZU+pQoO8TJHZNWrEPyuAZ+LNb/7VVNxDxTtKH2g=',
};

function peerView(p: WgtsPeerConfig): Record<string, unknown> {
  return {
    publicKey: toBase64(p.publicKey),
    presharedKey: p.presharedKey && toBase64(p.presharedKey),
    allowedIps: cidrs(p.allowedIps),
    routeAllowedIps: p.routeAllowedIps,
    endpointHost: p.endpointHost,
    endpointPort: p.endpointPort,
    persistentKeepalive: p.persistentKeepalive,
    description: p.description,
    section: p.section,
  };
}

t.test('full /etc/config/network: every option, field by field', async (t) => {
  const { config, warnings } = configOf(fixture('full.network'), 'wg0');
  t.equal(config.ifname, 'wg0');
  t.equal(toBase64(config.privateKey), KEY.wg0);
  t.equal(config.listenPort, 51820);
  t.same(config.addresses.map((a) => `${formatIp(a.address)}/${a.bits}`), ['10.14.0.1/24', 'fd00:14::1/64'], 'host bits of addresses are kept');
  t.equal(config.mtu, 1380);
  t.equal(config.fwmark, 0x1f00);
  t.same(cidrs(config.ip6prefix), ['2001:db8:77::/48']);
  t.equal(config.nohostroute, false);
  t.equal(config.tunlink, 'wan');
  t.equal(config.metric, 20);
  t.same(config.peers.map(peerView), [
    {
      publicKey: KEY.laptop, presharedKey: KEY.laptopPsk,
      allowedIps: ['10.14.0.2/32', 'fd00:14::2/128'], routeAllowedIps: true,
      endpointHost: 'laptop.example.net', endpointPort: 51821, persistentKeepalive: 25,
      description: 'Alice laptop', section: 'laptop',
    },
    {
      publicKey: KEY.office, presharedKey: null,
      allowedIps: ['10.14.0.3/32', '192.168.20.0/24'], routeAllowedIps: true,
      endpointHost: '203.0.113.7', endpointPort: 51820, persistentKeepalive: 0,
      description: 'Office router', section: '@wireguard_wg0[1]',
    },
    {
      publicKey: KEY.phone, presharedKey: null,
      allowedIps: ['10.14.0.4/32', 'fd00:14::4/128'], routeAllowedIps: false,
      endpointHost: '2001:db8::4', endpointPort: 4500, persistentKeepalive: 15,
      description: 'Phone', section: '@wireguard_wg0[2]',
    },
  ], 'the disabled peer, the keyless peer and wg1 peers are left out');
  t.same(warnings, [{ option: 'network.@wireguard_wg0[4].public_key', line: 84, message: 'is not set; this peer is skipped (as the kernel proto does)' }]);
  t.notOk(JSON.stringify(warnings).includes(KEY.phonePrivate));

  t.test('netifd link update', async (t) => {
    t.same(netifdUpdate(config), {
      action: 0, interface: 'wg0', 'link-up': true, ifname: 'wg0', keep: false,
      ipaddr: [{ ipaddr: '10.14.0.1', mask: '24' }],
      ip6addr: [{ ipaddr: 'fd00:14::1', mask: '64' }],
      routes: [
        { target: '10.14.0.2', netmask: '32', metric: 20 },
        { target: '10.14.0.3', netmask: '32', metric: 20 },
        { target: '192.168.20.0', netmask: '24', metric: 20 },
      ],
      routes6: [{ target: 'fd00:14::2', netmask: '128', metric: 20 }],
      ip6prefix: ['2001:db8:77::/48'],
    });
    t.equal(netifdUpdate(config, 'tun-wg0').ifname, 'tun-wg0', 'the device name can differ from the interface name');
  });

  t.test('host dependencies: literal endpoints and resolved names, through tunlink', async (t) => {
    t.same(hostsToResolve(config), ['laptop.example.net']);
    t.same(hostDependencies(config), [
      { action: 6, interface: 'wg0', host: '203.0.113.7', ifname: 'wan' },
      { action: 6, interface: 'wg0', host: '2001:db8::4', ifname: 'wan' },
    ], 'an unresolved name has no dependency yet');
    t.same(hostDependencies(config, new Map([['laptop.example.net', '198.51.100.9']])).map((d) => d.host), ['198.51.100.9', '203.0.113.7', '2001:db8::4']);
    t.same(hostDependencies({ ...config, nohostroute: true }), [], 'none with nohostroute');
    t.same(hostDependencies({ ...config, tunlink: null })[0], { action: 6, interface: 'wg0', host: '203.0.113.7' }, 'no ifname without tunlink');
  });

  t.test('device change: setconf semantics, resolved names, unresolved name without endpoint', async (t) => {
    const change = toDeviceChange(config, new Map([['laptop.example.net', '198.51.100.9']]));
    t.equal(hex(change.privateKey ?? null), hex(b64ToBytes(KEY.wg0)));
    t.equal(change.listenPort, 51820);
    t.equal(change.fwmark, 0x1f00);
    t.equal(change.replacePeers, true);
    t.same(change.peers.map((p) => ({
      key: toBase64(p.publicKey), psk: p.presharedKey ? toBase64(p.presharedKey) : p.presharedKey,
      endpoint: p.endpoint ?? null, keepalive: p.persistentKeepalive, replace: p.replaceAllowedIps,
      allowed: p.allowedIps.map((a) => (a.remove ? '-' : '') + formatCidr(a.cidr)), remove: p.remove, updateOnly: p.updateOnly,
    })), [
      { key: KEY.laptop, psk: KEY.laptopPsk, endpoint: { address: '198.51.100.9', port: 51821 }, keepalive: 25, replace: true, allowed: ['10.14.0.2/32', 'fd00:14::2/128'], remove: false, updateOnly: false },
      { key: KEY.office, psk: null, endpoint: { address: '203.0.113.7', port: 51820 }, keepalive: 0, replace: true, allowed: ['10.14.0.3/32', '192.168.20.0/24'], remove: false, updateOnly: false },
      { key: KEY.phone, psk: null, endpoint: { address: '2001:db8::4', port: 4500 }, keepalive: 15, replace: true, allowed: ['10.14.0.4/32', 'fd00:14::4/128'], remove: false, updateOnly: false },
    ]);
    const unresolved = toDeviceChange(config, new Map());
    t.equal(unresolved.peers[0]!.endpoint, undefined, 'a name not resolved leaves the peer without endpoint');
    const garbage = toDeviceChange(config, new Map([['laptop.example.net', 'not-an-ip']]));
    t.equal(garbage.peers[0]!.endpoint, undefined, 'a resolution that is not a numeric IP is ignored');
    t.same(toDeviceChange({ ...config, listenPort: null, fwmark: null }, new Map()).listenPort, 0, 'no port = random');
  });

  t.test('the translated config runs on a real device', async (t) => {
    const device = newDevice(1);
    t.equal(device.applyChange(toDeviceChange(config, new Map())), 0);
    const status = device.status();
    t.equal(status.peers.length, 3);
    t.equal(status.listenPort, 51820);
    t.equal(status.fwmark, 0x1f00);
  });
});

t.test("a kernel WireGuard config switched to wgts by changing one word", async (t) => {
  const kernel = fixture('kernel.network');
  const errors = errorsOf(kernel, 'vpn');
  t.same(errors, [{ option: 'network.vpn.proto', line: 19, message: "is 'wireguard'; this daemon serves proto 'wgts'" }]);

  const switched = kernel.replace("option proto 'wireguard'", "option proto 'wgts'");
  t.equal(switched.split('\n').filter((line, i) => line !== kernel.split('\n')[i]).length, 1, 'exactly one line differs');
  const { config, warnings } = configOf(switched, 'vpn');
  t.same(warnings, []);
  t.equal(config.ifname, 'vpn');
  t.equal(config.listenPort, 51820);
  t.same(config.addresses.map((a) => `${formatIp(a.address)}/${a.bits}`), ['10.0.0.1/24']);
  t.same(config.mtu, null);
  t.same(config.fwmark, null);
  t.same(config.metric, null);
  t.same(config.peers.map(peerView), [
    {
      publicKey: 'cPDS7xeJC6RkZYHRZqTpyyIaDBDglcC+wEkNU7DRoG4=', presharedKey: null, allowedIps: ['10.0.0.2/32'], routeAllowedIps: true,
      endpointHost: null, endpointPort: 51820, persistentKeepalive: 25, description: 'phone', section: '@wireguard_vpn[0]',
    },
    {
      publicKey: 'iKPtWjV5hqOeHT2ubaKwcqs8w88xdM4y/8ljIb8Zqlg=', presharedKey: 'sDXJp9wGzDAdfa9qeq1uOgb7vwADe8DZG6AQXVl3HEU=',
      allowedIps: ['10.0.0.0/24', '172.16.5.0/24'], routeAllowedIps: true,
      endpointHost: 'vpn.example.org', endpointPort: 51820, persistentKeepalive: 0, description: 'server', section: '@wireguard_vpn[1]',
    },
  ]);
  t.same(netifdUpdate(config).routes, [
    { target: '10.0.0.2', netmask: '32' },
    { target: '10.0.0.0', netmask: '24' },
    { target: '172.16.5.0', netmask: '24' },
  ], 'no metric without the metric option');
});

t.test('quoting edge cases in a network file', async (t) => {
  const { config } = configOf(fixture('quoting.network'), 'wg0');
  t.equal(config.listenPort, 51820, '"5""18"\'20\' concatenates');
  t.equal(config.tunlink, 'wan', 'w\\an unescapes to wan');
  t.equal(config.fwmark, 0x1f, '# starts a comment even inside a bare word');
  t.same(config.addresses.map((a) => `${formatIp(a.address)}/${a.bits}`), ['10.14.0.1/24', 'fd00:14::1/64']);
  t.same(config.peers.map(peerView), [
    {
      publicKey: KEY.laptop, presharedKey: null, allowedIps: ['10.14.0.2/32', 'fd00:14::2/128'], routeAllowedIps: false,
      endpointHost: 'peer1.example.net', endpointPort: 51820, persistentKeepalive: 25,
      description: 'tabtand backslash \\ and "quote"', section: 'peer1',
    },
    {
      publicKey: KEY.office, presharedKey: null, allowedIps: ['10.14.0.3/32', '10.14.0.4/32'], routeAllowedIps: false,
      endpointHost: null, endpointPort: 51820, persistentKeepalive: 0, description: 'first', section: '@wireguard_wg0[1]',
    },
  ]);
  const list = sections(fixture('quoting.network'));
  t.equal(list.find((s) => s.name === 'wg0')!.options.get('description')!.value, 'it\'s "quoted"');
  t.notOk(list.find((s) => s.name === 'peer1')!.options.has('empty'));
});

t.test('CRLF line endings', async (t) => {
  const { config } = configOf(fixture('crlf.network'), 'wg0');
  t.equal(config.peers.length, 1);
  t.same(cidrs(config.peers[0]!.allowedIps), ['10.14.0.2/32']);
  t.equal(toBase64(config.peers[0]!.publicKey), KEY.laptop);
});

t.test('broken files: every error names the option path and line, and nothing translates', async (t) => {
  const cases: [string, UciError[]][] = [
    ['broken-key.network', [
      { option: 'network.wg0.private_key', line: 3, message: "is not a valid private key: expected 32 bytes in base64 (44 characters ending in '=')" },
      { option: 'network.@wireguard_wg0[1].public_key', line: 11, message: "is not a valid public key: expected 32 bytes in base64 (44 characters ending in '=')" },
    ]],
    ['broken-cidr.network', [
      { option: 'network.@wireguard_wg0[0].allowed_ips', line: 9, message: "'10.14.0.300/32' is not an IPv4 or IPv6 address with an optional /prefix length" },
    ]],
    ['broken-port.network', [
      { option: 'network.wg0.listen_port', line: 4, message: "'70000' is not a UDP port (0..65535)" },
    ]],
    ['broken-keepalive.network', [
      { option: 'network.@wireguard_wg0[0].persistent_keepalive', line: 10, message: "'65536' is not a keepalive interval in seconds (0..65535 or 'off')" },
    ]],
    ['two-errors.network', [
      { option: 'network.wg0.addresses', line: 4, message: "'10.14.0.1/33' is not an IPv4 or IPv6 address with an optional /prefix length" },
      { option: 'network.@wireguard_wg0[1].endpoint_port', line: 14, message: "'0' is not a UDP port (1..65535)" },
    ]],
  ];
  for (const [name, expected] of cases) {
    const text = fixture(name);
    const errors = errorsOf(text, 'wg0');
    t.same(errors, expected, name);
    // No key text may reach a log line, not even a broken one.
    const keys = text.match(/[A-Za-z0-9+/]{40,}={0,2}/g) ?? [];
    t.ok(keys.length > 0);
    for (const key of keys) t.notOk(JSON.stringify(errors).includes(key.slice(0, 16)), `${name}: no key material in the messages`);
  }
});

t.test('more option checks', async (t) => {
  const base = (iface: string, peer = ''): string =>
    `config interface 'wg0'\n\toption proto 'wgts'\n\toption private_key '${KEY.wg0}'\n${iface}\nconfig wireguard_wg0\n\toption public_key '${KEY.laptop}'\n${peer}\n`;
  const first = (iface: string, peer = ''): string => {
    const errors = errorsOf(base(iface, peer), 'wg0');
    return errors.map((e) => `${e.option}: ${e.message}`).join(' | ');
  };
  const ok = (iface: string, peer = ''): WgtsInterfaceConfig => configOf(base(iface, peer), 'wg0').config;

  t.test('private key missing or "generate"', async (t) => {
    const missing = errorsOf(`config interface 'wg0'\n\toption proto 'wgts'\n`, 'wg0');
    t.same(missing, [{ option: 'network.wg0.private_key', line: 1, message: "is not set: wgts does not generate keys; run 'wg genkey' and set network.wg0.private_key to its output" }]);
    t.match(first("\toption private_key 'generate'"), /private_key: is 'generate': wgts does not generate keys/);
    t.match(first(`\tlist private_key '${KEY.wg0}'`), /private_key: must be a single value/);
  });

  t.test('interface section problems', async (t) => {
    t.same(errorsOf('config interface lan\n', 'wg0'), [{ option: 'network.wg0', line: 0, message: `there is no "config interface 'wg0'" section` }]);
    t.same(errorsOf('config device wg0\n', 'wg0'), [{ option: 'network.wg0', line: 1, message: "is a 'device' section, not 'interface'" }]);
    t.same(errorsOf(`config interface wg0\n\toption private_key '${KEY.wg0}'\n`, 'wg0'), [{ option: 'network.wg0.proto', line: 1, message: "is not set; this daemon serves proto 'wgts'" }]);
    const long = 'wg_abcdefghijklm';
    t.match(errorsOf(`config interface ${long}\n\toption proto wgts\n\toption private_key '${KEY.wg0}'\n`, long)[0]!.message, /at most 15/);
  });

  t.test('ports, mtu, fwmark, metric', async (t) => {
    t.equal(ok("\toption listen_port '0'").listenPort, 0);
    t.equal(ok("\toption listen_port '65535'").listenPort, 65535);
    t.match(first("\toption listen_port '-1'"), /listen_port: '-1' is not a UDP port/);
    t.match(first("\toption listen_port '5e3'"), /listen_port/);
    t.equal(ok("\toption mtu '576'").mtu, 576);
    t.equal(ok("\toption mtu '8940'").mtu, 8940);
    t.equal(ok("\toption mtu '0'").mtu, null, '0 (allowed by LuCI) means not set');
    t.match(first("\toption mtu '8941'"), /mtu: '8941' is not an MTU \(0\.\.8940\)/);
    t.match(first("\toption mtu '575'"), /mtu: 575 is too small: at least 576$/);
    t.match(first("\toption mtu '1279'\n\tlist addresses 'fd00::1/64'"), /mtu: 1279 is too small: at least 1280 when the interface has IPv6/);
    t.equal(ok("\toption fwmark '4294967295'").fwmark, 0xffffffff);
    t.equal(ok("\toption fwmark '0xFFFFFFFF'").fwmark, 0xffffffff);
    t.equal(ok("\toption fwmark 'off'").fwmark, 0);
    t.match(first("\toption fwmark '0x100000000'"), /fwmark: '0x100000000' is not a firewall mark/);
    t.match(first("\toption fwmark '4294967296'"), /fwmark/);
    t.equal(ok("\toption metric '0'").metric, 0);
    t.match(first("\toption metric 'low'"), /metric: 'low' is not a route metric/);
  });

  t.test('addresses and prefixes', async (t) => {
    const c = ok("\toption addresses '10.0.0.1/24  fd00::1 10.0.0.9,192.168.7.7/16'");
    t.same(c.addresses.map((a) => `${formatIp(a.address)}/${a.bits}`), ['10.0.0.1/24', 'fd00::1/128', '10.0.0.9/32', '192.168.7.7/16'], 'space or comma separated; /32 and /128 by default');
    t.same(cidrs(ok("\tlist ip6prefix '2001:db8::/48'\n\tlist ip6prefix '2001:db8:1:2::7/64'").ip6prefix), ['2001:db8::/48', '2001:db8:1:2::/64']);
    t.match(first("\tlist ip6prefix '2001:db8::/96'"), /ip6prefix: '2001:db8::\/96' is not an IPv6 prefix with a length of 1\.\.64/);
    t.match(first("\tlist ip6prefix '2001:db8::'"), /ip6prefix/);
    t.match(first("\tlist ip6prefix '10.0.0.0/8'"), /ip6prefix/);
    t.match(first("\tlist addresses 'fd00::1/129'"), /addresses: 'fd00::1\/129'/);
    t.match(first("\tlist addresses 'host.example'"), /addresses/);
  });

  t.test('booleans as config_get_bool takes them', async (t) => {
    for (const word of ['1', 'on', 'true', 'yes', 'enabled']) t.equal(ok(`\toption nohostroute '${word}'`).nohostroute, true, word);
    for (const word of ['0', 'off', 'false', 'no', 'disabled']) t.equal(ok(`\toption nohostroute '${word}'`).nohostroute, false, word);
    t.match(first("\toption nohostroute 'Yes'"), /nohostroute: 'Yes' is not a boolean/);
    t.match(first('', "\toption route_allowed_ips '2'"), /network\.@wireguard_wg0\[0\]\.route_allowed_ips: '2' is not a boolean/);
    t.match(first('', "\toption disabled 'maybe'"), /disabled: 'maybe' is not a boolean/);
  });

  t.test('peer options', async (t) => {
    const peer = (opts: string): WgtsPeerConfig => ok('', opts).peers[0]!;
    t.equal(peer("\toption endpoint_host '[2001:DB8::1]'").endpointHost, '2001:db8::1', 'bracketed IPv6, canonical');
    t.equal(peer("\toption endpoint_host 'vpn.example.com.'").endpointHost, 'vpn.example.com.');
    t.equal(peer("\toption endpoint_host '192.0.2.1'").endpointPort, 51820);
    t.match(first('', "\toption endpoint_host 'bad host!'"), /endpoint_host: 'bad host!' is neither an IP address nor a host name/);
    t.match(first('', "\toption endpoint_host '[192.0.2.1]'"), /endpoint_host/);
    t.match(first('', "\toption endpoint_host 'fe80::1%eth0'"), /endpoint_host/);
    t.match(first('', "\toption endpoint_port '65536'"), /endpoint_port: '65536' is not a UDP port \(1\.\.65535\)/);
    t.equal(peer("\toption persistent_keepalive '65535'").persistentKeepalive, 65535);
    t.equal(peer("\toption persistent_keepalive 'off'").persistentKeepalive, 0);
    t.same(cidrs(peer("\toption allowed_ips '10.0.0.5/24, fd00::/8'").allowedIps), ['10.0.0.0/24', 'fd00::/8'], 'allowed IPs are masked');
    t.same(peer('').allowedIps, [], 'no allowed IPs is fine');
    t.match(first('', `\toption preshared_key 'short'`), /preshared_key: is not a valid preshared key/);
    t.match(first('', `\tlist description 'a'\n\tlist description 'b'`), /description: must be a single value/);
  });

  t.test('the same public key twice', async (t) => {
    const errors = errorsOf(base('', `config wireguard_wg0 'dup'\n\toption public_key '${KEY.laptop}'\n`), 'wg0');
    t.same(errors, [{ option: 'network.dup.public_key', line: 8, message: 'is the same key as the peer in network.@wireguard_wg0[0] (line 6); each peer needs its own key' }]);
  });

  t.test('errors in several sections are all reported, in line order', async (t) => {
    const errors = errorsOf(base("\toption listen_port 'x'\n\toption mtu 'y'", "\toption endpoint_port 'z'\n\tlist allowed_ips 'nope'"), 'wg0');
    t.same(errors.map((e) => [e.option, e.line]), [
      ['network.wg0.listen_port', 4],
      ['network.wg0.mtu', 5],
      ['network.@wireguard_wg0[0].endpoint_port', 8],
      ['network.@wireguard_wg0[0].allowed_ips', 9],
    ]);
  });
});

// --------------------------------------------------------------- reloads --

function newDevice(seed: number): Device {
  return new Device({ clock: new VirtualClock(), random: seededRandom(seed), sendUdp: () => {}, writeTun: () => {} });
}

interface PeerPicture {
  key: string;
  psk: string | null;
  endpoint: string | null;
  keepalive: number;
  allowed: string[];
}

function peerPicture(p: DeviceStatus['peers'][number]): PeerPicture {
  return {
    key: hex(p.publicKey)!,
    psk: hex(p.presharedKey),
    endpoint: p.endpoint ? `${p.endpoint.address}:${p.endpoint.port}` : null,
    keepalive: p.persistentKeepalive,
    allowed: cidrs(p.allowedIps).sort(),
  };
}

function picture(status: DeviceStatus): { privateKey: string | null; listenPort: number; fwmark: number; peers: PeerPicture[] } {
  return {
    privateKey: hex(status.privateKey),
    listenPort: status.listenPort,
    fwmark: status.fwmark,
    peers: status.peers.map(peerPicture).sort((a, b) => (a.key < b.key ? -1 : 1)),
  };
}

/**
 * Reloads `running` (which got `history` applied) to `next` through diffForReload, and checks the
 * result against a device that got the same history and then `next` itself.
 */
function checkReload(t: Test, history: DeviceChange[], running: Device, next: DeviceChange, label: string): DeviceChange {
  const before = running.status();
  const beforePeers = new Map(before.peers.map((p) => [hex(p.publicKey)!, peerPicture(p)]));
  const diff = diffForReload(before, next);
  t.equal(diff.replacePeers, false, `${label}: never replaces all peers`);
  t.equal(running.applyChange(diff), 0);

  const reference = newDevice(99);
  for (const change of history) reference.applyChange(change);
  reference.applyChange(next);
  const got = picture(running.status());
  const want = picture(reference.status());
  // Endpoints `next` does not set are kept, as wg syncconf keeps them; port 0 (random) keeps the bound one.
  const nextEndpoint = new Set<string>();
  for (const pc of next.peers) if (pc.endpoint && !pc.remove) nextEndpoint.add(hex(pc.publicKey)!);
  for (const p of want.peers) {
    if (!nextEndpoint.has(p.key) && beforePeers.has(p.key)) p.endpoint = beforePeers.get(p.key)!.endpoint;
  }
  if (next.listenPort === 0) want.listenPort = before.listenPort;
  t.same(got, want, `${label}: same configuration as applying the change itself`);

  // Only peers that really change are mentioned.
  for (const pc of diff.peers) {
    const key = hex(pc.publicKey)!;
    const old = beforePeers.get(key);
    if (pc.remove) {
      t.ok(old && !want.peers.some((p) => p.key === key), `${label}: removes only peers that go`);
      continue;
    }
    const now = want.peers.find((p) => p.key === key);
    t.ok(!old || JSON.stringify(old) !== JSON.stringify(now), `${label}: a mentioned peer differs`);
  }
  return diff;
}

/** A device that got these changes, in order. */
function deviceWith(seed: number, history: DeviceChange[]): Device {
  const device = newDevice(seed);
  for (const change of history) t.equal(device.applyChange(change), 0);
  return device;
}

const key = (n: number): Uint8Array => new Uint8Array(32).fill(n);
/** The device learning a new endpoint for peer n (roaming); nothing if it has no such peer. */
const roam = (n: number, address: string, port: number): DeviceChange => ({
  replacePeers: false,
  peers: [{ publicKey: key(n), remove: false, updateOnly: true, endpoint: { address, port }, replaceAllowedIps: false, allowedIps: [] }],
});
const peerChange = (n: number, allowed: string[], extra: Partial<PeerChange> = {}): PeerChange => ({
  publicKey: key(n), remove: false, updateOnly: false, presharedKey: null, persistentKeepalive: 0,
  replaceAllowedIps: true, allowedIps: allowed.map((c) => ({ cidr: parseCidr(c)!, remove: false })), ...extra,
});

t.test('diffForReload', async (t) => {
  t.test('unchanged peers are left out; changed, added and removed ones are touched', async (t) => {
    const first: DeviceChange = {
      privateKey: key(200), listenPort: 51820, fwmark: 0, replacePeers: true,
      peers: [
        peerChange(1, ['10.0.0.1/32'], { endpoint: { address: '192.0.2.1', port: 51820 }, persistentKeepalive: 25 }),
        peerChange(2, ['10.0.0.2/32']),
        peerChange(3, ['10.0.0.3/32'], { presharedKey: key(9) }),
      ],
    };
    const running = deviceWith(1, [first]);
    const next: DeviceChange = {
      ...first,
      peers: [
        first.peers[0]!,
        peerChange(2, ['10.0.0.2/32', '10.0.2.0/24']),
        peerChange(4, ['10.0.0.4/32']),
      ],
    };
    const diff = checkReload(t, [first], running, next, 'basic');
    t.same(diff.peers.map((p) => [p.publicKey[0], p.remove]), [[3, true], [2, false], [4, false]]);
    t.notOk('privateKey' in diff || 'listenPort' in diff || 'fwmark' in diff, 'equal key, port and mark are not set again');
    t.same(diffForReload(running.status(), next).peers, [], 'a second reload of the same config changes nothing');
  });

  t.test('key, port and mark are set when they differ; port 0 keeps the bound port', async (t) => {
    const running = newDevice(2);
    running.applyChange({ privateKey: key(200), listenPort: 51820, fwmark: 7, replacePeers: true, peers: [] });
    const diff = diffForReload(running.status(), { privateKey: key(201), listenPort: 51821, fwmark: 0, replacePeers: true, peers: [] });
    t.same([diff.privateKey?.[0], diff.listenPort, diff.fwmark], [201, 51821, 0]);
    const same = diffForReload(running.status(), { privateKey: key(200), listenPort: 0, fwmark: 7, replacePeers: true, peers: [] });
    t.same(same, { replacePeers: false, peers: [] });
  });

  t.test('an allowed IP moving between peers', async (t) => {
    const first: DeviceChange = { replacePeers: true, peers: [peerChange(1, ['10.0.0.0/24', '10.9.0.0/16']), peerChange(2, ['10.0.1.0/24'])] };
    const running = deviceWith(3, [first]);
    // Both claim 10.9.0.0/16; the later one wins, as with setconf.
    const next: DeviceChange = { replacePeers: true, peers: [peerChange(1, ['10.0.0.0/24', '10.9.0.0/16']), peerChange(2, ['10.0.1.0/24', '10.9.0.0/16'])] };
    const diff = checkReload(t, [first], running, next, 'move');
    t.same(diff.peers.map((p) => [p.publicKey[0], p.allowedIps.map((a) => formatCidr(a.cidr))]), [[1, ['10.0.0.0/24']], [2, ['10.0.1.0/24', '10.9.0.0/16']]]);
  });

  t.test('endpoints: set when configured and different, kept when not configured, and kept after roaming', async (t) => {
    const first: DeviceChange = { replacePeers: true, peers: [peerChange(1, ['10.0.0.1/32'], { endpoint: { address: '192.0.2.1', port: 1 } }), peerChange(2, ['10.0.0.2/32'])] };
    // Peer 1 roams; peer 2 connects from somewhere.
    const history = [first, roam(1, '198.51.100.1', 9), roam(2, '198.51.100.2', 9)];
    const running = deviceWith(4, history);
    t.same(diffForReload(running.status(), first, first).peers, [], 'with the previous config: a roamed peer is left alone');
    const withoutPrevious = diffForReload(running.status(), first);
    t.same(withoutPrevious.peers.map((p) => [p.publicKey[0], p.endpoint]), [[1, { address: '192.0.2.1', port: 1 }]], 'without it, the configured endpoint is set again');
    const moved: DeviceChange = { ...first, peers: [peerChange(1, ['10.0.0.1/32'], { endpoint: { address: '192.0.2.5', port: 1 } }), first.peers[1]!] };
    t.same(diffForReload(running.status(), moved, first).peers.map((p) => [p.publicKey[0], p.endpoint]), [[1, { address: '192.0.2.5', port: 1 }]], 'a new configured endpoint is set');
    checkReload(t, history, running, moved, 'endpoints');
  });

  t.test('random reloads give the same device as a fresh setup', async (t) => {
    const random = seededRandom(2024);
    const byte = (): number => {
      const b = new Uint8Array(1);
      random(b);
      return b[0]!;
    };
    const pick = <T>(list: readonly T[]): T => list[byte() % list.length]!;
    const prefixes = ['10.0.0.0/24', '10.0.0.1/32', '10.0.1.0/24', '0.0.0.0/0', 'fd00::/64', 'fd00::1/128', '192.168.0.0/16', '10.0.0.0/8'];
    const endpoints = [undefined, undefined, { address: '192.0.2.1', port: 51820 }, { address: '2001:db8::1', port: 4500 }, { address: '192.0.2.2', port: 1 }];
    const randomChange = (general: boolean): DeviceChange => {
      const peers: PeerChange[] = [];
      for (let n = 1; n <= 6; n++) {
        if (byte() % 3 === 0) continue;
        if (general && byte() % 5 === 0) {
          peers.push({ publicKey: key(n), remove: true, updateOnly: false, replaceAllowedIps: false, allowedIps: [] });
          if (byte() % 2) continue;
        }
        const endpoint = pick(endpoints);
        const change = peerChange(n, prefixes.filter(() => byte() % 4 === 0), {
          presharedKey: pick([null, null, key(50), key(51)]),
          persistentKeepalive: pick([0, 0, 15, 25]),
          ...(endpoint ? { endpoint } : {}),
        });
        if (general) {
          // What a UAPI `set` may say: partial updates, removals of single prefixes, the same peer twice.
          if (byte() % 3 === 0) delete change.presharedKey;
          if (byte() % 3 === 0) delete change.persistentKeepalive;
          if (byte() % 4 === 0) change.updateOnly = true;
          if (byte() % 2) {
            change.replaceAllowedIps = false;
            change.allowedIps.push(...prefixes.filter(() => byte() % 4 === 0).map((c) => ({ cidr: parseCidr(c)!, remove: true })));
          }
          if (byte() % 4 === 0) peers.push(peerChange(n, prefixes.filter(() => byte() % 5 === 0), { replaceAllowedIps: byte() % 2 === 0 }));
        }
        peers.push(change);
      }
      return {
        privateKey: pick([key(200), key(201)]),
        listenPort: pick([0, 51820, 51821]),
        fwmark: pick([0, 1, 0x1f00]),
        replacePeers: !general || byte() % 3 === 0,
        peers,
      };
    };
    for (let round = 0; round < 200; round++) {
      const history = [randomChange(false)];
      // Sometimes a peer has roamed since.
      for (let n = 1; n <= 6; n++) if (byte() % 4 === 0) history.push(roam(n, '203.0.113.9', byte() + 1));
      const running = deviceWith(round, history);
      checkReload(t, history, running, randomChange(round % 2 === 1), `round ${round}`);
    }
  });
});

t.test('a UCI reload keeps the sessions of unchanged peers up', async (t) => {
  const net = new VirtualNetwork(new VirtualClock(), seededRandom(77));
  const hub = net.addNode('hub', '192.0.2.1', 51820);
  const spokes = [1, 2, 3].map((n) => net.addNode(`spoke${n}`, `192.0.2.${10 + n}`, 51820));
  spokes.forEach((spoke) => {
    spoke.device.applyChange({ replacePeers: false, peers: [{ publicKey: hub.publicKey, remove: false, updateOnly: false, endpoint: hub.endpoint, replaceAllowedIps: true, allowedIps: [{ cidr: parseCidr('10.1.0.0/16')!, remove: false }] }] });
  });
  const peerSection = (n: number, allowed: string[]): string =>
    `config wireguard_wg0\n\toption public_key '${toBase64(spokes[n - 1]!.publicKey)}'\n${allowed.map((a) => `\tlist allowed_ips '${a}'\n`).join('')}\toption endpoint_host '192.0.2.${10 + n}'\n\toption route_allowed_ips '1'\n`;
  const network = (peers: string): string =>
    `config interface 'wg0'\n\toption proto 'wgts'\n\toption private_key '${toBase64(hub.privateKey)}'\n\toption listen_port '51820'\n\tlist addresses '10.1.0.1/16'\n\n${peers}`;

  const first = toDeviceChange(configOf(network(peerSection(1, ['10.1.0.11/32']) + peerSection(2, ['10.1.0.12/32']) + peerSection(3, ['10.1.0.13/32'])), 'wg0').config, new Map());
  t.equal(hub.device.applyChange(first), 0);
  for (const n of [1, 2, 3]) hub.device.sendPacket(ipv4Packet('10.1.0.1', `10.1.0.${10 + n}`), 0, 28);
  net.run(1000);
  t.same(spokes.map((s) => s.delivered.length), [1, 1, 1], 'every spoke has a session');
  const session = (n: number): unknown => hub.device.peerByKey(spokes[n - 1]!.publicKey)?.keypairs.current;
  const spoke1Session = session(1);
  t.ok(spoke1Session);

  // Reload: spoke 2 gets another allowed IP, spoke 3 goes, spoke 1 is as before.
  const next = toDeviceChange(configOf(network(peerSection(1, ['10.1.0.11/32']) + peerSection(2, ['10.1.0.12/32', '10.1.2.0/24'])), 'wg0').config, new Map());
  const diff = diffForReload(hub.device.status(), next, first);
  t.same(diff.peers.map((p) => hex(p.publicKey)), [hex(spokes[2]!.publicKey), hex(spokes[1]!.publicKey)], 'only spoke 3 (removed) and spoke 2 (changed) are mentioned');
  t.equal(hub.device.applyChange(diff), 0);
  t.equal(session(1), spoke1Session, "spoke 1's session is the same object");
  t.equal(hub.device.peerByKey(spokes[2]!.publicKey), null, 'spoke 3 is gone');

  const logged = net.log.length;
  hub.device.sendPacket(ipv4Packet('10.1.0.1', '10.1.0.11'), 0, 28);
  net.run(100);
  t.same(messageTypes(net.log.slice(logged)), [4], 'spoke 1 gets its packet without a new handshake');
  t.equal(spokes[0]!.delivered.length, 2);
});

// ----------------------------------------------------- random round trips --

/** Writes a value the way uci export does ('...' with '\'' for a quote), or in another valid style. */
function quote(value: string, style: number): string {
  switch (style % 4) {
    case 0:
      return `'${value.replace(/'/g, "'\\''")}'`;
    case 1:
      return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
    case 2: {
      // Bare word, escaping everything special.
      return value === '' ? "''" : value.replace(/[\s'"\\#;]/g, (c) => (c === '\n' ? "'\n'" : `\\${c}`));
    }
    default: {
      // Two halves in different quotes, concatenated.
      const half = value.length >> 1;
      return `${quote(value.slice(0, half), 1)}${quote(value.slice(half), 0)}`;
    }
  }
}

t.test('random UCI files parse back to what was written', async (t) => {
  const random = seededRandom(31337);
  const byte = (): number => {
    const b = new Uint8Array(1);
    random(b);
    return b[0]!;
  };
  const alphabet = "abcXYZ019_-./:= \t'\"\\#;\n$`!é€";
  const valueText = (): string => {
    let out = '';
    const length = byte() % 12;
    for (let i = 0; i < length; i++) out += alphabet[byte() % alphabet.length];
    return out;
  };
  const nameText = (): string => {
    const chars = 'abcdefghijklmnopqrstuvwxyz_0123456789';
    let out = chars[byte() % 26]!;
    const length = byte() % 6;
    for (let i = 0; i < length; i++) out += chars[byte() % chars.length];
    return out;
  };
  for (let round = 0; round < 300; round++) {
    const expected: { type: string; name: string | null; options: Map<string, string | string[]> }[] = [];
    let text = byte() % 2 ? '# random file\n' : '';
    const used = new Set<string>();
    const sectionCount = byte() % 5;
    for (let s = 0; s < sectionCount; s++) {
      const type = pick(['interface', 'wireguard_wg0', 'rule', 'x-type.1']);
      let name: string | null = byte() % 2 ? nameText() : null;
      if (name !== null && used.has(name)) name = null;
      if (name !== null) used.add(name);
      text += `\nconfig ${quote(type, byte())}${name === null ? '' : ` ${quote(name, byte())}`}${byte() % 3 === 0 ? ' # note' : ''}\n`;
      const options = new Map<string, string | string[]>();
      const optionCount = byte() % 5;
      for (let o = 0; o < optionCount; o++) {
        const optionName = nameText();
        if (options.has(optionName)) continue;
        if (byte() % 2) {
          const value = valueText();
          if (value === '') continue;
          options.set(optionName, value);
          text += `${pick(['\t', '  ', ''])}option ${optionName} ${quote(value, byte())}\n`;
        } else {
          const items = [valueText(), valueText()].slice(0, 1 + (byte() % 2));
          options.set(optionName, items);
          for (const item of items) text += `\tlist ${optionName} ${quote(item, byte())}${byte() % 3 === 0 ? ' # c' : ''}\n`;
        }
      }
      expected.push({ type, name, options });
    }
    const result = parseUci(text);
    if ('errors' in result) {
      t.fail(`round ${round}: ${JSON.stringify(result.errors)}\n${text}`);
      continue;
    }
    const got = result.sections.map((s) => ({ type: s.type, name: s.anonymous ? null : s.name, options: new Map([...s.options].map(([k, o]) => [k, o.value])) }));
    if (JSON.stringify(got, mapReplacer) !== JSON.stringify(expected, mapReplacer)) t.same(got, expected, `round ${round}\n${text}`);
  }
  t.pass('300 random files');

  function pick<T>(list: readonly T[]): T {
    return list[byte() % list.length]!;
  }
});

function mapReplacer(_key: string, value: unknown): unknown {
  return value instanceof Map ? [...value] : value;
}

t.test('random interface configs survive the trip through a network file', async (t) => {
  const random = seededRandom(4242);
  const bytes = (n: number): Uint8Array => {
    const b = new Uint8Array(n);
    random(b);
    return b;
  };
  const byte = (): number => bytes(1)[0]!;
  const pick = <T>(list: readonly T[]): T => list[byte() % list.length]!;
  const randomCidr = (): Cidr => {
    const v6 = byte() % 2 === 1;
    const text = v6 ? `fd${byte().toString(16)}::${byte().toString(16)}/${byte() % 129}` : `10.${byte()}.${byte()}.${byte()}/${byte() % 33}`;
    return parseCidr(text)!;
  };
  for (let round = 0; round < 100; round++) {
    const peers: WgtsPeerConfig[] = [];
    const peerCount = byte() % 4;
    for (let i = 0; i < peerCount; i++) {
      peers.push({
        publicKey: bytes(32),
        presharedKey: byte() % 2 ? bytes(32) : null,
        allowedIps: Array.from({ length: byte() % 4 }, randomCidr),
        routeAllowedIps: byte() % 2 === 1,
        endpointHost: pick([null, '192.0.2.7', '2001:db8::9', 'peer.example.org']),
        endpointPort: pick([51820, 1, 65535]),
        persistentKeepalive: pick([0, 25, 65535]),
        description: pick([null, "Bob's phone", 'a "quoted" one; #2']),
        section: `@wireguard_wg0[${i}]`,
      });
    }
    const config: WgtsInterfaceConfig = {
      ifname: 'wg0',
      privateKey: bytes(32),
      listenPort: pick([null, 0, 51820]),
      addresses: [{ address: new Uint8Array([10, 0, 0, 1 + (byte() % 200)]), bits: 24 }],
      mtu: pick([null, 1280, 1420]),
      fwmark: pick([null, 0, 0xca6c]),
      ip6prefix: pick([[], [parseCidr('2001:db8:5::/48')!]]),
      nohostroute: byte() % 2 === 1,
      tunlink: pick([null, 'wan']),
      metric: pick([null, 10]),
      peers,
    };
    let text = `config interface 'wg0'\n\toption proto 'wgts'\n\toption private_key ${quote(toBase64(config.privateKey), byte())}\n`;
    if (config.listenPort !== null) text += `\toption listen_port '${config.listenPort}'\n`;
    for (const a of config.addresses) text += `\tlist addresses '${formatIp(a.address)}/${a.bits}'\n`;
    if (config.mtu !== null) text += `\toption mtu ${config.mtu}\n`;
    if (config.fwmark !== null) text += `\toption fwmark '0x${config.fwmark.toString(16)}'\n`;
    for (const p of config.ip6prefix) text += `\tlist ip6prefix '${formatCidr(p)}'\n`;
    text += `\toption nohostroute '${config.nohostroute ? pick(['1', 'yes', 'on']) : pick(['0', 'no', 'off'])}'\n`;
    if (config.tunlink !== null) text += `\toption tunlink '${config.tunlink}'\n`;
    if (config.metric !== null) text += `\toption metric '${config.metric}'\n`;
    for (const p of peers) {
      text += `\nconfig wireguard_wg0\n\toption public_key ${quote(toBase64(p.publicKey), byte())}\n`;
      if (p.presharedKey) text += `\toption preshared_key '${toBase64(p.presharedKey)}'\n`;
      if (byte() % 2) for (const c of p.allowedIps) text += `\tlist allowed_ips '${formatCidr(c)}'\n`;
      else if (p.allowedIps.length > 0) text += `\toption allowed_ips '${p.allowedIps.map(formatCidr).join(' ')}'\n`;
      text += `\toption route_allowed_ips '${p.routeAllowedIps ? 1 : 0}'\n`;
      if (p.endpointHost !== null) text += `\toption endpoint_host '${p.endpointHost}'\n`;
      if (p.endpointPort !== 51820 || byte() % 2) text += `\toption endpoint_port '${p.endpointPort}'\n`;
      if (p.persistentKeepalive !== 0 || byte() % 2) text += `\toption persistent_keepalive '${p.persistentKeepalive}'\n`;
      if (p.description !== null) text += `\toption description ${quote(p.description, byte())}\n`;
      if (byte() % 3 === 0) text += `\toption disabled '0'\n`;
    }
    if (byte() % 2) text += `\nconfig wireguard_wg0\n\toption disabled '1'\n\toption public_key 'x'\n`;
    const result = translateWgtsInterface(sections(text), 'wg0');
    if (!('config' in result)) {
      t.fail(`round ${round}: ${JSON.stringify(result.errors)}\n${text}`);
      continue;
    }
    const view = (c: WgtsInterfaceConfig): unknown => ({
      ...c,
      privateKey: hex(c.privateKey),
      addresses: c.addresses.map((a) => `${formatIp(a.address)}/${a.bits}`),
      ip6prefix: cidrs(c.ip6prefix),
      peers: c.peers.map(peerView),
    });
    const got = JSON.stringify(view(result.config));
    if (got !== JSON.stringify(view(config))) t.same(view(result.config), view(config), `round ${round}\n${text}`);

    // And through the device: a fresh device reports what the config says.
    const device = newDevice(round);
    device.applyChange(toDeviceChange(result.config, new Map([['peer.example.org', '198.51.100.77']])));
    const status = picture(device.status());
    t.equal(status.peers.length, config.peers.length);
  }
  t.pass('100 random configs');
});
