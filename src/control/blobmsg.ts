// libubox's blob and blobmsg encodings: the payload format of every ubus
// message (OPENWRT-FACTS.md §4.3, §4.4; libubox blob.h, blobmsg.h).
// A blob attribute is a big-endian u32 header (bit 31 "extended", bits 30..24
// id, bits 23..0 length including the header), its payload, then zero
// padding to 4 bytes. A blobmsg attribute is an extended blob attribute whose
// id is the blobmsg type and whose payload starts with a name header.
// Pure: Uint8Array only (no Buffer, no TextEncoder), so it runs on QuickJS.

export const BLOB_ATTR_EXTENDED = 0x80000000;
export const BLOB_ATTR_ID_MASK = 0x7f000000;
export const BLOB_ATTR_ID_SHIFT = 24;
export const BLOB_ATTR_LEN_MASK = 0x00ffffff;
export const BLOB_HEADER_LENGTH = 4;

/** Raw blob types, used for the ubus message attributes. */
export const BlobType = {
  UNSPEC: 0, NESTED: 1, BINARY: 2, STRING: 3, INT8: 4, INT16: 5, INT32: 6, INT64: 7, DOUBLE: 8,
} as const;

/** blobmsg types (the id of an extended attribute). BOOL is INT8. */
export const BlobmsgType = {
  UNSPEC: 0, ARRAY: 1, TABLE: 2, STRING: 3, INT64: 4, INT32: 5, INT16: 6, INT8: 7, BOOL: 7, DOUBLE: 8,
} as const;
const BLOBMSG_TYPE_LAST = 8;

export type BlobmsgTypeName = 'unspec' | 'array' | 'table' | 'string' | 'int64' | 'int32' | 'int16' | 'int8' | 'bool' | 'double';

const TYPE_NUMBER: Record<BlobmsgTypeName, number> = {
  unspec: 0, array: 1, table: 2, string: 3, int64: 4, int32: 5, int16: 6, int8: 7, bool: 7, double: 8,
};
const TYPE_NAME: readonly BlobmsgTypeName[] = ['unspec', 'array', 'table', 'string', 'int64', 'int32', 'int16', 'int8', 'double'];

export function blobmsgTypeNumber(name: BlobmsgTypeName): number {
  return TYPE_NUMBER[name];
}

/** The name of a blobmsg type number (7 is 'int8'), or null. */
export function blobmsgTypeName(type: number): BlobmsgTypeName | null {
  return Number.isInteger(type) && type >= 0 && type <= BLOBMSG_TYPE_LAST ? TYPE_NAME[type]! : null;
}

/** A value with an exact blobmsg type, for callers (and decoders) that need one. */
export interface BlobmsgTyped {
  $type: BlobmsgTypeName;
  value: BlobmsgValue;
}

export type BlobmsgValue = null | boolean | number | bigint | string | Uint8Array | BlobmsgTyped | BlobmsgValue[] | BlobmsgTable;
export interface BlobmsgTable {
  [name: string]: BlobmsgValue;
}

export function typed(type: BlobmsgTypeName, value: BlobmsgValue): BlobmsgTyped {
  return { $type: type, value };
}

export function isBlobmsgTyped(v: unknown): v is BlobmsgTyped {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) return false;
  const keys = Object.keys(v);
  return keys.length === 2 && 'value' in v && typeof (v as BlobmsgTyped).$type === 'string'
    && Object.prototype.hasOwnProperty.call(TYPE_NUMBER, (v as BlobmsgTyped).$type);
}

/** Deeper nesting is refused (encoder: RangeError, decoder: null), so hostile input cannot exhaust the stack. */
export const BLOBMSG_MAX_DEPTH = 32;

const TWO_32 = 4294967296;

// ---------- UTF-8 (QuickJS has no TextEncoder) ----------

export function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** Writes text as UTF-8 at buf[off]; lone surrogates become U+FFFD. Returns the end offset. */
export function utf8Write(text: string, buf: Uint8Array, off: number): number {
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      buf[off++] = c;
      continue;
    }
    if (c < 0x800) {
      buf[off++] = 0xc0 | (c >> 6);
      buf[off++] = 0x80 | (c & 63);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && (next & 0xfc00) === 0xdc00) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
        buf[off++] = 0xf0 | (cp >> 18);
        buf[off++] = 0x80 | ((cp >> 12) & 63);
        buf[off++] = 0x80 | ((cp >> 6) & 63);
        buf[off++] = 0x80 | (cp & 63);
        continue;
      }
      c = 0xfffd;
    }
    buf[off++] = 0xe0 | (c >> 12);
    buf[off++] = 0x80 | ((c >> 6) & 63);
    buf[off++] = 0x80 | (c & 63);
  }
  return off;
}

export function utf8Encode(text: string): Uint8Array {
  const out = new Uint8Array(utf8Length(text));
  utf8Write(text, out, 0);
  return out;
}

/** Decodes buf[off, end) as UTF-8; malformed sequences become U+FFFD (never throws). */
export function utf8Decode(buf: Uint8Array, off: number, end: number): string {
  let out = '';
  const units: number[] = [];
  let i = off;
  while (i < end) {
    const b = buf[i]!;
    let cp = 0xfffd;
    let size = 1;
    if (b < 0x80) cp = b;
    else if (b >= 0xc2 && b <= 0xdf) {
      if (i + 1 < end && (buf[i + 1]! & 0xc0) === 0x80) {
        cp = ((b & 31) << 6) | (buf[i + 1]! & 63);
        size = 2;
      }
    } else if (b >= 0xe0 && b <= 0xef) {
      if (i + 2 < end && (buf[i + 1]! & 0xc0) === 0x80 && (buf[i + 2]! & 0xc0) === 0x80) {
        const v = ((b & 15) << 12) | ((buf[i + 1]! & 63) << 6) | (buf[i + 2]! & 63);
        // Overlong forms and UTF-16 surrogates are not characters.
        if (v >= 0x800 && (v < 0xd800 || v > 0xdfff)) {
          cp = v;
          size = 3;
        }
      }
    } else if (b >= 0xf0 && b <= 0xf4) {
      if (i + 3 < end && (buf[i + 1]! & 0xc0) === 0x80 && (buf[i + 2]! & 0xc0) === 0x80 && (buf[i + 3]! & 0xc0) === 0x80) {
        const v = ((b & 7) << 18) | ((buf[i + 1]! & 63) << 12) | ((buf[i + 2]! & 63) << 6) | (buf[i + 3]! & 63);
        if (v >= 0x10000 && v <= 0x10ffff) {
          cp = v;
          size = 4;
        }
      }
    }
    i += size;
    if (cp >= 0x10000) {
      units.push(0xd800 + ((cp - 0x10000) >> 10), 0xdc00 + ((cp - 0x10000) & 0x3ff));
    } else units.push(cp);
    if (units.length >= 4096) {
      out += String.fromCharCode.apply(null, units);
      units.length = 0;
    }
  }
  return units.length > 0 ? out + String.fromCharCode.apply(null, units) : out;
}

// ---------- big-endian helpers ----------

export function readU32(buf: Uint8Array, off: number): number {
  return ((buf[off]! << 24) | (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!) >>> 0;
}

export function readU16(buf: Uint8Array, off: number): number {
  return (buf[off]! << 8) | buf[off + 1]!;
}

const f64 = new DataView(new ArrayBuffer(8));

// ---------- writer ----------

/** A growable buffer that writes blob and blobmsg attributes (big-endian, 4-byte aligned). */
export class BlobWriter {
  private buf: Uint8Array;
  private pos = 0;

  constructor(capacity = 256) {
    this.buf = new Uint8Array(capacity);
  }

  get length(): number {
    return this.pos;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.buf.subarray(0, this.pos));
    this.buf = grown;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v & 255;
  }

  u16(v: number): void {
    this.ensure(2);
    this.buf[this.pos++] = (v >>> 8) & 255;
    this.buf[this.pos++] = v & 255;
  }

  u32(v: number): void {
    this.ensure(4);
    this.setU32(this.pos, v);
    this.pos += 4;
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** UTF-8 of text followed by a NUL; a NUL inside would cut the string short for C readers, so it is refused. */
  cstring(text: string): void {
    if (text.indexOf('\0') >= 0) throw new RangeError('blob strings and names cannot contain NUL');
    this.ensure(utf8Length(text) + 1);
    this.pos = utf8Write(text, this.buf, this.pos);
    this.buf[this.pos++] = 0;
  }

  private setU32(at: number, v: number): void {
    this.buf[at] = (v >>> 24) & 255;
    this.buf[at + 1] = (v >>> 16) & 255;
    this.buf[at + 2] = (v >>> 8) & 255;
    this.buf[at + 3] = v & 255;
  }

  private padTo4(from: number): void {
    while ((this.pos - from) & 3) this.u8(0);
  }

  /** Opens an attribute (header written at the end); returns its start for endAttr. */
  startAttr(id: number, extended = false): number {
    const start = this.pos;
    this.u32(((extended ? BLOB_ATTR_EXTENDED : 0) | ((id << BLOB_ATTR_ID_SHIFT) & BLOB_ATTR_ID_MASK)) >>> 0);
    return start;
  }

  /** Sets the attribute's length (unpadded, as libubox does) and pads to 4 bytes. */
  endAttr(start: number): void {
    const len = this.pos - start;
    if (len > BLOB_ATTR_LEN_MASK) throw new RangeError(`blob attribute too long (${len} bytes)`);
    const head = readU32(this.buf, start) & ~BLOB_ATTR_LEN_MASK;
    this.setU32(start, (head | len) >>> 0);
    this.padTo4(start);
  }

  putInt8(id: number, v: number): void {
    const a = this.startAttr(id);
    this.u8(v);
    this.endAttr(a);
  }

  putInt32(id: number, v: number): void {
    const a = this.startAttr(id);
    this.u32(v >>> 0);
    this.endAttr(a);
  }

  putString(id: number, text: string): void {
    const a = this.startAttr(id);
    this.cstring(text);
    this.endAttr(a);
  }

  /** An attribute whose payload is `payload` verbatim (e.g. a nested attribute list). */
  putRaw(id: number, payload: Uint8Array): void {
    const a = this.startAttr(id);
    this.bytes(payload);
    this.endAttr(a);
  }

  /** One blobmsg attribute: name header, then the value with the type the value maps to. */
  putBlobmsg(name: string, value: BlobmsgValue, depth = 0): void {
    if (depth > BLOBMSG_MAX_DEPTH) throw new RangeError(`blobmsg nesting deeper than ${BLOBMSG_MAX_DEPTH}`);
    let type: number;
    let v: unknown = value;
    if (isBlobmsgTyped(value)) {
      type = TYPE_NUMBER[value.$type];
      v = value.value;
      checkTyped(value.$type, v);
      if (value.$type === 'bool') v = v ? 1 : 0;
    } else type = naturalType(value, name);
    const a = this.startAttr(type, true);
    const nameLength = utf8Length(name);
    if (nameLength > 0xffff) throw new RangeError('blobmsg name longer than 65535 bytes');
    this.u16(nameLength);
    this.cstring(name);
    this.padTo4(a);
    switch (type) {
      case BlobmsgType.UNSPEC:
        if (v instanceof Uint8Array) this.bytes(v);
        break;
      case BlobmsgType.ARRAY:
        for (const item of v as BlobmsgValue[]) this.putBlobmsg('', item === undefined ? null : item, depth + 1);
        break;
      case BlobmsgType.TABLE:
        this.putTableEntries(v as BlobmsgTable, depth + 1);
        break;
      case BlobmsgType.STRING:
        this.cstring(v as string);
        break;
      case BlobmsgType.INT64:
        this.int64(v as number | bigint);
        break;
      case BlobmsgType.INT32:
        this.u32(Number(v) >>> 0);
        break;
      case BlobmsgType.INT16:
        this.u16(Number(v) & 0xffff);
        break;
      case BlobmsgType.INT8:
        this.u8(typeof v === 'boolean' ? (v ? 1 : 0) : Number(v) & 255);
        break;
      case BlobmsgType.DOUBLE:
        f64.setFloat64(0, v as number, false);
        for (let i = 0; i < 8; i++) this.u8(f64.getUint8(i));
        break;
    }
    this.endAttr(a);
  }

  /** The entries of a table, each a named blobmsg attribute; undefined values are skipped (as JSON does). */
  putTableEntries(table: BlobmsgTable, depth = 0): void {
    for (const key of Object.keys(table)) {
      const item = table[key];
      if (item !== undefined) this.putBlobmsg(key, item, depth);
    }
  }

  private int64(v: number | bigint): void {
    if (typeof v === 'bigint') {
      const u = BigInt.asUintN(64, v);
      this.u32(Number(u >> BigInt(32)));
      this.u32(Number(u & BigInt(0xffffffff)));
      return;
    }
    const hi = Math.floor(v / TWO_32);
    this.u32(hi >>> 0);
    this.u32((v - hi * TWO_32) >>> 0);
  }

  /** A copy of what was written. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

const INT64_MIN = -(BigInt(2) ** BigInt(63));
const UINT64_END = BigInt(2) ** BigInt(64);

function isPlainObject(v: unknown): v is BlobmsgTable {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** The type a plain JS value maps to: objects → TABLE, arrays → ARRAY, booleans → INT8, integers → INT32 or INT64. */
function naturalType(v: BlobmsgValue, name: string): number {
  switch (typeof v) {
    case 'string': return BlobmsgType.STRING;
    case 'boolean': return BlobmsgType.INT8;
    case 'number':
      if (Number.isInteger(v) && v >= -0x80000000 && v <= 0x7fffffff) return BlobmsgType.INT32;
      return Number.isSafeInteger(v) ? BlobmsgType.INT64 : BlobmsgType.DOUBLE;
    case 'bigint':
      if (v < INT64_MIN || v >= UINT64_END) throw new RangeError(`blobmsg "${name}": ${v} does not fit in 64 bits`);
      return BlobmsgType.INT64;
    case 'object':
      if (v === null || v instanceof Uint8Array) return BlobmsgType.UNSPEC;
      if (Array.isArray(v)) return BlobmsgType.ARRAY;
      if (isPlainObject(v)) return BlobmsgType.TABLE;
  }
  throw new TypeError(`blobmsg "${name}": cannot encode a ${v === null ? 'null' : typeof v}`);
}

function checkIntRange(type: BlobmsgTypeName, v: unknown, min: number, max: number): void {
  if (typeof v === 'boolean' && (type === 'int8' || type === 'bool')) return;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`blobmsg ${type}: ${String(v)} is not an integer in ${min}..${max}`);
  }
}

function checkTyped(type: BlobmsgTypeName, v: unknown): void {
  switch (type) {
    case 'bool': case 'int8': return checkIntRange(type, v, -128, 255);
    case 'int16': return checkIntRange(type, v, -32768, 65535);
    case 'int32': return checkIntRange(type, v, -0x80000000, 0xffffffff);
    case 'int64':
      if (typeof v === 'bigint') {
        if (v < INT64_MIN || v >= UINT64_END) throw new RangeError(`blobmsg int64: ${v} does not fit in 64 bits`);
        return;
      }
      if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new RangeError(`blobmsg int64: ${String(v)} is not a safe integer or bigint`);
      return;
    case 'double':
      if (typeof v !== 'number') throw new TypeError('blobmsg double: not a number');
      return;
    case 'string':
      if (typeof v !== 'string') throw new TypeError('blobmsg string: not a string');
      return;
    case 'unspec':
      if (v !== null && !(v instanceof Uint8Array)) throw new TypeError('blobmsg unspec: expected null or bytes');
      return;
    case 'array':
      if (!Array.isArray(v)) throw new TypeError('blobmsg array: not an array');
      return;
    case 'table':
      if (!isPlainObject(v)) throw new TypeError('blobmsg table: not a plain object');
      return;
  }
}

/** A table as a list of blobmsg attributes: the payload of ubus's DATA attribute. Throws on values it cannot encode. */
export function encodeBlobmsgTable(table: BlobmsgTable): Uint8Array {
  if (!isPlainObject(table)) throw new TypeError('blobmsg: the top level must be a plain object');
  const w = new BlobWriter();
  w.putTableEntries(table);
  return w.finish();
}

/** One named blobmsg attribute. */
export function encodeBlobmsg(name: string, value: BlobmsgValue): Uint8Array {
  const w = new BlobWriter();
  w.putBlobmsg(name, value);
  return w.finish();
}

// ---------- reader ----------

/** One blob attribute located in a buffer. */
export interface BlobAttr {
  id: number;
  extended: boolean;
  /** Payload start (after the 4-byte header) and length (without padding). */
  dataOff: number;
  dataLen: number;
}

/**
 * Splits buf[off, end) into blob attributes. Every header is checked: length
 * at least 4 and, padded, inside the range. Returns null on any violation.
 */
export function readBlobAttrs(buf: Uint8Array, off: number, end: number): BlobAttr[] | null {
  if (!Number.isInteger(off) || !Number.isInteger(end) || off < 0 || end > buf.length || off > end) return null;
  const out: BlobAttr[] = [];
  while (off < end) {
    if (end - off < BLOB_HEADER_LENGTH) return null;
    const head = readU32(buf, off);
    const len = head & BLOB_ATTR_LEN_MASK;
    if (len < BLOB_HEADER_LENGTH) return null;
    const padded = (len + 3) & ~3;
    if (padded > end - off) return null;
    out.push({ id: (head & BLOB_ATTR_ID_MASK) >>> BLOB_ATTR_ID_SHIFT, extended: (head & BLOB_ATTR_EXTENDED) !== 0, dataOff: off + 4, dataLen: len - 4 });
    off += padded;
  }
  return out;
}

export interface BlobmsgDecodeOptions {
  /** Return every scalar as { $type, value } so the exact wire type is kept (and re-encodes byte for byte). */
  typed?: boolean;
}

/** A NUL-terminated string payload without interior NULs, or null. */
function readCString(buf: Uint8Array, off: number, len: number): string | null {
  if (len < 1 || buf[off + len - 1] !== 0) return null;
  for (let i = off; i < off + len - 1; i++) if (buf[i] === 0) return null;
  return utf8Decode(buf, off, off + len - 1);
}

function setOwn(table: BlobmsgTable, key: string, value: BlobmsgValue): void {
  // defineProperty, so a "__proto__" name becomes a plain key rather than a prototype.
  Object.defineProperty(table, key, { value, enumerable: true, writable: true, configurable: true });
}

interface Named {
  name: string;
  value: BlobmsgValue;
}

/** Decodes one blobmsg attribute's name and value; null when anything is malformed. */
function decodeAttr(buf: Uint8Array, a: BlobAttr, typedOut: boolean, depth: number): Named | null {
  if (depth > BLOBMSG_MAX_DEPTH) return null;
  if (!a.extended || a.id > BLOBMSG_TYPE_LAST) return null;
  // Name header: u16 length, the name, a NUL, padding to 4.
  if (a.dataLen < 3) return null;
  const nameLength = readU16(buf, a.dataOff);
  const headerLength = (2 + nameLength + 1 + 3) & ~3;
  if (headerLength > a.dataLen) return null;
  const nameEnd = a.dataOff + 2 + nameLength;
  if (buf[nameEnd] !== 0) return null;
  for (let i = a.dataOff + 2; i < nameEnd; i++) if (buf[i] === 0) return null;
  const name = utf8Decode(buf, a.dataOff + 2, nameEnd);
  const off = a.dataOff + headerLength;
  const len = a.dataLen - headerLength;
  let value: BlobmsgValue;
  switch (a.id) {
    case BlobmsgType.UNSPEC:
      value = len === 0 ? null : buf.slice(off, off + len);
      break;
    case BlobmsgType.ARRAY:
    case BlobmsgType.TABLE: {
      const inner = decodeList(buf, off, off + len, a.id === BlobmsgType.TABLE, typedOut, depth + 1);
      if (inner === null) return null;
      return { name, value: inner };
    }
    case BlobmsgType.STRING: {
      const s = readCString(buf, off, len);
      if (s === null) return null;
      value = s;
      break;
    }
    case BlobmsgType.INT64: {
      if (len !== 8) return null;
      const hi = readU32(buf, off) | 0;
      const lo = readU32(buf, off + 4);
      const n = hi * TWO_32 + lo;
      value = hi >= -0x200000 && hi < 0x200000 && Number.isSafeInteger(n) ? n : BigInt(hi) * BigInt(TWO_32) + BigInt(lo);
      break;
    }
    case BlobmsgType.INT32:
      if (len !== 4) return null;
      value = readU32(buf, off) | 0;
      break;
    case BlobmsgType.INT16:
      if (len !== 2) return null;
      value = (readU16(buf, off) << 16) >> 16;
      break;
    case BlobmsgType.INT8:
      if (len !== 1) return null;
      // libubox's JSON formatter shows INT8 as a boolean; typed decoding keeps the number.
      value = typedOut ? buf[off]! : buf[off] !== 0;
      break;
    default: // DOUBLE
      if (len !== 8) return null;
      for (let i = 0; i < 8; i++) f64.setUint8(i, buf[off + i]!);
      value = f64.getFloat64(0, false);
      break;
  }
  return { name, value: typedOut ? typed(TYPE_NAME[a.id]!, value) : value };
}

function decodeList(buf: Uint8Array, off: number, end: number, table: boolean, typedOut: boolean, depth: number): BlobmsgTable | BlobmsgValue[] | null {
  const attrs = readBlobAttrs(buf, off, end);
  if (attrs === null) return null;
  const out: BlobmsgTable | BlobmsgValue[] = table ? {} : [];
  for (const a of attrs) {
    const item = decodeAttr(buf, a, typedOut, depth);
    if (item === null) return null;
    if (!table) (out as BlobmsgValue[]).push(item.value);
    // Duplicate names: the first wins, as with libubox's blobmsg_parse.
    else if (!Object.prototype.hasOwnProperty.call(out, item.name)) setOwn(out as BlobmsgTable, item.name, item.value);
  }
  return out;
}

/** Decodes a list of named blobmsg attributes (ubus's DATA payload) into a table; null when malformed. Never throws. */
export function decodeBlobmsgTable(buf: Uint8Array, off = 0, len = buf.length - off, options?: BlobmsgDecodeOptions): BlobmsgTable | null {
  if (!Number.isInteger(len) || len < 0) return null;
  return decodeList(buf, off, off + len, true, options?.typed === true, 0) as BlobmsgTable | null;
}

/** Decodes a list of blobmsg attributes as array elements (names ignored); null when malformed. */
export function decodeBlobmsgArray(buf: Uint8Array, off = 0, len = buf.length - off, options?: BlobmsgDecodeOptions): BlobmsgValue[] | null {
  if (!Number.isInteger(len) || len < 0) return null;
  return decodeList(buf, off, off + len, false, options?.typed === true, 0) as BlobmsgValue[] | null;
}

/** Decodes exactly one blobmsg attribute (with its padding) filling buf[off, off+len); null when malformed. */
export function decodeBlobmsg(buf: Uint8Array, off = 0, len = buf.length - off, options?: BlobmsgDecodeOptions): Named | null {
  if (!Number.isInteger(len) || len < 0) return null;
  const attrs = readBlobAttrs(buf, off, off + len);
  if (attrs === null || attrs.length !== 1) return null;
  return decodeAttr(buf, attrs[0]!, options?.typed === true, 0);
}
