// Test-side builders and parsers for inner IP packets (ICMP echo, UDP).
// Deliberately independent of src/routing/ip.ts: a test oracle must not
// share code with the implementation it checks.

export type IpFamily = 4 | 6;

export interface IcmpEcho {
  family: IpFamily;
  src: string;
  dst: string;
  id: number;
  seq: number;
  payload: Uint8Array;
}

export interface UdpDatagram {
  family: IpFamily;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  payload: Uint8Array;
}

const PROTO_ICMP = 1;
const PROTO_UDP = 17;
const PROTO_ICMPV6 = 58;
const ICMP4_ECHO_REQUEST = 8;
const ICMP4_ECHO_REPLY = 0;
const ICMP6_ECHO_REQUEST = 128;
const ICMP6_ECHO_REPLY = 129;
const IPV4_HEADER = 20;
const IPV6_HEADER = 40;
const TTL = 64;

// ---- addresses ----

export function ipv4ToBytes(text: string): Uint8Array {
  const parts = text.split('.');
  if (parts.length !== 4) throw new Error(`not an IPv4 address: ${text}`);
  const out = new Uint8Array(4);
  parts.forEach((p, i) => {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) throw new Error(`not an IPv4 address: ${text}`);
    out[i] = Number(p);
  });
  return out;
}

export function ipv6ToBytes(text: string): Uint8Array {
  const bad = () => new Error(`not an IPv6 address: ${text}`);
  const halves = text.split('::');
  if (halves.length > 2) throw bad();
  const groups = (s: string): number[] => {
    if (s === '') return [];
    return s.split(':').map((g) => {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) throw bad();
      return parseInt(g, 16);
    });
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) throw bad();
  const all = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

export function formatIpv4(b: Uint8Array, off = 0): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

/** RFC 5952 text: lowercase, longest run (>= 2) of zero groups compressed, first on a tie. */
export function formatIpv6(b: Uint8Array, off = 0): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[off + 2 * i]! << 8) | b[off + 2 * i + 1]!);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
}

function familyOf(src: string, dst: string): IpFamily {
  const f = src.includes(':') ? 6 : 4;
  if ((dst.includes(':') ? 6 : 4) !== f) throw new Error(`mixed address families: ${src} -> ${dst}`);
  return f;
}

// ---- checksums ----

/** Ones'-complement sum of 16-bit big-endian words, not yet folded or inverted. */
function sum16(data: Uint8Array, start: number, end: number, acc: number): number {
  let i = start;
  for (; i + 1 < end; i += 2) acc += (data[i]! << 8) | data[i + 1]!;
  if (i < end) acc += data[i]! << 8; // odd length: pad with a zero byte
  return acc;
}

function fold(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + Math.floor(acc / 0x10000);
  return acc;
}

/** RFC 1071 Internet checksum of data[start, end). */
export function internetChecksum(data: Uint8Array, start = 0, end = data.length): number {
  return ~fold(sum16(data, start, end, 0)) & 0xffff;
}

/** Checksum of an upper-layer segment with the IPv4 or IPv6 pseudo-header. */
function pseudoChecksum(packet: Uint8Array, family: IpFamily, proto: number, l4Start: number, l4End: number): number {
  const len = l4End - l4Start;
  let acc = family === 4 ? sum16(packet, 12, 20, 0) : sum16(packet, 8, 40, 0);
  acc += proto + (len >>> 16) + (len & 0xffff);
  return ~fold(sum16(packet, l4Start, l4End, acc)) & 0xffff;
}

// ---- builders ----

function writeIpHeader(family: IpFamily, src: string, dst: string, proto: number, l4Length: number): Uint8Array {
  if (family === 4) {
    const total = IPV4_HEADER + l4Length;
    if (total > 0xffff) throw new Error('IPv4 packet too long');
    const p = new Uint8Array(total);
    const v = new DataView(p.buffer);
    p[0] = 0x45;
    v.setUint16(2, total);
    v.setUint16(6, 0x4000); // DF: tests want oversize packets refused, not fragmented
    p[8] = TTL;
    p[9] = proto;
    p.set(ipv4ToBytes(src), 12);
    p.set(ipv4ToBytes(dst), 16);
    v.setUint16(10, internetChecksum(p, 0, IPV4_HEADER));
    return p;
  }
  if (l4Length > 0xffff) throw new Error('IPv6 payload too long');
  const p = new Uint8Array(IPV6_HEADER + l4Length);
  const v = new DataView(p.buffer);
  p[0] = 0x60;
  v.setUint16(4, l4Length);
  p[6] = proto;
  p[7] = TTL;
  p.set(ipv6ToBytes(src), 8);
  p.set(ipv6ToBytes(dst), 24);
  return p;
}

function buildIcmpEcho(src: string, dst: string, id: number, seq: number, payload: Uint8Array, reply: boolean): Uint8Array {
  const family = familyOf(src, dst);
  const proto = family === 4 ? PROTO_ICMP : PROTO_ICMPV6;
  const type =
    family === 4 ? (reply ? ICMP4_ECHO_REPLY : ICMP4_ECHO_REQUEST) : reply ? ICMP6_ECHO_REPLY : ICMP6_ECHO_REQUEST;
  const p = writeIpHeader(family, src, dst, proto, 8 + payload.length);
  const o = family === 4 ? IPV4_HEADER : IPV6_HEADER;
  const v = new DataView(p.buffer);
  p[o] = type;
  v.setUint16(o + 4, id & 0xffff);
  v.setUint16(o + 6, seq & 0xffff);
  p.set(payload, o + 8);
  const sum = family === 4 ? internetChecksum(p, o, p.length) : pseudoChecksum(p, 6, proto, o, p.length);
  v.setUint16(o + 2, sum);
  return p;
}

export function buildIcmpEcho4(src: string, dst: string, id: number, seq: number, payload: Uint8Array): Uint8Array {
  if (familyOf(src, dst) !== 4) throw new Error('buildIcmpEcho4 needs IPv4 addresses');
  return buildIcmpEcho(src, dst, id, seq, payload, false);
}

export function buildIcmpEcho6(src: string, dst: string, id: number, seq: number, payload: Uint8Array): Uint8Array {
  if (familyOf(src, dst) !== 6) throw new Error('buildIcmpEcho6 needs IPv6 addresses');
  return buildIcmpEcho(src, dst, id, seq, payload, false);
}

/** The answer to `request` (ICMP echo request of either family), as a host's stack would send it. */
export function buildIcmpEchoReplyTo(request: IcmpEcho): Uint8Array {
  return buildIcmpEcho(request.dst, request.src, request.id, request.seq, request.payload, true);
}

function buildUdp(src: string, dst: string, sport: number, dport: number, payload: Uint8Array, want: IpFamily): Uint8Array {
  const family = familyOf(src, dst);
  if (family !== want) throw new Error(`buildUdp${want} needs IPv${want} addresses`);
  const l4Length = 8 + payload.length;
  const p = writeIpHeader(family, src, dst, PROTO_UDP, l4Length);
  const o = family === 4 ? IPV4_HEADER : IPV6_HEADER;
  const v = new DataView(p.buffer);
  v.setUint16(o, sport);
  v.setUint16(o + 2, dport);
  v.setUint16(o + 4, l4Length);
  p.set(payload, o + 8);
  const sum = pseudoChecksum(p, family, PROTO_UDP, o, p.length);
  v.setUint16(o + 6, sum === 0 ? 0xffff : sum); // 0 means "no checksum" on the wire
  return p;
}

export function buildUdp4(src: string, dst: string, sport: number, dport: number, payload: Uint8Array): Uint8Array {
  return buildUdp(src, dst, sport, dport, payload, 4);
}

export function buildUdp6(src: string, dst: string, sport: number, dport: number, payload: Uint8Array): Uint8Array {
  return buildUdp(src, dst, sport, dport, payload, 6);
}

// ---- parsers ----

interface L4View {
  family: IpFamily;
  src: string;
  dst: string;
  proto: number;
  /** The packet cut to the length its IP header declares (WireGuard may pad). */
  packet: Uint8Array;
  l4Start: number;
}

/** Validates the IP header; null for malformed, fragmented or extension-header packets. */
function parseIpLayer(packet: Uint8Array): L4View | null {
  if (packet.length < 1) return null;
  const version = packet[0]! >> 4;
  const v = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  if (version === 4) {
    if (packet.length < IPV4_HEADER) return null;
    const ihl = (packet[0]! & 0x0f) * 4;
    const total = v.getUint16(2);
    if (ihl < IPV4_HEADER || total < ihl || total > packet.length) return null;
    if (internetChecksum(packet, 0, ihl) !== 0) return null;
    if ((v.getUint16(6) & 0x3fff) !== 0) return null; // MF or fragment offset
    return {
      family: 4,
      src: formatIpv4(packet, 12),
      dst: formatIpv4(packet, 16),
      proto: packet[9]!,
      packet: packet.subarray(0, total),
      l4Start: ihl,
    };
  }
  if (version === 6) {
    if (packet.length < IPV6_HEADER) return null;
    const total = IPV6_HEADER + v.getUint16(4);
    if (total > packet.length) return null;
    return {
      family: 6,
      src: formatIpv6(packet, 8),
      dst: formatIpv6(packet, 24),
      proto: packet[6]!,
      packet: packet.subarray(0, total),
      l4Start: IPV6_HEADER,
    };
  }
  return null;
}

function parseIcmpEcho(packet: Uint8Array, reply: boolean): IcmpEcho | null {
  const ip = parseIpLayer(packet);
  if (!ip) return null;
  const p = ip.packet;
  const o = ip.l4Start;
  if (p.length - o < 8) return null;
  if (ip.family === 4) {
    if (ip.proto !== PROTO_ICMP || p[o] !== (reply ? ICMP4_ECHO_REPLY : ICMP4_ECHO_REQUEST)) return null;
    if (internetChecksum(p, o, p.length) !== 0) return null;
  } else {
    if (ip.proto !== PROTO_ICMPV6 || p[o] !== (reply ? ICMP6_ECHO_REPLY : ICMP6_ECHO_REQUEST)) return null;
    if (pseudoChecksum(p, 6, PROTO_ICMPV6, o, p.length) !== 0) return null;
  }
  if (p[o + 1] !== 0) return null; // code
  return {
    family: ip.family,
    src: ip.src,
    dst: ip.dst,
    id: (p[o + 4]! << 8) | p[o + 5]!,
    seq: (p[o + 6]! << 8) | p[o + 7]!,
    payload: new Uint8Array(p.subarray(o + 8)), // a plain copy, even when given a Buffer
  };
}

/** An ICMP/ICMPv6 echo reply with valid checksums, or null for anything else. */
export function parseIcmpEchoReply(packet: Uint8Array): IcmpEcho | null {
  return parseIcmpEcho(packet, true);
}

/** An ICMP/ICMPv6 echo request with valid checksums, or null for anything else. */
export function parseIcmpEchoRequest(packet: Uint8Array): IcmpEcho | null {
  return parseIcmpEcho(packet, false);
}

/** A UDP datagram with valid checksums (an IPv4 zero checksum is accepted), or null. */
export function parseUdp(packet: Uint8Array): UdpDatagram | null {
  const ip = parseIpLayer(packet);
  if (!ip || ip.proto !== PROTO_UDP) return null;
  const p = ip.packet;
  const o = ip.l4Start;
  if (p.length - o < 8) return null;
  const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
  if (v.getUint16(o + 4) !== p.length - o) return null;
  const wire = v.getUint16(o + 6);
  if (wire === 0 && ip.family === 6) return null;
  if (wire !== 0 && pseudoChecksum(p, ip.family, PROTO_UDP, o, p.length) !== 0) return null;
  return {
    family: ip.family,
    src: ip.src,
    dst: ip.dst,
    sport: v.getUint16(o),
    dport: v.getUint16(o + 2),
    payload: new Uint8Array(p.subarray(o + 8)), // a plain copy, even when given a Buffer
  };
}
