// The four WireGuard message layouts (whitepaper §5.4). All integers are
// little-endian; byte 0 is the type and bytes 1..3 must be zero, so the first
// word read as LE u32 equals the type exactly.
import {
  COOKIE_REPLY_SIZE, INITIATION_SIZE, MESSAGE_COOKIE_REPLY, MESSAGE_INITIATION,
  MESSAGE_RESPONSE, MESSAGE_TRANSPORT, RESPONSE_SIZE, TRANSPORT_MIN_SIZE,
} from './constants.js';

// Field offsets.
export const INITIATION = {
  senderIndex: 4, ephemeral: 8, encryptedStatic: 40, encryptedTimestamp: 88, mac1: 116, mac2: 132,
} as const;
export const RESPONSE = {
  senderIndex: 4, receiverIndex: 8, ephemeral: 12, encryptedNothing: 44, mac1: 60, mac2: 76,
} as const;
export const COOKIE_REPLY = { receiverIndex: 4, nonce: 8, encryptedCookie: 32 } as const;
export const TRANSPORT = { receiverIndex: 4, counter: 8, content: 16 } as const;

export function readU32(buf: Uint8Array, off: number): number {
  return (buf[off]! | (buf[off + 1]! << 8) | (buf[off + 2]! << 16) | (buf[off + 3]! << 24)) >>> 0;
}

export function writeU32(buf: Uint8Array, off: number, value: number): void {
  buf[off] = value; buf[off + 1] = value >>> 8; buf[off + 2] = value >>> 16; buf[off + 3] = value >>> 24;
}

/** Reads a little-endian u64 counter; returns -1 when it does not fit in 2^53 (such packets are refused). */
export function readCounter(buf: Uint8Array, off: number): number {
  const lo = readU32(buf, off);
  const hi = readU32(buf, off + 4);
  if (hi === 0) return lo;
  if (hi >= 0x200000) return -1;
  return hi * 0x100000000 + lo;
}

export function writeCounter(buf: Uint8Array, off: number, counter: number): void {
  writeU32(buf, off, counter >>> 0);
  writeU32(buf, off + 4, counter < 0x100000000 ? 0 : Math.floor(counter / 0x100000000));
}

/**
 * The message type of a datagram, or 0 when its length does not match the
 * type exactly (handshakes) or is too short (transport), or the type is unknown.
 */
export function messageType(buf: Uint8Array, off: number, len: number): number {
  if (len < 4) return 0;
  const type = readU32(buf, off);
  switch (type) {
    case MESSAGE_INITIATION: return len === INITIATION_SIZE ? type : 0;
    case MESSAGE_RESPONSE: return len === RESPONSE_SIZE ? type : 0;
    case MESSAGE_COOKIE_REPLY: return len === COOKIE_REPLY_SIZE ? type : 0;
    case MESSAGE_TRANSPORT: return len >= TRANSPORT_MIN_SIZE ? type : 0;
    default: return 0;
  }
}

/** Writes the transport header (type, receiver index, counter) at buf[off]. */
export function writeTransportHeader(buf: Uint8Array, off: number, receiverIndex: number, counter: number): void {
  writeU32(buf, off, MESSAGE_TRANSPORT);
  writeU32(buf, off + TRANSPORT.receiverIndex, receiverIndex);
  writeCounter(buf, off + TRANSPORT.counter, counter);
}
