// blob/blobmsg codec and ubus message framing: the worked bytes of
// OPENWRT-FACTS.md §4.6, hand-computed encodings of every type, round trips
// of nested values, and malformed input (hand-made and a few thousand seeded
// random mutations) rejected without throwing. Pure, so it also runs on QuickJS.
import t from 'tap';
import {
  BlobWriter, BLOBMSG_MAX_DEPTH, decodeBlobmsg, decodeBlobmsgArray, decodeBlobmsgTable, encodeBlobmsg,
  encodeBlobmsgTable, readBlobAttrs, typed, utf8Decode, utf8Encode, type BlobmsgTable, type BlobmsgValue,
} from '../src/control/blobmsg.js';
import {
  encodeUbusMessage, parseUbusMessage, ubusFrameLength, UbusMsg, UbusStatus, ubusStatusText, UBUS_MAX_MSGLEN,
} from '../src/control/ubusmsg.js';
import { UbusConnection } from '../src/control/ubus.js';
import { toHex } from '../src/crypto/encoding.js';

/** Hex digits plus "quoted ASCII" (with \0), spaces and | ignored: the notation of OPENWRT-FACTS §4.6. */
function bytes(spec: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < spec.length; ) {
    const c = spec[i]!;
    if (c === '"') {
      i++;
      while (spec[i] !== '"') {
        if (spec[i] === '\\' && spec[i + 1] === '0') {
          out.push(0);
          i += 2;
        } else out.push(spec.charCodeAt(i++));
      }
      i++;
    } else if (/[0-9a-fA-F]/.test(c)) {
      out.push(parseInt(spec.slice(i, i + 2), 16));
      i += 2;
    } else i++;
  }
  return Uint8Array.from(out);
}

/** A seeded xorshift32 PRNG (deterministic test data, not for keys). */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

t.test('worked bytes of OPENWRT-FACTS §4.6', async (t) => {
  const lookup = bytes('00 04 0001 00000000 | 0000001c | 02000016 "network.interface\\0" 0000');
  t.equal(toHex(encodeUbusMessage(UbusMsg.LOOKUP, 1, 0, { objpath: 'network.interface' })), toHex(lookup), 'LOOKUP network.interface, seq 1');
  const invoke = bytes('00 05 0002 12345678 | 0000001c | 03000008 12345678 | 0400000b "status\\0" 00 | 07000004');
  t.equal(toHex(encodeUbusMessage(UbusMsg.INVOKE, 2, 0x12345678, { objid: 0x12345678, method: 'status', data: encodeBlobmsgTable({}) })),
    toHex(invoke), 'INVOKE status on 0x12345678 with {}, seq 2');
  const ifname = bytes('83000014 0006 "ifname\\0" 000000 "wg0\\0"');
  t.equal(toHex(encodeBlobmsg('ifname', 'wg0')), toHex(ifname), 'blobmsg string ifname="wg0"');

  const l = parseUbusMessage(lookup, 0, lookup.length);
  t.same(l, { type: UbusMsg.LOOKUP, seq: 1, peer: 0, attrs: { objpath: 'network.interface' } }, 'LOOKUP parses back');
  const i = parseUbusMessage(invoke, 0, invoke.length);
  t.equal(i?.type, UbusMsg.INVOKE);
  t.equal(i?.seq, 2);
  t.equal(i?.peer, 0x12345678);
  t.equal(i?.attrs.objid, 0x12345678);
  t.equal(i?.attrs.method, 'status');
  t.equal(i?.attrs.data?.length, 0, 'empty DATA');
  t.same(decodeBlobmsgTable(i!.attrs.data!), {}, 'DATA is {}');
  t.same(decodeBlobmsg(ifname), { name: 'ifname', value: 'wg0' }, 'ifname parses back');
  t.equal(ubusFrameLength(lookup, 0, lookup.length), lookup.length, 'frame length from the header');
  t.equal(ubusFrameLength(lookup, 0, 11), 0, 'needs 12 bytes to tell');
});

t.test('every blobmsg type, byte for byte', async (t) => {
  const cases: [string, BlobmsgTable, string][] = [
    ['int32', { a: 1 }, '8500000c 0001 "a\\0" 00000001'],
    ['negative int32', { a: -2 }, '8500000c 0001 "a\\0" fffffffe'],
    ['int64 from a number above int32', { a: 2 ** 40 }, '84000010 0001 "a\\0" 00000100 00000000'],
    ['negative int64', { a: -(2 ** 40) }, '84000010 0001 "a\\0" ffffff00 00000000'],
    ['int64 from a bigint', { a: BigInt('0x123456789abcdef0') }, '84000010 0001 "a\\0" 12345678 9abcdef0'],
    ['uint64 max from a bigint', { a: BigInt('18446744073709551615') }, '84000010 0001 "a\\0" ffffffff ffffffff'],
    ['double', { a: 1.5 }, '88000010 0001 "a\\0" 3ff80000 00000000'],
    ['double for an unsafe integer', { a: 2 ** 60 }, '88000010 0001 "a\\0" 43b00000 00000000'],
    ['bool', { a: true, b: false }, '87000009 0001 "a\\0" 01000000 87000009 0001 "b\\0" 00000000'],
    ['typed int8', { a: typed('int8', 200) }, '87000009 0001 "a\\0" c8000000'],
    ['typed int16', { a: typed('int16', -2) }, '8600000a 0001 "a\\0" fffe0000'],
    ['typed int32 above 2^31 (an object id)', { a: typed('int32', 0xfffffffe) }, '8500000c 0001 "a\\0" fffffffe'],
    ['typed int64 for a small number', { a: typed('int64', 1) }, '84000010 0001 "a\\0" 00000000 00000001'],
    ['typed double for an integer', { a: typed('double', 2) }, '88000010 0001 "a\\0" 40000000 00000000'],
    ['null is UNSPEC', { a: null }, '80000008 0001 "a\\0"'],
    ['bytes are UNSPEC with data', { a: Uint8Array.of(1, 2, 3) }, '8000000b 0001 "a\\0" 01020300'],
    ['empty string', { s: '' }, '83000009 0001 "s\\0" 00000000'],
    ['string padded to 4', { s: 'abcd' }, '8300000d 0001 "s\\0" "abcd\\0" 000000'],
    ['table', { t: { x: 'y' } }, '82000014 0001 "t\\0" 8300000a 0001 "x\\0" "y\\0" 0000'],
    ['array (elements have empty names)', { l: [1, 'a'] }, '81000020 0001 "l\\0" 8500000c 0000 0000 00000001 8300000a 0000 0000 "a\\0" 0000'],
    ['empty table and array', { t: {}, l: [] }, '82000008 0001 "t\\0" 81000008 0001 "l\\0"'],
    ['long name', { abcdef: 1 }, '85000014 0006 "abcdef\\0" 000000 00000001'],
    ['UTF-8 name and value', { 'ä': '😀' }, '83000011 0002 c3a4 00 000000 f09f9880 00 000000'],
  ];
  for (const [what, value, hex] of cases) {
    const encoded = encodeBlobmsgTable(value);
    t.equal(toHex(encoded), toHex(bytes(hex)), what);
    const back = decodeBlobmsgTable(encoded, 0, encoded.length, { typed: true });
    t.ok(back, `${what}: decodes`);
    t.equal(toHex(encodeBlobmsgTable(back!)), toHex(encoded), `${what}: typed decoding re-encodes byte for byte`);
  }
});

t.test('plain decoding', async (t) => {
  const d = (v: BlobmsgTable) => { const b = encodeBlobmsgTable(v); return decodeBlobmsgTable(b); };
  t.same(d({ a: typed('int8', 5) }), { a: true }, 'INT8 reads as a boolean, as libubox formats it');
  t.same(d({ a: typed('int16', 40000) }), { a: -25536 }, 'INT16 is signed');
  t.same(d({ a: typed('int32', 0xfffffffe) }), { a: -2 }, 'INT32 is signed');
  t.same(d({ a: BigInt('18446744073709551615') }), { a: -1 }, 'INT64 is signed; small values come back as numbers');
  const big = d({ a: BigInt('0x7fffffffffffffff') })!.a;
  t.equal(typeof big, 'bigint', 'INT64 beyond 2^53 comes back as a bigint');
  t.equal(String(big), '9223372036854775807');
  t.equal(d({ a: 2 ** 53 - 1 })!.a, 2 ** 53 - 1, 'largest safe integer survives');
  t.equal(d({ a: -(2 ** 53 - 1) })!.a, -(2 ** 53 - 1), 'smallest safe integer survives');
  t.ok(Number.isNaN(d({ a: NaN })!.a as number), 'NaN survives as a DOUBLE');
  t.equal(d({ a: -Infinity })!.a, -Infinity, '-Infinity survives');
  t.same(d({ a: undefined as unknown as BlobmsgValue, b: 1 }), { b: 1 }, 'undefined entries are skipped like JSON');
  t.same(d({ l: [undefined as unknown as BlobmsgValue] }), { l: [null] }, 'undefined array elements become null');
  const proto = d(JSON.parse('{"__proto__": {"x": 1}}') as BlobmsgTable)!;
  t.ok(Object.prototype.hasOwnProperty.call(proto, '__proto__'), '"__proto__" is an own key');
  t.equal(Object.getPrototypeOf(proto), Object.prototype, 'and not a prototype');
  // Two entries with the same name: the first wins, as with blobmsg_parse.
  const w = new BlobWriter();
  w.putBlobmsg('k', 1);
  w.putBlobmsg('k', 2);
  t.same(decodeBlobmsgTable(w.finish()), { k: 1 }, 'duplicate names: the first wins');
  t.same(decodeBlobmsgArray(encodeBlobmsgTable({ a: 1, b: 'x' })), [1, 'x'], 'a list read as an array drops the names');
});

t.test('UTF-8', async (t) => {
  const text = 'a\u00e9\u4e2d\ud83d\ude00z';
  t.equal(toHex(utf8Encode(text)), '61c3a9e4b8adf09f98807a');
  t.equal(utf8Decode(utf8Encode(text), 0, utf8Encode(text).length), text, 'round trip');
  t.equal(toHex(utf8Encode('\ud800x')), 'efbfbd78', 'a lone surrogate becomes U+FFFD');
  const bad = Uint8Array.of(0x61, 0xc0, 0xaf, 0xed, 0xa0, 0x80, 0xf4, 0x90, 0x80, 0x80, 0xe2, 0x82, 0x62);
  t.equal(utf8Decode(bad, 0, bad.length), 'a\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd\ufffdb', 'overlong, surrogate, too large and truncated sequences each decode to U+FFFD per byte');
});

t.test('round trips of nested values', async (t) => {
  const next = prng(0x5eed);
  const pick = (n: number) => next() % n;
  const str = (): string => {
    const alphabet = ['a', 'Z', '9', '-', '.', ' ', '\u00e9', '\u4e2d', '\ud83d\ude00', '"', '\\', '\n'];
    let s = '';
    for (let i = pick(12); i > 0; i--) s += alphabet[pick(alphabet.length)];
    return s;
  };
  const value = (depth: number): BlobmsgValue => {
    switch (pick(depth > 4 ? 7 : 9)) {
      case 0: return str();
      case 1: return pick(2) === 0;
      case 2: return (next() | 0);
      case 3: return (pick(2) ? 1 : -1) * (2 ** 32 + next() * 1024 + pick(1024));
      case 4: return (next() / 7) + 0.5;
      case 5: return null;
      case 6: return Uint8Array.from({ length: 1 + pick(9) }, () => pick(256));
      case 7: return Array.from({ length: pick(5) }, () => value(depth + 1));
      default: {
        const out: BlobmsgTable = {};
        for (let i = pick(5); i > 0; i--) out[str() || 'k'] = value(depth + 1);
        return out;
      }
    }
  };
  let failures = 0;
  let first = '';
  for (let i = 0; i < 500; i++) {
    const v: BlobmsgTable = {};
    for (let k = 1 + pick(4); k > 0; k--) v[`k${k}${str()}`] = value(0);
    const encoded = encodeBlobmsgTable(v);
    const plain = decodeBlobmsgTable(encoded);
    const exact = decodeBlobmsgTable(encoded, 0, encoded.length, { typed: true });
    const ok = plain !== null && exact !== null && JSON.stringify(plain, replacer) === JSON.stringify(v, replacer)
      && toHex(encodeBlobmsgTable(exact)) === toHex(encoded);
    if (!ok && failures++ === 0) first = JSON.stringify(v, replacer);
  }
  t.equal(failures, 0, `500 random nested values survive encoding${first ? `; first failure: ${first}` : ''}`);
  const deep: BlobmsgTable = {};
  let at = deep;
  for (let i = 0; i <= BLOBMSG_MAX_DEPTH; i++) at = (at.n = {}) as BlobmsgTable;
  t.ok(decodeBlobmsgTable(encodeBlobmsgTable(deep)), `${BLOBMSG_MAX_DEPTH} levels of nesting are fine`);
  at.n = {};
  t.throws(() => encodeBlobmsgTable(deep), RangeError, 'one more is refused by the encoder');
});

function replacer(_k: string, v: unknown): unknown {
  if (v instanceof Uint8Array) return `bytes:${toHex(v)}`;
  if (typeof v === 'bigint') return `${v}n`;
  return v;
}

t.test('values the encoder refuses', async (t) => {
  t.throws(() => encodeBlobmsgTable({ a: typed('int8', 256) }), RangeError, 'int8 out of range');
  t.throws(() => encodeBlobmsgTable({ a: typed('int32', 1.5) }), RangeError, 'int32 not an integer');
  t.throws(() => encodeBlobmsgTable({ a: typed('int64', 2 ** 60) }), RangeError, 'unsafe number as int64');
  t.throws(() => encodeBlobmsgTable({ a: BigInt(2) ** BigInt(64) }), RangeError, 'bigint beyond 64 bits');
  t.throws(() => encodeBlobmsgTable({ a: 'x\0y' }), RangeError, 'NUL inside a string');
  t.throws(() => encodeBlobmsgTable({ ['a\0']: 1 }), RangeError, 'NUL inside a name');
  t.throws(() => encodeBlobmsgTable({ a: (() => 1) as unknown as BlobmsgValue }), TypeError, 'a function');
  t.throws(() => encodeBlobmsgTable({ a: new Date(0) as unknown as BlobmsgValue }), TypeError, 'a class instance');
  t.throws(() => encodeBlobmsgTable({ a: typed('string', 1) }), TypeError, 'typed string with a number');
  const cyclic: BlobmsgTable = {};
  cyclic.self = cyclic;
  t.throws(() => encodeBlobmsgTable(cyclic), RangeError, 'a cycle hits the depth limit');
  t.throws(() => encodeBlobmsgTable({ big: new Uint8Array(0x1000000) }), RangeError, 'an attribute longer than 2^24 - 1 bytes');
});

t.test('malformed blobmsg is rejected', async (t) => {
  const bad: [string, string][] = [
    ['truncated header', '850000'],
    ['length below 4', '85000003'],
    ['length beyond the buffer', '85000010 0001 "a\\0" 00000001'],
    ['padding beyond the buffer', '8300000a 0001 "a\\0" "y\\0"'],
    ['not extended', '0500000c 0001 "a\\0" 00000001'],
    ['unknown type 9', '8900000c 0001 "a\\0" 00000001'],
    ['no room for the name header', '85000006 00010000'],
    ['name length beyond the attribute', '8500000c 0009 "a\\0" 00000001'],
    ['name without its NUL', '8500000c 0001 6162 00000001'],
    ['NUL inside the name', '85000010 0002 6100 00 000000 00000001'],
    ['string without NUL', '8300000c 0001 "a\\0" 61626364'],
    ['string with an inner NUL', '8300000c 0001 "a\\0" 61006200'],
    ['empty string payload', '83000008 0001 "a\\0"'],
    ['int32 of 2 bytes', '8500000a 0001 "a\\0" 00010000'],
    ['int8 of 2 bytes', '8700000a 0001 "a\\0" 01010000'],
    ['int64 of 4 bytes', '8400000c 0001 "a\\0" 00000001'],
    ['double of 4 bytes', '8800000c 0001 "a\\0" 3ff80000'],
    ['int16 of 4 bytes', '8600000c 0001 "a\\0" 00000001'],
    ['trailing garbage', '8500000c 0001 "a\\0" 00000001 0000'],
    ['bad child in a table', '82000014 0001 "t\\0" 8300000a 0001 "x\\0" 7979 0000'],
    ['child longer than its table', '82000010 0001 "t\\0" 8500000c 0001 "x\\0" 00000001'],
  ];
  for (const [what, hex] of bad) {
    const b = bytes(hex);
    let result: unknown = 'threw';
    try { result = decodeBlobmsgTable(b); } catch { /* reported below */ }
    t.equal(result, null, what);
  }
  // Nesting deeper than the limit, built by hand since the encoder refuses it.
  let inner = bytes('81000008 0000 0000');
  for (let i = 0; i < BLOBMSG_MAX_DEPTH + 5; i++) {
    const w = new BlobWriter();
    const a = w.startAttr(1, true);
    w.u16(0); w.u8(0); w.u8(0);
    w.bytes(inner);
    w.endAttr(a);
    inner = w.finish();
  }
  t.equal(decodeBlobmsgTable(inner), null, 'nesting beyond the limit');
  t.equal(decodeBlobmsgTable(new Uint8Array(4), 2, 8), null, 'range beyond the buffer');
  t.equal(decodeBlobmsgTable(new Uint8Array(4), 0, -1), null, 'negative length');
  t.same(decodeBlobmsgTable(new Uint8Array(0)), {}, 'an empty list is an empty table');
  t.equal(readBlobAttrs(new Uint8Array(8), 0, 9), null, 'readBlobAttrs checks its range');
});

t.test('malformed ubus messages are rejected', async (t) => {
  const good = encodeUbusMessage(UbusMsg.INVOKE, 7, 0x80000001, { objid: 0x80000001, method: 'x', data: encodeBlobmsgTable({ a: 1 }) });
  const m = parseUbusMessage(good, 0, good.length);
  t.equal(m?.peer, 0x80000001, 'peer is unsigned');
  t.equal(m?.attrs.objid, 0x80000001, 'object id is unsigned');
  const st = encodeUbusMessage(UbusMsg.STATUS, 1, 0, { status: UbusStatus.METHOD_NOT_FOUND, objid: 5 });
  t.equal(parseUbusMessage(st, 0, st.length)?.attrs.status, 3, 'status');
  const sub = encodeUbusMessage(UbusMsg.STATUS, 1, 0, { subscribers: [0x90000000, 7], active: true, noReply: false, target: 9, user: 'root', group: 'root', objtype: 4 });
  t.same(parseUbusMessage(sub, 0, sub.length)?.attrs, { subscribers: [0x90000000, 7], active: true, noReply: false, target: 9, user: 'root', group: 'root', objtype: 4 }, 'the other attributes');
  t.equal(ubusStatusText(3), 'Method not found');
  t.equal(ubusStatusText(99), 'Unknown error: 99');

  const cases: [string, Uint8Array][] = [
    ['version 1', bytes('01 04 0001 00000000 00000004')],
    ['container below 4', bytes('00 04 0001 00000000 00000003')],
    ['STATUS of 2 bytes', bytes('00 01 0001 00000000 0000000c 01000006 0000 0000')],
    ['OBJPATH without NUL', bytes('00 04 0001 00000000 0000000c 02000008 "abcd"')],
    ['ACTIVE of 4 bytes', bytes('00 01 0001 00000000 0000000c 09000008 00000001')],
    ['SUBSCRIBERS holding a 2-byte entry', bytes('00 01 0001 00000000 00000010 0b00000c 00000006 0001 0000')],
    ['attribute beyond the container', bytes('00 04 0001 00000000 00000008 02000008 "abc\\0"')],
  ];
  for (const [what, b] of cases) t.equal(parseUbusMessage(b, 0, b.length), null, what);
  t.equal(ubusFrameLength(bytes('01 04 0001 00000000 00000004'), 0, 12), -1, 'bad version breaks the stream');
  const huge = bytes('00 02 0001 00000000 00100001');
  t.equal(ubusFrameLength(huge, 0, 12), -1, `container above ${UBUS_MAX_MSGLEN} breaks the stream`);
  t.equal(parseUbusMessage(good, 0, good.length - 4), null, 'length shorter than the frame');
  t.equal(parseUbusMessage(good, 4, good.length), null, 'range beyond the buffer');
});

t.test('seeded random mutations never throw', async (t) => {
  const next = prng(0xb10b);
  const samples: Uint8Array[] = [
    encodeBlobmsgTable({ ifname: 'wg0', up: true, n: 42, big: 2 ** 40, d: 0.25, l: [1, 'x', { y: null }], t: { z: [] } }),
    encodeBlobmsgTable({ interfaces: { wg0: { peers: [{ public_key: 'AAAA', allowed_ips: ['10.0.0.0/24'], rx: 123456789012 }] } } }),
    encodeBlobmsgTable({ s: typed('int16', 7), b: Uint8Array.of(9, 8, 7) }),
  ];
  let threw = 0;
  let accepted = 0;
  let inconsistent = 0;
  let firstProblem = '';
  const iterations = 4000;
  for (let i = 0; i < iterations; i++) {
    const base = samples[i % samples.length]!;
    let b = base.slice();
    const kind = next() % 4;
    if (kind === 0) for (let k = 1 + (next() % 4); k > 0; k--) b[next() % b.length] = next() & 255;
    else if (kind === 1) b = b.slice(0, next() % b.length);
    else if (kind === 2) { const extra = Uint8Array.from({ length: 1 + (next() % 8) }, () => next() & 255); const c = new Uint8Array(b.length + extra.length); c.set(b); c.set(extra, b.length); b = c; }
    else { const at = next() % b.length; b[at] = (b[at]! ^ (1 << (next() % 8))) & 255; b[(at + 4) % b.length] = next() & 255; }
    try {
      const plain = decodeBlobmsgTable(b);
      const exact = decodeBlobmsgTable(b, 0, b.length, { typed: true });
      if ((plain === null) !== (exact === null)) inconsistent++;
      if (exact !== null) {
        accepted++;
        // What was accepted must mean the same after re-encoding.
        const again = encodeBlobmsgTable(exact);
        const back = decodeBlobmsgTable(again, 0, again.length, { typed: true });
        if (JSON.stringify(back, replacer) !== JSON.stringify(exact, replacer)) {
          inconsistent++;
          if (!firstProblem) firstProblem = toHex(b);
        }
      }
      const msg = encodeUbusMessage(UbusMsg.DATA, 1, 2, { objid: 3, data: b });
      const at = next() % msg.length;
      msg[at] = next() & 255;
      parseUbusMessage(msg, 0, msg.length);
      ubusFrameLength(msg, 0, msg.length);
    } catch (e) {
      if (threw++ === 0) firstProblem = `${toHex(b)}: ${String(e)}`;
    }
  }
  t.equal(threw, 0, `no decoder throws on ${iterations} mutated inputs${firstProblem ? `; first: ${firstProblem}` : ''}`);
  t.equal(inconsistent, 0, 'accepted inputs decode the same in plain and typed form and survive re-encoding');
  t.ok(accepted > 100 && accepted < iterations, `some mutations are still valid (${accepted}), most are not`);
});

t.test('UbusConnection survives garbage and split frames', async (t) => {
  const timers: (() => void)[] = [];
  const clock = { now: () => 0, wallMs: () => 0, setTimer: (fn: () => void) => { timers.push(fn); return fn; }, clearTimer: () => {} };
  const written: Uint8Array[] = [];
  const conn = new UbusConnection({ clock, write: (b) => written.push(b) });
  const hello = encodeUbusMessage(UbusMsg.HELLO, 0, 0x9abc0001, {});
  // One byte at a time: frames are reassembled.
  let fedAll = true;
  for (let i = 0; i < hello.length; i++) fedAll = conn.feed(hello, i, 1) && fedAll;
  t.ok(fedAll, 'fed one byte at a time');
  t.equal(conn.clientId, 0x9abc0001, 'HELLO assembled from single bytes');
  const reply = conn.lookup('x');
  t.equal(written.length, 1, 'the lookup went out');
  const sent = parseUbusMessage(written[0]!, 0, written[0]!.length)!;
  t.equal(sent.seq, 1, 'first request has seq 1');
  // A DATA and the STATUS in one chunk, preceded by a malformed but framed message.
  const junk = bytes('00 02 0001 00000000 0000000c 01000006 0000 0000');
  const data = encodeUbusMessage(UbusMsg.DATA, 1, 0, { objpath: 'x', objid: 0xfffffff0, objtype: 1, signature: encodeBlobmsgTable({ m: { a: typed('int32', 3) } }) });
  const status = encodeUbusMessage(UbusMsg.STATUS, 1, 0, { status: 0 });
  const chunk = new Uint8Array(junk.length + data.length + status.length);
  chunk.set(junk); chunk.set(data, junk.length); chunk.set(status, junk.length + data.length);
  t.ok(conn.feed(chunk), 'a malformed but framed message is skipped');
  t.same(await reply, { status: 0, objects: [{ id: 0xfffffff0, path: 'x', typeId: 1, signature: { m: { a: 3 } } }] }, 'lookup result');
  const next = prng(77);
  let threw = 0;
  for (let i = 0; i < 200; i++) {
    const b = Uint8Array.from({ length: 1 + (next() % 40) }, () => next() & 255);
    b[0] = 0; // keep most frames valid enough to reach the parser
    try { conn.feed(b); } catch { threw++; }
    if (!conn.connected || i % 10 === 0) {
      conn.connectionLost();
      conn.feed(hello);
    }
  }
  t.equal(threw, 0, 'random bytes never throw out of feed');
  conn.connectionLost();
  t.notOk(conn.feed(bytes('01 00 0000 00000001 00000004')), 'a bad version breaks the stream');
  t.notOk(conn.feed(hello), 'and it stays broken until connectionLost');
  conn.connectionLost();
  t.ok(conn.feed(hello), 'usable again after connectionLost');
  conn.close();
});
