// IP address text forms (strict, numeric only) and allocation-free IP header helpers.

export type Family = 4 | 6;

export interface Cidr {
  /** 4 or 16 bytes, host bits zeroed. */
  readonly address: Uint8Array;
  readonly bits: number;
}

export const IPV4_HEADER_MIN_LENGTH = 20;
export const IPV6_HEADER_LENGTH = 40;
export const IPV4_SRC_OFFSET = 12;
export const IPV4_DST_OFFSET = 16;
export const IPV6_SRC_OFFSET = 8;
export const IPV6_DST_OFFSET = 24;

const CHAR_0 = 48;
const CHAR_9 = 57;

/** Strict unsigned decimal: digits only, no sign, no leading zeros, at most maxDigits. -1 if invalid. */
function parseDecimal(text: string, maxDigits: number): number {
  const n = text.length;
  if (n === 0 || n > maxDigits) return -1;
  if (n > 1 && text.charCodeAt(0) === CHAR_0) return -1;
  let value = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < CHAR_0 || c > CHAR_9) return -1;
    value = value * 10 + (c - CHAR_0);
  }
  return value;
}

/** Writes a dotted quad into out[at..at+4]; false if not a strict dotted quad. */
function parseIpv4Into(text: string, out: Uint8Array, at: number): boolean {
  const parts = text.split('.');
  if (parts.length !== 4) return false;
  for (let i = 0; i < 4; i++) {
    const octet = parseDecimal(parts[i]!, 3);
    if (octet < 0 || octet > 255) return false;
    out[at + i] = octet;
  }
  return true;
}

/** 1 to 4 hex digits; -1 if invalid. */
function parseHexGroup(text: string): number {
  if (text.length === 0 || text.length > 4) return -1;
  let value = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    let digit: number;
    if (c >= CHAR_0 && c <= CHAR_9) digit = c - CHAR_0;
    else if (c >= 97 && c <= 102) digit = c - 87; // a-f
    else if (c >= 65 && c <= 70) digit = c - 55; // A-F
    else return -1;
    value = (value << 4) | digit;
  }
  return value;
}

/**
 * Parses the groups of one side of "::" into out starting at byte `at`.
 * Returns the number of bytes written, or -1. A dotted quad is allowed only as
 * the very last group of the address (allowTrailingV4).
 */
function parseIpv6Groups(text: string, out: Uint8Array, at: number, allowTrailingV4: boolean): number {
  if (text.length === 0) return 0;
  const groups = text.split(':');
  let pos = at;
  for (let i = 0; i < groups.length; i++) {
    const group = groups[i]!;
    if (pos + 2 > 16) return -1;
    if (allowTrailingV4 && i === groups.length - 1 && group.indexOf('.') >= 0) {
      if (pos + 4 > 16 || !parseIpv4Into(group, out, pos)) return -1;
      pos += 4;
      continue;
    }
    const value = parseHexGroup(group);
    if (value < 0) return -1;
    out[pos] = value >>> 8;
    out[pos + 1] = value & 0xff;
    pos += 2;
  }
  return pos - at;
}

function parseIpv6(text: string): Uint8Array | null {
  const gap = text.indexOf('::');
  if (gap < 0) {
    const out = new Uint8Array(16);
    return parseIpv6Groups(text, out, 0, true) === 16 ? out : null;
  }
  if (text.indexOf('::', gap + 1) >= 0) return null;
  const head = text.slice(0, gap);
  const tail = text.slice(gap + 2);
  const headBytes = new Uint8Array(16);
  const tailBytes = new Uint8Array(16);
  const headLength = parseIpv6Groups(head, headBytes, 0, false);
  if (headLength < 0) return null;
  const tailLength = parseIpv6Groups(tail, tailBytes, 0, true);
  if (tailLength < 0) return null;
  // "::" stands for at least one zero group.
  if (headLength + tailLength > 14) return null;
  const out = new Uint8Array(16);
  out.set(headBytes.subarray(0, headLength), 0);
  out.set(tailBytes.subarray(0, tailLength), 16 - tailLength);
  return out;
}

/** Strict IPv4 dotted quad or IPv6 text (no zone ids). Returns 4 or 16 bytes, or null. */
export function parseIp(text: string): Uint8Array | null {
  if (typeof text !== 'string' || text.length === 0 || text.length > 45) return null;
  if (text.indexOf(':') >= 0) return parseIpv6(text);
  const out = new Uint8Array(4);
  return parseIpv4Into(text, out, 0) ? out : null;
}

function isIpv4Mapped(addr: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (addr[i] !== 0) return false;
  return addr[10] === 0xff && addr[11] === 0xff;
}

function formatIpv4(addr: Uint8Array, at: number): string {
  return `${addr[at]}.${addr[at + 1]}.${addr[at + 2]}.${addr[at + 3]}`;
}

/** IPv4 dotted quad; IPv6 in RFC 5952 canonical form. Throws RangeError for other lengths. */
export function formatIp(addr: Uint8Array): string {
  if (addr.length === 4) return formatIpv4(addr, 0);
  if (addr.length !== 16) throw new RangeError(`IP address must be 4 or 16 bytes, got ${addr.length}`);
  if (isIpv4Mapped(addr)) return `::ffff:${formatIpv4(addr, 12)}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((addr[i]! << 8) | addr[i + 1]!);
  // Longest run of zero groups, at least 2 long, first one on ties (RFC 5952 §4.2).
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number): string =>
    groups
      .slice(from, to)
      .map((g) => g.toString(16))
      .join(':');
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLength, 8)}`;
}

/** Zeroes every bit after the first `bits` bits, in place. */
export function maskAddress(addr: Uint8Array, bits: number): void {
  for (let i = 0; i < addr.length; i++) {
    const remaining = bits - i * 8;
    if (remaining >= 8) continue;
    addr[i] = remaining <= 0 ? 0 : addr[i]! & (0xff << (8 - remaining));
  }
}

/** `addr/bits`, or a bare address meaning /32 or /128. Host bits are zeroed. */
export function parseCidr(text: string): Cidr | null {
  if (typeof text !== 'string') return null;
  const slash = text.indexOf('/');
  const address = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (address === null) return null;
  const maxBits = address.length * 8;
  const bits = slash < 0 ? maxBits : parseDecimal(text.slice(slash + 1), 3);
  if (bits < 0 || bits > maxBits) return null;
  maskAddress(address, bits);
  return { address, bits };
}

export function formatCidr(c: Cidr): string {
  return `${formatIp(c.address)}/${c.bits}`;
}

/** `1.2.3.4:port` or `[v6]:port`, numeric only, port 1..65535; the address comes back canonical. */
export function parseEndpoint(text: string): { address: string; port: number } | null {
  if (typeof text !== 'string') return null;
  const colon = text.lastIndexOf(':');
  if (colon < 0) return null;
  const host = text.slice(0, colon);
  const port = parseDecimal(text.slice(colon + 1), 5);
  if (port < 1 || port > 65535) return null;
  let address: Uint8Array | null;
  if (host.startsWith('[')) {
    if (!host.endsWith(']')) return null;
    address = parseIp(host.slice(1, -1));
    // Brackets are for IPv6 only.
    if (address === null || address.length !== 16) return null;
  } else {
    address = parseIp(host);
    // An unbracketed IPv6 address would be ambiguous with the port.
    if (address === null || address.length !== 4) return null;
  }
  return { address: formatIp(address), port };
}

export function formatEndpoint(e: { address: string; port: number }): string {
  return e.address.indexOf(':') >= 0 ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
}

/**
 * IP version of the header at packet[off], or 0 if `len` bytes cannot hold that header.
 * Per packet: `(x | 0) === x` tests for an integer without a call or a float
 * (a call costs hundreds of instructions on QuickJS); typed arrays are
 * shorter than 2^31, so the int32 range loses nothing.
 */
export function ipVersion(packet: Uint8Array, off: number, len: number): 0 | 4 | 6 {
  if ((off | 0) !== off || (len | 0) !== len || off < 0 || len < 1 || off + len > packet.length) return 0;
  const version = packet[off]! >>> 4;
  if (version === 4) return len >= IPV4_HEADER_MIN_LENGTH ? 4 : 0;
  if (version === 6) return len >= IPV6_HEADER_LENGTH ? 6 : 0;
  return 0;
}

/** Length the IP header claims for the whole packet; 0 if the header is invalid or claims more than `len`. */
export function ipTotalLength(packet: Uint8Array, off: number, len: number): number {
  const version = ipVersion(packet, off, len);
  let total: number;
  if (version === 4) {
    total = (packet[off + 2]! << 8) | packet[off + 3]!;
    if (total < IPV4_HEADER_MIN_LENGTH) return 0;
  } else if (version === 6) {
    total = ((packet[off + 4]! << 8) | packet[off + 5]!) + IPV6_HEADER_LENGTH;
  } else {
    return 0;
  }
  return total <= len ? total : 0;
}
