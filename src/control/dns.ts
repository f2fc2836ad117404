// The wire side of a DNS stub resolver (RFC 1035) for endpoint host names:
// query encoding, a strict response parser, resolv.conf, address ordering and
// the re-resolve rule. Pure: the QuickJS runtime does the sockets and timers
// (src/platform/quickjs-dns.ts). Responses are untrusted input from the
// network, so the parser checks every length, follows compression pointers
// only backwards and a bounded number of times, and never throws.
import { formatIp, parseIp } from '../routing/ip.js';

export const DNS_PORT = 53;
export const TYPE_A = 1;
export const TYPE_AAAA = 28;
export type QueryType = 1 | 28;

export type ResponseError = 'nxdomain' | 'servfail' | 'truncated' | 'malformed' | 'mismatch' | 'refused';
/** Addresses (copies, 4 or 16 bytes) and the smallest TTL in seconds; empty addresses = the name has none of this type. */
export type ResponseAnswer = { addresses: Uint8Array[]; ttl: number };
export type ParsedResponse = ResponseAnswer | { error: ResponseError };

const TYPE_CNAME = 5;
const TYPE_SOA = 6;
const CLASS_IN = 1;
const HEADER_LENGTH = 12;
const MAX_NAME_TEXT = 253;
const MAX_NAME_WIRE = 255;
const MAX_LABEL = 63;
/** More than any legitimate name needs (a label is at least 2 bytes, so at most 127 per name). */
const MAX_POINTERS = 127;
/** CNAME hops followed within one answer section. */
const MAX_CNAME_CHAIN = 8;
/** RFC 2181 §8: a TTL with the top bit set is treated as zero. */
const MAX_TTL = 0x7fffffff;

/** Why `name` cannot be queried, or null when it can. Accepts one trailing dot (an absolute name). */
export function hostnameError(name: string): string | null {
  if (typeof name !== 'string' || name.length === 0) return 'empty host name';
  const text = name.endsWith('.') ? name.slice(0, -1) : name;
  if (text.length === 0) return 'empty host name';
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 127) {
      return `host name "${name}" is not ASCII: internationalized names (IDNA) are not supported, use the xn-- (punycode) form`;
    }
  }
  if (text.length > MAX_NAME_TEXT) return `host name is longer than ${MAX_NAME_TEXT} characters`;
  for (const label of text.split('.')) {
    if (label.length === 0) return `host name "${name}" has an empty label`;
    if (label.length > MAX_LABEL) return `host name "${name}" has a label longer than ${MAX_LABEL} characters`;
    if (!/^[A-Za-z0-9_-]+$/.test(label)) return `host name "${name}" may only contain letters, digits, "-", "_" and dots`;
    if (label.startsWith('-') || label.endsWith('-')) return `host name "${name}" has a label starting or ending with "-"`;
  }
  return null;
}

/** The labels of a valid name (without the root). */
function labelsOf(name: string): string[] {
  return (name.endsWith('.') ? name.slice(0, -1) : name).split('.');
}

/**
 * A name's comparison key: its wire form (length-prefixed labels) with ASCII
 * letters lowercased. Unlike dotted text it stays unambiguous for labels that
 * contain dots or other bytes a hostile server may put there.
 */
function keyOfName(name: string): string {
  let key = '';
  for (const label of labelsOf(name)) key += String.fromCharCode(label.length) + label.toLowerCase();
  return key;
}

/** A standard query (RD set, one question, class IN, no EDNS). Throws for a name hostnameError rejects. */
export function encodeQuery(id: number, name: string, type: QueryType): Uint8Array {
  const problem = hostnameError(name);
  if (problem !== null) throw new Error(problem);
  if (!Number.isInteger(id) || id < 0 || id > 0xffff) throw new RangeError(`query id must be 0..65535, got ${id}`);
  if (type !== TYPE_A && type !== TYPE_AAAA) throw new RangeError(`query type must be A (1) or AAAA (28), got ${type}`);
  const labels = labelsOf(name);
  let length = HEADER_LENGTH + 1 + 4;
  for (const label of labels) length += 1 + label.length;
  const msg = new Uint8Array(length);
  msg[0] = id >> 8;
  msg[1] = id & 0xff;
  msg[2] = 0x01; // RD: the server (dnsmasq) does the recursion
  msg[5] = 1; // QDCOUNT
  let at = HEADER_LENGTH;
  for (const label of labels) {
    msg[at++] = label.length;
    for (let i = 0; i < label.length; i++) msg[at++] = label.charCodeAt(i);
  }
  msg[at++] = 0;
  msg[at++] = 0;
  msg[at++] = type;
  msg[at++] = 0;
  msg[at] = CLASS_IN;
  return msg;
}

function u16(msg: Uint8Array, at: number): number {
  return (msg[at]! << 8) | msg[at + 1]!;
}

function u32(msg: Uint8Array, at: number): number {
  return ((msg[at]! << 24) >>> 0) + ((msg[at + 1]! << 16) | (msg[at + 2]! << 8) | msg[at + 3]!);
}

function ttlOf(msg: Uint8Array, at: number): number {
  const ttl = u32(msg, at);
  return ttl > MAX_TTL ? 0 : ttl;
}

interface ReadName {
  /** Where the name ends in place (after its first pointer, or after its root label). */
  readonly end: number;
  readonly key: string;
}

/** Reads a possibly compressed name at `at`; null when it runs out of the message, loops or is too long. */
function readName(msg: Uint8Array, at: number): ReadName | null {
  let pos = at;
  let end = -1;
  let pointers = 0;
  let wireLength = 1; // the root label
  let key = '';
  for (;;) {
    if (pos >= msg.length) return null;
    const len = msg[pos]!;
    if (len >= 0xc0) {
      if (pos + 1 >= msg.length) return null;
      const target = ((len & 0x3f) << 8) | msg[pos + 1]!;
      // Pointers may only go backwards, and only so many times: no loops.
      if (target >= pos || ++pointers > MAX_POINTERS) return null;
      if (end < 0) end = pos + 2;
      pos = target;
      continue;
    }
    if (len > MAX_LABEL) return null; // 0x40 / 0x80: extended label types, obsolete
    if (len === 0) return { end: end < 0 ? pos + 1 : end, key };
    wireLength += 1 + len;
    if (wireLength > MAX_NAME_WIRE || pos + 1 + len > msg.length) return null;
    key += String.fromCharCode(len);
    for (let i = pos + 1; i <= pos + len; i++) {
      const c = msg[i]!;
      key += String.fromCharCode(c >= 0x41 && c <= 0x5a ? c + 32 : c);
    }
    pos += 1 + len;
  }
}

interface AddressRecord {
  readonly owner: string;
  readonly address: Uint8Array;
  readonly ttl: number;
}

interface AliasRecord {
  readonly owner: string;
  readonly target: string;
  readonly ttl: number;
}

const MALFORMED = { error: 'malformed' } as const;
const MISMATCH = { error: 'mismatch' } as const;

/**
 * Parses the response to the query (id, name, type). Strict: the id and the
 * question must be ours ('mismatch' otherwise: an unrelated or spoofed
 * datagram), every record of every section must be well formed
 * ('malformed'). The answer follows the CNAME chain from the question name.
 * Never throws.
 */
export function parseResponse(msg: Uint8Array, id: number, name: string, type: QueryType): ParsedResponse {
  if (!(msg instanceof Uint8Array) || msg.length < HEADER_LENGTH) return MALFORMED;
  if (u16(msg, 0) !== id) return MISMATCH;
  const flags = msg[2]!;
  if ((flags & 0x80) === 0 || ((flags >> 3) & 0x0f) !== 0) return MALFORMED; // not a response, or not a standard query
  if ((flags & 0x02) !== 0) return { error: 'truncated' }; // TC: the rest needs TCP, which we do not do
  if (typeof name !== 'string' || hostnameError(name) !== null || (type !== TYPE_A && type !== TYPE_AAAA)) return MISMATCH;
  if (u16(msg, 4) !== 1) return MISMATCH;
  const question = readName(msg, HEADER_LENGTH);
  if (question === null || question.end + 4 > msg.length) return MALFORMED;
  const wanted = keyOfName(name);
  if (question.key !== wanted || u16(msg, question.end) !== type || u16(msg, question.end + 2) !== CLASS_IN) return MISMATCH;

  switch (msg[3]! & 0x0f) {
    case 0: break;
    case 3: return { error: 'nxdomain' };
    case 5: return { error: 'refused' };
    default: return { error: 'servfail' }; // SERVFAIL, and FORMERR/NOTIMP/...: this server cannot answer
  }

  const answerCount = u16(msg, 6);
  const authorityCount = u16(msg, 8);
  const recordCount = answerCount + authorityCount + u16(msg, 10);
  const addressLength = type === TYPE_A ? 4 : 16;
  const addresses: AddressRecord[] = [];
  const aliases: AliasRecord[] = [];
  let negativeTtl = 0;
  let pos = question.end + 4;
  for (let i = 0; i < recordCount; i++) {
    const owner = readName(msg, pos);
    if (owner === null || owner.end + 10 > msg.length) return MALFORMED;
    const rrType = u16(msg, owner.end);
    const rrClass = u16(msg, owner.end + 2);
    const ttl = ttlOf(msg, owner.end + 4);
    const dataStart = owner.end + 10;
    const dataEnd = dataStart + u16(msg, owner.end + 8);
    if (dataEnd > msg.length) return MALFORMED;
    if (rrClass === CLASS_IN && i < answerCount) {
      if (rrType === type) {
        if (dataEnd - dataStart !== addressLength) return MALFORMED;
        addresses.push({ owner: owner.key, address: msg.slice(dataStart, dataEnd), ttl });
      } else if (rrType === TYPE_CNAME) {
        const target = readName(msg, dataStart);
        if (target === null || target.end !== dataEnd) return MALFORMED;
        aliases.push({ owner: owner.key, target: target.key, ttl });
      }
    } else if (rrClass === CLASS_IN && rrType === TYPE_SOA && i < answerCount + authorityCount) {
      // RFC 2308: a "no such record" answer may be cached for min(SOA TTL, SOA MINIMUM).
      const mname = readName(msg, dataStart);
      const rname = mname && mname.end <= dataEnd ? readName(msg, mname.end) : null;
      if (rname === null || rname.end + 20 !== dataEnd) return MALFORMED;
      negativeTtl = Math.min(ttl, ttlOf(msg, dataEnd - 4));
    }
    pos = dataEnd;
  }

  let current = wanted;
  let ttl = MAX_TTL;
  for (let hops = 0; hops <= MAX_CNAME_CHAIN; hops++) {
    const found: Uint8Array[] = [];
    for (const r of addresses) {
      if (r.owner !== current) continue;
      found.push(r.address);
      ttl = Math.min(ttl, r.ttl);
    }
    if (found.length > 0) return { addresses: found, ttl };
    const alias = aliases.find((a) => a.owner === current);
    if (alias === undefined) return { addresses: [], ttl: Math.min(ttl, negativeTtl) };
    ttl = Math.min(ttl, alias.ttl);
    current = alias.target;
  }
  return MALFORMED; // a CNAME loop, or a chain longer than any sane one
}

export interface ResolvConf {
  /** Numeric addresses, canonical text, at most 3 (like libc); 127.0.0.1 when the file names none. */
  servers: string[];
  ndots?: number;
  timeoutMs?: number;
  attempts?: number;
}

/** libc's limit on name servers; later ones are ignored. */
const MAX_SERVERS = 3;

function optionValue(option: string, prefix: string, min: number, max: number): number | undefined {
  if (!option.startsWith(prefix)) return undefined;
  const text = option.slice(prefix.length);
  if (!/^[0-9]{1,6}$/.test(text)) return undefined;
  return Math.min(max, Math.max(min, Number(text)));
}

/**
 * resolv.conf(5): `nameserver` lines (IPv4 or IPv6; a zone id such as
 * fe80::1%eth0 cannot be used by our sockets and is skipped) and the options
 * ndots, timeout (seconds, 1..30) and attempts (1..5). Search domains are not
 * read: endpoint names are used as given.
 */
export function parseResolvConf(text: string): ResolvConf {
  const conf: ResolvConf = { servers: [] };
  for (const line of String(text).split('\n')) {
    const words = line.trim().split(/\s+/);
    const keyword = words[0] ?? '';
    if (keyword.startsWith('#') || keyword.startsWith(';')) continue;
    if (keyword === 'nameserver' && words[1] !== undefined) {
      const address = parseIp(words[1]);
      if (address !== null && conf.servers.length < MAX_SERVERS) conf.servers.push(formatIp(address));
    } else if (keyword === 'options') {
      for (const option of words.slice(1)) {
        const ndots = optionValue(option, 'ndots:', 0, 15);
        const timeout = optionValue(option, 'timeout:', 1, 30);
        const attempts = optionValue(option, 'attempts:', 1, 5);
        if (ndots !== undefined) conf.ndots = ndots;
        if (timeout !== undefined) conf.timeoutMs = timeout * 1000;
        if (attempts !== undefined) conf.attempts = attempts;
      }
    }
  }
  // OpenWrt's /etc/resolv.conf points at the local dnsmasq; libc also falls back to the local host.
  if (conf.servers.length === 0) conf.servers.push('127.0.0.1');
  return conf;
}

/** The family of a numeric address text, or null for anything else. */
export function familyOf(address: string | null | undefined): 4 | 6 | null {
  const bytes = typeof address === 'string' ? parseIp(address) : null;
  return bytes === null ? null : bytes.length === 4 ? 4 : 6;
}

/**
 * Orders resolved addresses: the family of the peer's current endpoint first
 * (the path that worked stays in use), otherwise IPv4 first (routers often
 * have no IPv6 upstream). Stable within a family; returns a new array.
 */
export function orderAddresses(addresses: readonly Uint8Array[], currentFamily: 4 | 6 | null = null): Uint8Array[] {
  const firstLength = currentFamily === 6 ? 16 : 4;
  return [...addresses.filter((a) => a.length === firstLength), ...addresses.filter((a) => a.length !== firstLength)];
}

/** OpenWrt's wireguard_watchdog: a host-name endpoint is re-resolved once the last handshake is this old. */
export const RERESOLVE_AFTER_MS = 150_000;

/**
 * Whether a peer whose endpoint was given as a host name is due for a new
 * lookup: its latest handshake (wall-clock ms, 0 = never) is at least
 * RERESOLVE_AFTER_MS old. (The watchdog only checks peers with a persistent
 * keepalive, since without traffic an old handshake is normal.)
 */
export function reresolveDue(lastHandshakeMs: number, nowMs: number): boolean {
  return nowMs - lastHandshakeMs >= RERESOLVE_AFTER_MS;
}
