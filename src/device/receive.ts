// Everything wgts receives. The order of checks follows the stealth rule:
// nothing that fails authentication changes state or gets an answer, with
// the single exception of a cookie reply to a handshake that carried a valid
// mac1 while we are under load.
import {
  MESSAGE_COOKIE_REPLY, MESSAGE_INITIATION, MESSAGE_RESPONSE, MESSAGE_TRANSPORT,
  KEEPALIVE_TIMEOUT, REJECT_AFTER_TIME, REKEY_TIMEOUT, TRANSPORT_HEADER_SIZE, TRANSPORT_MIN_SIZE,
} from '../protocol/constants.js';
import type { Keypair } from '../protocol/keypair.js';
import { COOKIE_REPLY, INITIATION, messageType, readCounter, readU32, RESPONSE, TRANSPORT } from '../protocol/messages.js';
import { commitInitiation, consumeInitiation, consumeResponse } from '../protocol/noise.js';
import type { Handshake } from '../protocol/noise.js';
import type { Endpoint } from '../platform/platform.js';
import { IPV4_HEADER_MIN_LENGTH, IPV4_SRC_OFFSET, IPV6_HEADER_LENGTH, IPV6_SRC_OFFSET, parseIp } from '../routing/ip.js';
import type { Device } from './device.js';
import type { Peer } from './peer.js';
import { beginSession, sendHandshakeInitiation, sendHandshakeResponse, sendKeepalive, sendStagedPackets } from './send.js';

/** Entry point for every UDP datagram that arrives on the listen port. */
export function receiveDatagram(device: Device, buf: Uint8Array, off: number, len: number, from: Endpoint): void {
  // Transport data first and without a call: the type word 4, 0, 0, 0 (LE).
  if (len >= TRANSPORT_MIN_SIZE && buf[off] === MESSAGE_TRANSPORT && (buf[off + 1]! | buf[off + 2]! | buf[off + 3]!) === 0) {
    receiveTransport(device, buf, off, len, from);
    return;
  }
  switch (messageType(buf, off, len)) {
    case MESSAGE_TRANSPORT:
      receiveTransport(device, buf, off, len, from);
      return;
    case MESSAGE_INITIATION:
    case MESSAGE_RESPONSE:
      receiveHandshake(device, buf.slice(off, off + len), from);
      return;
    case MESSAGE_COOKIE_REPLY:
      receiveCookieReply(device, buf.slice(off, off + len));
      return;
    default:
      device.stats.invalid++;
  }
}

function receiveTransport(device: Device, buf: Uint8Array, off: number, len: number, from: Endpoint): void {
  // Per packet, the header's words are read inline: each helper call would
  // cost hundreds of instructions on QuickJS. messageType checked the length.
  const at = off + TRANSPORT.receiverIndex;
  const entry = device.indices.get(buf[at]! | (buf[at + 1]! << 8) | (buf[at + 2]! << 16) | (buf[at + 3]! << 24));
  const kp = entry?.keypair;
  if (!entry || !kp) { device.stats.invalid++; return; }
  const now = device.clock.now();
  const c = off + TRANSPORT.counter;
  const counter = (buf[c + 4]! | buf[c + 5]! | buf[c + 6]! | buf[c + 7]!) === 0
    ? (buf[c]! | (buf[c + 1]! << 8) | (buf[c + 2]! << 16) | (buf[c + 3]! << 24)) >>> 0
    : readCounter(buf, c);
  if (!kp.canReceive(now) || counter < 0 || !kp.replay.check(counter)) { device.stats.invalid++; return; }
  const content = off + TRANSPORT_HEADER_SIZE;
  const plainLen = device.aead.open(kp.receiveKey, counter, null, buf, content, len - TRANSPORT_HEADER_SIZE, buf, content);
  if (plainLen < 0) { device.stats.invalid++; return; }
  // Authenticated from here on.
  if (!kp.replay.accept(counter)) { device.stats.invalid++; return; }
  const peer = entry.peer;
  peer.endpoint = from;
  if (kp === peer.keypairs.next && peer.keypairs.receivedWith(kp)) {
    peer.log('Session confirmed by the initiator\'s first packet');
    handshakeComplete(device, peer);
    sendStagedPackets(device, peer);
  }
  if (kp.isInitiator && !peer.sentLastMinuteHandshake) keepKeyFreshReceiving(device, peer, kp, now);
  peer.timers.authenticatedPacketReceived(plainLen > 0);
  peer.rxBytes += len;
  if (plainLen === 0) return; // keepalive

  // ipVersion and ipTotalLength inline (content and plainLen are in range: the open succeeded there).
  const version = buf[content]! >>> 4;
  let ipLen = 0;
  if (version === 4 && plainLen >= IPV4_HEADER_MIN_LENGTH) {
    ipLen = (buf[content + 2]! << 8) | buf[content + 3]!;
    if (ipLen < IPV4_HEADER_MIN_LENGTH) ipLen = 0;
  } else if (version === 6 && plainLen >= IPV6_HEADER_LENGTH) {
    ipLen = ((buf[content + 4]! << 8) | buf[content + 5]!) + IPV6_HEADER_LENGTH;
  }
  if (ipLen === 0 || ipLen > plainLen) {
    peer.log('Received a data packet that is not a valid IP packet');
    device.stats.invalid++;
    return;
  }
  const srcOffset = content + (version === 4 ? IPV4_SRC_OFFSET : IPV6_SRC_OFFSET);
  if (device.allowedIps.lookup(buf, srcOffset, version === 4 ? 4 : 6) !== peer) {
    peer.log('Dropped a packet from an IP address the peer is not allowed to use');
    device.stats.invalid++;
    return;
  }
  device.writeTun(buf, content, ipLen);
}

/** As the initiator, start the next handshake before the session's last minute runs out. */
function keepKeyFreshReceiving(device: Device, peer: Peer, kp: Keypair, now: number): void {
  if (peer.sentLastMinuteHandshake || kp !== peer.keypairs.current || !kp.isInitiator) return;
  if (now - kp.createdAt < REJECT_AFTER_TIME - KEEPALIVE_TIMEOUT - REKEY_TIMEOUT) return;
  peer.sentLastMinuteHandshake = true;
  sendHandshakeInitiation(device, peer, false);
}

function handshakeComplete(device: Device, peer: Peer): void {
  peer.timers.handshakeComplete();
  peer.lastHandshakeWallMs = device.clock.wallMs();
}

/** The address bytes a cookie is bound to: IP then port, big-endian. */
function cookieSource(from: Endpoint): Uint8Array | null {
  const ip = parseIp(from.address);
  if (!ip) return null;
  const out = new Uint8Array(ip.length + 2);
  out.set(ip);
  out[ip.length] = from.port >>> 8;
  out[ip.length + 1] = from.port & 255;
  return out;
}

function receiveHandshake(device: Device, msg: Uint8Array, from: Endpoint): void {
  const identity = device.identity;
  const checker = device.cookieChecker;
  if (!identity || !checker) return;
  if (!checker.checkMac1(msg, msg.length)) { device.stats.invalid++; return; }
  const now = device.clock.now();
  if (device.load.record(now)) {
    const source = cookieSource(from);
    if (!source) return;
    if (!checker.checkMac2(msg, msg.length, source, now)) {
      const senderIndex = readU32(msg, INITIATION.senderIndex); // same offset in a response
      const reply = checker.createReply(msg, msg.length, senderIndex, source, now);
      device.stats.cookieRepliesSent++;
      device.sendUdp(reply, 0, reply.length, from);
      return;
    }
    device.collectRateLimiter(now);
    if (!device.rateLimiter.allow(source.subarray(0, source.length - 2), now)) { device.stats.rateLimited++; return; }
  }

  if (msg[0] === MESSAGE_INITIATION) {
    let found: Peer | null = null;
    const consumed = consumeInitiation<Handshake>(identity, device.aead, msg, now, (publicKey) => {
      found = device.peerByKey(publicKey);
      return found ? found.handshake : null;
    });
    const peer = found as Peer | null;
    if (!consumed || !peer) { device.stats.invalid++; return; }
    peer.dropHandshake();
    commitInitiation(consumed, now);
    peer.endpoint = from;
    peer.log('Received handshake initiation');
    peer.timers.anyAuthenticatedPacketTraversal();
    peer.timers.anyAuthenticatedPacketReceived();
    peer.rxBytes += msg.length;
    sendHandshakeResponse(device, peer);
    return;
  }

  const entry = device.indices.get(readU32(msg, RESPONSE.receiverIndex) | 0);
  if (!entry || entry.keypair) { device.stats.invalid++; return; }
  const peer = entry.peer;
  if (!consumeResponse(peer.handshake, identity, device.aead, msg)) { device.stats.invalid++; return; }
  peer.endpoint = from;
  peer.log('Received handshake response');
  if (!beginSession(device, peer)) return;
  handshakeComplete(device, peer);
  peer.timers.anyAuthenticatedPacketTraversal();
  peer.timers.anyAuthenticatedPacketReceived();
  peer.rxBytes += msg.length;
  // Confirm the session to the responder right away: staged data, or a keepalive.
  sendKeepalive(device, peer);
}

function receiveCookieReply(device: Device, msg: Uint8Array): void {
  const entry = device.indices.get(readU32(msg, COOKIE_REPLY.receiverIndex) | 0);
  if (!entry || !entry.peer.cookies.consumeReply(msg, device.clock.now())) { device.stats.invalid++; return; }
  entry.peer.log('Received a cookie reply; the next handshake will carry it');
}
