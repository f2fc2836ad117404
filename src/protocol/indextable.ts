// Receiver indices: the 32-bit handles both sides put in messages so a
// packet finds its handshake or session in O(1) without revealing identity.
// Each is random, unique among the live ones on this device, and never 0
// (0 means "none"). Indices are kept as signed int32 so QuickJS stores them
// unboxed; readers convert with `| 0`.
import type { RandomSource } from '../platform/platform.js';

export class IndexTable<T> {
  private readonly entries = new Map<number, T>();
  private readonly scratch = new Uint8Array(4);

  constructor(private readonly random: RandomSource) {}

  /** Allocates a fresh random index for `value`. */
  allocate(value: T): number {
    for (;;) {
      this.random(this.scratch);
      const s = this.scratch;
      const index = s[0]! | (s[1]! << 8) | (s[2]! << 16) | (s[3]! << 24);
      if (index !== 0 && !this.entries.has(index)) {
        this.entries.set(index, value);
        return index;
      }
    }
  }

  /** Points an existing index at a new value (handshake → session keeps its index). */
  replace(index: number, value: T): void {
    this.entries.set(index, value);
  }

  get(index: number): T | undefined {
    return this.entries.get(index);
  }

  /** Removes index if it still maps to `value`. */
  remove(index: number, value: T): void {
    if (this.entries.get(index) === value) this.entries.delete(index);
  }

  get size(): number {
    return this.entries.size;
  }
}
