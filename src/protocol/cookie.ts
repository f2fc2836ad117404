// mac1, mac2 and cookie replies (whitepaper §5.4.7, §5.3): the DoS defence.
// mac1 proves the sender knows our public key and is always required. Under
// load, mac2 must carry a cookie bound to the sender's address; a sender
// without one gets a cookie reply and nothing else.
import { xaeadOpen, xaeadSeal } from '../crypto/aead.js';
import { hash, MAC_LEN, mac, wipe } from '../crypto/blake2s.js';
import { asciiBytes } from '../crypto/encoding.js';
import { equalConstantTime } from '../crypto/equal.js';
import type { RandomSource } from '../platform/platform.js';
import { COOKIE_REPLY_SIZE, COOKIE_SECRET_LATENCY, COOKIE_SECRET_MAX_AGE, MESSAGE_COOKIE_REPLY } from './constants.js';
import { COOKIE_REPLY, writeU32 } from './messages.js';

const LABEL_MAC1 = asciiBytes('mac1----');
const LABEL_COOKIE = asciiBytes('cookie--');

// In both handshake messages mac1 and mac2 are the last 32 bytes.
const mac1Offset = (len: number) => len - 2 * MAC_LEN;
const mac2Offset = (len: number) => len - MAC_LEN;

/** Responder side: one per device, keyed by our own public key. */
export class CookieChecker {
  private readonly mac1Key: Uint8Array;
  private readonly cookieKey: Uint8Array;
  private readonly secret = new Uint8Array(32);
  private secretBirth = -Infinity;

  constructor(ourPublicKey: Uint8Array, private readonly random: RandomSource) {
    this.mac1Key = hash(LABEL_MAC1, ourPublicKey);
    this.cookieKey = hash(LABEL_COOKIE, ourPublicKey);
  }

  checkMac1(msg: Uint8Array, len: number): boolean {
    const expected = mac(this.mac1Key, msg.subarray(0, mac1Offset(len)));
    return equalConstantTime(expected, msg.subarray(mac1Offset(len), mac1Offset(len) + MAC_LEN));
  }

  /** mac2 is valid only with a cookie from our current secret for this exact source. */
  checkMac2(msg: Uint8Array, len: number, source: Uint8Array, now: number): boolean {
    if (now - this.secretBirth > COOKIE_SECRET_MAX_AGE) return false;
    const cookie = mac(this.secret, source);
    const expected = mac(cookie, msg.subarray(0, mac2Offset(len)));
    return equalConstantTime(expected, msg.subarray(mac2Offset(len), mac2Offset(len) + MAC_LEN));
  }

  /** Builds the 64-byte cookie reply to a handshake message whose mac1 was valid. */
  createReply(msg: Uint8Array, len: number, senderIndex: number, source: Uint8Array, now: number): Uint8Array {
    if (now - this.secretBirth > COOKIE_SECRET_MAX_AGE) {
      this.random(this.secret);
      this.secretBirth = now;
    }
    const reply = new Uint8Array(COOKIE_REPLY_SIZE);
    writeU32(reply, 0, MESSAGE_COOKIE_REPLY);
    writeU32(reply, COOKIE_REPLY.receiverIndex, senderIndex);
    const nonce = reply.subarray(COOKIE_REPLY.nonce, COOKIE_REPLY.nonce + 24);
    this.random(nonce);
    const cookie = mac(this.secret, source);
    const sealed = xaeadSeal(this.cookieKey, nonce, cookie, msg.subarray(mac1Offset(len), mac1Offset(len) + MAC_LEN));
    reply.set(sealed, COOKIE_REPLY.encryptedCookie);
    wipe(cookie);
    return reply;
  }
}

/** Initiator side: one per peer, keyed by the peer's public key. */
export class CookieGenerator {
  private readonly mac1Key: Uint8Array;
  private readonly cookieKey: Uint8Array;
  private readonly cookie = new Uint8Array(MAC_LEN);
  private cookieBirth = -Infinity;
  private readonly lastMac1 = new Uint8Array(MAC_LEN);
  private hasLastMac1 = false;

  constructor(peerPublicKey: Uint8Array) {
    this.mac1Key = hash(LABEL_MAC1, peerPublicKey);
    this.cookieKey = hash(LABEL_COOKIE, peerPublicKey);
  }

  /** Fills mac1, and mac2 when we hold a fresh cookie, in a handshake message of length len. */
  addMacs(msg: Uint8Array, len: number, now: number): void {
    const m1 = mac(this.mac1Key, msg.subarray(0, mac1Offset(len)));
    msg.set(m1, mac1Offset(len));
    this.lastMac1.set(m1);
    this.hasLastMac1 = true;
    if (now - this.cookieBirth <= COOKIE_SECRET_MAX_AGE - COOKIE_SECRET_LATENCY) {
      msg.set(mac(this.cookie, msg.subarray(0, mac2Offset(len))), mac2Offset(len));
    } else {
      msg.fill(0, mac2Offset(len), len);
    }
  }

  /** Accepts a cookie reply that answers our last message. Returns false (and changes nothing) otherwise. */
  consumeReply(reply: Uint8Array, now: number): boolean {
    if (!this.hasLastMac1) return false;
    const cookie = xaeadOpen(this.cookieKey,
      reply.subarray(COOKIE_REPLY.nonce, COOKIE_REPLY.nonce + 24),
      reply.subarray(COOKIE_REPLY.encryptedCookie, COOKIE_REPLY_SIZE), this.lastMac1);
    if (!cookie) return false;
    this.cookie.set(cookie);
    this.cookieBirth = now;
    this.hasLastMac1 = false;
    return true;
  }

  clear(): void {
    wipe(this.cookie);
    this.cookieBirth = -Infinity;
    this.hasLastMac1 = false;
  }
}
