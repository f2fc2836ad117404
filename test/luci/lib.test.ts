// The browser helpers of luci-app-wgts (src/luci, shipped as wgts/lib.js):
// the form's checks agree with what the daemon's UCI reader accepts, key
// generation and the client config, the human figures, and the committed
// lib.js is what build/luci.mjs makes from the sources.
import t from 'tap';
import { gzipSync } from 'node:zlib';
import { x25519 } from '@noble/curves/ed25519.js';
import { parseUci, translateWgtsInterface } from '../../src/control/uci.js';
import { parseWgConf } from '../../src/control/wgconf.js';
import { clientAddresses, clientConfig, clientConfigFileName, formatEndpointHostPort } from '../../src/luci/client-config.js';
import { formatAgo, formatBytes, formatRate } from '../../src/luci/format.js';
import { generateKeyPair, generatePsk, publicKeyOf } from '../../src/luci/keys.js';
import { checkAllowedIp, checkEndpointHost, checkFwmark, checkInterfaceAddress, checkKeepalive, checkKey, checkMtu, checkPort } from '../../src/luci/validate.js';
import type { Verdict } from '../../src/luci/validate.js';
import { prng } from '../helpers/prng.js';
import { b64, fixtureKey } from './fixtures.js';

// @ts-expect-error build/luci.mjs is plain JavaScript without types
import { buildLuciLib } from '../../build/luci.mjs';

const KEY = fixtureKey(7).privateKey;

/** Does `wgts --netifd` accept the option with this value? (Its UCI reader decides.) */
function daemonAccepts(section: 'interface' | 'peer', option: string, value: string): boolean {
  const quote = (v: string): string => `'${v.replace(/'/g, "'\\''")}'`;
  const iface = [`config interface 'wg0'`, `\toption proto 'wgts'`, `\toption private_key '${KEY}'`];
  const peer = [`config wireguard_wg0`, `\toption public_key '${fixtureKey(8).publicKey}'`];
  (section === 'interface' ? iface : peer).push(`\t${option === 'addresses' || option === 'allowed_ips' ? 'list' : 'option'} ${option} ${quote(value)}`);
  const parsed = parseUci(`${iface.join('\n')}\n\n${peer.join('\n')}\n`);
  if (!('sections' in parsed)) return false;
  return 'config' in translateWgtsInterface(parsed.sections, 'wg0');
}

const CASES: Array<{ section: 'interface' | 'peer'; option: string; check: (v: string) => Verdict; values: string[] }> = [
  { section: 'interface', option: 'listen_port', check: (v) => checkPort(v, true), values: ['0', '1', '51820', '65535', '65536', '-1', '1.5', 'abc', '0051820', ' 1'] },
  { section: 'interface', option: 'addresses', check: checkInterfaceAddress, values: ['10.0.0.1/24', '10.0.0.1', '10.0.0.1/32', '10.0.0.1/33', 'fd00::1/64', 'fd00::1/129', '10.0.0.256/24', 'fd00::1/', '/24', '10.0.0.1/2a', '::/0'] },
  { section: 'interface', option: 'mtu', check: checkMtu, values: ['0', '575', '576', '1420', '8940', '8941', 'x'] },
  { section: 'interface', option: 'fwmark', check: checkFwmark, values: ['0', 'off', '0x1', '0xffffffff', '0x100000000', '4294967295', '4294967296', '0x', 'ON', '12a'] },
  { section: 'peer', option: 'allowed_ips', check: checkAllowedIp, values: ['10.0.0.2/32', '10.0.0.0/8', '0.0.0.0/0', '::/0', 'fd00::/129', '10.0.0.1/24', '1.2.3', '10.0.0.0/-1', 'host'] },
  { section: 'peer', option: 'endpoint_port', check: (v) => checkPort(v, false), values: ['1', '51820', '65535', '0', '65536', 'x'] },
  { section: 'peer', option: 'endpoint_host', check: checkEndpointHost, values: ['192.0.2.1', 'vpn.example.org', 'vpn.example.org.', '2001:db8::1', '[2001:db8::1]', '[192.0.2.1]', 'bad host', 'a..b', '-ok-', `${'a'.repeat(64)}.org`] },
  { section: 'peer', option: 'persistent_keepalive', check: checkKeepalive, values: ['0', 'off', '25', '65535', '65536', '-1', '2.5'] },
  { section: 'peer', option: 'preshared_key', check: checkKey, values: [KEY, KEY.slice(0, 43), `${KEY.slice(0, 43)}A`, `${KEY.slice(0, 42)}==`, KEY.replace(/.$/, '')] },
];

t.test('the form accepts exactly what the daemon accepts', (t) => {
  for (const c of CASES) {
    for (const value of c.values) {
      const verdict = c.check(value);
      t.equal(verdict === true, daemonAccepts(c.section, c.option, value), `${c.option} '${value}': ${verdict === true ? 'accepted' : verdict}`);
    }
  }
  // Random printable strings, for the checks whose rules are least obvious.
  const next = prng(5);
  const alphabet = '0123456789abcdefx.:/[]-_ ';
  for (let i = 0; i < 300; i++) {
    const value = Array.from({ length: 1 + Math.floor(next() * 14) }, () => alphabet[Math.floor(next() * alphabet.length)]).join('').trim();
    if (value === '') continue;
    for (const c of CASES.filter((x) => ['addresses', 'allowed_ips', 'endpoint_host', 'fwmark'].includes(x.option))) {
      if ((c.check(value) === true) !== daemonAccepts(c.section, c.option, value)) t.fail(`${c.option} '${value}': form and daemon disagree`);
    }
  }
  t.end();
});

t.test('messages are clear and never show a key', (t) => {
  t.match(checkPort('70000', true), /"70000" is not a port number \(0\.\.65535\)/);
  t.match(checkAllowedIp('10.0.0.0/40'), /CIDR notation/);
  const bad = `${KEY.slice(0, 43)}A`;
  const message = String(checkKey(bad));
  t.notMatch(message, bad.slice(0, 20), 'a bad key is not echoed');
  t.match(message, /44 characters of base64/);
  t.end();
});

t.test('key generation', (t) => {
  const next = prng(9);
  const random = (out: Uint8Array): void => { for (let i = 0; i < out.length; i++) out[i] = Math.floor(next() * 256); };
  const pair = generateKeyPair(random);
  const raw = Buffer.from(pair.privateKey, 'base64');
  t.equal(pair.publicKey, b64(x25519.getPublicKey(raw)), 'public key = X25519 base point multiplication (@noble/curves)');
  t.equal(raw[0]! & 7, 0, 'clamped low bits');
  t.equal(raw[31]! & 0xc0, 0x40, 'clamped high bits');
  t.equal(publicKeyOf(pair.privateKey), pair.publicKey, 'publicKeyOf agrees');
  t.equal(publicKeyOf('nope'), null, 'publicKeyOf of a non-key is null');
  t.not(generateKeyPair(random).privateKey, pair.privateKey, 'the random source is used');
  t.equal(Buffer.from(generatePsk(random), 'base64').length, 32, 'PSK: 32 bytes');
  t.end();
});

t.test('client configuration', (t) => {
  const client = fixtureKey(10);
  const text = clientConfig({
    clientPrivateKey: client.privateKey, addresses: clientAddresses(['10.9.0.3/32', '192.168.5.0/24', 'fd00:9::3/128', 'fd00:9::3']),
    dns: [], serverPublicKey: fixtureKey(11).publicKey, presharedKey: null, allowedIps: ['10.9.0.0/24'],
    endpointHost: '2001:db8::1', endpointPort: 51820, persistentKeepalive: 0,
  });
  t.equal(text, `[Interface]\nPrivateKey = ${client.privateKey}\nAddress = 10.9.0.3/32, fd00:9::3/128, fd00:9::3\n\n[Peer]\nPublicKey = ${fixtureKey(11).publicKey}\nAllowedIPs = 10.9.0.0/24\nEndpoint = [2001:db8::1]:51820\n`, 'wg-quick format; routed networks are not client addresses; IPv6 endpoint in brackets');
  const parsed = parseWgConf(text, { allowQuickFields: true });
  t.ok('config' in parsed, 'wgconf.ts parses it');
  t.equal(formatEndpointHostPort('[2001:db8::1]', 1), '[2001:db8::1]:1', 'brackets are not doubled');
  t.equal(formatEndpointHostPort('vpn.example.org', 51820), 'vpn.example.org:51820');
  t.equal(clientConfigFileName('Anna\'s phone', 'wg0-peer'), 'Anna-s-phone.conf', 'file name from the description');
  t.equal(clientConfigFileName('', 'wg0-peer'), 'wg0-peer.conf', 'fallback');
  t.end();
});

t.test('human figures', (t) => {
  t.equal(formatBytes(0), '0 B');
  t.equal(formatBytes(1023), '1023 B');
  t.equal(formatBytes(1024), '1.0 KiB');
  t.equal(formatBytes(123_456), '120.6 KiB');
  t.equal(formatBytes(7_890_123), '7.5 MiB');
  t.equal(formatBytes(5 * 2 ** 40), '5.0 TiB');
  t.equal(formatBytes(-1), '-');
  const now = 1_800_000_000;
  t.equal(formatAgo(0, now), 'never');
  t.equal(formatAgo(now - 12, now), '12 s ago');
  t.equal(formatAgo(now - 180, now), '3 min ago');
  t.equal(formatAgo(now - 7500, now), '2 h 5 min ago');
  t.equal(formatAgo(now - 7200, now), '2 h ago');
  t.equal(formatAgo(now - 3 * 86400, now), '3 d ago');
  t.equal(formatAgo(now + 5, now), '0 s ago', 'a browser clock slightly behind the router');
  t.equal(formatRate(2048), '2.0 KiB/s');
  t.end();
});

t.test('wgts/lib.js: a small LuCI class module', async (t) => {
  const lib = (await buildLuciLib()) as string;
  t.match(lib, /^'use strict';\n'require baseclass';\n/, 'LuCI reads its dependencies from the leading strings');
  t.match(lib, /return baseclass\.extend\(wgtsLib\);\n$/, 'and it returns a class');
  t.equal(await buildLuciLib(), lib, 'the build repeats byte for byte');
  // The factory LuCI would compile, run here with a minimal baseclass.
  const factory = new Function('window', 'document', 'L', 'baseclass', lib) as (w: unknown, d: unknown, l: unknown, b: unknown) => new () => Record<string, unknown>;
  const Base = { extend: (props: Record<string, unknown>) => function Lib(this: Record<string, unknown>) { Object.assign(this, props); } };
  const Lib = factory({}, {}, {}, Base);
  const instance = new Lib();
  for (const name of ['generateKeyPair', 'generatePsk', 'publicKeyOf', 'checkKey', 'checkAllowedIp', 'checkPort', 'clientConfig', 'qrSvg', 'formatBytes', 'formatAgo']) {
    t.type(instance[name], 'function', `exports ${name}`);
  }
  t.match((instance.qrSvg as (s: string) => string)('hello'), /^<svg [^>]*viewBox="0 0 \d+ \d+"/, 'qrSvg gives an SVG');
  const bytes = Buffer.byteLength(lib);
  const gz = gzipSync(lib, { level: 9 }).length;
  t.comment(`wgts/lib.js: ${bytes} bytes, ${gz} gzipped`);
  t.ok(bytes < 64 * 1024, 'under 64 KiB');
  t.end();
});
