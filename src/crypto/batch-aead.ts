// ChaCha20-Poly1305 over a whole batch of packets at once, so that a
// runtime with several cores can spread the batch over them (natively:
// aeadBatch in native/aead_batch.c). The device keeps calling seal/open one
// packet at a time; this Aead sits in between:
//
// - Seals in place inside the batch buffer are queued and run together at
//   flushSeals(). The runtime sends that buffer's datagrams only after the
//   flush (UdpBinding queues them for one sendmmsg), so no plaintext leaves.
// - Opens are run ahead: the runtime announces each transport datagram of a
//   received batch with prepareOpen, runs them with runOpens, and the device's
//   own open calls then find their result. Opening changes nothing but the
//   bytes (a failed open leaves them as they were), so running it early is
//   safe; every decision stays with the device, in order.
//
// Without the native function the queued work runs one packet at a time
// through the wrapped Aead: the pure TypeScript twin, byte for byte.
import type { Aead } from './aead.js';
import { TAG_LEN } from './aead.js';

export interface AeadBatchFunctions {
  aeadBatch(open: number, buf: Uint8Array, jobs: Int32Array, keys: Uint8Array, count: number): number;
}

// Job layout shared with native/aead_batch.c: off, len, counterLo, counterHi, result.
const JOB = 5;
const J_OFF = 0, J_LEN = 1, J_LO = 2, J_HI = 3, J_RESULT = 4;
const KEY_LEN = 32;
const SEAL = 0, OPEN = 1;

class JobList {
  readonly jobs: Int32Array;
  readonly keys: Uint8Array;
  /** keys[32 i, 32 i + 32) as views, made once (the sequential twin passes them on). */
  readonly keyViews: Uint8Array[];
  /** The key objects themselves: an open matches only under the very key it was prepared with. */
  readonly keyRefs: (Uint8Array | null)[];
  buf: Uint8Array | null = null;
  count = 0;

  constructor(readonly capacity: number) {
    this.jobs = new Int32Array(capacity * JOB);
    this.keys = new Uint8Array(capacity * KEY_LEN);
    this.keyRefs = new Array<Uint8Array | null>(capacity).fill(null);
    this.keyViews = [];
    for (let i = 0; i < capacity; i++) this.keyViews.push(this.keys.subarray(i * KEY_LEN, i * KEY_LEN + KEY_LEN));
  }

  add(key: Uint8Array, counter: number, off: number, len: number): void {
    const i = this.count++;
    const at = i * JOB;
    this.jobs[at + J_OFF] = off;
    this.jobs[at + J_LEN] = len;
    this.jobs[at + J_LO] = counter | 0;
    this.jobs[at + J_HI] = counter < 0x100000000 ? 0 : (counter / 0x100000000) | 0;
    this.jobs[at + J_RESULT] = -1;
    this.keys.set(key, i * KEY_LEN);
    this.keyRefs[i] = key;
  }

  clear(): void {
    this.keys.fill(0, 0, this.count * KEY_LEN); // copies of session keys do not outlive the batch
    this.keyRefs.fill(null, 0, this.count);
    this.count = 0;
    this.buf = null;
  }
}

export class BatchAead implements Aead {
  private readonly seals: JobList;
  private readonly opens: JobList;
  /** Next prepared open to match; opens come in datagram order. */
  private openCursor = 0;

  constructor(private readonly inner: Aead, private readonly native: AeadBatchFunctions | null, capacity: number) {
    this.seals = new JobList(capacity);
    this.opens = new JobList(capacity);
  }

  // ---- sending ----

  /** In-place seals inside buf are queued from now until flushSeals. */
  beginSeals(buf: Uint8Array): void {
    this.flushSeals();
    this.seals.buf = buf;
  }

  /** Runs every queued seal. Must happen before any byte of the batch buffer is sent. */
  flushSeals(): void {
    const s = this.seals;
    if (s.count > 0) this.run(SEAL, s);
    s.clear();
  }

  seal(key: Uint8Array, counter: number, aad: Uint8Array | null,
    src: Uint8Array, srcOff: number, len: number, dst: Uint8Array, dstOff: number): number {
    const s = this.seals;
    if (dst === s.buf && src === dst && srcOff === dstOff && aad === null && s.count < s.capacity) {
      s.add(key, counter, dstOff, len);
      return len + TAG_LEN;
    }
    return this.inner.seal(key, counter, aad, src, srcOff, len, dst, dstOff);
  }

  // ---- receiving ----

  /** Announces that buf[off, off+len) (ciphertext ‖ tag) will be opened in place under key and counter. */
  prepareOpen(key: Uint8Array, counter: number, buf: Uint8Array, off: number, len: number): void {
    const o = this.opens;
    if (o.buf !== buf) {
      o.clear();
      o.buf = buf;
    }
    if (o.count < o.capacity && len >= TAG_LEN) o.add(key, counter, off, len);
  }

  /** Opens every prepared datagram; their results wait for the device's open calls. */
  runOpens(): void {
    const o = this.opens;
    this.openCursor = 0;
    if (o.count > 0) this.run(OPEN, o);
  }

  /** Forgets prepared opens (end of the received batch). */
  endOpens(): void {
    this.opens.clear();
    this.openCursor = 0;
  }

  open(key: Uint8Array, counter: number, aad: Uint8Array | null,
    src: Uint8Array, srcOff: number, len: number, dst: Uint8Array, dstOff: number): number {
    const o = this.opens;
    if (src === o.buf && dst === src && srcOff === dstOff && aad === null) {
      const jobs = o.jobs;
      // Datagrams the device dropped before opening are skipped over.
      for (let i = this.openCursor; i < o.count; i++) {
        const at = i * JOB;
        if (jobs[at + J_OFF] !== srcOff) continue;
        this.openCursor = i + 1;
        if (jobs[at + J_LEN] === len && o.keyRefs[i] === key && sameCounter(jobs, at, counter) &&
          sameKey(o.keys, i * KEY_LEN, key)) {
          return jobs[at + J_RESULT]!;
        }
        break;
      }
    }
    return this.inner.open(key, counter, aad, src, srcOff, len, dst, dstOff);
  }

  private run(op: number, list: JobList): void {
    const buf = list.buf!;
    if (this.native) {
      const rc = this.native.aeadBatch(op, buf, list.jobs, list.keys, list.count);
      if (rc !== list.count) throw new Error(`native aeadBatch failed: ${rc}`);
      return;
    }
    const jobs = list.jobs;
    for (let i = 0; i < list.count; i++) {
      const at = i * JOB;
      const off = jobs[at + J_OFF]!, len = jobs[at + J_LEN]!;
      const key = list.keyViews[i]!;
      const counter = (jobs[at + J_HI]! >>> 0) * 0x100000000 + (jobs[at + J_LO]! >>> 0);
      jobs[at + J_RESULT] = op === SEAL
        ? this.inner.seal(key, counter, null, buf, off, len, buf, off)
        : this.inner.open(key, counter, null, buf, off, len, buf, off);
    }
  }
}

function sameCounter(jobs: Int32Array, at: number, counter: number): boolean {
  const hi = counter < 0x100000000 ? 0 : (counter / 0x100000000) | 0;
  return jobs[at + J_LO] === (counter | 0) && jobs[at + J_HI] === hi;
}

/** The key bytes are still those the open ran with (not wiped or replaced since). */
function sameKey(copy: Uint8Array, at: number, key: Uint8Array): boolean {
  let diff = 0;
  for (let i = 0; i < KEY_LEN; i++) diff |= copy[at + i]! ^ key[i]!;
  return diff === 0;
}
