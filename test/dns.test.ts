// The DNS stub resolver's wire code (src/control/dns.ts): query bytes checked
// by hand, responses of every kind, and a seeded fuzz of mutated responses
// compared with a slow, obviously written reference parser. Pure, so
// test/quickjs.test.ts runs it on QuickJS too.
import t from 'tap';
import {
  encodeQuery, familyOf, hostnameError, orderAddresses, parseResolvConf, parseResponse, reresolveDue,
  RERESOLVE_AFTER_MS, TYPE_A, TYPE_AAAA, type ParsedResponse, type QueryType,
} from '../src/control/dns.js';
import { buildResponse, ipv4, ipv6, type ResourceRecord, type ResponseSpec } from './helpers/dns-wire.js';

const NAME = 'vpn.example.org';
const ascii = (s: string): number[] => Array.from(s, (c) => c.charCodeAt(0));
const a = (name: string, address: string, ttl = 300): ResourceRecord => ({ name, type: TYPE_A, ttl, data: ipv4(address) });
const aaaa = (name: string, address: string, ttl = 300): ResourceRecord => ({ name, type: TYPE_AAAA, ttl, data: ipv6(address) });
const cname = (name: string, target: string, ttl = 300): ResourceRecord => ({ name, type: 5, ttl, data: { name: target } });
const soa = (name: string, ttl: number, minimum: number): ResourceRecord =>
  ({ name, type: 6, ttl, data: { soa: { mname: `ns1.${name}`, rname: `hostmaster.${name}`, minimum } } });

function response(spec: Partial<ResponseSpec> & { qtype?: number }): Uint8Array {
  const { qtype, ...rest } = spec;
  return buildResponse({ id: 0x1234, question: { name: NAME, type: qtype ?? TYPE_A }, ...rest });
}

function parsed(msg: Uint8Array, type: QueryType = TYPE_A, name = NAME, id = 0x1234): unknown {
  const r = parseResponse(msg, id, name, type);
  return 'error' in r ? r : { addresses: r.addresses.map((x) => Array.from(x).join(x.length === 4 ? '.' : ',')), ttl: r.ttl };
}

t.test('a query for vpn.example.org, byte by byte', async (t) => {
  const question = [3, ...ascii('vpn'), 7, ...ascii('example'), 3, ...ascii('org'), 0];
  t.strictSame(Array.from(encodeQuery(0x1234, NAME, TYPE_A)),
    [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, ...question, 0, 1, 0, 1], 'A: id, RD only, one question, class IN');
  t.strictSame(Array.from(encodeQuery(0xfedc, NAME, TYPE_AAAA)),
    [0xfe, 0xdc, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, ...question, 0, 28, 0, 1], 'AAAA: type 28');
  t.strictSame(encodeQuery(1, `${NAME}.`, TYPE_A), encodeQuery(1, NAME, TYPE_A), 'a trailing dot (absolute name) is the same query');
  t.strictSame(Array.from(encodeQuery(0, 'Router', TYPE_A).subarray(12)), [6, ...ascii('Router'), 0, 0, 1, 0, 1], 'a single label, case kept');
});

t.test('host name validation', async (t) => {
  const long63 = 'a'.repeat(63);
  const name253 = `${long63}.${long63}.${long63}.${'b'.repeat(61)}`;
  t.equal(name253.length, 253);
  for (const good of ['_wg._udp.example.org', 'xn--bcher-kva.example', 'router', `${long63}.example`, name253, `${name253}.`, '1.2.3.example', 'a-b.c_d']) {
    t.equal(hostnameError(good), null, `accepts ${good.length > 40 ? `${good.length} characters` : good}`);
    t.doesNotThrow(() => encodeQuery(7, good, TYPE_AAAA), 'and encodes it');
  }
  const bad: [string, RegExp][] = [
    ['', /empty/], ['.', /empty/], ['a..b', /empty label/], ['.example', /empty label/], [`${'a'.repeat(64)}.example`, /longer than 63/],
    [`${name253}x`, /longer than 253/], ['bücher.example', /IDNA.*xn--/], ['a b.example', /letters, digits/],
    ['vpn.example.org:51820', /letters, digits/], ['-vpn.example', /starting or ending/], ['vpn-.example', /starting or ending/],
  ];
  for (const [name, why] of bad) {
    t.match(hostnameError(name), why, `rejects ${JSON.stringify(name.length > 40 ? `${name.slice(0, 20)}…` : name)}`);
    t.throws(() => encodeQuery(7, name, TYPE_A), { message: why }, 'encodeQuery throws the same reason');
  }
  t.throws(() => encodeQuery(0x10000, NAME, TYPE_A), RangeError, 'id above 16 bits');
  t.throws(() => encodeQuery(1, NAME, 5 as QueryType), RangeError, 'a type other than A/AAAA');
});

t.test('answers', async (t) => {
  t.strictSame(parsed(response({ answers: [a(NAME, '192.0.2.1', 600), a(NAME, '192.0.2.2', 120)] })),
    { addresses: ['192.0.2.1', '192.0.2.2'], ttl: 120 }, 'two A records in order, the smaller TTL');
  t.strictSame(parsed(response({ qtype: TYPE_AAAA, answers: [aaaa(NAME, '2001:db8::1', 60)] }), TYPE_AAAA),
    { addresses: ['32,1,13,184,0,0,0,0,0,0,0,0,0,0,0,1'], ttl: 60 }, 'an AAAA record');
  t.strictSame(parsed(response({ compress: true, answers: [a(NAME, '192.0.2.1')] })),
    { addresses: ['192.0.2.1'], ttl: 300 }, 'owner compressed to a pointer at the question');
  t.strictSame(parsed(buildResponse({ id: 0x1234, question: { name: 'VPN.Example.ORG', type: TYPE_A }, answers: [a('vpn.EXAMPLE.org', '192.0.2.9')] })),
    { addresses: ['192.0.2.9'], ttl: 300 }, 'names compare without case');
  t.strictSame(parsed(response({ answers: [a('other.example.org', '198.51.100.1'), aaaa(NAME, '2001:db8::1'), a(NAME, '192.0.2.1')] })),
    { addresses: ['192.0.2.1'], ttl: 300 }, 'records of other names and other types are ignored');
  t.strictSame(parsed(response({ answers: [{ ...a(NAME, '192.0.2.1'), class: 3 }, a(NAME, '192.0.2.2')] })),
    { addresses: ['192.0.2.2'], ttl: 300 }, 'records of another class are ignored');
  t.strictSame(parsed(response({ answers: [a(NAME, '192.0.2.1', 0x80000000)] })), { addresses: ['192.0.2.1'], ttl: 0 },
    'a TTL with the top bit set counts as 0 (RFC 2181)');
  t.strictSame(parsed(response({ answers: [a(NAME, '192.0.2.1')], additional: [{ name: '', type: 41, class: 1232, ttl: 0, data: new Uint8Array(0) }] })),
    { addresses: ['192.0.2.1'], ttl: 300 }, 'an OPT record in the additional section is fine');
  t.strictSame(parsed(response({ authority: [a(NAME, '203.0.113.66')], additional: [a(NAME, '203.0.113.67')] })),
    { addresses: [], ttl: 0 }, 'addresses outside the answer section are not answers');

  const msg = response({ answers: [a(NAME, '192.0.2.1')] });
  const before = msg.slice();
  const r = parseResponse(msg, 0x1234, NAME, TYPE_A) as { addresses: Uint8Array[] };
  t.strictSame(msg, before, 'the message is not modified');
  msg.fill(0);
  t.strictSame(Array.from(r.addresses[0]!), [192, 0, 2, 1], 'addresses are copies, not views of the receive buffer');
});

t.test('CNAME chains', async (t) => {
  const chain = [cname(NAME, 'edge.cdn.example.net', 3600), cname('edge.cdn.example.net', 'pop7.cdn.example.net', 90), a('pop7.cdn.example.net', '203.0.113.7', 500)];
  t.strictSame(parsed(response({ answers: chain })), { addresses: ['203.0.113.7'], ttl: 90 }, 'followed; the TTL is the chain\'s smallest');
  t.strictSame(parsed(response({ compress: true, answers: chain })), { addresses: ['203.0.113.7'], ttl: 90 }, 'the same compressed');
  t.strictSame(parsed(response({ answers: [chain[2]!, chain[1]!, chain[0]!] })), { addresses: ['203.0.113.7'], ttl: 90 }, 'in any order');
  t.strictSame(parsed(response({ answers: [cname(NAME, 'gone.example.net', 40)], authority: [soa('example.net', 900, 60)] })),
    { addresses: [], ttl: 40 }, 'a chain to a name without addresses: none');
  t.strictSame(parsed(response({ answers: [cname(NAME, 'x.example.net'), a('y.example.net', '203.0.113.1')] })),
    { addresses: [], ttl: 0 }, 'addresses of a name off the chain are not ours');
  t.strictSame(parsed(response({ answers: [cname(NAME, 'b.example'), cname('b.example', NAME)] })), { error: 'malformed' }, 'a loop');
  const names = Array.from({ length: 10 }, (_, i) => (i === 0 ? NAME : `hop${i}.example`));
  const links = (n: number) => [...names.slice(0, n).map((from, i) => cname(from, names[i + 1]!)), a(names[n]!, '192.0.2.99')];
  t.strictSame(parsed(response({ compress: true, answers: links(8) })), { addresses: ['192.0.2.99'], ttl: 300 }, '8 links are followed');
  t.strictSame(parsed(response({ compress: true, answers: links(9) })), { error: 'malformed' }, '9 are not');
});

t.test('errors and foreign datagrams', async (t) => {
  t.strictSame(parsed(response({ rcode: 3, authority: [soa('example.org', 900, 60)] })), { error: 'nxdomain' }, 'NXDOMAIN');
  t.strictSame(parsed(response({ rcode: 2 })), { error: 'servfail' }, 'SERVFAIL');
  t.strictSame(parsed(response({ rcode: 5 })), { error: 'refused' }, 'REFUSED');
  t.strictSame(parsed(response({ rcode: 1 })), { error: 'servfail' }, 'FORMERR: this server cannot help');
  t.strictSame(parsed(response({ truncated: true, answers: [a(NAME, '192.0.2.1')] })), { error: 'truncated' }, 'TC bit, even with answers');
  t.strictSame(parsed(response({ authority: [soa('example.org', 900, 60)] })), { addresses: [], ttl: 60 }, 'no records of this type: the SOA\'s negative TTL');
  t.strictSame(parsed(response({ authority: [soa('example.org', 30, 600)] })), { addresses: [], ttl: 30 }, 'bounded by the SOA\'s own TTL');
  t.strictSame(parsed(response({ answers: [a(NAME, '192.0.2.1')] }), TYPE_A, NAME, 0x1235), { error: 'mismatch' }, 'another id');
  t.strictSame(parsed(response({ answers: [a(NAME, '192.0.2.1')] }), TYPE_A, 'vpn.example.com'), { error: 'mismatch' }, 'another name');
  t.strictSame(parsed(response({ answers: [a(NAME, '192.0.2.1')] }), TYPE_AAAA), { error: 'mismatch' }, 'another type');
  t.strictSame(parsed(buildResponse({ id: 0x1234, question: { name: NAME, type: 1, class: 3 }, answers: [a(NAME, '192.0.2.1')] })),
    { error: 'mismatch' }, 'another class');
  t.strictSame(parsed(buildResponse({ id: 0x1234, question: null, rcode: 5 })), { error: 'mismatch' }, 'no question');
  const two = response({ answers: [a(NAME, '192.0.2.1')] });
  two[5] = 2;
  t.strictSame(parsed(two), { error: 'mismatch' }, 'two questions');
  t.strictSame(parsed(encodeQuery(0x1234, NAME, TYPE_A)), { error: 'malformed' }, 'our own query reflected (QR clear)');
  const notify = response({ answers: [a(NAME, '192.0.2.1')] });
  notify[2] = notify[2]! | (4 << 3);
  t.strictSame(parsed(notify), { error: 'malformed' }, 'opcode NOTIFY');
  t.strictSame(parsed(new Uint8Array(11)), { error: 'malformed' }, 'shorter than a header');
  t.strictSame(parsed(response({ answers: [a(NAME, '192.0.2.1')] }), TYPE_A, 'bad..name'), { error: 'mismatch' }, 'an invalid name of ours never matches');
  t.strictSame(parseResponse(null as unknown as Uint8Array, 1, NAME, TYPE_A), { error: 'malformed' }, 'not even bytes');
});

t.test('malformed messages', async (t) => {
  const good = response({ compress: true, answers: [cname(NAME, 'edge.example.net'), a('edge.example.net', '192.0.2.1')], authority: [soa('example.net', 60, 60)] });
  let errors = 0;
  for (let n = 0; n < good.length; n++) {
    const r = parseResponse(good.subarray(0, n), 0x1234, NAME, TYPE_A);
    if ('error' in r) errors++;
    else t.fail(`cut to ${n} bytes gave ${JSON.stringify(r)}`);
  }
  t.equal(errors, good.length, `every one of ${good.length} prefixes is an error`);

  const base = Array.from(response({ answers: [] }));
  const withAnswer = (owner: number[], type = 1, rdata: number[] = [192, 0, 2, 1], rdlength = rdata.length): Uint8Array => {
    const m = Uint8Array.from([...base, ...owner, 0, type, 0, 1, 0, 0, 1, 0, rdlength >> 8, rdlength & 0xff, ...rdata]);
    m[7] = 1;
    return m;
  };
  const at = base.length;
  t.strictSame(parsed(withAnswer([0xc0, 12])), { addresses: ['192.0.2.1'], ttl: 256 }, 'the hand-made record itself is fine');
  t.strictSame(parsed(withAnswer([0xc0 | (at >> 8), at & 0xff])), { error: 'malformed' }, 'a pointer to itself');
  t.strictSame(parsed(withAnswer([0xc0, at + 4, 0])), { error: 'malformed' }, 'a pointer forwards');
  t.strictSame(parsed(withAnswer([0xc0])), { error: 'malformed' }, 'half a pointer');
  t.strictSame(parsed(withAnswer([0x40, 0])), { error: 'malformed' }, 'extended label type 0x40');
  t.strictSame(parsed(withAnswer([0x80, 0])), { error: 'malformed' }, 'label type 0x80');
  t.strictSame(parsed(withAnswer([0xc0, 12], 1, [192, 0, 2, 1, 0])), { error: 'malformed' }, 'an A record of 5 bytes');
  t.strictSame(parsed(withAnswer([0xc0, 12], 28, [192, 0, 2, 1]), TYPE_A), { addresses: [], ttl: 0 }, 'an AAAA record in an A answer is ignored');
  t.strictSame(parsed(withAnswer([0xc0, 12], 1, [192, 0, 2, 1], 6)), { error: 'malformed' }, 'RDLENGTH past the end');
  t.strictSame(parsed(withAnswer([0xc0, 12], 5, [0xc0, 12, 0])), { error: 'malformed' }, 'a CNAME with bytes after its name');
  const extra = withAnswer([0xc0, 12]);
  extra[7] = 2;
  t.strictSame(parsed(extra), { error: 'malformed' }, 'fewer records than the header counts');
  // A name of 4 × 63-byte labels plus the question's suffix is over 255 bytes on the wire.
  const longLabels = Array.from({ length: 4 }, () => [63, ...Array<number>(63).fill(0x61)]).flat();
  t.strictSame(parsed(withAnswer([...longLabels, 0xc0, 12])), { error: 'malformed' }, 'a name longer than 255 bytes');
});

// ---- fuzz against a slow, obviously written reference ----

/** The same rules as parseResponse, written the long way: decode everything, then decide. */
function referenceParse(msg: Uint8Array, id: number, name: string, type: number): ParsedResponse {
  const word = (i: number) => msg[i]! * 256 + msg[i + 1]!;
  if (msg.length < 12) return { error: 'malformed' };
  if (word(0) !== id) return { error: 'mismatch' };
  if (msg[2]! < 0x80 || ((msg[2]! >> 3) & 15) !== 0) return { error: 'malformed' };
  if (msg[2]! & 2) return { error: 'truncated' };
  if (word(4) !== 1) return { error: 'mismatch' };
  // name → [labels (lowercased), next offset] or null, recursively, counting pointers
  const decode = (p: number, pointers: number): { labels: string[]; wire: number } | null => {
    if (p >= msg.length) return null;
    const b = msg[p]!;
    if (b === 0) return { labels: [], wire: 1 };
    if (b >= 0xc0) {
      if (p + 1 >= msg.length) return null;
      const target = (b & 0x3f) * 256 + msg[p + 1]!;
      if (target >= p || pointers + 1 > 127) return null;
      return decode(target, pointers + 1);
    }
    if (b >= 0x40 || p + 1 + b > msg.length) return null;
    const label = Array.from(msg.subarray(p + 1, p + 1 + b), (c) => String.fromCharCode(c).replace(/[A-Z]/, (x) => x.toLowerCase())).join('');
    const rest = decode(p + 1 + b, pointers);
    if (rest === null || rest.wire + 1 + b > 255) return null;
    return { labels: [label, ...rest.labels], wire: rest.wire + 1 + b };
  };
  const inPlaceEnd = (p: number): number => {
    while (msg[p]! !== 0 && msg[p]! < 0xc0) p += 1 + msg[p]!;
    return msg[p] === 0 ? p + 1 : p + 2;
  };
  const readName = (p: number) => {
    const d = decode(p, 0);
    return d ? { key: JSON.stringify(d.labels), end: inPlaceEnd(p) } : null;
  };
  const q = readName(12);
  if (!q || q.end + 4 > msg.length) return { error: 'malformed' };
  if (q.key !== JSON.stringify(name.replace(/\.$/, '').toLowerCase().split('.')) || word(q.end) !== type || word(q.end + 2) !== 1) return { error: 'mismatch' };
  const rcode = msg[3]! & 15;
  if (rcode === 3) return { error: 'nxdomain' };
  if (rcode === 5) return { error: 'refused' };
  if (rcode !== 0) return { error: 'servfail' };
  const counts = [word(6), word(8), word(10)];
  const records: { section: number; owner: string; type: number; cls: number; ttl: number; data: [number, number] }[] = [];
  let p = q.end + 4;
  for (let section = 0; section < 3; section++) {
    for (let i = 0; i < counts[section]!; i++) {
      const owner = readName(p);
      if (!owner || owner.end + 10 > msg.length) return { error: 'malformed' };
      const e = owner.end;
      const ttl32 = msg[e + 4]! * 2 ** 24 + msg[e + 5]! * 65536 + word(e + 6);
      const start = e + 10, end = start + word(e + 8);
      if (end > msg.length) return { error: 'malformed' };
      records.push({ section, owner: owner.key, type: word(e), cls: word(e + 2), ttl: ttl32 >= 2 ** 31 ? 0 : ttl32, data: [start, end] });
      p = end;
    }
  }
  let negative = 0;
  const targets = new Map<string, { target: string; ttl: number }>();
  const found: { owner: string; address: Uint8Array; ttl: number }[] = [];
  for (const r of records) {
    if (r.cls !== 1) continue;
    const [start, end] = r.data;
    if (r.section === 0 && r.type === type) {
      if (end - start !== (type === 1 ? 4 : 16)) return { error: 'malformed' };
      found.push({ owner: r.owner, address: msg.slice(start, end), ttl: r.ttl });
    } else if (r.section === 0 && r.type === 5) {
      const target = readName(start);
      if (!target || target.end !== end) return { error: 'malformed' };
      if (!targets.has(r.owner)) targets.set(r.owner, { target: target.key, ttl: r.ttl });
    } else if (r.section === 1 && r.type === 6) {
      const m = readName(start);
      const rn = m && m.end <= end ? readName(m.end) : null;
      if (!rn || rn.end + 20 !== end) return { error: 'malformed' };
      const min32 = msg[end - 4]! * 2 ** 24 + msg[end - 3]! * 65536 + word(end - 2);
      negative = Math.min(r.ttl, min32 >= 2 ** 31 ? 0 : min32);
    }
  }
  let current = JSON.stringify(name.replace(/\.$/, '').toLowerCase().split('.'));
  let ttl = 2 ** 31 - 1;
  for (let hop = 0; hop <= 8; hop++) {
    const mine = found.filter((f) => f.owner === current);
    if (mine.length > 0) return { addresses: mine.map((f) => f.address), ttl: Math.min(ttl, ...mine.map((f) => f.ttl)) };
    const next = targets.get(current);
    if (!next) return { addresses: [], ttl: Math.min(ttl, negative) };
    ttl = Math.min(ttl, next.ttl);
    current = next.target;
  }
  return { error: 'malformed' };
}

/** xorshift32: the same sequence on Node and QuickJS. */
function prng(seed: number): (n: number) => number {
  let s = seed >>> 0 || 1;
  return (n) => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s % n;
  };
}

function containsRecordData(msg: Uint8Array, data: Uint8Array): boolean {
  outer: for (let i = 2; i + data.length <= msg.length; i++) {
    if (msg[i - 2] !== 0 || msg[i - 1] !== data.length) continue;
    for (let j = 0; j < data.length; j++) if (msg[i + j] !== data[j]) continue outer;
    return true;
  }
  return false;
}

t.test('fuzz: thousands of mutated responses', async (t) => {
  const seeds: [Uint8Array, QueryType][] = [
    [response({ answers: [a(NAME, '192.0.2.1', 60), a(NAME, '192.0.2.2', 70)] }), TYPE_A],
    [response({ compress: true, answers: [cname(NAME, 'edge.example.net', 30), cname('edge.example.net', 'pop.example.net'), a('pop.example.net', '203.0.113.5')] }), TYPE_A],
    [response({ qtype: TYPE_AAAA, compress: true, answers: [aaaa(NAME, '2001:db8::1'), aaaa(NAME, '2001:db8::2', 20)], additional: [a(NAME, '192.0.2.3')] }), TYPE_AAAA],
    [response({ compress: true, authority: [soa('example.org', 900, 120)] }), TYPE_A],
    [response({ rcode: 3, compress: true, authority: [soa('example.org', 900, 120)] }), TYPE_A],
  ];
  const rand = prng(0x5eed1234);
  const special = [0, 1, 4, 16, 0x3f, 0x40, 0x80, 0xc0, 0xc1, 0xff];
  const counts: Record<string, number> = {};
  let disagreements = 0, garbage = 0, thrown = 0, mutated = 0;
  const ITERATIONS = 6000;
  for (let iter = 0; iter < ITERATIONS; iter++) {
    const [seed, type] = seeds[iter % seeds.length]!;
    const bytes = Array.from(seed);
    for (let m = 1 + rand(4); m > 0; m--) {
      // Mostly after the question, where a mutation gets past the checks that reject foreign datagrams.
      const pos = rand(4) === 0 ? rand(bytes.length) : 33 + rand(Math.max(1, bytes.length - 33));
      switch (rand(7)) {
        case 0: bytes[pos] = bytes[pos]! ^ (1 << rand(8)); break;
        case 1: bytes[pos] = special[rand(special.length)]!; break;
        case 2: bytes.length = rand(bytes.length + 1); break;
        case 3: for (let k = rand(8); k >= 0; k--) bytes.push(rand(256)); break;
        case 4: bytes.splice(pos, 0, 0xc0 | rand(2), rand(bytes.length)); break; // a pointer anywhere
        case 5: bytes.splice(pos, 0, ...bytes.slice(rand(bytes.length), rand(bytes.length))); break;
        default: bytes[6 + rand(6)] = rand(4); break; // record counts
      }
    }
    if (bytes.length >= 2 && rand(10) !== 0) { bytes[0] = 0x12; bytes[1] = 0x34; }
    const msg = Uint8Array.from(bytes);
    const copy = msg.slice();
    let r: ParsedResponse;
    try {
      r = parseResponse(msg, 0x1234, NAME, type);
    } catch (e) {
      if (thrown++ < 3) t.fail(`threw ${String(e)} on [${bytes.join(',')}]`);
      continue;
    }
    if (msg.some((b, i) => b !== copy[i])) mutated++;
    const key = 'error' in r ? r.error : r.addresses.length > 0 ? 'addresses' : 'none';
    counts[key] = (counts[key] ?? 0) + 1;
    if (!('error' in r)) {
      const sane = Number.isInteger(r.ttl) && r.ttl >= 0 && r.ttl <= 0x7fffffff &&
        r.addresses.every((x) => x instanceof Uint8Array && x.length === (type === TYPE_A ? 4 : 16) && containsRecordData(msg, x));
      if (!sane && garbage++ < 3) t.fail(`garbage ${JSON.stringify(r)} from [${bytes.join(',')}]`);
    }
    const expected = referenceParse(msg, 0x1234, NAME, type);
    if (JSON.stringify(r, (_k, v) => (v instanceof Uint8Array ? Array.from(v) : v)) !==
        JSON.stringify(expected, (_k, v) => (v instanceof Uint8Array ? Array.from(v) : v))) {
      if (disagreements++ < 3) t.fail(`differs from the reference on [${bytes.join(',')}]: ${JSON.stringify(parsed(msg, type))} vs ${JSON.stringify(expected)}`);
    }
  }
  t.equal(thrown, 0, `never throws (${ITERATIONS} messages)`);
  t.equal(garbage, 0, 'every answer is well formed and taken from an address record of the message');
  t.equal(disagreements, 0, 'agrees with the reference parser');
  t.equal(mutated, 0, 'never writes to the message');
  t.comment(`outcomes: ${JSON.stringify(counts)}`);
  // The fuzz must reach deep: valid answers, malformed ones and foreign ones all occur often.
  t.ok((counts.addresses ?? 0) > 300, 'many mutations still parse to addresses');
  t.ok((counts.malformed ?? 0) > 1000, 'many are malformed');
  t.ok((counts.mismatch ?? 0) > 100, 'some are foreign');
});

t.test('resolv.conf', async (t) => {
  t.strictSame(parseResolvConf('search lan\nnameserver 127.0.0.1\n'), { servers: ['127.0.0.1'] }, "OpenWrt's: dnsmasq");
  t.strictSame(parseResolvConf([
    '# generated', '; also a comment', '  nameserver   192.0.2.53  # trailing words are ignored', 'nameserver 2001:DB8::53',
    'nameserver fe80::1%eth0', 'nameserver dns.example', 'nameserver 198.51.100.53', 'nameserver 203.0.113.53',
    'options ndots:2 timeout:3 attempts:4 rotate', 'domain lan',
  ].join('\n')), { servers: ['192.0.2.53', '2001:db8::53', '198.51.100.53'], ndots: 2, timeoutMs: 3000, attempts: 4 },
  'addresses canonical, zone ids and names skipped, at most 3, options read');
  t.strictSame(parseResolvConf(''), { servers: ['127.0.0.1'] }, 'empty: the local resolver');
  t.strictSame(parseResolvConf('#nameserver 192.0.2.1\nnameserver\n'), { servers: ['127.0.0.1'] }, 'commented out or empty lines');
  t.strictSame(parseResolvConf('options timeout:0 attempts:99 ndots:x\noptions timeout:100\n'), { servers: ['127.0.0.1'], timeoutMs: 30000, attempts: 5 },
    'out-of-range values are clamped, non-numbers ignored, later lines win');
  t.strictSame(parseResolvConf('nameserver 192.0.2.1\r\noptions attempts:1\r\n'), { servers: ['192.0.2.1'], attempts: 1 }, 'CRLF');
});

t.test('address order and re-resolution', async (t) => {
  const v4a = ipv4('192.0.2.1'), v4b = ipv4('192.0.2.2'), v6a = ipv6('2001:db8::1'), v6b = ipv6('2001:db8::2');
  const mixed = [v6a, v4a, v6b, v4b];
  t.strictSame(orderAddresses(mixed), [v4a, v4b, v6a, v6b], 'no current endpoint: IPv4 first, order kept within a family');
  t.strictSame(orderAddresses(mixed, 4), [v4a, v4b, v6a, v6b], 'current endpoint IPv4');
  t.strictSame(orderAddresses(mixed, 6), [v6a, v6b, v4a, v4b], 'current endpoint IPv6: IPv6 first');
  t.strictSame(orderAddresses([v6a], 4), [v6a], 'only the other family: still returned');
  t.not(orderAddresses(mixed), mixed, 'a new array');
  t.equal(familyOf('192.0.2.1'), 4);
  t.equal(familyOf('2001:db8::1'), 6);
  t.equal(familyOf('vpn.example.org'), null);
  t.equal(familyOf(null), null);
  t.equal(RERESOLVE_AFTER_MS, 150_000, "the watchdog's 150 s");
  const now = 1_700_000_000_000;
  t.ok(reresolveDue(0, now), 'never had a handshake');
  t.notOk(reresolveDue(now - 149_999, now), 'a recent handshake');
  t.ok(reresolveDue(now - 150_000, now), '150 s ago');
});
