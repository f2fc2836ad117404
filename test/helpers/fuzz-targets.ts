// The fuzz targets for the parsers and codecs that take outside input: each
// has a corpus of valid inputs, a mutator, and a check that throws when a
// property fails. Shared by the test/fuzz-*.test.ts short runs, the long
// runs of test-reliability/run.mjs and the replay of
// the files in test/fixtures/fuzz-regressions/<target>/.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  decodeBlobmsg, decodeBlobmsgArray, decodeBlobmsgTable, encodeBlobmsg, encodeBlobmsgTable, readBlobAttrs,
  typed, type BlobmsgTable, type BlobmsgValue,
} from '../../src/control/blobmsg.js';
import type { DeviceChange, DeviceStatus, PeerChange } from '../../src/control/config.js';
import { parseResolvConf, parseResponse, TYPE_A, TYPE_AAAA } from '../../src/control/dns.js';
import { formatUapiGet, parseUapiSet, UapiSession } from '../../src/control/uapi.js';
import { UbusConnection } from '../../src/control/ubus.js';
import { encodeUbusMessage, parseUbusMessage, UBUS_HEADER_LENGTH, UBUS_MAX_MSGLEN, ubusFrameLength, UbusMsg } from '../../src/control/ubusmsg.js';
import {
  diffForReload, hostDependencies, hostsToResolve, netifdUpdate, parseUci, toDeviceChange, translateWgtsInterface,
  type UciSection,
} from '../../src/control/uci.js';
import { formatWgConf, parseWgConf, wgConfigToChange } from '../../src/control/wgconf.js';
import { toHex } from '../../src/crypto/encoding.js';
import {
  formatCidr, formatEndpoint, formatIp, ipTotalLength, ipVersion, parseCidr, parseEndpoint, parseIp, type Cidr,
} from '../../src/routing/ip.js';
import { buildResponse, ipv4, ipv6 } from './dns-wire.js';
import { VirtualClock } from './virtual.js';
import { bytesEqual, must, mutateBytesN, mutateTextN, REGRESSIONS_DIR, Rng, stableText } from './fuzz.js';

/** A parser target: inputs are text or bytes, so failures can be stored as files. */
export interface ParserTarget<I extends string | Uint8Array> {
  name: string;
  kind: I extends string ? 'text' : 'bytes';
  corpus: () => I[];
  mutate: (rng: Rng, input: I, corpus: readonly I[]) => I;
  /** Throws (or rejects) on a broken property; false when the input was not judged. */
  check: (input: I) => boolean | void | Promise<boolean | void>;
  /** Runs in `npm test`. */
  runs: number;
}

// ---------------------------------------------------------- generators --

function randomIp(rng: Rng, family: 4 | 6 = rng.chance(0.5) ? 4 : 6): Uint8Array {
  const b = rng.bytes(family === 4 ? 4 : 16);
  if (family === 6 && rng.chance(0.5)) b.fill(0, rng.int(16), rng.int(17)); // runs of zero groups
  if (family === 6 && rng.chance(0.1)) { b.fill(0, 0, 10); b[10] = 0xff; b[11] = 0xff; } // IPv4-mapped
  return b;
}

function randomCidr(rng: Rng): Cidr {
  const address = randomIp(rng);
  return parseCidr(`${formatIp(address)}/${rng.int(address.length * 8 + 1)}`)!;
}

function randomEndpoint(rng: Rng): { address: string; port: number } {
  return { address: formatIp(randomIp(rng)), port: rng.between(1, 65535) };
}

export function randomStatus(rng: Rng): DeviceStatus {
  const peers = [];
  const n = rng.int(5);
  for (let i = 0; i < n; i++) {
    const allowedIps: Cidr[] = [];
    for (let j = rng.int(4); j > 0; j--) allowedIps.push(randomCidr(rng));
    peers.push({
      publicKey: rng.bytes(32),
      presharedKey: rng.chance(0.5) ? rng.bytes(32) : null,
      endpoint: rng.chance(0.7) ? randomEndpoint(rng) : null,
      lastHandshakeWallMs: rng.chance(0.5) ? 0 : 1_700_000_000_000 + rng.int(1e9),
      rxBytes: rng.int(1e9), txBytes: rng.int(1e9),
      persistentKeepalive: rng.chance(0.5) ? 0 : rng.between(1, 65535),
      allowedIps,
    });
  }
  return {
    privateKey: rng.chance(0.8) ? rng.bytes(32) : null,
    listenPort: rng.chance(0.2) ? 0 : rng.between(1, 65535),
    fwmark: rng.chance(0.5) ? 0 : rng.int(0x100000000),
    peers,
  };
}

// ------------------------------------------------------------ canonical --

/** A comparable text of a DeviceChange (bytes as hex, prefixes as text). */
export function changeText(c: DeviceChange): string {
  return stableText(JSON.parse(JSON.stringify(c, (_k, v: unknown) => {
    if (v instanceof Uint8Array) return toHex(v);
    if (v && typeof v === 'object' && 'bits' in v && 'address' in v) return formatCidr(v as Cidr);
    return v;
  })));
}

/** The set request lines that mean exactly this change (what `wg set` would send). */
export function uapiSetText(c: DeviceChange): string {
  const lines: string[] = [];
  if (c.privateKey !== undefined) lines.push(`private_key=${c.privateKey === null ? '0'.repeat(64) : toHex(c.privateKey)}`);
  if (c.listenPort !== undefined) lines.push(`listen_port=${c.listenPort}`);
  if (c.fwmark !== undefined) lines.push(`fwmark=${c.fwmark}`);
  if (c.replacePeers) lines.push('replace_peers=true');
  for (const p of c.peers) {
    lines.push(`public_key=${toHex(p.publicKey)}`);
    if (p.remove) { lines.push('remove=true'); continue; }
    if (p.updateOnly) lines.push('update_only=true');
    if (p.replaceAllowedIps) lines.push('replace_allowed_ips=true');
    if (p.presharedKey !== undefined) lines.push(`preshared_key=${p.presharedKey === null ? '0'.repeat(64) : toHex(p.presharedKey)}`);
    if (p.endpoint !== undefined) lines.push(`endpoint=${formatEndpoint(p.endpoint)}`);
    if (p.persistentKeepalive !== undefined) lines.push(`persistent_keepalive_interval=${p.persistentKeepalive}`);
    for (const a of p.allowedIps) lines.push(`allowed_ip=${a.remove ? '-' : ''}${formatCidr(a.cidr)}`);
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/** The status a device would show after applying `change` to an empty device (no merging needed: setconf replaces). */
function statusOfSetconf(c: DeviceChange): DeviceStatus {
  return {
    privateKey: c.privateKey ?? null,
    listenPort: c.listenPort ?? 0,
    fwmark: c.fwmark ?? 0,
    peers: c.peers.map((p: PeerChange) => ({
      publicKey: p.publicKey, presharedKey: p.presharedKey ?? null, endpoint: p.endpoint ?? null,
      lastHandshakeWallMs: 0, rxBytes: 0, txBytes: 0, persistentKeepalive: p.persistentKeepalive ?? 0,
      allowedIps: p.allowedIps.map((a) => a.cidr),
    })),
  };
}

/** No run of `min` or more hex digits: messages must not echo keys. */
function echoesNoHexKey(message: string, min = 41): boolean {
  return !new RegExp(`[0-9a-fA-F]{${min},}`).test(message);
}

const PRINTABLE = /^[\x20-\x7e]*$/;

// ------------------------------------------------------------------- IP --

const ipCorpus = (): string[] => {
  const rng = new Rng(0x1f);
  const out = ['0.0.0.0', '255.255.255.255', '::', '::1', '::ffff:1.2.3.4', '1:2:3:4:5:6:7:8', 'fe80::1', '2001:db8::1:0:0:1',
    '10.0.0.0/8', 'fd00::/64', '1.2.3.4:51820', '[::1]:51820', '[2001:db8::1]:65535', '1::2:3:4:5:6:7', '::2:3:4:5:6:7:8'];
  for (let i = 0; i < 40; i++) {
    const c = randomCidr(rng);
    out.push(formatIp(c.address), formatCidr(c), formatEndpoint(randomEndpoint(rng)));
  }
  return out;
};

function checkIpText(text: string): void {
  const ip = parseIp(text);
  if (ip !== null) {
    must(ip.length === 4 || ip.length === 16, 'parseIp: 4 or 16 bytes');
    const canonical = formatIp(ip);
    must(bytesEqual(parseIp(canonical)!, ip), `parseIp(formatIp(x)) != x for ${canonical}`);
    must(formatIp(parseIp(canonical)!) === canonical, 'formatIp not canonical');
  }
  const cidr = parseCidr(text);
  if (cidr !== null) {
    must(Number.isInteger(cidr.bits) && cidr.bits >= 0 && cidr.bits <= cidr.address.length * 8, 'parseCidr: bits in range');
    const canonical = formatCidr(cidr);
    const again = parseCidr(canonical)!;
    must(again && again.bits === cidr.bits && bytesEqual(again.address, cidr.address), 'parseCidr(formatCidr(x)) != x');
    must(formatCidr(again) === canonical, 'formatCidr not canonical');
  }
  const endpoint = parseEndpoint(text);
  if (endpoint !== null) {
    must(endpoint.port >= 1 && endpoint.port <= 65535, 'parseEndpoint: port 1..65535');
    const canonical = formatEndpoint(endpoint);
    const again = parseEndpoint(canonical);
    must(again && again.address === endpoint.address && again.port === endpoint.port, 'parseEndpoint(formatEndpoint(x)) != x');
  }
}

export const ipTarget: ParserTarget<string> = {
  name: 'ip-text', kind: 'text', runs: 20000, corpus: ipCorpus,
  mutate: (rng, s, corpus) => mutateTextN(rng, s, corpus, ['::', ':', '.', '/', '[', ']', 'ffff', '0', '00', '000', '1234', '12345', '%']),
  check: checkIpText,
};

/** IP headers at arbitrary (offset, length): the helpers used on every received packet. */
export const ipHeaderTarget: ParserTarget<Uint8Array> = {
  name: 'ip-header', kind: 'bytes', runs: 20000,
  corpus: () => {
    const v4 = new Uint8Array(28); v4[0] = 0x45; v4[3] = 28;
    const v6 = new Uint8Array(48); v6[0] = 0x60; v6[5] = 8;
    return [v4, v6];
  },
  mutate: (rng, b, corpus) => mutateBytesN(rng, b, corpus, 6, 128),
  check: (b) => {
    // The first two bytes choose the window, so a stored failure replays exactly.
    const off = b.length ? b[0]! % (b.length + 2) : 0;
    const len = b.length > 1 ? b[1]! % (b.length + 2) : b.length;
    for (const [o, l] of [[0, b.length], [off, len], [off, b.length - off], [-1, 1], [0, b.length + 1], [0.5, 1]] as const) {
      const v = ipVersion(b, o, l);
      const total = ipTotalLength(b, o, l);
      const inside = Number.isInteger(o) && o >= 0 && l >= 0 && o + l <= b.length;
      must(v === 0 || v === 4 || v === 6, 'ipVersion: 0, 4 or 6');
      must(inside || (v === 0 && total === 0), 'a window outside the buffer is invalid');
      must(total === 0 || (total <= l && total >= (v === 4 ? 20 : 40)), `ipTotalLength ${total} outside [header, ${l}]`);
    }
  },
};

// ----------------------------------------------------------------- UAPI --

function uapiCorpus(): string[] {
  const rng = new Rng(0x0a91);
  const out: string[] = [];
  for (let i = 0; i < 30; i++) {
    const status = randomStatus(rng);
    const change: DeviceChange = {
      privateKey: status.privateKey, listenPort: status.listenPort, fwmark: status.fwmark, replacePeers: rng.chance(0.5),
      peers: status.peers.map((p) => ({
        publicKey: p.publicKey, remove: rng.chance(0.1), updateOnly: rng.chance(0.2), replaceAllowedIps: rng.chance(0.5),
        presharedKey: p.presharedKey, ...(p.endpoint ? { endpoint: p.endpoint } : {}), persistentKeepalive: p.persistentKeepalive,
        allowedIps: p.allowedIps.map((cidr) => ({ cidr, remove: rng.chance(0.2) })),
      })),
    };
    for (const p of change.peers) if (p.remove) { p.updateOnly = false; p.replaceAllowedIps = false; p.allowedIps = []; delete p.presharedKey; delete p.endpoint; delete p.persistentKeepalive; }
    out.push(uapiSetText(change));
    out.push(formatUapiGet(status)); // a get response fed back as a set body: mostly unknown keys
  }
  return out;
}

const UAPI_TOKENS = ['private_key', 'listen_port', 'fwmark', 'replace_peers', 'public_key', 'update_only', 'remove', 'preshared_key',
  'endpoint', 'persistent_keepalive_interval', 'replace_allowed_ips', 'allowed_ip', 'protocol_version', 'true', 'false', 'set=1', 'get=1', '-'];

function checkUapiSet(text: string): void {
  const r = parseUapiSet(text);
  if ('errno' in r) {
    must(Number.isInteger(r.errno) && r.errno < 0, 'errno negative');
    must(PRINTABLE.test(r.message), 'message printable');
    must(echoesNoHexKey(r.message), 'message echoes no key');
    return;
  }
  // Canonical: the lines that mean this change parse back to the same change.
  const again = parseUapiSet(uapiSetText(r.change));
  must(!('errno' in again), `canonical form refused: ${'errno' in again ? again.message : ''}`);
  must(changeText(again.change) === changeText(r.change), 'parse(serialize(change)) != change');
}

export const uapiSetTarget: ParserTarget<string> = {
  name: 'uapi-set', kind: 'text', runs: 6000, corpus: uapiCorpus,
  mutate: (rng, s, corpus) => mutateTextN(rng, s, corpus, UAPI_TOKENS),
  check: checkUapiSet,
};

/**
 * A whole UAPI connection: the input is a byte stream of requests. Fed whole
 * and again in small chunks, it must give the same responses and apply the
 * same changes; each response is well formed; only changes parseUapiSet
 * accepted are applied; the buffered request stays under the limit.
 */
function checkUapiSession(text: string): void {
  const run = (chunks: string[]) => {
    const applied: string[] = [];
    const logs: string[] = [];
    const target = {
      status: (): DeviceStatus => ({ privateKey: null, listenPort: 51820, fwmark: 0, peers: [] }),
      applyChange: (c: DeviceChange) => { applied.push(changeText(c)); return 0; },
    };
    const session = new UapiSession(target, (m) => logs.push(m), { maxSetChars: 2048 });
    const responses: string[] = [];
    for (const chunk of chunks) responses.push(...session.feed(chunk));
    return { responses, applied, logs, closed: session.closed };
  };
  const whole = run([text]);
  const pieces: string[] = [];
  // Chunk sizes derived from the text, so a stored failure replays exactly.
  for (let at = 0, k = text.length; at < text.length; k = (k * 31 + 7) >>> 0) {
    const n = 1 + (k % 7);
    pieces.push(text.slice(at, at + n));
    at += n;
  }
  const split = run(pieces);
  must(JSON.stringify(whole.responses) === JSON.stringify(split.responses), 'responses depend on how the stream was split');
  must(JSON.stringify(whole.applied) === JSON.stringify(split.applied), 'applied changes depend on how the stream was split');
  must(whole.closed === split.closed, 'closing depends on chunking');
  for (const r of whole.responses) {
    must(r.endsWith('\n\n') && /(^|\n)errno=-?[0-9]+\n\n$/.test(r), `malformed response ${JSON.stringify(r.slice(0, 60))}`);
  }
  for (const m of whole.logs) must(echoesNoHexKey(m), 'log line echoes a key');
}

export const uapiSessionTarget: ParserTarget<string> = {
  name: 'uapi-session', kind: 'text', runs: 3000,
  corpus: () => uapiCorpus().filter((_, i) => i % 2 === 0).map((body, i) => (i % 3 === 0 ? `get=1\n\nset=1\n${body}\nget=1\n\n` : `set=1\n${body}\n`)),
  mutate: (rng, s, corpus) => mutateTextN(rng, s, corpus, [...UAPI_TOKENS, '\n\n', 'set=1\n', 'get=1\n\n']),
  check: checkUapiSession,
};

// -------------------------------------------------------------- wg conf --

function wgconfCorpus(): string[] {
  const rng = new Rng(0x3c0f);
  const out = [
    '[Interface]\nPrivateKey = YC72NM5rmAWtgT4dmZCJ7Kk10f+bQHTzRVNMIzhDZX4=\nListenPort = 51820 # comment\nFwMark = off\n\n[Peer]\nPublicKey = iMwvSlhAvmQ/VuIluHbjBDkCBSzHCvMHWdP7o0KNyEc=\nEndpoint = vpn.example.org:51820\nAllowedIPs = 0.0.0.0/0, ::/0\n',
    '[Interface]\nAddress = 10.0.0.1/24\nDNS = 1.1.1.1\nMTU = 1420\nPostUp = iptables -A FORWARD -i %i -j ACCEPT # kept\nSaveConfig = true\nPrivateKey = YC72NM5rmAWtgT4dmZCJ7Kk10f+bQHTzRVNMIzhDZX4=\n',
  ];
  for (let i = 0; i < 30; i++) out.push(formatWgConf(randomStatus(rng)));
  return out;
}

const WGCONF_TOKENS = ['[Interface]', '[Peer]', 'PrivateKey', 'ListenPort', 'FwMark', 'PublicKey', 'PresharedKey', 'AllowedIPs',
  'Endpoint', 'PersistentKeepalive', 'Address', 'DNS', 'MTU', 'Table', 'PostUp', 'SaveConfig', ' = ', ', ', 'off', '0x'];

/**
 * Whether the message holds 40 or more characters in a row of any of the
 * keys: a key typed or pasted into the wrong place must not be echoed.
 * (Shorter fragments only come from the fuzzer splicing keys apart.)
 */
function namesAKey(message: string, keys: readonly string[]): boolean {
  for (const key of keys) {
    // Only the base64 parts: a mangled value may hold other text, which messages may quote.
    for (const run of key.match(/[A-Za-z0-9+/]{40,}/g) ?? []) {
      for (let i = 0; i + 40 <= run.length; i++) if (message.includes(run.slice(i, i + 40))) return true;
    }
  }
  return false;
}

function checkWgConf(text: string): void {
  const lineCount = text.split('\n').length;
  const keys = text.match(/[A-Za-z0-9+/]{42,43}=/g) ?? [];
  for (const allowQuickFields of [false, true]) {
    const r = parseWgConf(text, { allowQuickFields });
    if ('errors' in r) {
      must(r.errors.length > 0, 'an error result names at least one error');
      for (const e of r.errors) {
        must(Number.isInteger(e.line) && e.line >= 1 && e.line <= lineCount, `error line ${e.line} outside 1..${lineCount}`);
        must(PRINTABLE.test(e.message), 'message printable');
        must(!namesAKey(e.message, keys), 'message echoes (part of) a base64 key');
      }
      continue;
    }
    const c = wgConfigToChange(r.config);
    if ('errors' in c) continue; // host names still to resolve, or repeated peers
    // Canonical: what `wg showconf` prints for the resulting device reads back as the same change.
    const shown = formatWgConf(statusOfSetconf(c.change));
    const again = parseWgConf(shown);
    must('config' in again, `showconf output refused: ${JSON.stringify('errors' in again ? again.errors : '')}`);
    const c2 = wgConfigToChange(again.config);
    must('change' in c2, 'showconf output does not convert');
    // showconf drops an all-zero PSK, which setconf reads as "none" too.
    must(changeText(c2.change) === changeText(c.change), 'showconf(setconf(x)) reads back differently');
  }
}

export const wgconfTarget: ParserTarget<string> = {
  name: 'wgconf', kind: 'text', runs: 4000, corpus: wgconfCorpus,
  mutate: (rng, s, corpus) => mutateTextN(rng, s, corpus, WGCONF_TOKENS),
  check: checkWgConf,
};

// ------------------------------------------------------------------ UCI --

const UCI_FIXTURES = resolve(REGRESSIONS_DIR, '../uci');

function uciCorpus(): string[] {
  const out: string[] = [];
  for (const f of readdirSync(UCI_FIXTURES).sort()) out.push(readFileSync(join(UCI_FIXTURES, f), 'utf8'));
  return out;
}

/** uci export style: every value single-quoted, a quote as '\''. */
function uciText(sections: readonly UciSection[]): string {
  const q = (v: string) => `'${v.replace(/'/g, "'\\''")}'`;
  let out = '';
  for (const s of sections) {
    out += `\nconfig ${q(s.type)}${s.anonymous ? '' : ` ${q(s.name)}`}\n`;
    for (const [name, o] of s.options) {
      if (Array.isArray(o.value)) for (const v of o.value) out += `\tlist ${name} ${q(v)}\n`;
      else out += `\toption ${name} ${q(o.value)}\n`;
    }
  }
  return out;
}

function sectionsText(sections: readonly UciSection[]): string {
  return JSON.stringify(sections.map((s) => [s.type, s.name, s.anonymous, s.index, [...s.options].map(([k, o]) => [k, o.value])]));
}

function secretValues(sections: readonly UciSection[]): string[] {
  const out: string[] = [];
  for (const s of sections) {
    for (const name of ['private_key', 'preshared_key']) {
      const v = s.options.get(name)?.value;
      for (const x of Array.isArray(v) ? v : v === undefined ? [] : [v]) if (x.length >= 20) out.push(x);
    }
  }
  return out;
}

function checkUci(text: string): void {
  const lineCount = text.split('\n').length;
  const r = parseUci(text);
  if ('errors' in r) {
    must(r.errors.length > 0, 'an error result names at least one error');
    for (const e of r.errors) must(Number.isInteger(e.line) && e.line >= 1 && e.line <= lineCount + 1, `error line ${e.line} outside the file`);
    return;
  }
  // Round trip through uci export style.
  const again = parseUci(uciText(r.sections));
  must('sections' in again, `export style refused: ${JSON.stringify('errors' in again ? again.errors : '')}`);
  must(sectionsText(again.sections) === sectionsText(r.sections), 'parse(export(sections)) != sections');
  // Translation of every interface: never throws, never names a secret in a message.
  const secrets = secretValues(r.sections);
  const status: DeviceStatus = { privateKey: null, listenPort: 0, fwmark: 0, peers: [] };
  for (const s of r.sections) {
    if (s.type !== 'interface' || s.anonymous) continue;
    const tr = translateWgtsInterface(r.sections, s.name);
    const messages = [...tr.warnings, ...('errors' in tr ? tr.errors : [])];
    for (const m of messages) {
      must(!namesAKey(m.message, secrets), 'a message names (part of) a key');
      must(Number.isInteger(m.line) && m.line >= 0 && m.line <= lineCount, `message line ${m.line} outside the file`);
    }
    if (!('config' in tr)) continue;
    const resolved = new Map(hostsToResolve(tr.config).map((h, i) => [h, i % 2 ? '192.0.2.1' : '2001:db8::1']));
    const change = toDeviceChange(tr.config, resolved);
    diffForReload(status, change);
    netifdUpdate(tr.config);
    hostDependencies(tr.config, resolved);
  }
}

export const uciTarget: ParserTarget<string> = {
  name: 'uci', kind: 'text', runs: 3000, corpus: uciCorpus,
  mutate: (rng, s, corpus) => mutateTextN(rng, s, corpus, ['config', 'option', 'list', 'package', 'wgts', 'wireguard_wg0', 'interface',
    'proto', 'private_key', 'public_key', 'allowed_ips', 'endpoint_host', 'endpoint_port', 'listen_port', 'addresses', 'mtu', 'disabled',
    "'", '"', "'\\''", '\\', ' ', '\t']),
  check: checkUci,
};

// -------------------------------------------------------------- blobmsg --

function randomBlobValue(rng: Rng, depth: number): BlobmsgValue {
  const text = () => {
    let s = '';
    for (let i = rng.int(12); i > 0; i--) s += rng.pick(['a', 'Z', '0', ' ', '.', '\u00e9', '\u20ac', '\u{1f600}', '_', '"']);
    return s;
  };
  switch (rng.int(depth > 3 ? 8 : 10)) {
    case 0: return typed('string', text());
    case 1: return typed('int32', rng.int(0x100000000) | 0);
    case 2: return typed('int16', (rng.int(0x10000) << 16) >> 16);
    case 3: return typed('int8', rng.int(256));
    case 4: return typed('int64', rng.chance(0.5) ? rng.int(2 ** 31) * (rng.chance(0.5) ? -1 : 1) : BigInt.asIntN(64, BigInt(rng.int(2 ** 32)) << 32n | BigInt(rng.int(2 ** 32))));
    case 5: return typed('double', rng.chance(0.1) ? 0 : (rng.int(1e9) - 5e8) / 7);
    case 6: return typed('unspec', rng.chance(0.5) ? null : rng.bytes(1 + rng.int(9)));
    case 7: return typed('bool', rng.int(2));
    case 8: { const a: BlobmsgValue[] = []; for (let i = rng.int(4); i > 0; i--) a.push(randomBlobValue(rng, depth + 1)); return a; }
    default: {
      const t: BlobmsgTable = {};
      for (let i = rng.int(4); i > 0; i--) Object.defineProperty(t, rng.pick(['a', 'b', 'name', 'data', '__proto__', '', 'x'.repeat(rng.int(40))]) + i, { value: randomBlobValue(rng, depth + 1), enumerable: true, writable: true, configurable: true });
      return t;
    }
  }
}

function blobmsgCorpus(): Uint8Array[] {
  const rng = new Rng(0xb10b);
  const out: Uint8Array[] = [];
  for (let i = 0; i < 40; i++) {
    const table: BlobmsgTable = {};
    for (let j = rng.int(5); j > 0; j--) table[`k${j}`] = randomBlobValue(rng, 0);
    out.push(encodeBlobmsgTable(table));
  }
  return out;
}

function checkBlobmsg(b: Uint8Array): void {
  const off = b.length ? b[b.length - 1]! & 3 : 0;
  for (const [o, l] of [[0, b.length], [off, b.length - off], [0, -1], [b.length, 0]] as const) {
    decodeBlobmsgTable(b, o, l);
    decodeBlobmsgArray(b, o, l);
    decodeBlobmsg(b, o, l);
    readBlobAttrs(b, o, o + l);
  }
  const decoded = decodeBlobmsgTable(b, 0, b.length, { typed: true });
  if (decoded === null) return;
  // Typed decoding keeps every wire type: encoding it again is canonical.
  const encoded = encodeBlobmsgTable(decoded);
  const back = decodeBlobmsgTable(encoded, 0, encoded.length, { typed: true });
  must(back !== null, 'the re-encoded table does not decode');
  must(bytesEqual(encodeBlobmsgTable(back), encoded), 'encode(decode(encode(decode(b)))) != encode(decode(b))');
  const untyped = decodeBlobmsgTable(b);
  must(untyped !== null, 'typed decoding succeeded but untyped did not');
  for (const name of Object.keys(decoded)) {
    const one = encodeBlobmsg(name, decoded[name]!);
    const single = decodeBlobmsg(one, 0, one.length, { typed: true });
    must(single !== null && single.name === name, 'one attribute does not round-trip');
  }
}

export const blobmsgTarget: ParserTarget<Uint8Array> = {
  name: 'blobmsg', kind: 'bytes', runs: 8000, corpus: blobmsgCorpus,
  mutate: (rng, b, corpus) => mutateBytesN(rng, b, corpus, 6, 2048),
  check: checkBlobmsg,
};

// ---------------------------------------------------------------- ubus --

function ubusCorpus(): Uint8Array[] {
  const rng = new Rng(0x0b05);
  const data = blobmsgCorpus();
  const out: Uint8Array[] = [];
  for (let i = 0; i < 30; i++) {
    out.push(encodeUbusMessage(rng.int(16), rng.int(0x10000), rng.int(0x100000000), {
      ...(rng.chance(0.5) ? { status: rng.int(12) } : {}),
      ...(rng.chance(0.5) ? { objpath: rng.pick(['wgts.wg0', 'network.interface.wan', '']) } : {}),
      ...(rng.chance(0.5) ? { objid: rng.int(0x100000000) } : {}),
      ...(rng.chance(0.5) ? { method: rng.pick(['status', 'notify_proto', 'up']) } : {}),
      ...(rng.chance(0.3) ? { objtype: rng.int(0x100000000) } : {}),
      ...(rng.chance(0.3) ? { signature: rng.pick(data) } : {}),
      ...(rng.chance(0.6) ? { data: rng.pick(data) } : {}),
      ...(rng.chance(0.3) ? { target: rng.int(0x100000000) } : {}),
      ...(rng.chance(0.2) ? { active: rng.chance(0.5) } : {}),
      ...(rng.chance(0.2) ? { noReply: rng.chance(0.5) } : {}),
      ...(rng.chance(0.2) ? { subscribers: [rng.int(0x100000000), rng.int(10)] } : {}),
      ...(rng.chance(0.2) ? { user: 'root', group: 'root' } : {}),
    }));
  }
  out.push(encodeUbusMessage(UbusMsg.HELLO, 0, 0x1234));
  return out;
}

function ubusText(m: ReturnType<typeof parseUbusMessage>): string {
  return stableText(m);
}

function checkUbus(b: Uint8Array): void {
  for (let avail = 0; avail <= Math.min(b.length, 16); avail++) {
    const n = ubusFrameLength(b, 0, avail);
    must(n === -1 || n === 0 || n >= 12, `ubusFrameLength ${n}`);
  }
  parseUbusMessage(b, 1, b.length - 1);
  parseUbusMessage(b, 0, b.length + 1);
  const m = parseUbusMessage(b, 0, b.length);
  if (m === null) return;
  const encoded = encodeUbusMessage(m.type, m.seq, m.peer, m.attrs);
  const back = parseUbusMessage(encoded, 0, encoded.length);
  must(back !== null, 'the re-encoded message does not parse');
  must(ubusText(back) === ubusText(m), 'parse(encode(m)) != m');
  must(bytesEqual(encodeUbusMessage(back.type, back.seq, back.peer, back.attrs), encoded), 'encoding not canonical');
  must(ubusFrameLength(encoded, 0, encoded.length) === encoded.length, 'frame length of an encoded message');
}

export const ubusTarget: ParserTarget<Uint8Array> = {
  name: 'ubusmsg', kind: 'bytes', runs: 8000, corpus: ubusCorpus,
  mutate: (rng, b, corpus) => mutateBytesN(rng, b, corpus, 6, 4096),
  check: checkUbus,
};

/**
 * A ubus client connection fed a stream from "ubusd": HELLO, replies to its
 * own requests, invocations of its hosted object, subscriber notices, all
 * mutated and cut into chunks. feed() must never throw, a broken stream
 * stays broken, the receive buffer stays bounded, and everything the client
 * writes back is a well-formed ubus message (checked as it happens, also for
 * replies written later by async code: see ubusStreamProblems).
 */
const ubusStreamProblemList: string[] = [];

/** Problems seen in writes since the last call (some happen after the check returned). */
export function ubusStreamProblems(): string[] {
  return ubusStreamProblemList.splice(0);
}

/** How deep the stream target reached (so a broken corpus cannot pass vacuously). */
export const ubusStreamReach = { invocations: 0 };

const CLIENT_ID = 0x2a;
const OBJECT_ID = 0x51a3;

function ubusStreamCorpus(): Uint8Array[] {
  const hello = encodeUbusMessage(UbusMsg.HELLO, 0, CLIENT_ID);
  // The client's first request (seq 1) is the ADD_OBJECT of the object added first.
  const added = [
    encodeUbusMessage(UbusMsg.DATA, 1, 0, { objid: OBJECT_ID, objtype: 0x77 }),
    encodeUbusMessage(UbusMsg.STATUS, 1, 0, { status: 0 }),
  ];
  const invoke = (seq: number, method: string, data: BlobmsgTable) =>
    encodeUbusMessage(UbusMsg.INVOKE, seq, 0x99, { objid: OBJECT_ID, method, data: encodeBlobmsgTable(data), user: 'root', group: 'root' });
  const streams = [
    [hello, ...added, invoke(7, 'status', {}), invoke(8, 'set', { name: 'wg0', n: typed('int32', 5) })],
    [hello, ...added, invoke(9, 'nope', {}), encodeUbusMessage(UbusMsg.NOTIFY, 0, 0, { objid: OBJECT_ID, active: true })],
    [hello, ...added, encodeUbusMessage(UbusMsg.PING, 3, 0), encodeUbusMessage(UbusMsg.STATUS, 2, 0, { status: 4 }), hello],
    [hello, encodeUbusMessage(UbusMsg.DATA, 2, 0, { objpath: 'network.interface.wan', objid: 9, objtype: 3, signature: encodeBlobmsgTable({ status: {} }) }),
      encodeUbusMessage(UbusMsg.STATUS, 2, 0, { status: 0 }), invoke(10, 'set', { name: 'x', n: typed('int32', -1), extra: [1, 2] })],
  ];
  return streams.map((parts) => {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) { out.set(p, at); at += p.length; }
    return out;
  });
}

/** Lets promise callbacks (request completions, object registration) run, as the event loop would between reads. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

async function checkUbusStream(b: Uint8Array): Promise<void> {
  const clock = new VirtualClock();
  const conn = new UbusConnection({
    clock,
    write: (bytes) => {
      const m = parseUbusMessage(bytes, 0, bytes.length);
      if (m === null || ubusFrameLength(bytes, 0, bytes.length) !== bytes.length) {
        ubusStreamProblemList.push(`wrote a malformed message after input ${toHex(b.subarray(0, 48))}...`);
      }
    },
  });
  conn.addObject('wgts.wg0', { status: {}, set: { name: 'string', n: 'int32' } }, (req) => {
    ubusStreamReach.invocations++;
    return { data: { method: req.method, keys: Object.keys(req.data).length } };
  });
  conn.listen('network.interface.*', () => {});
  conn.invoke('network.interface.wan', 'status').catch(() => {});
  let healthy = true;
  for (let at = 0, k = b.length; at < b.length; k = (k * 13 + 5) >>> 0) {
    const n = 1 + (k % 97);
    const fine = conn.feed(b, at, Math.min(n, b.length - at));
    must(healthy || !fine, 'a broken stream became healthy again without a reconnect');
    healthy = fine;
    const buffered = (conn as unknown as { rxLength: number }).rxLength;
    must(buffered <= UBUS_HEADER_LENGTH + UBUS_MAX_MSGLEN, `receive buffer holds ${buffered} bytes`);
    at += n;
    await settle();
  }
  clock.advance(60_000); // every request times out
  conn.connectionLost();
  conn.close();
  await settle();
}

export const ubusStreamTarget: ParserTarget<Uint8Array> = {
  name: 'ubus-stream', kind: 'bytes', runs: 3000, corpus: ubusStreamCorpus,
  mutate: (rng, b, corpus) => mutateBytesN(rng, b, corpus, 6, 8192),
  check: checkUbusStream,
};

// ----------------------------------------------------------------- DNS --

const DNS_NAME = 'vpn.example.org';
const DNS_ID = 0x4a4a;

function dnsCorpus(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const compress of [false, true]) {
    out.push(buildResponse({ id: DNS_ID, compress, question: { name: DNS_NAME, type: TYPE_A }, answers: [
      { name: DNS_NAME, type: 5, data: { name: 'edge.example.net' } },
      { name: 'edge.example.net', type: TYPE_A, ttl: 60, data: ipv4('192.0.2.7') },
      { name: 'edge.example.net', type: TYPE_A, ttl: 90, data: ipv4('192.0.2.8') },
    ] }));
    out.push(buildResponse({ id: DNS_ID, compress, question: { name: DNS_NAME, type: TYPE_AAAA }, answers: [
      { name: DNS_NAME, type: TYPE_AAAA, data: ipv6('2001:db8::7') },
    ], additional: [{ name: 'ns.example.org', type: TYPE_A, data: ipv4('198.51.100.1') }] }));
    out.push(buildResponse({ id: DNS_ID, compress, question: { name: DNS_NAME, type: TYPE_AAAA }, authority: [
      { name: 'example.org', type: 6, ttl: 600, data: { soa: { mname: 'ns.example.org', rname: 'hostmaster.example.org', minimum: 120 } } },
    ] }));
    out.push(buildResponse({ id: DNS_ID, compress, rcode: 3, question: { name: DNS_NAME, type: TYPE_A } }));
  }
  return out;
}

function checkDns(b: Uint8Array): void {
  const id = b.length >= 2 ? (b[0]! << 8) | b[1]! : DNS_ID;
  for (const type of [TYPE_A, TYPE_AAAA] as const) {
    for (const name of [DNS_NAME, 'VPN.Example.ORG', 'edge.example.net']) {
      const r = parseResponse(b, id, name, type);
      if ('error' in r) {
        must(['nxdomain', 'servfail', 'truncated', 'malformed', 'mismatch', 'refused'].includes(r.error), `unknown error ${r.error}`);
        continue;
      }
      must(Number.isInteger(r.ttl) && r.ttl >= 0 && r.ttl <= 0x7fffffff, `ttl ${r.ttl}`);
      must(r.addresses.length <= b.length / 4, 'more addresses than the message can hold');
      for (const a of r.addresses) must(a.length === (type === TYPE_A ? 4 : 16), 'address of the wrong family');
    }
  }
}

export const dnsTarget: ParserTarget<Uint8Array> = {
  name: 'dns-response', kind: 'bytes', runs: 10000, corpus: dnsCorpus,
  mutate: (rng, b, corpus) => mutateBytesN(rng, b, corpus, 6, 1024),
  check: checkDns,
};

export const resolvConfTarget: ParserTarget<string> = {
  name: 'resolv-conf', kind: 'text', runs: 4000,
  corpus: () => ['nameserver 192.168.1.1\nnameserver ::1\noptions ndots:2 timeout:3 attempts:2\n', '# x\n; y\nsearch lan\nnameserver fe80::1%eth0\n'],
  mutate: (rng, s, corpus) => mutateTextN(rng, s, corpus, ['nameserver', 'options', 'ndots:', 'timeout:', 'attempts:', '999999']),
  check: (s) => {
    const c = parseResolvConf(s);
    must(c.servers.length >= 1 && c.servers.length <= 3, `${c.servers.length} servers`);
    for (const a of c.servers) must(parseIp(a) !== null && formatIp(parseIp(a)!) === a, 'server not canonical numeric');
    must(c.timeoutMs === undefined || (c.timeoutMs >= 1000 && c.timeoutMs <= 30000), 'timeout in range');
    must(c.attempts === undefined || (c.attempts >= 1 && c.attempts <= 5), 'attempts in range');
  },
};

export const PARSER_TARGETS: ParserTarget<string | Uint8Array>[] = [
  ipTarget, ipHeaderTarget, uapiSetTarget, uapiSessionTarget, wgconfTarget, uciTarget, blobmsgTarget, ubusTarget, ubusStreamTarget, dnsTarget,
  resolvConfTarget,
] as ParserTarget<string | Uint8Array>[];

/** Regression inputs stored for a target (file name, input). */
export function regressionInputs(target: ParserTarget<string | Uint8Array>): [string, string | Uint8Array][] {
  const dir = join(REGRESSIONS_DIR, target.name);
  let files: string[];
  try { files = readdirSync(dir).sort(); } catch { return []; }
  return files.filter((f) => !f.startsWith('.') && !f.endsWith('.md')).map((f) => {
    const raw = readFileSync(join(dir, f));
    return [f, target.kind === 'text' ? raw.toString('utf8') : new Uint8Array(raw)];
  });
}

