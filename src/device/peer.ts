// A peer: its keys, handshake, sessions, endpoint, timers and counters.
import { toBase64 } from '../crypto/encoding.js';
import { wipe } from '../crypto/blake2s.js';
import { CookieGenerator } from '../protocol/cookie.js';
import { Handshake } from '../protocol/noise.js';
import { type Keypair, KeypairSlots } from '../protocol/keypair.js';
import { PeerTimers, type TimerActions } from '../protocol/timers.js';
import type { Endpoint } from '../platform/platform.js';
import type { Device } from './device.js';
import { sendHandshakeInitiation, sendKeepalive } from './send.js';

/** What a receiver index points at: a peer's pending handshake, or one of its sessions. */
export interface IndexEntry {
  readonly peer: Peer;
  readonly keypair: Keypair | null;
}

export class Peer implements TimerActions {
  readonly handshake: Handshake;
  readonly keypairs: KeypairSlots;
  readonly cookies: CookieGenerator;
  readonly timers: PeerTimers;
  readonly handshakeEntry: IndexEntry;
  /** Short printable name for logs, like wireguard-go's "peer(AbCd…WxYz)". */
  readonly name: string;
  endpoint: Endpoint | null = null;
  rxBytes = 0;
  txBytes = 0;
  /** Wall-clock ms of the latest completed handshake; 0 = never. */
  lastHandshakeWallMs = 0;
  /** Monotonic ms of the latest initiation we sent (rate limit: one per REKEY_TIMEOUT). */
  lastSentHandshake = -Infinity;
  /** The receive-side "last minute" rekey was already asked for this session. */
  sentLastMinuteHandshake = false;
  /** Packets waiting for a session (copies). */
  staged: Uint8Array[] = [];

  constructor(readonly device: Device, readonly publicKey: Uint8Array, readonly keyHex: string) {
    this.handshake = new Handshake(publicKey);
    this.handshakeEntry = { peer: this, keypair: null };
    this.keypairs = new KeypairSlots((kp) => device.forgetKeypair(kp));
    this.cookies = new CookieGenerator(publicKey);
    this.timers = new PeerTimers(device.clock, device.random, this);
    const b64 = toBase64(publicKey);
    this.name = `peer(${b64.slice(0, 4)}…${b64.slice(39, 43)})`;
  }

  get presharedKey(): Uint8Array {
    return this.handshake.presharedKey;
  }

  // ---- TimerActions ----
  sendKeepalive(): void {
    sendKeepalive(this.device, this);
  }
  sendHandshakeInitiation(isRetry: boolean): void {
    sendHandshakeInitiation(this.device, this, isRetry);
  }
  dropStagedPackets(): void {
    this.staged.length = 0;
  }
  zeroKeyMaterial(): void {
    this.dropHandshake();
    this.keypairs.clear();
  }
  clearEndpointSource(): void {
    const ep = this.endpoint;
    if (ep && ep.local !== undefined) this.endpoint = { address: ep.address, port: ep.port };
  }
  log(message: string): void {
    this.device.logger.verbose(`${this.name} - ${message}`);
  }

  /** Forgets the handshake in progress and frees its receiver index. */
  dropHandshake(): void {
    if (this.handshake.localIndex !== 0) this.device.indices.remove(this.handshake.localIndex, this.handshakeEntry);
    this.handshake.clear();
  }

  /** Stops timers and wipes all key material: the peer is being removed or the device closed. */
  destroy(): void {
    this.timers.stop();
    this.zeroKeyMaterial();
    this.cookies.clear();
    wipe(this.handshake.precomputedStaticStatic, this.handshake.presharedKey);
    this.staged.length = 0;
  }
}
