// What an attacker on the path can do to a captured datagram: flip bits,
// cut, extend, rewrite fields, and (knowing only the receiver's public key)
// recompute mac1 so the forgery gets past the cheap check to the Noise layer.
import type { Endpoint } from '../../src/platform/platform.js';
import { hash, MAC_LEN, mac } from '../../src/crypto/blake2s.js';
import { asciiBytes } from '../../src/crypto/encoding.js';
import { writeU32 } from '../../src/protocol/messages.js';
import type { Datagram, Node, VirtualNetwork } from './virtual.js';

const LABEL_MAC1 = asciiBytes('mac1----');

export function flipBit(msg: Uint8Array, bit: number): Uint8Array {
  const out = msg.slice();
  out[bit >> 3] ^= 1 << (bit & 7);
  return out;
}

export function withU32(msg: Uint8Array, off: number, value: number): Uint8Array {
  const out = msg.slice();
  writeU32(out, off, value);
  return out;
}

export function withByte(msg: Uint8Array, off: number, value: number): Uint8Array {
  const out = msg.slice();
  out[off] = value;
  return out;
}

/** A copy with mac1 recomputed for the receiver (mac2 kept): what anyone who knows that public key can do. */
export function withValidMac1(msg: Uint8Array, receiverPublicKey: Uint8Array): Uint8Array {
  const out = msg.slice();
  const at = out.length - 2 * MAC_LEN;
  out.set(mac(hash(LABEL_MAC1, receiverPublicKey), out.subarray(0, at)), at);
  return out;
}

/** A copy extended by `extra` bytes from the given filler. */
export function extended(msg: Uint8Array, extra: number, fill = 0): Uint8Array {
  const out = new Uint8Array(msg.length + extra);
  out.set(msg);
  for (let i = msg.length; i < out.length; i++) out[i] = (fill + i) & 255;
  return out;
}

export interface InjectResult {
  /** Datagrams the device sent in answer (they stay queued in the network too). */
  sent: Datagram[];
  /** IP packets the device delivered to its TUN. */
  delivered: Uint8Array[];
}

/**
 * Hands one datagram straight to a node, as if it came from `from`, and
 * reports what it provoked. The datagram is data[off, off+len) of a copy of
 * `data`: bytes around it stay in the buffer, where no parser may look.
 */
export function inject(net: VirtualNetwork, node: Node, data: Uint8Array, from: Endpoint,
  off = 0, len = data.length - off): InjectResult {
  const queued = net.queue.length;
  const delivered = node.delivered.length;
  const copy = data.slice();
  node.device.receiveDatagram(copy, off, len, from);
  return { sent: net.queue.slice(queued), delivered: node.delivered.slice(delivered) };
}

/** Removes and returns the only queued datagram, checking its type. */
export function takeOnly(net: VirtualNetwork, type: number): Datagram {
  if (net.queue.length !== 1 || net.queue[0]!.data[0] !== type) {
    throw new Error(`expected one queued datagram of type ${type}, found types [${net.queue.map((d) => d.data[0]).join(',')}]`);
  }
  return net.queue.shift()!;
}
