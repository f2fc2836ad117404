// Decides when the device is "under load" and must demand cookies. The
// kernel and wireguard-go watch the length of their handshake queue; wgts
// handles handshakes inline, so it watches the handshake rate instead: more
// than `threshold` handshake messages within one second turns cookie mode on,
// and it stays on for one second after the rate drops (the kernel's
// UNDER_LOAD_AFTER_TIME). The threshold is what this CPU can afford: on a
// router one X25519 in JavaScript costs milliseconds.

export const UNDER_LOAD_AFTER_TIME = 1000;

export class LoadDetector {
  private windowStart = -Infinity;
  private count = 0;
  private loadUntil = -Infinity;

  constructor(private readonly threshold = 32) {}

  /** Records one handshake message and returns whether we are under load. */
  record(now: number): boolean {
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.count = 0;
    }
    if (++this.count > this.threshold) this.loadUntil = now + UNDER_LOAD_AFTER_TIME;
    return now < this.loadUntil;
  }

  underLoad(now: number): boolean {
    return now < this.loadUntil;
  }
}
