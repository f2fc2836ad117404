// The timer state machine (whitepaper §6), in wireguard-go's shape: the rest
// of the code reports what happened through event hooks named after the
// event, and the expiry handlers below say what each timer does. Time comes
// from the injected Clock, so tests replay any timer story in virtual time.
import type { Clock, RandomSource, TimerHandle } from '../platform/platform.js';
import {
  KEEPALIVE_TIMEOUT, MAX_TIMER_HANDSHAKES, REJECT_AFTER_TIME, REKEY_TIMEOUT, REKEY_TIMEOUT_JITTER_MAX,
} from './constants.js';

/**
 * A timer whose deadline can be pushed later for the price of a field write:
 * the armed platform timer re-arms itself for the new deadline when it fires
 * early. Data packets modify timers all the time; this keeps that cheap.
 */
export class LazyTimer {
  private deadline = -1;
  private armedFor = -1;
  private handle: TimerHandle = null;

  constructor(private readonly clock: Clock, private readonly fire: () => void) {}

  /** (Re)starts the timer to expire `delayMs` from now. */
  mod(delayMs: number): void {
    const now = this.clock.now();
    this.deadline = now + delayMs;
    if (this.handle !== null && this.armedFor <= this.deadline) return;
    this.arm(now);
  }

  del(): void {
    this.deadline = -1;
    if (this.handle !== null) {
      this.clock.clearTimer(this.handle);
      this.handle = null;
    }
  }

  get pending(): boolean {
    return this.deadline >= 0;
  }

  private arm(now: number): void {
    if (this.handle !== null) this.clock.clearTimer(this.handle);
    this.armedFor = this.deadline;
    this.handle = this.clock.setTimer(this.onFire, Math.max(0, this.deadline - now));
  }

  private readonly onFire = (): void => {
    this.handle = null;
    if (this.deadline < 0) return;
    const now = this.clock.now();
    if (now < this.deadline) {
      this.arm(now);
      return;
    }
    this.deadline = -1;
    this.fire();
  };
}

/** What a peer does when its timers expire. */
export interface TimerActions {
  sendKeepalive(): void;
  sendHandshakeInitiation(isRetry: boolean): void;
  /** Handshake attempts exhausted: drop packets waiting for a session. */
  dropStagedPackets(): void;
  zeroKeyMaterial(): void;
  /** Forget the cached local source address, so routing picks a fresh one. */
  clearEndpointSource(): void;
  log(message: string): void;
}

export class PeerTimers {
  handshakeAttempts = 0;
  private needAnotherKeepalive = false;
  /** Seconds; 0 = off. */
  persistentKeepaliveInterval = 0;
  private readonly jitterBytes = new Uint8Array(2);

  private readonly retransmitHandshake: LazyTimer;
  private readonly sendKeepalive: LazyTimer;
  private readonly newHandshake: LazyTimer;
  private readonly zeroKeyMaterial: LazyTimer;
  private readonly persistentKeepalive: LazyTimer;

  constructor(clock: Clock, private readonly random: RandomSource, private readonly actions: TimerActions) {
    this.retransmitHandshake = new LazyTimer(clock, () => this.expiredRetransmitHandshake());
    this.sendKeepalive = new LazyTimer(clock, () => this.expiredSendKeepalive());
    this.newHandshake = new LazyTimer(clock, () => this.expiredNewHandshake());
    this.zeroKeyMaterial = new LazyTimer(clock, () => this.expiredZeroKeyMaterial());
    this.persistentKeepalive = new LazyTimer(clock, () => this.expiredPersistentKeepalive());
  }

  private jitter(): number {
    this.random(this.jitterBytes);
    return (this.jitterBytes[0]! | (this.jitterBytes[1]! << 8)) % REKEY_TIMEOUT_JITTER_MAX;
  }

  // ---- expiry handlers ----

  private expiredRetransmitHandshake(): void {
    if (this.handshakeAttempts > MAX_TIMER_HANDSHAKES) {
      this.actions.log(`Handshake did not complete after ${MAX_TIMER_HANDSHAKES + 2} attempts, giving up`);
      this.sendKeepalive.del();
      this.actions.dropStagedPackets();
      // Without a session there is nothing to keep alive; wipe keys later if nothing happens.
      if (!this.zeroKeyMaterial.pending) this.zeroKeyMaterial.mod(REJECT_AFTER_TIME * 3);
      return;
    }
    this.handshakeAttempts++;
    this.actions.log(`Handshake did not complete after ${REKEY_TIMEOUT / 1000} seconds, retrying (try ${this.handshakeAttempts + 1})`);
    this.actions.clearEndpointSource();
    this.actions.sendHandshakeInitiation(true);
  }

  private expiredSendKeepalive(): void {
    this.actions.sendKeepalive();
    if (this.needAnotherKeepalive) {
      this.needAnotherKeepalive = false;
      this.sendKeepalive.mod(KEEPALIVE_TIMEOUT);
    }
  }

  private expiredNewHandshake(): void {
    this.actions.log(`Retrying handshake because we stopped hearing back after ${(KEEPALIVE_TIMEOUT + REKEY_TIMEOUT) / 1000} seconds`);
    this.actions.clearEndpointSource();
    this.actions.sendHandshakeInitiation(false);
  }

  private expiredZeroKeyMaterial(): void {
    this.actions.log(`Removing all keys, since we haven't received a new one in ${REJECT_AFTER_TIME * 3 / 1000} seconds`);
    this.actions.zeroKeyMaterial();
  }

  private expiredPersistentKeepalive(): void {
    if (this.persistentKeepaliveInterval > 0) this.actions.sendKeepalive();
  }

  // ---- events ----

  /** A data packet (not a keepalive) was sent. */
  dataSent(): void {
    if (!this.newHandshake.pending) this.newHandshake.mod(KEEPALIVE_TIMEOUT + REKEY_TIMEOUT + this.jitter());
  }

  /** A data packet (not a keepalive) was received. */
  dataReceived(): void {
    if (!this.sendKeepalive.pending) this.sendKeepalive.mod(KEEPALIVE_TIMEOUT);
    else this.needAnotherKeepalive = true;
  }

  /**
   * A transport packet was sent (data, or a keepalive when !isData): the
   * three events above in one call, for the per-packet path.
   */
  authenticatedPacketSent(isData: boolean): void {
    if (this.persistentKeepaliveInterval > 0) this.persistentKeepalive.mod(this.persistentKeepaliveInterval * 1000);
    this.sendKeepalive.del();
    if (isData && !this.newHandshake.pending) this.newHandshake.mod(KEEPALIVE_TIMEOUT + REKEY_TIMEOUT + this.jitter());
  }

  /** A transport packet was received (data, or a keepalive when !isData): the events in one call. */
  authenticatedPacketReceived(isData: boolean): void {
    if (this.persistentKeepaliveInterval > 0) this.persistentKeepalive.mod(this.persistentKeepaliveInterval * 1000);
    this.newHandshake.del();
    if (!isData) return;
    if (!this.sendKeepalive.pending) this.sendKeepalive.mod(KEEPALIVE_TIMEOUT);
    else this.needAnotherKeepalive = true;
  }

  /** Any authenticated packet (handshake, keepalive or data) was sent. */
  anyAuthenticatedPacketSent(): void {
    this.sendKeepalive.del();
  }

  /** Any authenticated packet (handshake, keepalive or data) was received. */
  anyAuthenticatedPacketReceived(): void {
    this.newHandshake.del();
  }

  /** A handshake initiation was sent (first or retry). */
  handshakeInitiated(): void {
    this.retransmitHandshake.mod(REKEY_TIMEOUT + this.jitter());
  }

  /** A handshake response was received and the session is ours (initiator side). */
  handshakeComplete(): void {
    this.retransmitHandshake.del();
    this.handshakeAttempts = 0;
  }

  /** A session was derived, as initiator or responder. */
  sessionDerived(): void {
    this.zeroKeyMaterial.mod(REJECT_AFTER_TIME * 3);
  }

  /** Any authenticated packet went either way: restarts the persistent keepalive. */
  anyAuthenticatedPacketTraversal(): void {
    if (this.persistentKeepaliveInterval > 0) this.persistentKeepalive.mod(this.persistentKeepaliveInterval * 1000);
  }

  /** Stops every timer (peer removed, device closed). */
  stop(): void {
    this.retransmitHandshake.del();
    this.sendKeepalive.del();
    this.newHandshake.del();
    this.zeroKeyMaterial.del();
    this.persistentKeepalive.del();
    this.needAnotherKeepalive = false;
  }

  /** Which timers are armed (tests and diagnostics). */
  pendingTimers(): string[] {
    const out: string[] = [];
    if (this.retransmitHandshake.pending) out.push('retransmitHandshake');
    if (this.sendKeepalive.pending) out.push('sendKeepalive');
    if (this.newHandshake.pending) out.push('newHandshake');
    if (this.zeroKeyMaterial.pending) out.push('zeroKeyMaterial');
    if (this.persistentKeepalive.pending) out.push('persistentKeepalive');
    return out;
  }
}
