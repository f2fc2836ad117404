// The Noise_IKpsk2 handshake as WireGuard uses it (whitepaper §5.4.2-§5.4.4).
// Every consume function works on local copies and commits to the handshake
// state only once the message has fully authenticated: a forged or replayed
// message changes nothing.
import type { Aead } from '../crypto/aead.js';
import { TAG_LEN } from '../crypto/aead.js';
import { hash, kdf, wipe } from '../crypto/blake2s.js';
import { asciiBytes } from '../crypto/encoding.js';
import { clampPrivateKey, dh, publicKeyOf } from '../crypto/x25519.js';
import type { RandomSource } from '../platform/platform.js';
import { HANDSHAKE_INITIATION_RATE, INITIATION_SIZE, MESSAGE_INITIATION, MESSAGE_RESPONSE, RESPONSE_SIZE } from './constants.js';
import { INITIATION, readU32, RESPONSE, writeU32 } from './messages.js';
import { TIMESTAMP_LEN, tai64n, timestampAfter } from './tai64n.js';

const CONSTRUCTION = asciiBytes('Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s');
const IDENTIFIER = asciiBytes('WireGuard v1 zx2c4 Jason@zx2c4.com');
/** C0 = HASH(CONSTRUCTION); H0 = HASH(C0 ‖ IDENTIFIER). */
export const INITIAL_CHAINING_KEY = hash(CONSTRUCTION);
export const INITIAL_HASH = hash(INITIAL_CHAINING_KEY, IDENTIFIER);
const EMPTY = new Uint8Array(0);

export const enum HandshakeState {
  Zeroed = 0,
  CreatedInitiation = 1,
  ConsumedInitiation = 2,
  CreatedResponse = 3,
  ConsumedResponse = 4,
}

/** The device's static identity. `initialHash` = HASH(H0 ‖ our public key), used when consuming initiations. */
export class StaticIdentity {
  readonly publicKey: Uint8Array;
  readonly initialHash: Uint8Array;
  constructor(readonly privateKey: Uint8Array) {
    this.publicKey = publicKeyOf(privateKey);
    this.initialHash = hash(INITIAL_HASH, this.publicKey);
  }
}

/** Per-peer handshake state (the kernel's struct noise_handshake). */
export class Handshake {
  state = HandshakeState.Zeroed;
  /** DH(our static private, peer static public), null when unusable (no private key, low-order key). */
  precomputedStaticStatic: Uint8Array | null = null;
  presharedKey = new Uint8Array(32);
  readonly hash = new Uint8Array(32);
  readonly chainingKey = new Uint8Array(32);
  readonly ephemeralPrivate = new Uint8Array(32);
  readonly remoteEphemeral = new Uint8Array(32);
  localIndex = 0;
  remoteIndex = 0;
  /** Greatest TAI64N accepted from this peer: initiations must be strictly newer. */
  readonly latestTimestamp = new Uint8Array(TIMESTAMP_LEN);
  /** Monotonic ms of the last accepted initiation (flood limit). */
  lastInitiationConsumed = -Infinity;

  constructor(readonly remoteStatic: Uint8Array) {}

  /** Recompute the static-static DH after the device key or the peer changed. */
  setIdentity(identity: StaticIdentity | null): void {
    wipe(this.precomputedStaticStatic);
    this.precomputedStaticStatic = identity ? dh(identity.privateKey, this.remoteStatic) : null;
  }

  /** Forget the ephemeral state (keeps the replay timestamp, like the kernel). */
  clear(): void {
    this.state = HandshakeState.Zeroed;
    wipe(this.hash, this.chainingKey, this.ephemeralPrivate, this.remoteEphemeral);
    this.localIndex = 0;
    this.remoteIndex = 0;
  }
}

export interface SessionKeys {
  sendKey: Uint8Array;
  receiveKey: Uint8Array;
  isInitiator: boolean;
  localIndex: number;
  remoteIndex: number;
}

function mixHash(h: Uint8Array, data: Uint8Array): Uint8Array {
  return hash(h, data);
}

/** AEAD with counter 0 over a handshake field; returns the sealed bytes written into out at off. */
function sealField(aead: Aead, key: Uint8Array, aad: Uint8Array, plain: Uint8Array, out: Uint8Array, off: number): void {
  aead.seal(key, 0, aad, plain, 0, plain.length, out, off);
}

function openField(aead: Aead, key: Uint8Array, aad: Uint8Array, msg: Uint8Array, off: number, plainLen: number): Uint8Array | null {
  const out = new Uint8Array(plainLen);
  return aead.open(key, 0, aad, msg, off, plainLen + TAG_LEN, out, 0) === plainLen ? out : null;
}

function newEphemeral(random: RandomSource, into: Uint8Array): Uint8Array {
  random(into);
  clampPrivateKey(into);
  return publicKeyOf(into);
}

/**
 * Writes an initiation (without mac1/mac2) into out[0..148). The caller has
 * allocated `localIndex` in the index table. Returns false if no session is
 * possible with this peer (no private key, or a low-order peer key).
 */
export function createInitiation(hs: Handshake, identity: StaticIdentity, aead: Aead, random: RandomSource,
  wallMs: number, localIndex: number, out: Uint8Array): boolean {
  if (!hs.precomputedStaticStatic) return false;
  out.fill(0, 0, INITIATION_SIZE);
  writeU32(out, 0, MESSAGE_INITIATION);
  writeU32(out, INITIATION.senderIndex, localIndex);

  let h = mixHash(INITIAL_HASH, hs.remoteStatic);
  let ck: Uint8Array = INITIAL_CHAINING_KEY;
  const ephemeralPublic = newEphemeral(random, hs.ephemeralPrivate);
  out.set(ephemeralPublic, INITIATION.ephemeral);
  [ck] = kdf(1, ck, ephemeralPublic);
  h = mixHash(h, ephemeralPublic);

  const es = dh(hs.ephemeralPrivate, hs.remoteStatic);
  if (!es) return false;
  let key: Uint8Array;
  [ck, key] = kdf(2, ck, es);
  sealField(aead, key, h, identity.publicKey, out, INITIATION.encryptedStatic);
  h = mixHash(h, out.subarray(INITIATION.encryptedStatic, INITIATION.encryptedStatic + 32 + TAG_LEN));
  wipe(es, key);

  [ck, key] = kdf(2, ck, hs.precomputedStaticStatic);
  sealField(aead, key, h, tai64n(wallMs), out, INITIATION.encryptedTimestamp);
  h = mixHash(h, out.subarray(INITIATION.encryptedTimestamp, INITIATION.encryptedTimestamp + TIMESTAMP_LEN + TAG_LEN));
  wipe(key);

  hs.hash.set(h);
  hs.chainingKey.set(ck);
  hs.localIndex = localIndex;
  hs.state = HandshakeState.CreatedInitiation;
  return true;
}

export interface ConsumedInitiation<H> {
  handshake: H;
  senderIndex: number;
  /** Values to commit once the caller has decided to accept. */
  hash: Uint8Array;
  chainingKey: Uint8Array;
  ephemeral: Uint8Array;
  timestamp: Uint8Array;
}

/**
 * Authenticates an initiation (mac1 already checked). Finds the peer by the
 * decrypted static key through `lookup`, checks the timestamp is newer and
 * the peer is not flooding us. Returns null on any failure; state is untouched
 * until `commitInitiation`.
 */
export function consumeInitiation<H extends Handshake>(identity: StaticIdentity, aead: Aead, msg: Uint8Array,
  now: number, lookup: (publicKey: Uint8Array) => H | null): ConsumedInitiation<H> | null {
  const ephemeral = msg.slice(INITIATION.ephemeral, INITIATION.ephemeral + 32);
  let h = mixHash(identity.initialHash, ephemeral);
  let [ck] = kdf(1, INITIAL_CHAINING_KEY, ephemeral);

  const es = dh(identity.privateKey, ephemeral);
  if (!es) return null;
  let key: Uint8Array;
  [ck, key] = kdf(2, ck, es);
  wipe(es);
  const remoteStatic = openField(aead, key, h, msg, INITIATION.encryptedStatic, 32);
  wipe(key);
  if (!remoteStatic) return null;
  h = mixHash(h, msg.subarray(INITIATION.encryptedStatic, INITIATION.encryptedStatic + 32 + TAG_LEN));

  const hs = lookup(remoteStatic);
  if (!hs || !hs.precomputedStaticStatic) return null;
  [ck, key] = kdf(2, ck, hs.precomputedStaticStatic);
  const timestamp = openField(aead, key, h, msg, INITIATION.encryptedTimestamp, TIMESTAMP_LEN);
  wipe(key);
  if (!timestamp) return null;
  h = mixHash(h, msg.subarray(INITIATION.encryptedTimestamp, INITIATION.encryptedTimestamp + TIMESTAMP_LEN + TAG_LEN));

  if (!timestampAfter(timestamp, hs.latestTimestamp)) return null; // replayed initiation
  if (now - hs.lastInitiationConsumed < HANDSHAKE_INITIATION_RATE) return null; // flood
  return { handshake: hs, senderIndex: readU32(msg, INITIATION.senderIndex), hash: h, chainingKey: ck, ephemeral, timestamp };
}

export function commitInitiation(c: ConsumedInitiation<Handshake>, now: number): void {
  const hs = c.handshake;
  hs.clear();
  hs.remoteEphemeral.set(c.ephemeral);
  hs.latestTimestamp.set(c.timestamp);
  hs.lastInitiationConsumed = now;
  hs.hash.set(c.hash);
  hs.chainingKey.set(c.chainingKey);
  hs.remoteIndex = c.senderIndex;
  hs.state = HandshakeState.ConsumedInitiation;
}

/** Writes a response (without macs) into out[0..92) after a consumed initiation. */
export function createResponse(hs: Handshake, aead: Aead, random: RandomSource, localIndex: number, out: Uint8Array): boolean {
  if (hs.state !== HandshakeState.ConsumedInitiation) return false;
  out.fill(0, 0, RESPONSE_SIZE);
  writeU32(out, 0, MESSAGE_RESPONSE);
  writeU32(out, RESPONSE.senderIndex, localIndex);
  writeU32(out, RESPONSE.receiverIndex, hs.remoteIndex);

  let h: Uint8Array = hs.hash;
  let ck: Uint8Array = hs.chainingKey;
  const ephemeralPublic = newEphemeral(random, hs.ephemeralPrivate);
  out.set(ephemeralPublic, RESPONSE.ephemeral);
  [ck] = kdf(1, ck, ephemeralPublic);
  h = mixHash(h, ephemeralPublic);

  const ee = dh(hs.ephemeralPrivate, hs.remoteEphemeral);
  const se = dh(hs.ephemeralPrivate, hs.remoteStatic);
  if (!ee || !se) { wipe(ee, se); return false; }
  [ck] = kdf(1, ck, ee);
  [ck] = kdf(1, ck, se);
  wipe(ee, se);

  let tau: Uint8Array, key: Uint8Array;
  [ck, tau, key] = kdf(3, ck, hs.presharedKey);
  h = mixHash(h, tau);
  sealField(aead, key, h, EMPTY, out, RESPONSE.encryptedNothing);
  h = mixHash(h, out.subarray(RESPONSE.encryptedNothing, RESPONSE.encryptedNothing + TAG_LEN));
  wipe(tau, key);

  hs.hash.set(h);
  hs.chainingKey.set(ck);
  hs.localIndex = localIndex;
  hs.state = HandshakeState.CreatedResponse;
  return true;
}

/**
 * Authenticates a response to our initiation. `hs` is the handshake found by
 * the message's receiver index. Commits and returns true only on success.
 */
export function consumeResponse(hs: Handshake, identity: StaticIdentity, aead: Aead, msg: Uint8Array): boolean {
  if (hs.state !== HandshakeState.CreatedInitiation) return false;
  const ephemeral = msg.subarray(RESPONSE.ephemeral, RESPONSE.ephemeral + 32);
  let h = mixHash(hs.hash, ephemeral);
  let [ck] = kdf(1, hs.chainingKey, ephemeral);

  const ee = dh(hs.ephemeralPrivate, ephemeral);
  const se = dh(identity.privateKey, ephemeral);
  if (!ee || !se) { wipe(ee, se); return false; }
  [ck] = kdf(1, ck, ee);
  [ck] = kdf(1, ck, se);
  wipe(ee, se);

  const [ck2, tau, key] = kdf(3, ck, hs.presharedKey);
  h = mixHash(h, tau);
  const ok = openField(aead, key, h, msg, RESPONSE.encryptedNothing, 0) !== null;
  wipe(tau, key);
  if (!ok) return false;
  h = mixHash(h, msg.subarray(RESPONSE.encryptedNothing, RESPONSE.encryptedNothing + TAG_LEN));

  hs.hash.set(h);
  hs.chainingKey.set(ck2);
  hs.remoteIndex = readU32(msg, RESPONSE.senderIndex);
  hs.state = HandshakeState.ConsumedResponse;
  return true;
}

/** Derives transport keys from a completed handshake and wipes the handshake state. */
export function deriveSession(hs: Handshake): SessionKeys | null {
  const isInitiator = hs.state === HandshakeState.ConsumedResponse;
  if (!isInitiator && hs.state !== HandshakeState.CreatedResponse) return null;
  const [t1, t2] = kdf(2, hs.chainingKey, EMPTY);
  const keys: SessionKeys = {
    sendKey: isInitiator ? t1 : t2,
    receiveKey: isInitiator ? t2 : t1,
    isInitiator,
    localIndex: hs.localIndex,
    remoteIndex: hs.remoteIndex,
  };
  hs.clear();
  return keys;
}
