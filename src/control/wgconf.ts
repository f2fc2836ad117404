// The configuration file format of `wg setconf` / `wg showconf`
// ([Interface] and [Peer] sections, base64 keys), and optionally the
// wg-quick additions to [Interface].
//
// Like wg, a line loses everything from '#' on and all of its whitespace
// before it is read, and key names are case-insensitive. wg-quick fields keep
// their inner whitespace, and the hooks (PreUp...) keep '#' too, as wg-quick does.

import { keyFromBase64, toBase64 } from '../crypto/encoding.js';
import type { Cidr } from '../routing/ip.js';
import { formatCidr, formatEndpoint, formatIp, parseCidr, parseIp } from '../routing/ip.js';
import type { DeviceChange, DeviceStatus, PeerChange } from './config.js';

export interface WgConfigPeer {
  publicKey: Uint8Array;
  presharedKey: Uint8Array | null;
  allowedIps: Cidr[];
  /** `host` is a canonical numeric IP (no brackets) or a host name still to resolve. */
  endpoint: { host: string; port: number } | null;
  persistentKeepalive: number | null;
  /** 1-based line of the peer's [Peer] header. */
  line: number;
}

export interface WgConfig {
  privateKey: Uint8Array | null;
  listenPort: number | null;
  fwmark: number | null;
  peers: WgConfigPeer[];
  /** wg-quick fields by canonical name, raw values in file order (only with allowQuickFields). */
  quick?: Record<string, string[]>;
}

export interface WgConfError {
  line: number;
  message: string;
}

/** wg-quick's own [Interface] fields, by lowercase name. */
const QUICK_FIELDS = new Map(
  ['Address', 'DNS', 'MTU', 'Table', 'PreUp', 'PostUp', 'PreDown', 'PostDown', 'SaveConfig'].map((name) => [name.toLowerCase(), name]),
);
/** Hook commands: wg-quick keeps their '#' (it is shell syntax there). */
const QUICK_HOOKS = new Set(['preup', 'postup', 'predown', 'postdown']);

const WHITESPACE = /[ \t\r\v\f]/g;

/** 'unknown': after a bad section header, whose keys are skipped rather than misread. */
type Section = 'none' | 'interface' | 'peer' | 'unknown';

interface PeerDraft {
  publicKey: Uint8Array | null;
  /** A PublicKey line was present, even if its value was bad (and reported). */
  publicKeyLine: boolean;
  presharedKey: Uint8Array | null;
  allowedIps: Cidr[];
  endpoint: { host: string; port: number } | null;
  persistentKeepalive: number | null;
  line: number;
}

/** Parses a config file; reports every error with its line, never a secret value. */
export function parseWgConf(
  text: string,
  opts: { allowQuickFields?: boolean } = {},
): { config: WgConfig } | { errors: WgConfError[] } {
  const errors: WgConfError[] = [];
  const config: WgConfig = { privateKey: null, listenPort: null, fwmark: null, peers: [] };
  const drafts: PeerDraft[] = [];
  let section: Section = 'none';
  let peer: PeerDraft | null = null;
  const lines = text.split('\n');

  for (let index = 0; index < lines.length; index++) {
    const lineNumber = index + 1;
    const raw = lines[index]!;
    const hash = raw.indexOf('#');
    const uncommented = hash < 0 ? raw : raw.slice(0, hash);
    const cleaned = uncommented.replace(WHITESPACE, '');
    if (cleaned === '') continue;
    const fail = (message: string): void => {
      errors.push({ line: lineNumber, message });
    };

    if (cleaned.startsWith('[')) {
      const name = cleaned.toLowerCase();
      if (name === '[interface]') {
        section = 'interface';
        peer = null;
      } else if (name === '[peer]') {
        section = 'peer';
        peer = {
          publicKey: null,
          publicKeyLine: false,
          presharedKey: null,
          allowedIps: [],
          endpoint: null,
          persistentKeepalive: null,
          line: lineNumber,
        };
        drafts.push(peer);
      } else {
        section = 'unknown';
        peer = null;
        fail(`unknown section ${printableName(cleaned)}; expected [Interface] or [Peer]`);
      }
      continue;
    }

    const eq = cleaned.indexOf('=');
    if (eq < 0) {
      fail('expected "Key = Value"');
      continue;
    }
    const keyName = cleaned.slice(0, eq);
    const key = keyName.toLowerCase();
    const value = cleaned.slice(eq + 1);

    const quickName = QUICK_FIELDS.get(key);
    if (quickName !== undefined && section === 'interface') {
      if (!opts.allowQuickFields) {
        fail(`${quickName} is a wg-quick field, not part of a wg config file (strip it, e.g. with "wg-quick strip")`);
        continue;
      }
      const rawEq = raw.indexOf('=');
      const rawValue = QUICK_HOOKS.has(key) ? raw.slice(rawEq + 1) : uncommented.slice(uncommented.indexOf('=') + 1);
      const quick = (config.quick ??= {});
      (quick[quickName] ??= []).push(rawValue.trim());
      continue;
    }

    if (section === 'unknown') continue;
    if (section === 'none') {
      fail(`${printableName(keyName)} outside of an [Interface] or [Peer] section`);
      continue;
    }
    if (value === '') {
      fail(`${printableName(keyName)} has no value`);
      continue;
    }

    if (section === 'interface') {
      switch (key) {
        case 'privatekey': {
          const privateKey = keyFromBase64(value);
          if (privateKey === null) fail('PrivateKey is not a 44-character base64 key');
          else config.privateKey = privateKey;
          break;
        }
        case 'listenport': {
          const port = parseDecimal(value, 0xffff);
          if (port < 0) fail('ListenPort is not a number 0-65535');
          else config.listenPort = port;
          break;
        }
        case 'fwmark': {
          const mark = parseFwmark(value);
          if (mark < 0) fail('FwMark is neither off nor a number 0-0xffffffff');
          else config.fwmark = mark;
          break;
        }
        default:
          fail(`unknown key ${printableName(keyName)} in [Interface]`);
      }
      continue;
    }

    const current = peer!;
    switch (key) {
      case 'publickey': {
        current.publicKeyLine = true;
        const publicKey = keyFromBase64(value);
        if (publicKey === null) fail('PublicKey is not a 44-character base64 key');
        else current.publicKey = publicKey;
        break;
      }
      case 'presharedkey': {
        const presharedKey = keyFromBase64(value);
        if (presharedKey === null) fail('PresharedKey is not a 44-character base64 key');
        else current.presharedKey = isZero(presharedKey) ? null : presharedKey;
        break;
      }
      case 'allowedips':
        for (const entry of value.split(',')) {
          if (entry.startsWith('+') || entry.startsWith('-')) {
            fail(`AllowedIPs entry ${printableName(entry)}: incremental +/- entries are not supported in config files`);
            continue;
          }
          const cidr = parseCidr(entry);
          if (cidr === null) fail(`AllowedIPs entry ${printableName(entry)} is not an IP address or prefix`);
          else current.allowedIps.push(cidr);
        }
        break;
      case 'endpoint': {
        const endpoint = parseHostPort(value);
        if (endpoint === null) fail('Endpoint is not host:port or [IPv6]:port with a port 1-65535');
        else current.endpoint = endpoint;
        break;
      }
      case 'persistentkeepalive': {
        const seconds = value.toLowerCase() === 'off' ? 0 : parseDecimal(value, 0xffff);
        if (seconds < 0) fail('PersistentKeepalive is neither off nor a number 0-65535');
        else current.persistentKeepalive = seconds;
        break;
      }
      default:
        fail(`unknown key ${printableName(keyName)} in [Peer]`);
    }
  }

  for (const draft of drafts) {
    if (draft.publicKey === null) {
      if (!draft.publicKeyLine) errors.push({ line: draft.line, message: 'this [Peer] has no PublicKey' });
      continue;
    }
    config.peers.push({
      publicKey: draft.publicKey,
      presharedKey: draft.presharedKey,
      allowedIps: draft.allowedIps,
      endpoint: draft.endpoint,
      persistentKeepalive: draft.persistentKeepalive,
      line: draft.line,
    });
  }
  if (errors.length > 0) return { errors: errors.sort((a, b) => a.line - b.line) };
  return { config };
}

/**
 * The change `wg setconf` makes: every peer is replaced, and an absent
 * PrivateKey, ListenPort or FwMark resets it. Endpoint host names must have
 * been resolved already (the pure core does no DNS).
 */
export function wgConfigToChange(config: WgConfig): { change: DeviceChange } | { errors: WgConfError[] } {
  const errors: WgConfError[] = [];
  const peers: PeerChange[] = [];
  const seen = new Map<string, number>();
  for (const peer of config.peers) {
    const id = toBase64(peer.publicKey);
    const first = seen.get(id);
    if (first !== undefined) errors.push({ line: peer.line, message: `PublicKey repeats the peer at line ${first}` });
    else seen.set(id, peer.line);

    const change: PeerChange = {
      publicKey: peer.publicKey,
      remove: false,
      updateOnly: false,
      presharedKey: peer.presharedKey,
      persistentKeepalive: peer.persistentKeepalive ?? 0,
      replaceAllowedIps: true,
      allowedIps: peer.allowedIps.map((cidr) => ({ cidr, remove: false })),
    };
    if (peer.endpoint !== null) {
      const address = parseIp(peer.endpoint.host);
      if (address === null) {
        errors.push({
          line: peer.line,
          message: `Endpoint host ${printable(peer.endpoint.host)} is not a numeric IP; resolve host names before applying the config`,
        });
      } else {
        change.endpoint = { address: formatIp(address), port: peer.endpoint.port };
      }
    }
    peers.push(change);
  }
  if (errors.length > 0) return { errors };
  return {
    change: {
      privateKey: config.privateKey,
      listenPort: config.listenPort ?? 0,
      fwmark: config.fwmark ?? 0,
      replacePeers: true,
      peers,
    },
  };
}

/** What `wg showconf` prints for this status. */
export function formatWgConf(status: DeviceStatus): string {
  let out = '[Interface]\n';
  if (status.listenPort !== 0) out += `ListenPort = ${status.listenPort}\n`;
  if (status.fwmark !== 0) out += `FwMark = 0x${status.fwmark.toString(16)}\n`;
  if (status.privateKey !== null) out += `PrivateKey = ${toBase64(status.privateKey)}\n`;
  out += '\n';
  const blocks = status.peers.map((peer) => {
    let block = `[Peer]\nPublicKey = ${toBase64(peer.publicKey)}\n`;
    if (peer.presharedKey !== null && !isZero(peer.presharedKey)) block += `PresharedKey = ${toBase64(peer.presharedKey)}\n`;
    if (peer.allowedIps.length > 0) block += `AllowedIPs = ${peer.allowedIps.map(formatCidr).join(', ')}\n`;
    if (peer.endpoint !== null) block += `Endpoint = ${formatEndpoint(peer.endpoint)}\n`;
    if (peer.persistentKeepalive !== 0) block += `PersistentKeepalive = ${peer.persistentKeepalive}\n`;
    return block;
  });
  return out + blocks.join('\n');
}

/** host:port, [host]:port; an unbracketed IPv6 address works too, as with wg (the last ':' splits). */
function parseHostPort(text: string): { host: string; port: number } | null {
  let host: string;
  let portText: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0 || text[close + 1] !== ':') return null;
    host = text.slice(1, close);
    portText = text.slice(close + 2);
  } else {
    const colon = text.lastIndexOf(':');
    if (colon < 0) return null;
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
  }
  const port = parseDecimal(portText, 0xffff);
  if (port < 1 || host === '') return null;
  const address = parseIp(host);
  if (address !== null) return { host: formatIp(address), port };
  return isHostName(host) ? { host, port } : null;
}

/** Letters, digits, '-', '_' and dots, up to 253 characters, no empty labels. */
function isHostName(text: string): boolean {
  if (text.length > 253) return false;
  return text.split('.').every((label) => label.length > 0 && label.length <= 63 && /^[A-Za-z0-9_-]+$/.test(label));
}

/** Decimal digits only (leading zeros allowed, as strtoul), at most `max`; -1 if invalid. */
function parseDecimal(text: string, max: number): number {
  return /^[0-9]{1,20}$/.test(text) && Number(text) <= max ? Number(text) : -1;
}

/** `off`, decimal, or 0x hex (lowercase x, as wg), at most 0xffffffff; -1 if invalid. */
function parseFwmark(text: string): number {
  if (text.toLowerCase() === 'off') return 0;
  if (text.length > 2 && text.startsWith('0x')) {
    const hex = text.slice(2);
    return /^[0-9A-Fa-f]{1,16}$/.test(hex) && parseInt(hex, 16) <= 0xffffffff ? parseInt(hex, 16) : -1;
  }
  return parseDecimal(text, 0xffffffff);
}

function isZero(key: Uint8Array): boolean {
  let acc = 0;
  for (let i = 0; i < key.length; i++) acc |= key[i]!;
  return acc === 0;
}

/**
 * A key name, section header or prefix for a message. Whitespace is gone by then, so
 * a typo such as "PrivateKey <key>" (no '=') arrives as one word holding the
 * key: long base64 runs are hidden (the longest key name has 19 characters).
 */
function printableName(text: string): string {
  return printable(text.replace(/[A-Za-z0-9+/]{20,}=*/g, '<hidden>'));
}

/** For messages: at most 60 printable ASCII characters. */
function printable(text: string): string {
  const clipped = text.length > 60 ? `${text.slice(0, 60)}...` : text;
  return clipped.replace(/[^\x20-\x7e]/g, '?');
}
