import t from 'tap';
import {
  buildIcmpEcho4,
  buildIcmpEcho6,
  buildIcmpEchoReplyTo,
  buildUdp4,
  buildUdp6,
  formatIpv6,
  internetChecksum,
  ipv6ToBytes,
  parseIcmpEchoReply,
  parseIcmpEchoRequest,
  parseUdp,
} from './helpers/packets.js';

const abcd = new TextEncoder().encode('abcd');
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const word = (b: Uint8Array, off: number) => (b[off]! << 8) | b[off + 1]!;

// A second, deliberately different checksum: byte-wise with BigInt, fold once at the end.
function slowChecksum(bytes: number[]): number {
  let s = 0n;
  for (let i = 0; i < bytes.length; i++) s += BigInt(bytes[i]!) << (i % 2 === 0 ? 8n : 0n);
  while (s >> 16n) s = (s & 0xffffn) + (s >> 16n);
  return Number(~s & 0xffffn);
}
const pseudo4 = (p: Uint8Array, proto: number, len: number) => [...p.subarray(12, 20), 0, proto, len >> 8, len & 0xff];
const pseudo6 = (p: Uint8Array, proto: number, len: number) => [
  ...p.subarray(8, 40),
  0,
  0,
  len >> 8,
  len & 0xff,
  0,
  0,
  0,
  proto,
];
function zeroed(p: Uint8Array, from: number, to: number, at: number): number[] {
  const c = Array.from(p.subarray(from, to));
  c[at - from] = 0;
  c[at - from + 1] = 0;
  return c;
}

t.test('RFC 1071 checksum of a well-known IPv4 header', async (t) => {
  // 4500 0073 0000 4000 4011 [b861] c0a8 0001 c0a8 00c7:
  // words sum to 0x2479c, folded 0x479e, inverted 0xb861.
  const h = Uint8Array.from([
    0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8,
    0x00, 0xc7,
  ]);
  t.equal(internetChecksum(h), 0xb861);
  h[10] = 0xb8;
  h[11] = 0x61;
  t.equal(internetChecksum(h), 0, 'a header with its checksum sums to zero');
  t.equal(internetChecksum(Uint8Array.from([0x01])), 0xfeff, 'odd length pads a zero byte');
});

t.test('ICMPv4 echo request, checked by hand', async (t) => {
  const p = buildIcmpEcho4('10.0.0.1', '10.0.0.2', 0x1234, 1, abcd);
  // IP: 4500 0020 0000 4000 4001 [cs] 0a00 0001 0a00 0002 -> sum 0xd924 -> checksum 0x26db.
  // ICMP: 0800 [cs] 1234 0001 6162 6364 -> sum 0xdefb -> checksum 0x2104.
  t.equal(hex(p), '45000020000040004001' + '26db' + '0a0000010a000002' + '0800' + '2104' + '12340001' + '61626364');
  t.equal(word(p, 10), slowChecksum(zeroed(p, 0, 20, 10)));
  t.equal(word(p, 22), slowChecksum(zeroed(p, 20, p.length, 22)));
  t.equal(p[8], 64, 'TTL 64');
  t.same(parseIcmpEchoRequest(p), { family: 4, src: '10.0.0.1', dst: '10.0.0.2', id: 0x1234, seq: 1, payload: abcd });
  t.equal(parseIcmpEchoReply(p), null, 'a request is not a reply');
});

t.test('ICMPv6 echo request with the pseudo-header, checked by hand', async (t) => {
  const p = buildIcmpEcho6('fd00::1', 'fd00::2', 0x1234, 1, abcd);
  // Pseudo-header fd00..0001 fd00..0002 0000000c 0000003a plus ICMPv6 8000 [cs] 1234 0001 6162 6364
  // sums to 0x35144, folded 0x5147, inverted 0xaeb8.
  t.equal(word(p, 42), 0xaeb8);
  t.equal(hex(p.subarray(0, 8)), '60000000000c3a40', 'version 6, payload 12, next header 58, hop limit 64');
  t.equal(word(p, 42), slowChecksum([...pseudo6(p, 58, 12), ...zeroed(p, 40, p.length, 42)]));
  t.same(parseIcmpEchoRequest(p), { family: 6, src: 'fd00::1', dst: 'fd00::2', id: 0x1234, seq: 1, payload: abcd });
});

t.test('UDP over IPv4 and IPv6, checked by hand and independently', async (t) => {
  const p4 = buildUdp4('10.0.0.1', '10.0.0.2', 1000, 2000, abcd);
  // Pseudo 0a00 0001 0a00 0002 0011 000c + UDP 03e8 07d0 000c [cs] 6162 6364 -> sum 0xe4aa -> 0x1b55.
  t.equal(word(p4, 26), 0x1b55);
  t.equal(p4[9], 17);
  t.same(parseUdp(p4), { family: 4, src: '10.0.0.1', dst: '10.0.0.2', sport: 1000, dport: 2000, payload: abcd });

  const odd = Uint8Array.from([1, 2, 3, 4, 5, 6, 7]);
  const p6 = buildUdp6('fd77:7774::1', 'fd77:7774::2', 40000, 53, odd);
  t.equal(word(p6, 46), slowChecksum([...pseudo6(p6, 17, 15), ...zeroed(p6, 40, p6.length, 46)]));
  t.same(parseUdp(p6), { family: 6, src: 'fd77:7774::1', dst: 'fd77:7774::2', sport: 40000, dport: 53, payload: odd });

  const big = new Uint8Array(1392).map((_, i) => (i * 7) & 0xff);
  const pb = buildUdp4('10.231.1.1', '10.231.1.2', 9, 9, big);
  t.equal(pb.length, 1420, 'a full-MTU inner packet');
  t.equal(word(pb, 26), slowChecksum([...pseudo4(pb, 17, 1400), ...zeroed(pb, 20, pb.length, 26)]));
  t.ok(parseUdp(pb));
});

t.test('replies round-trip and the parser rejects damage', async (t) => {
  for (const [src, dst] of [
    ['10.231.7.2', '10.231.7.1'],
    ['fd77:7775:0:7::2', 'fd77:7775:0:7::1'],
  ] as const) {
    const req = src.includes(':')
      ? buildIcmpEcho6(src, dst, 7, 65535, abcd)
      : buildIcmpEcho4(src, dst, 7, 65535, abcd);
    const parsed = parseIcmpEchoRequest(req);
    t.ok(parsed);
    const reply = buildIcmpEchoReplyTo(parsed!);
    t.same(parseIcmpEchoReply(reply), { family: src.includes(':') ? 6 : 4, src: dst, dst: src, id: 7, seq: 65535, payload: abcd });

    const padded = new Uint8Array(reply.length + 13);
    padded.set(reply);
    t.ok(parseIcmpEchoReply(padded), 'trailing padding (as WireGuard adds) is ignored');

    for (let i = 0; i < reply.length; i++) {
      const bad = reply.slice();
      bad[i]! ^= 0x01;
      // Flipping a bit anywhere must be caught: version, length, checksum, type, address or payload.
      const got = parseIcmpEchoReply(bad);
      if (got !== null) {
        // The IPv6 header's traffic class / flow label and hop limit are not covered by any checksum.
        const uncovered = src.includes(':') && (i < 4 || i === 7);
        // The IPv4 TTL and TOS are covered by the header checksum, so nothing is uncovered there.
        t.ok(uncovered, `byte ${i} is outside every checksum, so a flip there parses`);
      }
    }
    t.equal(parseIcmpEchoReply(reply.subarray(0, reply.length - 1)), null, 'truncated');
  }
  t.equal(parseIcmpEchoReply(new Uint8Array(0)), null);
  t.equal(parseIcmpEchoReply(buildUdp4('10.0.0.1', '10.0.0.2', 1, 2, abcd)), null, 'UDP is not ICMP');
  const frag = buildIcmpEcho4('10.0.0.1', '10.0.0.2', 1, 1, abcd);
  frag[6] = 0x20; // MF set, DF cleared; fix the header checksum so only the fragment test can reject it
  frag[10] = 0;
  frag[11] = 0;
  const cs = internetChecksum(frag, 0, 20);
  frag[10] = cs >> 8;
  frag[11] = cs & 0xff;
  t.equal(parseIcmpEchoRequest(frag), null, 'fragments are refused');
});

t.test('IPv6 text forms', async (t) => {
  t.equal(formatIpv6(ipv6ToBytes('FD77:7774:0:0:0:0:0:1')), 'fd77:7774::1');
  t.equal(formatIpv6(ipv6ToBytes('1:0:0:2:0:0:0:3')), '1:0:0:2::3', 'longest zero run wins');
  t.equal(formatIpv6(ipv6ToBytes('1:0:2:3:4:5:6:7')), '1:0:2:3:4:5:6:7', 'a single zero group is not compressed');
  t.equal(formatIpv6(ipv6ToBytes('::')), '::');
  t.throws(() => ipv6ToBytes('1::2::3'));
  t.throws(() => buildIcmpEcho4('fd00::1', 'fd00::2', 1, 1, abcd));
  t.throws(() => buildUdp6('10.0.0.1', 'fd00::2', 1, 1, abcd));
});
