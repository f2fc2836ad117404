// The QuickJS runtime adapter: the router-side twin of node.ts. It wires the
// pure Device to a TUN device and UDP sockets through the native module and
// QuickJS's own select() loop (os.setReadHandler / os.setTimeout). The packet
// paths reuse preallocated buffers and cached endpoint objects, so the steady
// state allocates nothing per packet.
import * as os from 'os';
import * as std from 'std';
import * as native from 'wgts_native';
import type { Aead } from '../crypto/aead.js';
import { BatchAead } from '../crypto/batch-aead.js';
import { createNativeAead } from '../crypto/native-aead.js';
import { readCounter, TRANSPORT } from '../protocol/messages.js';
import { Device } from '../device/device.js';
import { formatIp, parseIp } from '../routing/ip.js';
import type { Clock, Endpoint, Logger, LogLevel, RandomSource } from './platform.js';

// errno values differ between architectures (EBADFD is 77 on x86, 81 on MIPS).
const { EAGAIN, EINTR, EBADFD, EINVAL, EAFNOSUPPORT } = native.errno;

let errorLogger: Logger | null = null;

/**
 * Wraps an event-loop callback. QuickJS only prints an exception thrown in a
 * read handler or timer and carries on; this logs it through our logger, so a
 * bug shows in the log with its stack instead of vanishing, and the daemon
 * keeps serving.
 */
export function safely(fn: () => void): () => void {
  return () => {
    try {
      fn();
    } catch (e) {
      const message = `Internal error: ${e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e)}`;
      if (errorLogger) errorLogger.error(message);
      else std.err.puts(`${message}\n`);
    }
  };
}

export function setErrorLogger(logger: Logger): void {
  errorLogger = logger;
}

export const quickjsClock: Clock = {
  now: os.now, // no wrapper: one call less for every timestamp on the data path
  wallMs: () => native.wallMs(),
  setTimer: (fn, delayMs) => os.setTimeout(safely(fn), delayMs),
  clearTimer: (handle) => os.clearTimeout(handle),
};

export const quickjsRandom: RandomSource = (out) => {
  const rc = native.getrandom(out, 0, out.length);
  if (rc < 0) throw new Error(`getrandom failed: ${native.strerror(-rc)}`);
};

function pad2(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

/** wireguard-go's log format: "DEBUG: (wg0) 2006/01/02 15:04:05 message". */
export function quickjsLogger(level: LogLevel | 'silent', ifname: string): Logger {
  const write = (tag: string, message: string) => {
    const d = new Date();
    const stamp = `${d.getFullYear()}/${pad2(d.getMonth() + 1)}/${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
    std.err.puts(`${tag}: (${ifname}) ${stamp} ${message}\n`);
    std.err.flush();
  };
  return {
    error: level === 'silent' ? () => {} : (m) => write('ERROR', m),
    verbose: level === 'verbose' ? (m) => write('DEBUG', m) : () => {},
  };
}

export function logLevelFromEnv(value: string | undefined): LogLevel | 'silent' {
  switch ((value ?? '').toLowerCase()) {
    case 'verbose': case 'debug': return 'verbose';
    case 'silent': return 'silent';
    default: return 'error';
  }
}

// ---- endpoints <-> the native meta layout ----

const META = native.META_STRIDE;
const M_FAMILY = 1, M_PORT = 2, M_ADDR = 3, M_IFINDEX = 7, M_LOCAL = 8;

interface NativeEndpoint extends Endpoint {
  readonly local: Int32Array;
}

/** The native description of an endpoint (its own small Int32Array, made once per endpoint). */
function metaOf(address: Uint8Array, port: number): Int32Array {
  const meta = new Int32Array(META);
  meta[M_FAMILY] = address.length === 4 ? 4 : 6;
  meta[M_PORT] = port;
  new Uint8Array(meta.buffer, M_ADDR * 4, 16).set(address);
  return meta;
}

/**
 * Received datagrams are described by ints; turning them into Endpoint
 * objects (with an address string) would allocate per packet. This cache
 * maps the ints to one immutable Endpoint per distinct (source, local) pair.
 */
export class EndpointCache {
  private readonly slots: (NativeEndpoint | null)[] = new Array(256).fill(null);
  private readonly addrBytes = new Uint8Array(16);
  private readonly addrInts = new Int32Array(this.addrBytes.buffer);
  private last: NativeEndpoint | null = null;

  lookup(meta: Int32Array, at: number): NativeEndpoint {
    // A batch mostly comes from one sender: try the last answer first, with
    // no loop and none of the hash's Math.imul calls (each a native call).
    const last = this.last;
    if (last !== null) {
      const m = last.local;
      if (m[M_PORT] === meta[at + M_PORT] && m[3] === meta[at + 3] && m[4] === meta[at + 4] && m[5] === meta[at + 5] &&
        m[6] === meta[at + 6] && m[M_FAMILY] === meta[at + M_FAMILY] && m[7] === meta[at + 7] && m[8] === meta[at + 8] &&
        m[9] === meta[at + 9] && m[10] === meta[at + 10] && m[11] === meta[at + 11]) return last;
    }
    const found = this.find(meta, at);
    this.last = found;
    return found;
  }

  private find(meta: Int32Array, at: number): NativeEndpoint {
    let h = meta[at + M_PORT]!;
    for (let i = M_ADDR; i < META; i++) h = Math.imul(h ^ meta[at + i]!, 0x9e3779b1);
    const slot = (h >>> 24) & 255;
    const cached = this.slots[slot];
    if (cached) {
      const m = cached.local;
      let same = true;
      for (let i = M_FAMILY; i < META; i++) if (m[i] !== meta[at + i]) { same = false; break; }
      if (same) return cached;
    }
    const local = new Int32Array(META);
    for (let i = M_FAMILY; i < META; i++) local[i] = meta[at + i]!;
    for (let i = 0; i < 4; i++) this.addrInts[i] = meta[at + M_ADDR + i]!;
    const family = meta[at + M_FAMILY];
    const ep: NativeEndpoint = {
      address: formatIp(this.addrBytes.subarray(0, family === 4 ? 4 : 16)),
      port: meta[at + M_PORT]!,
      local,
    };
    this.slots[slot] = ep;
    return ep;
  }
}

function hasLocalSource(meta: Int32Array): boolean {
  return (meta[M_IFINDEX]! | meta[M_LOCAL]! | meta[M_LOCAL + 1]! | meta[M_LOCAL + 2]! | meta[M_LOCAL + 3]!) !== 0;
}

// ---- UDP ----

const BATCH = 32;
/** Datagrams a received batch needs before its opens are spread over cores (measured: fewer cost more than they gain). */
const OPEN_AHEAD_MIN = 8;
/** Time for queued handshake messages per turn of the event loop. */
const HANDSHAKE_SLICE_MS = 2;
const META_AT = Int32Array.from({ length: BATCH }, (_, i) => i * META);

/** Datagrams waiting for one sendmmsg on one socket (offsets into the batch buffer). */
class SendQueue {
  readonly offs = new Int32Array(BATCH);
  readonly lens = new Int32Array(BATCH);
  readonly meta = new Int32Array(BATCH * META);
  readonly endpoints: (Endpoint | null)[] = new Array(BATCH).fill(null);
  count = 0;
}

/** The UDP sockets of one device: an IPv4 one and, where the kernel has IPv6, an IPv6 one on the same port. */
export class UdpBinding {
  fd4 = -1;
  fd6 = -1;
  port = 0;
  fwmark = 0;
  private readonly endpointMeta = new WeakMap<Endpoint, Int32Array>();
  private readonly cache = new EndpointCache();
  private ring = new Uint8Array(0);
  private slotSize = 0;
  private readonly recvMeta = new Int32Array(BATCH * META);
  private batchBuf: Uint8Array | null = null;
  private readonly queue4 = new SendQueue();
  private readonly queue6 = new SendQueue();
  private batchCrypto: BatchCrypto | null = null;
  private processHandshakes: ((budgetMs: number) => number) | null = null;
  private handshakeTimer = false;

  constructor(private readonly logger: Logger, private readonly onDatagram: (buf: Uint8Array, off: number, len: number, from: Endpoint) => void) {
    this.resize(1420);
  }

  /** Sizes the receive ring for the tunnel MTU (a datagram is at most MTU + 32 bytes of WireGuard framing). */
  resize(mtu: number): void {
    const slot = Math.max(2048, (mtu + 64 + 15) & ~15);
    if (slot === this.slotSize) return;
    this.slotSize = slot;
    this.ring = new Uint8Array(slot * BATCH);
  }

  /** Binds both sockets; on failure nothing changes and -errno is returned. */
  bind(port: number, fwmark: number): number {
    // Same port, new mark (wg-quick's `wg set fwmark`): a second bind would find the port taken by ourselves.
    if (port === this.port && this.fd4 >= 0) return this.setMark(fwmark);
    const fd4 = native.udpBind(4, port, fwmark);
    if (fd4 < 0) return fd4;
    const bound = native.localPort(fd4);
    let fd6 = native.udpBind(6, bound, fwmark);
    if (fd6 < 0) {
      if (fd6 !== -EAFNOSUPPORT) {
        os.close(fd4);
        return fd6;
      }
      this.logger.verbose('IPv6 is not available; listening on IPv4 only');
      fd6 = -1;
    }
    this.close();
    this.fd4 = fd4;
    this.fd6 = fd6;
    this.port = bound;
    this.fwmark = fwmark;
    os.setReadHandler(fd4, safely(() => this.drain(fd4)));
    if (fd6 >= 0) os.setReadHandler(fd6, safely(() => this.drain(fd6)));
    return bound;
  }

  /** Marks both bound sockets; on failure the old mark stays on both and -errno is returned. */
  private setMark(fwmark: number): number {
    const rc4 = native.setFwmark(this.fd4, fwmark);
    if (rc4 < 0) return rc4;
    const rc6 = this.fd6 >= 0 ? native.setFwmark(this.fd6, fwmark) : 0;
    if (rc6 < 0) {
      native.setFwmark(this.fd4, this.fwmark);
      return rc6;
    }
    this.fwmark = fwmark;
    return this.port;
  }

  close(): void {
    for (const fd of [this.fd4, this.fd6]) {
      if (fd >= 0) {
        os.setReadHandler(fd, null);
        os.close(fd);
      }
    }
    this.fd4 = this.fd6 = -1;
  }

  /** Seal and open whole batches through aead (several cores); receiveKeyFor is the device's. */
  useBatchCrypto(aead: BatchAead, receiveKeyFor: (buf: Uint8Array, off: number, len: number) => Uint8Array | null): void {
    this.batchCrypto = { aead, receiveKeyFor };
  }

  /**
   * The device queues handshake messages (queueHandshakes); they are handled
   * after each drained read, HANDSHAKE_SLICE_MS at a time, so data packets
   * get their turn between slices even during a flood.
   */
  useHandshakeQueue(process: (budgetMs: number) => number): void {
    this.processHandshakes = process;
  }

  private serveHandshakes(): void {
    const process = this.processHandshakes;
    if (!process || process(HANDSHAKE_SLICE_MS) === 0 || this.handshakeTimer) return;
    // More wait: come back after the event loop has polled the sockets again.
    this.handshakeTimer = true;
    os.setTimeout(safely(() => {
      this.handshakeTimer = false;
      this.serveHandshakes();
    }), 1);
  }

  private drain(fd: number): void {
    const crypto = this.batchCrypto;
    for (;;) {
      const n = native.udpRecv(fd, this.ring, this.slotSize, 0, BATCH, this.recvMeta);
      if (n <= 0) {
        if (n < 0 && n !== -EAGAIN) this.logger.error(`Failed to receive UDP packets: ${native.strerror(-n)}`);
        this.serveHandshakes();
        return;
      }
      // Small batches are cheaper opened one by one than handed to other cores.
      const ahead = crypto !== null && n >= OPEN_AHEAD_MIN;
      if (ahead) this.openAhead(crypto, n);
      try {
        for (let i = 0; i < n; i++) {
          const at = i * META;
          const len = this.recvMeta[at]!;
          this.onDatagram(this.ring, i * this.slotSize, len, this.cache.lookup(this.recvMeta, at));
        }
      } finally {
        // Results belong to this batch's bytes only.
        if (ahead) crypto.aead.endOpens();
      }
      if (n < BATCH) {
        this.serveHandshakes();
        return;
      }
    }
  }

  /** Opens the batch's transport datagrams together; the device then finds each result. */
  private openAhead(crypto: BatchCrypto, n: number): void {
    const { aead } = crypto;
    aead.endOpens();
    for (let i = 0; i < n; i++) {
      const off = i * this.slotSize;
      const len = this.recvMeta[i * META]!;
      const key = crypto.receiveKeyFor(this.ring, off, len);
      if (!key) continue;
      const counter = readCounter(this.ring, off + TRANSPORT.counter);
      if (counter >= 0) aead.prepareOpen(key, counter, this.ring, off + TRANSPORT.content, len - TRANSPORT.content);
    }
    aead.runOpens();
  }

  /**
   * While the TUN side encrypts a batch in `buf`, datagrams in `buf` are
   * queued and leave with one sendmmsg per socket at `flushBatch`.
   */
  beginBatch(buf: Uint8Array): void {
    this.batchBuf = buf;
    this.batchCrypto?.aead.beginSeals(buf);
  }

  flushBatch(): void {
    const buf = this.batchBuf;
    this.batchBuf = null;
    // The queued datagrams are sealed only now: before any of them leaves.
    this.batchCrypto?.aead.flushSeals();
    if (!buf) return;
    this.flushQueue(this.fd4, this.queue4, buf);
    this.flushQueue(this.fd6, this.queue6, buf);
  }

  private flushQueue(fd: number, q: SendQueue, buf: Uint8Array): void {
    const n = q.count;
    if (n === 0) return;
    q.count = 0;
    const sent = n === 1 ? 0 : native.udpSendBatch(fd, buf, q.offs, q.lens, q.meta, META_AT, n);
    // Whatever the batch did not take (or a lone datagram) goes one by one, with the usual error handling.
    for (let i = sent > 0 ? sent : 0; i < n; i++) {
      const to = q.endpoints[i]!;
      this.sendNow(fd, buf, q.offs[i]!, q.lens[i]!, this.metaFor(to)!, to);
    }
    q.endpoints.fill(null, 0, n);
  }

  private metaFor(to: Endpoint): Int32Array | null {
    if (to.local instanceof Int32Array) return to.local;
    let meta = this.endpointMeta.get(to);
    if (!meta) {
      const addr = parseIp(to.address);
      if (!addr) return null;
      meta = metaOf(addr, to.port);
      this.endpointMeta.set(to, meta);
    }
    return meta;
  }

  send(buf: Uint8Array, off: number, len: number, to: Endpoint): void {
    const meta = this.metaFor(to);
    if (!meta) return;
    const v4 = meta[M_FAMILY] === 4;
    const fd = v4 ? this.fd4 : this.fd6;
    if (fd < 0) return;
    const q = v4 ? this.queue4 : this.queue6;
    if (buf === this.batchBuf) {
      if (q.count < BATCH) {
        const i = q.count++;
        q.offs[i] = off;
        q.lens[i] = len;
        q.meta.set(meta, i * META);
        q.endpoints[i] = to;
        return;
      }
      this.batchCrypto?.aead.flushSeals(); // nothing of the batch buffer leaves unsealed
    }
    this.sendNow(fd, buf, off, len, meta, to);
  }

  private sendNow(fd: number, buf: Uint8Array, off: number, len: number, meta: Int32Array, to: Endpoint): void {
    let rc = native.udpSend(fd, buf, off, len, meta, 0);
    if (rc === -EINVAL && hasLocalSource(meta)) {
      // The remembered source address is no longer ours (the address changed): forget it and let routing choose.
      meta[M_IFINDEX] = 0;
      meta.fill(0, M_LOCAL, META);
      rc = native.udpSend(fd, buf, off, len, meta, 0);
    }
    if (rc < 0) this.logger.verbose(`Failed to send ${len} bytes to ${to.address}:${to.port}: ${native.strerror(-rc)}`);
  }
}

// ---- TUN ----

const DEFAULT_TUN_MTU = 1420;

export const TUN_HEADROOM = 16;
/** Room after a packet for padding (≤ 15) and the tag (16). */
const TUN_TAILROOM = 32;

export interface SendBatching {
  beginBatch(buf: Uint8Array): void;
  flushBatch(): void;
}

/**
 * A TUN device feeding the device. Packets are read into a ring of slots
 * with headroom and tailroom, so each is encrypted in place, and the whole
 * batch leaves with one sendmmsg.
 */
export class Tun {
  private ring = new Uint8Array(0);
  private slotSize = 0;

  constructor(readonly name: string, readonly fd: number, private readonly logger: Logger,
    private readonly onPacket: (buf: Uint8Array, off: number, len: number) => void,
    private readonly batching: SendBatching,
    /** The device went away under us (deleted interface: reads fail with EBADFD forever). */
    private readonly onGone: (reason: string) => void) {
    this.resize(DEFAULT_TUN_MTU);
    os.setReadHandler(fd, safely(() => this.drain()));
  }

  /** Sizes the slots for the interface MTU (at least 1500, so a raised MTU is not cut before we notice). */
  resize(mtu: number): void {
    const slot = (TUN_HEADROOM + Math.max(mtu, 1500) + TUN_TAILROOM + 15) & ~15;
    if (slot === this.slotSize) return;
    this.slotSize = slot;
    this.ring = new Uint8Array(slot * BATCH);
  }

  private drain(): void {
    const ring = this.ring;
    const max = this.slotSize - TUN_HEADROOM - TUN_TAILROOM;
    this.batching.beginBatch(ring);
    try {
      for (let i = 0; i < BATCH; i++) {
        const off = i * this.slotSize + TUN_HEADROOM;
        const n = native.tunRead(this.fd, ring, off, max);
        if (n <= 0) {
          if (n === -EAGAIN || n === -EINTR) return;
          const reason = n === 0 ? 'end of file' : native.strerror(-n);
          // EBADFD is what a deleted interface looks like: a normal way to stop, not an error.
          if (n === -EBADFD) this.logger.verbose('TUN device removed');
          else this.logger.error(`Failed to read packet from TUN device: ${reason}`);
          os.setReadHandler(this.fd, null);
          this.onGone(`TUN device unusable (${reason})`);
          return;
        }
        this.onPacket(ring, off, n);
      }
    } finally {
      this.batching.flushBatch();
    }
  }

  write(buf: Uint8Array, off: number, len: number): void {
    const rc = native.tunWrite(this.fd, buf, off, len);
    if (rc < 0) this.logger.verbose(`Failed to write packet to TUN device: ${native.strerror(-rc)}`);
  }

  close(): void {
    os.setReadHandler(this.fd, null);
    os.close(this.fd);
  }
}

interface BatchCrypto {
  aead: BatchAead;
  receiveKeyFor: (buf: Uint8Array, off: number, len: number) => Uint8Array | null;
}

/**
 * Threads for the data-path crypto: WGTS_CRYPTO_THREADS when it is a
 * number from 1 to 8, else one per online CPU (at most 8). 1 = no threads.
 */
export function cryptoThreadsWanted(value: string | undefined, cpus: number, logger: Logger): number {
  if (value !== undefined) {
    const n = /^[1-8]$/.test(value.trim()) ? Number(value) : 0;
    if (n > 0) return n;
    logger.error(`WGTS_CRYPTO_THREADS=${value} is not a number from 1 to 8; using one thread per CPU`);
  }
  return Math.min(Math.max(cpus, 1), 8);
}

/**
 * The native AEAD; on several cores wrapped in a BatchAead that the
 * UdpBinding drives (useBatchCrypto), so each batch is sealed or opened on
 * all of them. On one core the batch bookkeeping would only cost time.
 */
export function createQuickjsAead(threads: number): { aead: Aead; batch: BatchAead | null } {
  const single = createNativeAead(native);
  if (native.cryptoThreads(threads) <= 1) return { aead: single, batch: null };
  const batch = new BatchAead(single, native, BATCH);
  return { aead: batch, batch };
}

/** Creates the Device for the router runtime (the native AEAD unless told otherwise). */
export function createQuickjsDevice(logger: Logger, udp: () => UdpBinding, tun: () => Tun | null, mtu: number,
  aead: Aead = createNativeAead(native)): Device {
  return new Device({
    clock: quickjsClock,
    random: quickjsRandom,
    logger,
    aead,
    mtu,
    queueHandshakes: true,
    sendUdp: (buf, off, len, to) => udp().send(buf, off, len, to),
    writeTun: (buf, off, len) => tun()?.write(buf, off, len),
    bindPort: (port, fwmark) => udp().bind(port, fwmark),
  });
}
