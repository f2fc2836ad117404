// Sliding anti-replay window for transport counters (whitepaper §5.4.6,
// RFC 6479 style): a ring of bitmap words indexed by counter / 32.
import { REJECT_AFTER_MESSAGES } from './constants.js';

const WORD_BITS = 32;
const RING_WORDS = 256; // 8192 bits, like the kernel's COUNTER_BITS_TOTAL
const RING_MASK = RING_WORDS - 1;
/**
 * How far behind the highest accepted counter a counter may still be accepted.
 * One word of the ring is always the partly filled current one, so the usable
 * window is one word short of the ring: 8160, wider than the kernel's 8128.
 */
export const REPLAY_WINDOW_SIZE = (RING_WORDS - 1) * WORD_BITS;
const INT32_MAX = 0x7fffffff;

/**
 * Counters are integers below 2^53. Counters and the highest counter up to
 * 2^31 - 1 take an int32-only path (shifts and masks, no float arithmetic),
 * which matters on soft-float MIPS; bigger ones divide as doubles, which is
 * exact for integers below 2^53.
 */
export class ReplayWindow {
  /**
   * Int32Array rather than Uint32Array: reading a Uint32Array word with bit 31
   * set yields a number above 2^31, which QuickJS stores as a double.
   */
  private readonly ring = new Int32Array(RING_WORDS);
  /** Highest accepted counter, -1 before the first one. */
  private highest = -1;

  reset(): void {
    this.ring.fill(0);
    this.highest = -1;
  }

  /** Whether accept() would take this counter now. Changes nothing. */
  check(counter: number): boolean {
    if (!(counter >= 0)) return false; // negative or NaN
    const highest = this.highest;
    if (counter > highest) return counter <= INT32_MAX || counter < REJECT_AFTER_MESSAGES;
    if (highest - counter > REPLAY_WINDOW_SIZE) return false;
    const word = counter <= INT32_MAX ? counter >> 5 : Math.floor(counter / WORD_BITS);
    return (this.ring[word & RING_MASK]! & (1 << (counter & 31))) === 0;
  }

  /**
   * Marks the counter seen, sliding the window forward when it is the newest.
   * Call only after the packet authenticated. Returns false for a replay,
   * a counter behind the window, or one at or above REJECT_AFTER_MESSAGES.
   */
  accept(counter: number): boolean {
    if (!(counter >= 0)) return false;
    const ring = this.ring;
    const highest = this.highest;
    const word = counter <= INT32_MAX ? counter >> 5 : Math.floor(counter / WORD_BITS);
    if (counter > highest) {
      if (counter > INT32_MAX && counter >= REJECT_AFTER_MESSAGES) return false;
      // Words between the old top word and the new one hold bits from a
      // previous lap of the ring: clear them (the whole ring on a big jump).
      const top = highest <= INT32_MAX ? highest >> 5 : Math.floor(highest / WORD_BITS);
      const advance = word - top;
      if (advance >= RING_WORDS) ring.fill(0);
      else for (let i = 1; i <= advance; i++) ring[(top + i) & RING_MASK] = 0;
      this.highest = counter;
    } else if (highest - counter > REPLAY_WINDOW_SIZE) {
      return false;
    }
    const slot = word & RING_MASK;
    const bit = 1 << (counter & 31);
    const bits = ring[slot]!;
    if ((bits & bit) !== 0) return false;
    ring[slot] = bits | bit;
    return true;
  }
}
