// Decides when the device is "under load" and must demand cookies. Two
// signals, either one turns cookie mode on for one second (the kernel's
// UNDER_LOAD_AFTER_TIME):
// - the backlog, as in the kernel and wireguard-go: the runtime queues
//   handshake messages (device/handshake-queue.ts) and an eighth of the queue
//   waiting means the CPU is not keeping up, however few it still handles;
// - the rate, for callers that handle handshakes as they arrive (no queue):
//   more than `threshold` handshake messages within one second.

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

  /** Records how many handshake messages wait; returns whether we are under load. */
  backlog(queued: number, capacity: number, now: number): boolean {
    if (queued >= capacity / 8) this.loadUntil = now + UNDER_LOAD_AFTER_TIME;
    return now < this.loadUntil;
  }

  underLoad(now: number): boolean {
    return now < this.loadUntil;
  }
}
