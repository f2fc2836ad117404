// Handshake messages wait here instead of being handled as they arrive, so
// a flood of initiations cannot starve the data path: transport packets are
// handled at once, handshakes in slices of bounded time between reads, and
// when the queue is full new ones are dropped (the kernel and wireguard-go
// do the same with their handshake queues). How full the queue is also tells
// the device when it is under load: a CPU that cannot keep up falls behind
// here, whatever rate it still manages to handle.
import type { Endpoint } from '../platform/platform.js';
import { INITIATION_SIZE } from '../protocol/constants.js';

/** Routers have little memory: 256 × 148 bytes. The kernel queues 4096. */
export const HANDSHAKE_QUEUE_CAPACITY = 256;

export class HandshakeQueue {
  private readonly slots: Uint8Array;
  private readonly lens: Int32Array;
  private readonly from: (Endpoint | null)[];
  private head = 0;
  /** Messages waiting. */
  length = 0;

  constructor(readonly capacity = HANDSHAKE_QUEUE_CAPACITY) {
    this.slots = new Uint8Array(capacity * INITIATION_SIZE);
    this.lens = new Int32Array(capacity);
    this.from = new Array<Endpoint | null>(capacity).fill(null);
  }

  /** Copies a handshake message in; false (and nothing kept) when full or larger than a slot. */
  push(buf: Uint8Array, off: number, len: number, from: Endpoint): boolean {
    if (this.length === this.capacity || len > INITIATION_SIZE) return false;
    const i = (this.head + this.length) % this.capacity;
    this.slots.set(buf.subarray(off, off + len), i * INITIATION_SIZE);
    this.lens[i] = len;
    this.from[i] = from;
    this.length++;
    return true;
  }

  /**
   * Takes the oldest message out and hands it to `handle` (the bytes are valid
   * during the call only). False when the queue is empty.
   */
  shift(handle: (buf: Uint8Array, off: number, len: number, from: Endpoint) => void): boolean {
    if (this.length === 0) return false;
    const i = this.head;
    const from = this.from[i]!;
    this.from[i] = null;
    this.head = (i + 1) % this.capacity;
    this.length--;
    handle(this.slots, i * INITIATION_SIZE, this.lens[i]!, from);
    return true;
  }
}
