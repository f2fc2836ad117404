// Everything wgts sends: handshake initiations and responses, cookie
// replies, keepalives and data. The data path (encryptAndSend) allocates
// nothing: it encrypts in place when the caller left head- and tailroom,
// otherwise in the device's scratch buffer.
import { TAG_LEN } from '../crypto/aead.js';
import {
  INITIATION_SIZE, MAX_STAGED_PACKETS, MESSAGE_TRANSPORT, PADDING_MULTIPLE, REKEY_AFTER_MESSAGES, REKEY_AFTER_TIME,
  REKEY_TIMEOUT, RESPONSE_SIZE, TRANSPORT_HEADER_SIZE,
} from '../protocol/constants.js';
import type { Keypair } from '../protocol/keypair.js';
import { Keypair as KeypairClass } from '../protocol/keypair.js';
import { writeTransportHeader } from '../protocol/messages.js';
import { createInitiation, createResponse, deriveSession } from '../protocol/noise.js';
import type { Endpoint } from '../platform/platform.js';
import type { Device } from './device.js';
import type { Peer } from './peer.js';

/** Sends a handshake initiation unless one went out less than REKEY_TIMEOUT ago. */
export function sendHandshakeInitiation(device: Device, peer: Peer, isRetry: boolean): void {
  if (!isRetry) peer.timers.handshakeAttempts = 0;
  const now = device.clock.now();
  if (now - peer.lastSentHandshake < REKEY_TIMEOUT) return;
  const identity = device.identity;
  if (!identity || !peer.handshake.precomputedStaticStatic) return;
  if (!peer.endpoint) {
    peer.log('No known endpoint, cannot send handshake initiation');
    return;
  }
  peer.lastSentHandshake = now;
  peer.dropHandshake();
  const localIndex = device.indices.allocate(peer.handshakeEntry);
  const msg = new Uint8Array(INITIATION_SIZE);
  if (!createInitiation(peer.handshake, identity, device.aead, device.random, device.clock.wallMs(), localIndex, msg)) {
    device.indices.remove(localIndex, peer.handshakeEntry);
    return;
  }
  peer.log('Sending handshake initiation');
  peer.cookies.addMacs(msg, INITIATION_SIZE, now);
  peer.timers.anyAuthenticatedPacketTraversal();
  peer.timers.anyAuthenticatedPacketSent();
  sendTo(device, peer, msg, 0, INITIATION_SIZE);
  peer.timers.handshakeInitiated();
}

/** Answers a consumed initiation and installs the resulting (unconfirmed) session as `next`. */
export function sendHandshakeResponse(device: Device, peer: Peer): void {
  const now = device.clock.now();
  peer.lastSentHandshake = now;
  const localIndex = device.indices.allocate(peer.handshakeEntry);
  const msg = new Uint8Array(RESPONSE_SIZE);
  if (!createResponse(peer.handshake, device.aead, device.random, localIndex, msg)) {
    device.indices.remove(localIndex, peer.handshakeEntry);
    peer.handshake.clear();
    return;
  }
  peer.cookies.addMacs(msg, RESPONSE_SIZE, now);
  if (!beginSession(device, peer)) return;
  peer.log('Sending handshake response');
  peer.timers.anyAuthenticatedPacketTraversal();
  peer.timers.anyAuthenticatedPacketSent();
  sendTo(device, peer, msg, 0, RESPONSE_SIZE);
}

/** Turns the completed handshake into a session and files it under its receiver index. */
export function beginSession(device: Device, peer: Peer): Keypair | null {
  const keys = deriveSession(peer.handshake);
  if (!keys) return null;
  const kp = new KeypairClass(keys.sendKey, keys.receiveKey, keys.isInitiator, device.clock.now(),
    keys.localIndex, keys.remoteIndex);
  device.indices.replace(keys.localIndex, { peer, keypair: kp });
  peer.keypairs.install(kp);
  peer.sentLastMinuteHandshake = false;
  peer.timers.sessionDerived();
  return kp;
}

/** Sends a keepalive (an empty data packet), unless data is already waiting to go. */
export function sendKeepalive(device: Device, peer: Peer): void {
  if (peer.staged.length === 0) peer.staged.push(EMPTY_PACKET);
  sendStagedPackets(device, peer);
}

const EMPTY_PACKET = new Uint8Array(0);

/** Queues a copy of a packet until a session exists; the oldest is dropped when full. */
export function stagePacket(peer: Peer, buf: Uint8Array, off: number, len: number): void {
  if (peer.staged.length >= MAX_STAGED_PACKETS) peer.staged.shift();
  peer.staged.push(buf.slice(off, off + len));
}

/** Sends what is staged if a usable session exists; otherwise asks for a handshake. */
export function sendStagedPackets(device: Device, peer: Peer): void {
  if (peer.staged.length === 0) return;
  const kp = peer.keypairs.current;
  if (!kp || !kp.canSend(device.clock.now())) {
    sendHandshakeInitiation(device, peer, false);
    return;
  }
  const staged = peer.staged;
  peer.staged = [];
  for (const packet of staged) {
    if (!encryptAndSend(device, peer, kp, packet, 0, packet.length)) {
      // The session ran out under us: keep the rest for the next one.
      peer.staged = staged.slice(staged.indexOf(packet));
      sendHandshakeInitiation(device, peer, false);
      return;
    }
  }
  keepKeyFreshSending(device, peer, kp);
}

/** Bytes of zero padding after `len` bytes of plaintext (whitepaper §5.4.6; never beyond the MTU). */
export function paddingFor(len: number, mtu: number): number {
  let last = len;
  if (mtu > 0 && last > mtu) last %= mtu;
  let padded = (last + PADDING_MULTIPLE - 1) & ~(PADDING_MULTIPLE - 1);
  if (mtu > 0 && padded > mtu) padded = mtu;
  return padded > last ? padded - last : 0;
}

/**
 * Encrypts one packet under kp and sends it. When buf has 16 bytes of
 * headroom before off and room for padding and tag after the packet, the
 * work happens in place in buf; otherwise in the device's scratch buffer.
 * Returns false only when the session cannot send any more.
 */
export function encryptAndSend(device: Device, peer: Peer, kp: Keypair, buf: Uint8Array, off: number, len: number): boolean {
  const counter = kp.sendCounter;
  if (!kp.canSend(device.clock.now())) return false;
  kp.sendCounter = counter + 1;
  const mtu = device.mtu;
  // Full-size and 16-byte-aligned packets need no padding: no call for them.
  const padding = len === mtu || ((len & (PADDING_MULTIPLE - 1)) === 0 && len <= mtu) ? 0 : paddingFor(len, mtu);
  const total = TRANSPORT_HEADER_SIZE + len + padding + TAG_LEN;
  let out = buf;
  let start = off - TRANSPORT_HEADER_SIZE;
  if (start < 0 || off + len + padding + TAG_LEN > buf.length) {
    out = device.scratch;
    start = 0;
    out.set(buf.subarray(off, off + len), TRANSPORT_HEADER_SIZE);
  }
  const plain = start + TRANSPORT_HEADER_SIZE;
  if (padding > 0) out.fill(0, plain + len, plain + len + padding);
  if (counter <= 0x7fffffff) {
    // Per packet the header is written inline, with int32 arithmetic only:
    // on QuickJS each helper call costs hundreds of instructions.
    const index = kp.remoteIndex | 0;
    out[start] = MESSAGE_TRANSPORT; out[start + 1] = 0; out[start + 2] = 0; out[start + 3] = 0;
    out[start + 4] = index; out[start + 5] = index >> 8; out[start + 6] = index >> 16; out[start + 7] = index >> 24;
    out[start + 8] = counter; out[start + 9] = counter >> 8; out[start + 10] = counter >> 16; out[start + 11] = counter >> 24;
    out[start + 12] = 0; out[start + 13] = 0; out[start + 14] = 0; out[start + 15] = 0;
  } else {
    writeTransportHeader(out, start, kp.remoteIndex, counter);
  }
  device.aead.seal(kp.sendKey, counter, null, out, plain, len + padding, out, plain);
  peer.timers.authenticatedPacketSent(len > 0);
  sendTo(device, peer, out, start, total);
  return true;
}

/** After sending: ask for a new handshake when the session is getting old (initiator) or worn out. */
export function keepKeyFreshSending(device: Device, peer: Peer, kp: Keypair): void {
  if (kp.sendCounter > REKEY_AFTER_MESSAGES ||
    (kp.isInitiator && device.clock.now() - kp.createdAt > REKEY_AFTER_TIME)) {
    sendHandshakeInitiation(device, peer, false);
  }
}

function sendTo(device: Device, peer: Peer, buf: Uint8Array, off: number, len: number): void {
  const ep: Endpoint | null = peer.endpoint;
  if (!ep) return;
  peer.txBytes += len;
  device.sendUdp(buf, off, len, ep);
}
