// The device: one private key, one listen port, many peers. It is the only
// object a runtime talks to: datagrams in (receiveDatagram), IP packets in
// (sendPacket), configuration in (applyChange), status out (status).
import type { Aead } from '../crypto/aead.js';
import { createJsAead, TAG_LEN } from '../crypto/aead.js';
import { wipe } from '../crypto/blake2s.js';
import { toHex } from '../crypto/encoding.js';
import { equalConstantTime, isZero } from '../crypto/equal.js';
import type { ConfigTarget, DeviceChange, DeviceStatus, PeerStatus } from '../control/config.js';
import { MESSAGE_INITIATION, MESSAGE_RESPONSE, MESSAGE_TRANSPORT, TRANSPORT_HEADER_SIZE } from '../protocol/constants.js';
import { CookieChecker } from '../protocol/cookie.js';
import { IndexTable } from '../protocol/indextable.js';
import type { Keypair } from '../protocol/keypair.js';
import { LoadDetector } from '../protocol/load.js';
import { messageType, readU32, TRANSPORT } from '../protocol/messages.js';
import { StaticIdentity } from '../protocol/noise.js';
import { RateLimiter } from '../protocol/ratelimiter.js';
import { type Clock, type Endpoint, type Logger, type RandomSource, silentLogger } from '../platform/platform.js';
import { AllowedIps } from '../routing/allowedips.js';
import { IPV4_DST_OFFSET, IPV6_DST_OFFSET, ipVersion } from '../routing/ip.js';
import { HandshakeQueue } from './handshake-queue.js';
import { type IndexEntry, Peer } from './peer.js';
import { receiveDatagram } from './receive.js';
import { encryptAndSend, keepKeyFreshSending, sendHandshakeInitiation, sendKeepalive, sendStagedPackets, stagePacket } from './send.js';

export const DEFAULT_MTU = 1420;

function isHandshake(buf: Uint8Array, off: number, len: number): boolean {
  const type = messageType(buf, off, len);
  return type === MESSAGE_INITIATION || type === MESSAGE_RESPONSE;
}

export interface DeviceOptions {
  clock: Clock;
  random: RandomSource;
  /** Sends one datagram. The bytes are valid only during the call: copy them if sending is asynchronous. */
  sendUdp(buf: Uint8Array, off: number, len: number, to: Endpoint): void;
  /** Delivers one decrypted IP packet. The bytes are valid only during the call. */
  writeTun(buf: Uint8Array, off: number, len: number): void;
  /**
   * Binds (or rebinds) the UDP socket. Returns the bound port (a random one for 0),
   * or a negative errno. Without it the device only records the values.
   */
  bindPort?(port: number, fwmark: number): number;
  logger?: Logger;
  aead?: Aead;
  /** Tunnel MTU, used to bound padding (default 1420). */
  mtu?: number;
  /** Handshake messages per second above which cookies are demanded. */
  underLoadThreshold?: number;
  /**
   * Queue handshake messages (receiveDatagram) until processHandshakes, so a
   * flood of them cannot hold up data packets. Off: handled as they arrive.
   */
  queueHandshakes?: boolean;
}

export interface DeviceStats {
  /** Datagrams dropped as malformed, unauthenticated, replayed or not allowed. */
  invalid: number;
  cookieRepliesSent: number;
  rateLimited: number;
  /** IP packets from the TUN with no peer for their destination. */
  noRoute: number;
  /** Handshake messages dropped because the handshake queue was full. */
  handshakesDropped: number;
}

export class Device implements ConfigTarget {
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly logger: Logger;
  readonly aead: Aead;
  readonly sendUdp: DeviceOptions['sendUdp'];
  readonly writeTun: DeviceOptions['writeTun'];
  private readonly bindPort: DeviceOptions['bindPort'];
  mtu: number;

  identity: StaticIdentity | null = null;
  cookieChecker: CookieChecker | null = null;
  listenPort = 0;
  fwmark = 0;
  private readonly peers = new Map<string, Peer>();
  readonly allowedIps = new AllowedIps<Peer>();
  readonly indices: IndexTable<IndexEntry>;
  readonly rateLimiter = new RateLimiter();
  private rateLimiterCollected = -Infinity;
  readonly load: LoadDetector;
  readonly stats: DeviceStats = { invalid: 0, cookieRepliesSent: 0, rateLimited: 0, noRoute: 0, handshakesDropped: 0 };
  /** Handshake messages waiting for processHandshakes (queueHandshakes only). */
  readonly handshakeQueue: HandshakeQueue | null;
  /** Where packets without head/tailroom are encrypted. */
  readonly scratch = new Uint8Array(TRANSPORT_HEADER_SIZE + 65535 + 16 + TAG_LEN);

  constructor(options: DeviceOptions) {
    this.clock = options.clock;
    this.random = options.random;
    this.logger = options.logger ?? silentLogger;
    this.aead = options.aead ?? createJsAead();
    this.sendUdp = options.sendUdp;
    this.writeTun = options.writeTun;
    this.bindPort = options.bindPort;
    this.mtu = options.mtu ?? DEFAULT_MTU;
    this.indices = new IndexTable<IndexEntry>(this.random);
    this.load = new LoadDetector(options.underLoadThreshold);
    this.handshakeQueue = options.queueHandshakes ? new HandshakeQueue() : null;
  }

  // ---- data path ----

  /** A UDP datagram arrived. buf[off, off+len) may be modified (decrypted in place). */
  receiveDatagram(buf: Uint8Array, off: number, len: number, from: Endpoint): void {
    const queue = this.handshakeQueue;
    // One byte tells data from the rest, so data packets pay nothing more here.
    if (queue && buf[off] !== MESSAGE_TRANSPORT && isHandshake(buf, off, len)) {
      if (!queue.push(buf, off, len, from)) this.stats.handshakesDropped++;
      this.load.backlog(queue.length, queue.capacity, this.clock.now());
      return;
    }
    receiveDatagram(this, buf, off, len, from);
  }

  /**
   * Handles queued handshake messages, oldest first, until none is left or
   * budgetMs have passed (at least one). Returns how many still wait.
   */
  processHandshakes(budgetMs: number): number {
    const queue = this.handshakeQueue;
    if (!queue) return 0;
    const start = this.clock.now();
    while (queue.shift(this.handleQueued) && this.clock.now() - start < budgetMs) { /* next */ }
    return queue.length;
  }

  private readonly handleQueued = (buf: Uint8Array, off: number, len: number, from: Endpoint): void => {
    receiveDatagram(this, buf, off, len, from);
  };

  /**
   * The key a transport datagram would be opened with, or null: for runtimes
   * that open a received batch ahead of receiveDatagram (BatchAead). Only
   * looks; the device still decides everything when the datagram arrives.
   */
  receiveKeyFor(buf: Uint8Array, off: number, len: number): Uint8Array | null {
    if (messageType(buf, off, len) !== MESSAGE_TRANSPORT) return null;
    return this.indices.get(readU32(buf, off + TRANSPORT.receiverIndex) | 0)?.keypair?.receiveKey ?? null;
  }

  /**
   * An IP packet to send through the tunnel, routed by allowed IPs. If the
   * caller leaves 16 bytes before `off` and 31 after the packet, it is
   * encrypted in place there (no copy). Returns false if no peer routes it.
   */
  sendPacket(buf: Uint8Array, off: number, len: number): boolean {
    const version = ipVersion(buf, off, len);
    const peer = version === 0 ? undefined
      : this.allowedIps.lookup(buf, off + (version === 4 ? IPV4_DST_OFFSET : IPV6_DST_OFFSET), version);
    if (!peer) { this.stats.noRoute++; return false; }
    const kp = peer.keypairs.current;
    if (peer.staged.length === 0 && kp && encryptAndSend(this, peer, kp, buf, off, len)) {
      keepKeyFreshSending(this, peer, kp);
      return true;
    }
    stagePacket(peer, buf, off, len);
    sendStagedPackets(this, peer);
    return true;
  }

  /** Drops idle rate-limiter entries, at most once a second (the table is bounded and refuses when full). */
  collectRateLimiter(now: number): void {
    if (now - this.rateLimiterCollected < 1000) return;
    this.rateLimiterCollected = now;
    this.rateLimiter.gc(now);
  }

  // ---- peers ----

  peerByKey(publicKey: Uint8Array): Peer | null {
    return this.peers.get(toHex(publicKey)) ?? null;
  }

  get peerCount(): number {
    return this.peers.size;
  }

  /** Called when a keypair leaves its slots: frees its receiver index. */
  forgetKeypair(kp: Keypair): void {
    const entry = this.indices.get(kp.localIndex);
    if (entry && entry.keypair === kp) this.indices.remove(kp.localIndex, entry);
  }

  private createPeer(publicKey: Uint8Array): Peer {
    const keyHex = toHex(publicKey);
    const peer = new Peer(this, publicKey.slice(), keyHex);
    peer.handshake.setIdentity(this.identity);
    this.peers.set(keyHex, peer);
    return peer;
  }

  private removePeer(peer: Peer): void {
    this.allowedIps.removeByValue(peer);
    peer.destroy();
    this.peers.delete(peer.keyHex);
  }

  /** Starts a handshake with every peer (or one) now, regardless of the rekey timers. */
  forceRekey(publicKey?: Uint8Array): void {
    for (const peer of this.peers.values()) {
      if (publicKey && !equalConstantTime(publicKey, peer.publicKey)) continue;
      peer.lastSentHandshake = -Infinity;
      sendHandshakeInitiation(this, peer, false);
    }
  }

  // ---- configuration ----

  private setPrivateKey(key: Uint8Array | null): void {
    const old = this.identity;
    if (key && old && equalConstantTime(key, old.privateKey)) return;
    this.identity = key && !isZero(key) ? new StaticIdentity(key.slice()) : null;
    if (old) wipe(old.privateKey);
    this.cookieChecker = this.identity ? new CookieChecker(this.identity.publicKey, this.random) : null;
    for (const peer of [...this.peers.values()]) {
      // A peer with our own public key would be talking to itself.
      if (this.identity && equalConstantTime(peer.publicKey, this.identity.publicKey)) {
        this.removePeer(peer);
        continue;
      }
      peer.handshake.setIdentity(this.identity);
      peer.zeroKeyMaterial();
    }
  }

  applyChange(change: DeviceChange): number {
    // The only step that can fail is binding; do it first so a failure changes nothing.
    const port = change.listenPort ?? this.listenPort;
    const fwmark = change.fwmark ?? this.fwmark;
    if (port !== this.listenPort || fwmark !== this.fwmark) {
      if (this.bindPort) {
        const bound = this.bindPort(port, fwmark);
        if (bound < 0) return bound;
        this.listenPort = bound;
      } else {
        this.listenPort = port;
      }
      this.fwmark = fwmark;
    }
    if (change.privateKey !== undefined) this.setPrivateKey(change.privateKey);
    if (change.replacePeers) for (const peer of [...this.peers.values()]) this.removePeer(peer);

    const keepaliveTurnedOn = new Set<Peer>();
    const touched = new Set<Peer>();
    for (const pc of change.peers) {
      if (this.identity && equalConstantTime(pc.publicKey, this.identity.publicKey)) continue;
      let peer = this.peerByKey(pc.publicKey);
      if (pc.remove) {
        if (peer) { this.removePeer(peer); touched.delete(peer); keepaliveTurnedOn.delete(peer); }
        continue;
      }
      if (!peer) {
        if (pc.updateOnly) continue;
        peer = this.createPeer(pc.publicKey);
      }
      touched.add(peer);
      if (pc.presharedKey !== undefined) peer.handshake.presharedKey.set(pc.presharedKey ?? new Uint8Array(32));
      if (pc.endpoint) peer.endpoint = { address: pc.endpoint.address, port: pc.endpoint.port };
      if (pc.persistentKeepalive !== undefined) {
        if (peer.timers.persistentKeepaliveInterval === 0 && pc.persistentKeepalive > 0) keepaliveTurnedOn.add(peer);
        peer.timers.persistentKeepaliveInterval = pc.persistentKeepalive;
      }
      if (pc.replaceAllowedIps) this.allowedIps.removeByValue(peer);
      for (const a of pc.allowedIps) {
        if (a.remove) this.allowedIps.remove(a.cidr, peer);
        else this.allowedIps.insert(a.cidr, peer);
      }
    }
    // Like wireguard-go: a keepalive that was just switched on goes out at once,
    // and anything staged for a touched peer gets another chance.
    for (const peer of touched) {
      if (keepaliveTurnedOn.has(peer)) sendKeepalive(this, peer);
      else sendStagedPackets(this, peer);
    }
    return 0;
  }

  status(): DeviceStatus {
    const peers: PeerStatus[] = [];
    for (const peer of this.peers.values()) {
      const psk = peer.handshake.presharedKey;
      peers.push({
        publicKey: peer.publicKey,
        presharedKey: isZero(psk) ? null : psk.slice(),
        endpoint: peer.endpoint ? { address: peer.endpoint.address, port: peer.endpoint.port } : null,
        lastHandshakeWallMs: peer.lastHandshakeWallMs,
        rxBytes: peer.rxBytes,
        txBytes: peer.txBytes,
        persistentKeepalive: peer.timers.persistentKeepaliveInterval,
        allowedIps: this.allowedIps.entriesOf(peer),
      });
    }
    return {
      privateKey: this.identity ? this.identity.privateKey.slice() : null,
      listenPort: this.listenPort,
      fwmark: this.fwmark,
      peers,
    };
  }

  /** Stops every timer and wipes all keys. */
  close(): void {
    for (const peer of [...this.peers.values()]) this.removePeer(peer);
    this.setPrivateKey(null);
  }
}
