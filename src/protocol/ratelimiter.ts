// Per-source token bucket for handshake messages while the device is under
// load (the kernel's ratelimiter.c: 20 packets/s, burst 5, IPv6 per /64).

export interface RateLimiterOptions {
  /** Sustained packets per second per source (default 20). */
  perSecond?: number;
  /** Packets a fresh or idle source may send at once (default 5). */
  burst?: number;
  /**
   * Table cap (default 8192: the kernel's value for routers with 64 to
   * 128 MiB of RAM). When full, packets from new sources are refused until
   * gc() frees entries; known sources keep their buckets.
   */
  maxEntries?: number;
}

/** Entries idle longer than this are dropped by gc() (kernel: 1 s). */
export const RATELIMITER_IDLE_MS = 1000;

interface Bucket {
  tokens: number;
  lastTime: number;
}

/**
 * Token units: a millisecond adds `perSecond` tokens and a packet costs 1000,
 * so any integer rate stays exact in integer arithmetic.
 *
 * Keys are numbers, so allow() allocates nothing for a known source: an IPv4
 * source is its address as an int32; an IPv6 /64 is two int32 halves looked up
 * in a map of maps (a string key would allocate a string per call).
 */
export class RateLimiter {
  private readonly refillPerMs: number;
  private readonly cost = 1000;
  private readonly maxTokens: number;
  private readonly maxEntries: number;
  /** Idle time after which a bucket is full again, whatever it held. */
  private readonly fullRefillMs: number;
  private readonly v4 = new Map<number, Bucket>();
  private readonly v6 = new Map<number, Map<number, Bucket>>();
  private count = 0;

  constructor(opts: RateLimiterOptions = {}) {
    const perSecond = opts.perSecond ?? 20;
    const burst = opts.burst ?? 5;
    const maxEntries = opts.maxEntries ?? 8192;
    if (!(Number.isInteger(perSecond) && perSecond > 0)) throw new RangeError('perSecond must be a positive integer');
    if (!(Number.isInteger(burst) && burst > 0)) throw new RangeError('burst must be a positive integer');
    if (!(Number.isInteger(maxEntries) && maxEntries >= 0)) throw new RangeError('maxEntries must be a non-negative integer');
    this.refillPerMs = perSecond;
    this.maxTokens = this.cost * burst;
    this.maxEntries = maxEntries;
    this.fullRefillMs = Math.ceil(this.maxTokens / perSecond);
  }

  /** Number of sources tracked. */
  get size(): number {
    return this.count;
  }

  /**
   * Whether a handshake packet from `source` (4 or 16 address bytes) may be
   * processed at `now` (milliseconds, any monotonic origin). Other lengths
   * are refused.
   */
  allow(source: Uint8Array, now: number): boolean {
    let bucket: Bucket | undefined;
    let inner: Map<number, Bucket> | undefined;
    let low = 0;
    if (source.length === 4) {
      low = (source[0]! << 24) | (source[1]! << 16) | (source[2]! << 8) | source[3]!;
      bucket = this.v4.get(low);
    } else if (source.length === 16) {
      const high = (source[0]! << 24) | (source[1]! << 16) | (source[2]! << 8) | source[3]!;
      low = (source[4]! << 24) | (source[5]! << 16) | (source[6]! << 8) | source[7]!;
      inner = this.v6.get(high);
      if (inner === undefined) {
        if (this.count >= this.maxEntries) return false;
        inner = new Map();
        this.v6.set(high, inner);
      }
      bucket = inner.get(low);
    } else {
      return false;
    }

    if (bucket !== undefined) {
      const elapsed = now - bucket.lastTime;
      let tokens = bucket.tokens;
      // Cap the idle time before multiplying so the product stays small.
      if (elapsed >= this.fullRefillMs) tokens = this.maxTokens;
      else if (elapsed > 0) {
        tokens += elapsed * this.refillPerMs;
        if (tokens > this.maxTokens) tokens = this.maxTokens;
      }
      bucket.lastTime = now;
      if (tokens >= this.cost) {
        bucket.tokens = tokens - this.cost;
        return true;
      }
      bucket.tokens = tokens;
      return false;
    }

    // A new source: refuse when the table is full rather than evict, so a
    // flood of spoofed sources cannot push out the buckets of busy ones.
    if (this.count >= this.maxEntries) return false;
    const fresh: Bucket = { tokens: this.maxTokens - this.cost, lastTime: now };
    if (inner !== undefined) inner.set(low, fresh);
    else this.v4.set(low, fresh);
    this.count++;
    return true;
  }

  /** Drops sources idle for more than RATELIMITER_IDLE_MS. Call about once a second. */
  gc(now: number): void {
    for (const [key, bucket] of this.v4) {
      if (now - bucket.lastTime > RATELIMITER_IDLE_MS) {
        this.v4.delete(key);
        this.count--;
      }
    }
    for (const [high, inner] of this.v6) {
      for (const [low, bucket] of inner) {
        if (now - bucket.lastTime > RATELIMITER_IDLE_MS) {
          inner.delete(low);
          this.count--;
        }
      }
      if (inner.size === 0) this.v6.delete(high);
    }
  }
}
