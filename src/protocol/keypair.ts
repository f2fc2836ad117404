// Transport sessions and the three slots a peer keeps them in (whitepaper
// §5.4.6, §6): `current` sends; `previous` still receives packets in flight;
// `next` is a responder's fresh session that becomes current only once the
// initiator proves it has it by sending data under it (key confirmation).
import { wipe } from '../crypto/blake2s.js';
import { REJECT_AFTER_MESSAGES, REJECT_AFTER_TIME } from './constants.js';
import { ReplayWindow } from './replay.js';

export class Keypair {
  sendCounter = 0;
  readonly replay = new ReplayWindow();

  constructor(
    readonly sendKey: Uint8Array,
    readonly receiveKey: Uint8Array,
    readonly isInitiator: boolean,
    /** Monotonic ms when the session was derived. */
    readonly createdAt: number,
    readonly localIndex: number,
    readonly remoteIndex: number,
  ) {}

  /** Usable for sending: not too old, counter not exhausted. */
  canSend(now: number): boolean {
    return now - this.createdAt < REJECT_AFTER_TIME && this.sendCounter < REJECT_AFTER_MESSAGES;
  }

  /** Usable for receiving: not too old. */
  canReceive(now: number): boolean {
    return now - this.createdAt < REJECT_AFTER_TIME;
  }

  destroy(): void {
    wipe(this.sendKey, this.receiveKey);
    this.sendCounter = REJECT_AFTER_MESSAGES;
  }
}

/** The previous/current/next slots. `onDrop` is told of every keypair leaving them (index-table cleanup). */
export class KeypairSlots {
  previous: Keypair | null = null;
  current: Keypair | null = null;
  next: Keypair | null = null;

  constructor(private readonly onDrop: (kp: Keypair) => void) {}

  private drop(kp: Keypair | null): void {
    if (!kp) return;
    this.onDrop(kp);
    kp.destroy();
  }

  /** Installs a freshly derived session. */
  install(kp: Keypair): void {
    if (kp.isInitiator) {
      // The initiator has confirmation already (it received the response).
      if (this.next) {
        // An unconfirmed responder session loses to ours; the old current is kept as previous.
        this.drop(this.next);
        this.next = null;
      }
      this.drop(this.previous);
      this.previous = this.current;
      this.current = kp;
    } else {
      // A responder must wait for the first data packet under kp.
      this.drop(this.next);
      this.next = kp;
      this.drop(this.previous);
      this.previous = null;
    }
  }

  /** Called when an authenticated data packet arrived under kp. Returns true if kp was just confirmed. */
  receivedWith(kp: Keypair): boolean {
    if (kp !== this.next) return false;
    this.drop(this.previous);
    this.previous = this.current;
    this.current = kp;
    this.next = null;
    return true;
  }

  /** Drops every session (zero key material, peer removal, device key change). */
  clear(): void {
    this.drop(this.previous);
    this.drop(this.current);
    this.drop(this.next);
    this.previous = this.current = this.next = null;
  }
}
