import t from 'tap';
import {
  formatCidr,
  formatEndpoint,
  formatIp,
  ipTotalLength,
  ipVersion,
  IPV4_DST_OFFSET,
  IPV4_SRC_OFFSET,
  IPV6_DST_OFFSET,
  IPV6_SRC_OFFSET,
  maskAddress,
  parseCidr,
  parseEndpoint,
  parseIp,
} from '../src/routing/ip.js';

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);

t.test('IPv4 parses to 4 bytes', async (t) => {
  t.same(parseIp('1.2.3.4'), bytes(1, 2, 3, 4));
  t.same(parseIp('0.0.0.0'), bytes(0, 0, 0, 0));
  t.same(parseIp('255.255.255.255'), bytes(255, 255, 255, 255));
  t.same(parseIp('10.0.100.200'), bytes(10, 0, 100, 200));
});

t.test('IPv6 parses to 16 bytes', async (t) => {
  t.same(parseIp('::'), new Uint8Array(16));
  t.same(parseIp('::1'), bytes(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1));
  t.same(parseIp('1::'), bytes(0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
  t.same(
    parseIp('2001:DB8:0:0:8:800:200C:417A'),
    bytes(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 8, 8, 0, 0x20, 0x0c, 0x41, 0x7a),
  );
  t.same(parseIp('2001:db8::8:800:200c:417a'), parseIp('2001:DB8:0:0:8:800:200C:417A'));
  t.same(parseIp('0001:0002:0003:0004:0005:0006:0007:0008'), parseIp('1:2:3:4:5:6:7:8'));
  t.same(parseIp('1:2:3:4:5:6:7::'), bytes(0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 0));
  t.same(parseIp('::2:3:4:5:6:7:8'), bytes(0, 0, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8));
  t.same(parseIp('::ffff:1.2.3.4'), bytes(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4));
  t.same(parseIp('::1.2.3.4'), bytes(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4));
  t.same(parseIp('1:2:3:4:5:6:1.2.3.4'), bytes(0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 1, 2, 3, 4));
  t.same(parseIp('1::6:1.2.3.4'), bytes(0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 6, 1, 2, 3, 4));
});

t.test('invalid addresses are rejected', async (t) => {
  const invalid = [
    '',
    ' ',
    '1.2.3',
    '1.2.3.4.5',
    '256.1.1.1',
    '1.2.3.256',
    '01.2.3.4',
    '1.02.3.4',
    '1.2.3.00',
    '1.2.3.-4',
    '+1.2.3.4',
    '1.2.3.4 ',
    ' 1.2.3.4',
    '1..3.4',
    '1.2.3.',
    '.1.2.3',
    '0x1.2.3.4',
    '1.2.3.4/24',
    '1e2.1.1.1',
    '１.2.3.4',
    'localhost',
    ':',
    ':::',
    '::1::',
    '1::2::3',
    ':1::',
    '::1:',
    '1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7:8::',
    '::1:2:3:4:5:6:7:8',
    '1:2:3:4::5:6:7:8',
    '12345::',
    '::g',
    '::fffff',
    '[::1]',
    'fe80::1%eth0',
    'fe80::1%1',
    '1.2.3.4::',
    '::1.2.3.4:5',
    '::1.2.3',
    '::256.1.1.1',
    '::01.2.3.4',
    '1:2:3:4:5:6:7:1.2.3.4',
    '1:2:3:4:5:6:1.2.3.4:7',
    '::ffff:1.2.3.4.5',
    ':1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:',
  ];
  for (const text of invalid) t.equal(parseIp(text), null, JSON.stringify(text));
  t.equal(parseIp(undefined as unknown as string), null, 'non-string');
});

t.test('formatIp gives RFC 5952 canonical text', async (t) => {
  const cases: [string, string][] = [
    ['1.2.3.4', '1.2.3.4'],
    ['0.0.0.0', '0.0.0.0'],
    ['::', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
    ['2001:DB8:0:0:8:800:200C:417A', '2001:db8::8:800:200c:417a'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    // A single zero group is not compressed (§4.2.2).
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    // Longest run wins (§4.2.3).
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    // First run wins on ties.
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['0:0:1:0:0:1:0:0', '::1:0:0:1:0:0'],
    ['1:0:0:2:3:4:0:0', '1::2:3:4:0:0'],
    ['1:2:3:4:5:6:7:0', '1:2:3:4:5:6:7:0'],
    ['0:2:3:4:5:6:7:8', '0:2:3:4:5:6:7:8'],
    ['1:2:3:4:5:6:0:0', '1:2:3:4:5:6::'],
    ['0:0:3:4:5:6:7:8', '::3:4:5:6:7:8'],
    ['FFFF:ABCD:0:0:0:0:0:0', 'ffff:abcd::'],
    ['::ffff:1.2.3.4', '::ffff:1.2.3.4'],
    ['::FFFF:0102:0304', '::ffff:1.2.3.4'],
    ['0:0:0:0:0:ffff:ffff:ffff', '::ffff:255.255.255.255'],
    // Only IPv4-mapped addresses use the dotted form.
    ['::1.2.3.4', '::102:304'],
    ['64:ff9b::1.2.3.4', '64:ff9b::102:304'],
    ['fe80::1', 'fe80::1'],
  ];
  for (const [input, expected] of cases) {
    const parsed = parseIp(input);
    t.ok(parsed, `parses ${input}`);
    if (parsed === null) continue;
    t.equal(formatIp(parsed), expected, input);
    t.same(parseIp(formatIp(parsed)), parsed, `round trip ${input}`);
  }
  t.throws(() => formatIp(new Uint8Array(5)), RangeError);
  t.throws(() => formatIp(new Uint8Array(0)), RangeError);
});

/** RFC 5952 §4.2: the compressed run is the longest (first on ties) and at least 2 groups. */
function compressesLongestRun(text: string): boolean {
  const longestZeroRun = (groups: string[]): number => {
    let best = 0;
    let run = 0;
    for (const g of groups) {
      run = g === '0' ? run + 1 : 0;
      best = Math.max(best, run);
    }
    return best;
  };
  const gap = text.indexOf('::');
  if (gap < 0) return longestZeroRun(text.split(':')) < 2;
  const left = text.slice(0, gap).split(':').filter((g) => g !== '');
  const right = text.slice(gap + 2).split(':').filter((g) => g !== '');
  const compressed = 8 - left.length - right.length;
  return compressed >= 2 && longestZeroRun(left) < compressed && longestZeroRun(right) <= compressed;
}

t.test('random addresses round trip through text', async (t) => {
  let state = 0x12345678;
  const next = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state >>> 0;
  };
  let failures = 0;
  for (let i = 0; i < 5000; i++) {
    const addr = new Uint8Array(i % 2 === 0 ? 4 : 16);
    for (let j = 0; j < addr.length; j++) {
      // Plenty of zero bytes so that zero runs of every length occur.
      addr[j] = next() % 3 === 0 ? next() & 0xff : 0;
    }
    const text = formatIp(addr);
    const back = parseIp(text);
    if (back === null || formatIp(back) !== text || back.length !== addr.length || back.some((b, k) => b !== addr[k])) {
      failures++;
      t.fail(`round trip of ${text}`);
    }
    if (addr.length === 16 && !text.startsWith('::ffff:') && !compressesLongestRun(text)) {
      failures++;
      t.fail(`zero runs not compressed per RFC 5952 in ${text}`);
    }
  }
  t.equal(failures, 0);
});

t.test('parseCidr', async (t) => {
  t.same(parseCidr('10.0.0.0/8'), { address: bytes(10, 0, 0, 0), bits: 8 });
  t.same(parseCidr('10.1.2.3/8'), { address: bytes(10, 0, 0, 0), bits: 8 }, 'host bits zeroed');
  t.same(parseCidr('192.168.4.255/23'), { address: bytes(192, 168, 4, 0), bits: 23 });
  t.same(parseCidr('255.255.255.255/0'), { address: bytes(0, 0, 0, 0), bits: 0 });
  t.same(parseCidr('1.2.3.4'), { address: bytes(1, 2, 3, 4), bits: 32 }, 'bare v4 is /32');
  t.same(parseCidr('1.2.3.4/32'), { address: bytes(1, 2, 3, 4), bits: 32 });
  const v6 = parseCidr('2001:db8:ffff::1/33');
  t.ok(v6);
  t.equal(v6 && formatCidr(v6), '2001:db8:8000::/33');
  t.equal(v6?.address.length, 16);
  const bare6 = parseCidr('fe80::1');
  t.equal(bare6?.bits, 128);
  t.equal(bare6 && formatCidr(bare6), 'fe80::1/128');
  t.equal(formatCidr(parseCidr('::/0')!), '::/0');
  t.equal(formatCidr(parseCidr('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/127')!), 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127');
  t.equal(formatCidr(parseCidr('0.0.0.0/0')!), '0.0.0.0/0');
  t.equal(formatCidr(parseCidr('::ffff:10.20.30.40/120')!), '::ffff:10.20.30.0/120');

  const invalid = [
    '1.2.3.4/33',
    '1.2.3.4/',
    '1.2.3.4/-1',
    '1.2.3.4/+8',
    '1.2.3.4/08',
    '1.2.3.4/8/8',
    '1.2.3.4/ 8',
    '1.2.3.4/8 ',
    '1.2.3.4/0x8',
    '1.2.3.4/1000',
    '::/129',
    '::/',
    '/8',
    '1.2.3/8',
    '[::1]/128',
    'fe80::1%eth0/64',
    '',
  ];
  for (const text of invalid) t.equal(parseCidr(text), null, JSON.stringify(text));
});

t.test('maskAddress zeroes host bits in place', async (t) => {
  const a = bytes(0xff, 0xff, 0xff, 0xff);
  maskAddress(a, 13);
  t.same(a, bytes(0xff, 0xf8, 0, 0));
  const b = new Uint8Array(16).fill(0xff);
  maskAddress(b, 127);
  t.equal(b[15], 0xfe);
  t.equal(b[14], 0xff);
  maskAddress(b, 0);
  t.same(b, new Uint8Array(16));
});

t.test('parseEndpoint and formatEndpoint', async (t) => {
  t.same(parseEndpoint('1.2.3.4:51820'), { address: '1.2.3.4', port: 51820 });
  t.same(parseEndpoint('1.2.3.4:1'), { address: '1.2.3.4', port: 1 });
  t.same(parseEndpoint('1.2.3.4:65535'), { address: '1.2.3.4', port: 65535 });
  t.same(parseEndpoint('[::1]:51820'), { address: '::1', port: 51820 });
  t.same(parseEndpoint('[2001:DB8:0:0:0:0:0:1]:443'), { address: '2001:db8::1', port: 443 }, 'canonical');
  t.same(parseEndpoint('[::ffff:1.2.3.4]:80'), { address: '::ffff:1.2.3.4', port: 80 });

  const invalid = [
    '1.2.3.4',
    '1.2.3.4:0',
    '1.2.3.4:65536',
    '1.2.3.4:99999',
    '1.2.3.4:',
    '1.2.3.4:-1',
    '1.2.3.4:+80',
    '1.2.3.4:080',
    '1.2.3.4:80a',
    '1.2.3.4: 80',
    '1.2.3:80',
    'example.com:80',
    'localhost:51820',
    '::1:80',
    '[::1]',
    '[::1]:',
    '[::1]:0',
    '[::1]80',
    '[::1',
    '::1]:80',
    '[1.2.3.4]:80',
    '[fe80::1%eth0]:80',
    '[[::1]]:80',
    ':80',
    '',
  ];
  for (const text of invalid) t.equal(parseEndpoint(text), null, JSON.stringify(text));

  t.equal(formatEndpoint({ address: '1.2.3.4', port: 51820 }), '1.2.3.4:51820');
  t.equal(formatEndpoint({ address: '2001:db8::1', port: 443 }), '[2001:db8::1]:443');
  for (const text of ['10.0.0.1:1', '[fe80::1]:51820', '[::ffff:1.2.3.4]:9']) {
    const parsed = parseEndpoint(text);
    t.ok(parsed, text);
    if (parsed) t.equal(formatEndpoint(parsed), text, `round trip ${text}`);
  }
});

function ipv4Header(totalLength: number, size = 20): Uint8Array {
  const p = new Uint8Array(size);
  p[0] = 0x45;
  p[2] = totalLength >>> 8;
  p[3] = totalLength & 0xff;
  return p;
}

function ipv6Header(payloadLength: number, size = 40): Uint8Array {
  const p = new Uint8Array(size);
  p[0] = 0x60;
  p[4] = payloadLength >>> 8;
  p[5] = payloadLength & 0xff;
  return p;
}

t.test('ipVersion', async (t) => {
  t.equal(ipVersion(ipv4Header(20), 0, 20), 4);
  t.equal(ipVersion(ipv4Header(20), 0, 19), 0, 'IPv4 needs 20 bytes');
  t.equal(ipVersion(ipv6Header(0), 0, 40), 6);
  t.equal(ipVersion(ipv6Header(0), 0, 39), 0, 'IPv6 needs 40 bytes');
  t.equal(ipVersion(new Uint8Array(0), 0, 0), 0, 'empty');
  t.equal(ipVersion(ipv4Header(20), 0, 21), 0, 'len beyond the buffer');
  t.equal(ipVersion(ipv4Header(20), -1, 20), 0, 'negative offset');
  t.equal(ipVersion(ipv4Header(20), 0, -1), 0, 'negative length');
  t.equal(ipVersion(ipv4Header(20), 0.5, 10), 0, 'fractional offset');
  t.equal(ipVersion(ipv4Header(20), NaN, 20), 0, 'NaN offset');
  const other = new Uint8Array(40);
  for (const first of [0x00, 0x50, 0x70, 0xf0]) {
    other[0] = first;
    t.equal(ipVersion(other, 0, 40), 0, `version nibble ${first >>> 4}`);
  }
  // At an offset inside a larger buffer.
  const framed = new Uint8Array(100);
  framed.set(ipv6Header(10), 16);
  t.equal(ipVersion(framed, 16, 50), 6);
  t.equal(ipVersion(framed, 16, 84), 6);
  t.equal(ipVersion(framed, 16, 85), 0, 'runs past the end');
  t.equal(ipVersion(framed, 0, 100), 0, 'zero version nibble at offset 0');
});

t.test('ipTotalLength', async (t) => {
  t.equal(ipTotalLength(ipv4Header(20), 0, 20), 20);
  t.equal(ipTotalLength(ipv4Header(60, 100), 0, 100), 60, 'trailing padding ignored');
  t.equal(ipTotalLength(ipv4Header(100, 100), 0, 100), 100);
  t.equal(ipTotalLength(ipv4Header(101, 100), 0, 100), 0, 'claims more than len');
  t.equal(ipTotalLength(ipv4Header(19, 100), 0, 100), 0, 'shorter than a header');
  t.equal(ipTotalLength(ipv4Header(0, 100), 0, 100), 0);
  t.equal(ipTotalLength(ipv4Header(20, 19), 0, 19), 0, 'truncated header');
  t.equal(ipTotalLength(ipv4Header(65535, 100), 0, 100), 0);
  t.equal(ipTotalLength(ipv6Header(0), 0, 40), 40);
  t.equal(ipTotalLength(ipv6Header(60, 200), 0, 200), 100);
  t.equal(ipTotalLength(ipv6Header(160, 200), 0, 200), 200);
  t.equal(ipTotalLength(ipv6Header(161, 200), 0, 200), 0, 'claims more than len');
  t.equal(ipTotalLength(ipv6Header(0, 39), 0, 39), 0, 'truncated header');
  t.equal(ipTotalLength(new Uint8Array(60), 0, 60), 0, 'not IP');
  t.equal(ipTotalLength(ipv4Header(20), 0, 30), 0, 'len beyond the buffer');

  const framed = new Uint8Array(128);
  framed.set(ipv4Header(28), 32);
  t.equal(ipTotalLength(framed, 32, 28), 28);
  t.equal(ipTotalLength(framed, 32, 27), 0);
  t.equal(ipTotalLength(framed, 32, 96), 28);
});

t.test('header address offsets', async (t) => {
  t.equal(IPV4_SRC_OFFSET, 12);
  t.equal(IPV4_DST_OFFSET, 16);
  t.equal(IPV6_SRC_OFFSET, 8);
  t.equal(IPV6_DST_OFFSET, 24);
});
