// ubus message framing (OPENWRT-FACTS.md §4.1, §4.2; openwrt/ubus ubusmsg.h):
// an 8-byte big-endian header (u8 version 0, u8 type, u16 seq, u32 peer),
// then one blob attribute, the container, whose payload is a list of
// UBUS_ATTR_* attributes. Pure, so it runs on QuickJS.
import { BlobWriter, readBlobAttrs, readU32, utf8Decode, type BlobAttr } from './blobmsg.js';

export const UBUS_HEADER_LENGTH = 8;
/** Largest message ubusd and libubus accept (padded container length). */
export const UBUS_MAX_MSGLEN = 1048576;
export const UBUS_SOCKET_PATH = '/var/run/ubus/ubus.sock';
/** Where older ubus builds put the socket. */
export const UBUS_SOCKET_PATH_LEGACY = '/var/run/ubus.sock';

/** Objects ubusd itself provides. */
export const UBUS_SYSTEM_OBJECT_EVENT = 1;
export const UBUS_SYSTEM_OBJECT_ACL = 2;
export const UBUS_SYSTEM_OBJECT_MONITOR = 3;

export const UbusMsg = {
  HELLO: 0, STATUS: 1, DATA: 2, PING: 3, LOOKUP: 4, INVOKE: 5, ADD_OBJECT: 6, REMOVE_OBJECT: 7,
  SUBSCRIBE: 8, UNSUBSCRIBE: 9, NOTIFY: 10, MONITOR: 11,
} as const;

export const UbusAttr = {
  UNSPEC: 0, STATUS: 1, OBJPATH: 2, OBJID: 3, METHOD: 4, OBJTYPE: 5, SIGNATURE: 6, DATA: 7, TARGET: 8,
  ACTIVE: 9, NO_REPLY: 10, SUBSCRIBERS: 11, USER: 12, GROUP: 13,
} as const;

export const UbusStatus = {
  OK: 0, INVALID_COMMAND: 1, INVALID_ARGUMENT: 2, METHOD_NOT_FOUND: 3, NOT_FOUND: 4, NO_DATA: 5,
  PERMISSION_DENIED: 6, TIMEOUT: 7, NOT_SUPPORTED: 8, UNKNOWN_ERROR: 9, CONNECTION_FAILED: 10,
  NO_MEMORY: 11, PARSE_ERROR: 12, SYSTEM_ERROR: 13,
} as const;

const STATUS_TEXT = [
  'Success', 'Invalid command', 'Invalid argument', 'Method not found', 'Not found', 'No response',
  'Permission denied', 'Request timed out', 'Operation not supported', 'Unknown error', 'Connection failed',
  'Out of memory', 'Parsing message data failed', 'System error',
];

/** The text `ubus` prints for a status code. */
export function ubusStatusText(status: number): string {
  return STATUS_TEXT[status] ?? `Unknown error: ${status}`;
}

/**
 * The attributes of one message, each optional. Object ids, types and
 * targets are u32; `data` and `signature` are the raw payloads (lists of
 * blobmsg attributes; see blobmsg.ts to decode them).
 */
export interface UbusAttrs {
  status?: number;
  objpath?: string;
  objid?: number;
  method?: string;
  objtype?: number;
  signature?: Uint8Array;
  data?: Uint8Array;
  target?: number;
  active?: boolean;
  noReply?: boolean;
  subscribers?: number[];
  user?: string;
  group?: string;
}

export interface UbusMessage {
  type: number;
  seq: number;
  peer: number;
  attrs: UbusAttrs;
}

/** Encodes header and attributes (in attribute id order) into one message. */
export function encodeUbusMessage(type: number, seq: number, peer: number, attrs: UbusAttrs = {}): Uint8Array {
  const w = new BlobWriter(64);
  w.u8(0);
  w.u8(type);
  w.u16(seq & 0xffff);
  w.u32(peer >>> 0);
  const c = w.startAttr(0);
  if (attrs.status !== undefined) w.putInt32(UbusAttr.STATUS, attrs.status);
  if (attrs.objpath !== undefined) w.putString(UbusAttr.OBJPATH, attrs.objpath);
  if (attrs.objid !== undefined) w.putInt32(UbusAttr.OBJID, attrs.objid);
  if (attrs.method !== undefined) w.putString(UbusAttr.METHOD, attrs.method);
  if (attrs.objtype !== undefined) w.putInt32(UbusAttr.OBJTYPE, attrs.objtype);
  if (attrs.signature !== undefined) w.putRaw(UbusAttr.SIGNATURE, attrs.signature);
  if (attrs.data !== undefined) w.putRaw(UbusAttr.DATA, attrs.data);
  if (attrs.target !== undefined) w.putInt32(UbusAttr.TARGET, attrs.target);
  if (attrs.active !== undefined) w.putInt8(UbusAttr.ACTIVE, attrs.active ? 1 : 0);
  if (attrs.noReply !== undefined) w.putInt8(UbusAttr.NO_REPLY, attrs.noReply ? 1 : 0);
  if (attrs.subscribers !== undefined) {
    const s = w.startAttr(UbusAttr.SUBSCRIBERS);
    for (const id of attrs.subscribers) w.putInt32(0, id);
    w.endAttr(s);
  }
  if (attrs.user !== undefined) w.putString(UbusAttr.USER, attrs.user);
  if (attrs.group !== undefined) w.putString(UbusAttr.GROUP, attrs.group);
  w.endAttr(c);
  const out = w.finish();
  if (out.length - UBUS_HEADER_LENGTH > UBUS_MAX_MSGLEN) throw new RangeError(`ubus message too long (${out.length} bytes)`);
  return out;
}

/**
 * How long the message starting at buf[off] is, given `avail` bytes there:
 * its total length, 0 when more bytes are needed to tell, or -1 when the
 * header is invalid (wrong version, container shorter than 4 or too long) and
 * the stream cannot be trusted any more.
 */
export function ubusFrameLength(buf: Uint8Array, off: number, avail: number): number {
  if (avail < UBUS_HEADER_LENGTH + 4) return 0;
  if (buf[off] !== 0) return -1;
  const len = readU32(buf, off + UBUS_HEADER_LENGTH) & 0x00ffffff;
  if (len < 4 || ((len + 3) & ~3) > UBUS_MAX_MSGLEN) return -1;
  return UBUS_HEADER_LENGTH + len;
}

function int32Of(buf: Uint8Array, a: BlobAttr): number | null {
  return a.dataLen === 4 ? readU32(buf, a.dataOff) : null;
}

function stringOf(buf: Uint8Array, a: BlobAttr): string | null {
  if (a.dataLen < 1 || buf[a.dataOff + a.dataLen - 1] !== 0) return null;
  for (let i = a.dataOff; i < a.dataOff + a.dataLen - 1; i++) if (buf[i] === 0) return null;
  return utf8Decode(buf, a.dataOff, a.dataOff + a.dataLen - 1);
}

/**
 * Parses one whole message in buf[off, off+len). Every attribute is checked
 * against the type ubusd expects for it; the nested DATA and SIGNATURE
 * payloads are copied out but decoded only when used. Unknown attribute ids
 * are skipped. Returns null when anything is malformed; never throws.
 */
export function parseUbusMessage(buf: Uint8Array, off: number, len: number): UbusMessage | null {
  if (!Number.isInteger(off) || !Number.isInteger(len) || off < 0 || len < 0 || off + len > buf.length) return null;
  if (ubusFrameLength(buf, off, len) !== len) return null;
  const attrs = readBlobAttrs(buf, off + UBUS_HEADER_LENGTH + 4, off + len);
  if (attrs === null) return null;
  const out: UbusAttrs = {};
  for (const a of attrs) {
    switch (a.id) {
      case UbusAttr.STATUS: {
        const v = int32Of(buf, a);
        if (v === null) return null;
        out.status = v | 0;
        break;
      }
      case UbusAttr.OBJID: case UbusAttr.OBJTYPE: case UbusAttr.TARGET: {
        const v = int32Of(buf, a);
        if (v === null) return null;
        if (a.id === UbusAttr.OBJID) out.objid = v;
        else if (a.id === UbusAttr.OBJTYPE) out.objtype = v;
        else out.target = v;
        break;
      }
      case UbusAttr.OBJPATH: case UbusAttr.METHOD: case UbusAttr.USER: case UbusAttr.GROUP: {
        const v = stringOf(buf, a);
        if (v === null) return null;
        if (a.id === UbusAttr.OBJPATH) out.objpath = v;
        else if (a.id === UbusAttr.METHOD) out.method = v;
        else if (a.id === UbusAttr.USER) out.user = v;
        else out.group = v;
        break;
      }
      case UbusAttr.ACTIVE: case UbusAttr.NO_REPLY: {
        if (a.dataLen !== 1) return null;
        if (a.id === UbusAttr.ACTIVE) out.active = buf[a.dataOff] !== 0;
        else out.noReply = buf[a.dataOff] !== 0;
        break;
      }
      case UbusAttr.SIGNATURE: case UbusAttr.DATA: {
        const payload = buf.slice(a.dataOff, a.dataOff + a.dataLen);
        if (a.id === UbusAttr.DATA) out.data = payload;
        else out.signature = payload;
        break;
      }
      case UbusAttr.SUBSCRIBERS: {
        const list = readBlobAttrs(buf, a.dataOff, a.dataOff + a.dataLen);
        if (list === null) return null;
        const ids: number[] = [];
        for (const s of list) {
          const v = int32Of(buf, s);
          if (v === null) return null;
          ids.push(v);
        }
        out.subscribers = ids;
        break;
      }
      default:
        break;
    }
  }
  return { type: buf[off + 1]!, seq: (buf[off + 2]! << 8) | buf[off + 3]!, peer: readU32(buf, off + 4), attrs: out };
}
