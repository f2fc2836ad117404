// The cross-platform userspace API (UAPI) that `wg` speaks over
// /var/run/wireguard/IFNAME.sock: line-based `key=value` text, a request and
// a response each ending with a blank line. Pure: the socket server feeds
// text into a UapiSession and writes back what it returns.

import { fromHex, toHex } from '../crypto/encoding.js';
import { formatCidr, formatEndpoint, parseCidr, parseEndpoint } from '../routing/ip.js';
import type { ConfigTarget, DeviceChange, DeviceStatus, PeerChange } from './config.js';

/** Positive errno values; set responses carry them negated, as wireguard-go does. */
export const EIO = 5;
export const EINVAL = 22;
export const ENOANO = 55;
export const EPROTO = 71;
export const EADDRINUSE = 98;

/**
 * Largest set body accepted, in characters (= bytes, the protocol is ASCII).
 * A `wg setconf` line set for 10,000 peers with a PSK, an IPv6 endpoint, a
 * keepalive and five IPv6 prefixes each is about 5.5 MB; 8 MiB leaves room.
 */
export const MAX_SET_REQUEST_CHARS = 8 * 1024 * 1024;

export type UapiSetResult = { change: DeviceChange } | { errno: number; message: string };

const DEVICE_KEYS = new Set(['private_key', 'listen_port', 'fwmark', 'replace_peers']);
const PEER_KEYS = new Set([
  'update_only',
  'remove',
  'preshared_key',
  'endpoint',
  'persistent_keepalive_interval',
  'replace_allowed_ips',
  'allowed_ip',
  'protocol_version',
]);

/**
 * Parses the body of a set request: the lines after `set=1\n`, up to but not
 * including the terminating blank line.
 *
 * Unlike wireguard-go, which applies each line as it reads it (so a bad line
 * leaves the lines before it applied), the whole request is validated first:
 * a request with any error changes nothing.
 *
 * Messages name the line and key but never echo values, which may be keys.
 */
export function parseUapiSet(lines: string): UapiSetResult {
  const change: DeviceChange = { replacePeers: false, peers: [] };
  const body = lines.endsWith('\n') ? lines.slice(0, -1) : lines;
  if (body === '') return { change };
  const split = body.split('\n');
  let peer: PeerChange | null = null;

  for (let i = 0; i < split.length; i++) {
    const line = split[i]!;
    const where = `set line ${i + 1}`;
    const eq = line.indexOf('=');
    if (eq < 0) return { errno: -EPROTO, message: `${where}: no '=' in line` };
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1);
    const invalid = (why: string): UapiSetResult => ({ errno: -EINVAL, message: `${where}: ${printable(key)}: ${why}` });

    if (key === 'public_key') {
      const publicKey = fromHex(value, 32);
      if (publicKey === null) return invalid('not 64 hex characters');
      peer = { publicKey, remove: false, updateOnly: false, replaceAllowedIps: false, allowedIps: [] };
      change.peers.push(peer);
      continue;
    }

    if (peer === null) {
      switch (key) {
        case 'private_key': {
          const privateKey = fromHex(value, 32);
          if (privateKey === null) return invalid('not 64 hex characters');
          change.privateKey = isZero(privateKey) ? null : privateKey;
          break;
        }
        case 'listen_port': {
          const port = parseUnsigned(value, 0xffff);
          if (port < 0) return invalid('not a decimal number 0-65535');
          change.listenPort = port;
          break;
        }
        case 'fwmark': {
          const mark = parseUnsigned(value, 0xffffffff);
          if (mark < 0) return invalid('not a decimal number 0-4294967295');
          change.fwmark = mark;
          break;
        }
        case 'replace_peers':
          if (value !== 'true') return invalid("the only valid value is 'true'");
          change.replacePeers = true;
          break;
        default:
          return invalid(PEER_KEYS.has(key) ? 'peer key before any public_key' : 'unknown key');
      }
      continue;
    }

    if (DEVICE_KEYS.has(key)) return invalid('device key after the first public_key');
    // After remove=true the rest of this peer's lines are checked but have no effect.
    const ignored = peer.remove;
    switch (key) {
      case 'update_only':
        if (value !== 'true') return invalid("the only valid value is 'true'");
        if (!ignored) peer.updateOnly = true;
        break;
      case 'remove':
        if (value !== 'true') return invalid("the only valid value is 'true'");
        // wireguard-go briefly applies lines before `remove` (an allowed_ip
        // there is taken from its owner); here they are simply dropped.
        peer.remove = true;
        peer.updateOnly = false;
        peer.replaceAllowedIps = false;
        peer.allowedIps = [];
        delete peer.presharedKey;
        delete peer.endpoint;
        delete peer.persistentKeepalive;
        break;
      case 'preshared_key': {
        const presharedKey = fromHex(value, 32);
        if (presharedKey === null) return invalid('not 64 hex characters');
        if (!ignored) peer.presharedKey = isZero(presharedKey) ? null : presharedKey;
        break;
      }
      case 'endpoint': {
        const endpoint = parseEndpoint(value);
        if (endpoint === null) return invalid('not a numeric IPv4:port or [IPv6]:port');
        if (!ignored) peer.endpoint = endpoint;
        break;
      }
      case 'persistent_keepalive_interval': {
        const seconds = parseUnsigned(value, 0xffff);
        if (seconds < 0) return invalid('not a decimal number 0-65535');
        if (!ignored) peer.persistentKeepalive = seconds;
        break;
      }
      case 'replace_allowed_ips':
        if (value !== 'true') return invalid("the only valid value is 'true'");
        if (!ignored) replaceAllowedIpsHere(peer);
        break;
      case 'allowed_ip': {
        const remove = value.startsWith('-');
        const text = remove ? value.slice(1) : value;
        // Like wireguard-go (netip.ParsePrefix) the prefix length is required.
        const cidr = text.indexOf('/') < 0 ? null : parseCidr(text);
        if (cidr === null) return invalid('not an IP prefix like 10.0.0.0/8 or fd00::/64');
        if (!ignored) peer.allowedIps.push({ cidr, remove });
        break;
      }
      case 'protocol_version':
        if (value !== '1') return invalid('only protocol version 1 exists');
        break;
      default:
        return invalid('unknown key');
    }
  }
  return { change };
}

/**
 * replace_allowed_ips acts where it stands: the peer's allowed IPs are
 * cleared first, and the prefixes this block named earlier must end up gone
 * too. An earlier add still took its prefix from whichever peer held it (as in
 * wireguard-go), so it becomes "add then remove"; earlier removes are moot.
 */
function replaceAllowedIpsHere(peer: PeerChange): void {
  const earlier = peer.allowedIps;
  peer.replaceAllowedIps = true;
  peer.allowedIps = [];
  for (const entry of earlier) {
    if (entry.remove) continue;
    peer.allowedIps.push({ cidr: entry.cidr, remove: false }, { cidr: entry.cidr, remove: true });
  }
}

/** The body of a get response, `errno=0` and the blank line included. */
export function formatUapiGet(status: DeviceStatus): string {
  const out: string[] = [];
  if (status.privateKey !== null) out.push(`private_key=${toHex(status.privateKey)}`);
  if (status.listenPort !== 0) out.push(`listen_port=${status.listenPort}`);
  if (status.fwmark !== 0) out.push(`fwmark=${status.fwmark}`);
  for (const peer of status.peers) {
    out.push(`public_key=${toHex(peer.publicKey)}`);
    out.push(`preshared_key=${peer.presharedKey === null ? ZERO_KEY_HEX : toHex(peer.presharedKey)}`);
    out.push('protocol_version=1');
    if (peer.endpoint !== null) out.push(`endpoint=${formatEndpoint(peer.endpoint)}`);
    const ms = wholeNumber(peer.lastHandshakeWallMs);
    const seconds = Math.floor(ms / 1000);
    out.push(`last_handshake_time_sec=${seconds}`);
    out.push(`last_handshake_time_nsec=${(ms - seconds * 1000) * 1_000_000}`);
    out.push(`tx_bytes=${wholeNumber(peer.txBytes)}`);
    out.push(`rx_bytes=${wholeNumber(peer.rxBytes)}`);
    out.push(`persistent_keepalive_interval=${peer.persistentKeepalive}`);
    for (const cidr of peer.allowedIps) out.push(`allowed_ip=${formatCidr(cidr)}`);
  }
  out.push('errno=0', '', '');
  return out.join('\n');
}

const ZERO_KEY_HEX = '0'.repeat(64);

type SessionState = 'operation' | 'get' | 'set';

/**
 * One UAPI connection, without the socket. Like wireguard-go it serves any
 * number of requests per connection; an unknown operation line closes it.
 */
/** What a set request changed, for the log (no keys: peers by count). */
function describeChange(change: DeviceChange): string {
  const parts: string[] = [];
  if (change.privateKey !== undefined) parts.push(change.privateKey ? 'private key' : 'private key cleared');
  if (change.listenPort !== undefined) parts.push(`listen port ${change.listenPort}`);
  if (change.fwmark !== undefined) parts.push(`fwmark ${change.fwmark}`);
  if (change.replacePeers) parts.push('peers replaced');
  const removed = change.peers.filter((p) => p.remove).length;
  const updated = change.peers.length - removed;
  if (updated > 0) parts.push(`${updated} peer${updated === 1 ? '' : 's'} added or updated`);
  if (removed > 0) parts.push(`${removed} peer${removed === 1 ? '' : 's'} removed`);
  return parts.length > 0 ? parts.join(', ') : 'no changes';
}

export class UapiSession {
  private state: SessionState = 'operation';
  /** The partial operation line. */
  private pending = '';
  /** The set body collected so far, in chunks (joined once, when complete). */
  private setChunks: string[] = [];
  private setLength = 0;
  /** Last character seen of the set request; a '\n' right after one ends it. */
  private setLastChar = '';
  private isClosed = false;
  private readonly maxSetChars: number;

  constructor(
    private readonly target: ConfigTarget,
    private readonly log: (msg: string) => void = () => {},
    options: { maxSetChars?: number; strerror?: (errno: number) => string } = {},
  ) {
    this.maxSetChars = options.maxSetChars ?? MAX_SET_REQUEST_CHARS;
    this.strerror = options.strerror ?? ((errno) => `errno ${errno}`);
  }

  private readonly strerror: (errno: number) => string;

  /** True once the server should close the connection; later input is ignored. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Takes received text; returns the complete responses to write back, in order. */
  feed(data: string): string[] {
    const responses: string[] = [];
    let rest = data;
    while (rest.length > 0 && !this.isClosed) {
      if (this.state === 'operation') rest = this.readOperation(rest);
      else if (this.state === 'get') rest = this.readGet(rest, responses);
      else rest = this.readSet(rest, responses);
    }
    return responses;
  }

  private readOperation(data: string): string {
    const text = this.pending + data;
    const newline = text.indexOf('\n');
    if (newline < 0) {
      // "set=1\n" and "get=1\n" are 6 characters; anything longer is unknown.
      if (text.length >= 6) this.close('invalid UAPI operation line');
      else this.pending = text;
      return '';
    }
    this.pending = '';
    const operation = text.slice(0, newline);
    if (operation === 'get=1') this.state = 'get';
    else if (operation === 'set=1') this.startSet();
    else this.close('invalid UAPI operation line');
    return text.slice(newline + 1);
  }

  private readGet(data: string, responses: string[]): string {
    this.state = 'operation';
    if (data[0] !== '\n') {
      // As wireguard-go: the one offending character is consumed, -EINVAL answered.
      this.log('UAPI get: trailing character after get=1');
      responses.push(`errno=${-EINVAL}\n\n`);
      return data.slice(1);
    }
    responses.push(this.runGet());
    return data.slice(1);
  }

  private runGet(): string {
    try {
      return formatUapiGet(this.target.status());
    } catch (error) {
      this.log(`UAPI get failed: ${describe(error)}`);
      // wg reads a get errno as unsigned, so it must not be negative here.
      return `errno=${EIO}\n\n`;
    }
  }

  private startSet(): void {
    this.state = 'set';
    this.setChunks = [];
    this.setLength = 0;
    this.setLastChar = '\n'; // the operation line's newline
  }

  private readSet(data: string, responses: string[]): string {
    let blank: number; // index in data of the blank line's '\n'
    if (this.setLastChar === '\n' && data[0] === '\n') blank = 0;
    else {
      const pair = data.indexOf('\n\n');
      blank = pair < 0 ? -1 : pair + 1;
    }
    const taken = blank < 0 ? data : data.slice(0, blank);
    this.setLength += taken.length;
    if (this.setLength > this.maxSetChars) {
      this.setChunks = [];
      responses.push(`errno=${-EINVAL}\n\n`);
      this.close(`UAPI set request larger than ${this.maxSetChars} characters`);
      return '';
    }
    if (taken.length > 0) this.setChunks.push(taken);
    if (blank < 0) {
      this.setLastChar = data[data.length - 1]!;
      return '';
    }
    const body = this.setChunks.join('');
    this.setChunks = [];
    this.state = 'operation';
    responses.push(`errno=${this.runSet(body)}\n\n`);
    return data.slice(blank + 1);
  }

  private runSet(body: string): number {
    const parsed = parseUapiSet(body);
    if ('errno' in parsed) {
      this.log(`UAPI set rejected: ${parsed.message}`);
      return parsed.errno;
    }
    let result: number;
    try {
      result = this.target.applyChange(parsed.change);
    } catch (error) {
      this.log(`UAPI set failed: ${describe(error)}`);
      return -ENOANO;
    }
    if (result === 0) {
      this.log(`UAPI set applied: ${describeChange(parsed.change)}`);
      return 0;
    }
    if (!Number.isInteger(result)) return -ENOANO;
    this.log(`UAPI set failed, nothing changed: ${this.strerror(Math.abs(result))}`);
    return -Math.abs(result);
  }

  private close(reason: string): void {
    this.log(reason);
    this.isClosed = true;
    this.pending = '';
  }
}

/** Decimal digits only (leading zeros allowed, as Go's ParseUint), at most `max`; -1 if invalid. */
function parseUnsigned(text: string, max: number): number {
  if (text.length === 0 || text.length > 20) return -1;
  let value = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    value = value * 10 + c;
  }
  return value <= max ? value : -1;
}

function isZero(key: Uint8Array): boolean {
  let acc = 0;
  for (let i = 0; i < key.length; i++) acc |= key[i]!;
  return acc === 0;
}

/** Non-negative integer for printing; bad inputs print as 0. */
function wholeNumber(n: number): number {
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
}

/** A key name fit for a log line: at most 40 printable ASCII characters. */
function printable(text: string): string {
  const clipped = text.length > 40 ? `${text.slice(0, 40)}...` : text;
  return clipped.replace(/[^\x20-\x7e]/g, '?');
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
