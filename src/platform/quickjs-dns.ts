// Host names for endpoints on the router: a DNS stub resolver over UDP on
// QuickJS's event loop. A static binary has no usable getaddrinfo (static
// glibc NSS does not work, musl is linked in) and QuickJS has no sockets, so
// wgts asks the name servers of resolv.conf itself (on OpenWrt: dnsmasq on
// 127.0.0.1). The wire format lives in src/control/dns.ts.
//
// Each try uses a fresh socket bound to port 0 (the kernel picks a random
// source port) and fresh random query ids, and accepts answers only from the
// server asked: a spoofer must guess 32 bits and race the real answer.
import * as os from 'os';
import * as std from 'std';
import * as native from 'wgts_native';
import {
  DNS_PORT, encodeQuery, hostnameError, orderAddresses, parseResolvConf, parseResponse, TYPE_A, TYPE_AAAA,
  type ParsedResponse, type ResponseAnswer,
} from '../control/dns.js';
import { formatEndpoint, formatIp, parseEndpoint, parseIp } from '../routing/ip.js';
import type { Clock, Logger, TimerHandle } from './platform.js';
import { quickjsClock, safely } from './quickjs.js';

declare module 'std' {
  /** The file's contents, or null when it cannot be read. */
  export function loadFile(path: string): string | null;
}

const { EAGAIN } = native.errno;

export const RESOLV_CONF = '/etc/resolv.conf';
export const DEFAULT_TIMEOUT_MS = 2000;
export const DEFAULT_ATTEMPTS = 2;
/** Answers are kept for their TTL, but at least this long (no query storm on TTL 0)... */
export const MIN_CACHE_MS = 30_000;
/** ...and at most this long (a dynamic address is noticed within the hour). */
export const MAX_CACHE_MS = 3_600_000;
const MAX_CACHE_ENTRIES = 256;

export type ResolveErrorCode = 'invalid' | 'nxdomain' | 'nodata' | 'timeout' | 'failed';
/** `address` is `addresses[0]`: the preferred one. Errors carry a message for the log. */
export type ResolveResult = { address: string; addresses: string[] } | { error: string; code: ResolveErrorCode };
export type ResolveCallback = (result: ResolveResult) => void;

export interface ResolveOptions {
  /** The family of the peer's current endpoint: its addresses come first. Default: IPv4 first. */
  prefer?: 4 | 6 | null;
  /** Ask the servers even when the cache has an answer (re-resolving after handshakes stopped). */
  fresh?: boolean;
}

interface Server {
  readonly text: string;
  readonly family: 4 | 6;
  /** The server as a wgts_native endpoint description, to send to and to compare sources with. */
  readonly meta: Int32Array;
}

interface Config {
  readonly servers: Server[];
  readonly timeoutMs: number;
  readonly attempts: number;
}

type Outcome = { addresses: Uint8Array[] } | { error: string; code: ResolveErrorCode };

interface CacheEntry {
  readonly expires: number;
  readonly outcome: Outcome;
}

interface Waiter {
  readonly cb: ResolveCallback;
  readonly prefer: 4 | 6 | null;
}

const M_FAMILY = 1, M_PORT = 2, M_ADDR = 3, M_ADDR_END = 7;
const RECV_SLOT = 4096;
const RECV_BATCH = 4;
const QUERY_TYPES = [TYPE_A, TYPE_AAAA] as const;

function serverOf(address: Uint8Array, port: number): Server {
  const meta = new Int32Array(native.META_STRIDE);
  const family = address.length === 4 ? 4 : 6;
  meta[M_FAMILY] = family;
  meta[M_PORT] = port;
  new Uint8Array(meta.buffer, M_ADDR * 4, 16).set(address);
  return { text: formatEndpoint({ address: formatIp(address), port }), family, meta };
}

function clampCacheMs(ttlSeconds: number): number {
  return Math.min(MAX_CACHE_MS, Math.max(MIN_CACHE_MS, ttlSeconds * 1000));
}

function isAnswer(r: ParsedResponse | null): r is ResponseAnswer {
  return r !== null && !('error' in r);
}

/** One name being looked up: tries every server, `attempts` rounds, A and AAAA in parallel. */
class Lookup {
  readonly waiters: Waiter[] = [];
  private readonly tries: Server[] = [];
  private next = 0;
  private fd = -1;
  private server: Server | null = null;
  private timer: TimerHandle | null = null;
  /** Counts tries: a read handler of an earlier try (its fd number may be reused) stops at once. */
  private tryCount = 0;
  private readonly ids = new Uint16Array(2);
  private readonly answers: (ParsedResponse | null)[] = [null, null];
  private timeouts = 0;
  private readonly failures: string[] = [];
  private readonly recvBuf = new Uint8Array(RECV_SLOT * RECV_BATCH);
  private readonly recvMeta = new Int32Array(native.META_STRIDE * RECV_BATCH);

  constructor(private readonly name: string, private readonly config: Config, private readonly clock: Clock,
    private readonly logger: Logger, private readonly fwmark: number,
    private readonly onDone: (outcome: Outcome, cacheMs: number) => void) {
    for (let round = 0; round < config.attempts; round++) this.tries.push(...config.servers);
  }

  start(): void {
    this.tryNext();
  }

  cancel(): void {
    this.closeTry();
    this.next = this.tries.length;
  }

  private closeTry(): void {
    if (this.timer !== null) this.clock.clearTimer(this.timer);
    this.timer = null;
    if (this.fd >= 0) {
      os.setReadHandler(this.fd, null);
      os.close(this.fd);
    }
    this.fd = -1;
    this.server = null;
  }

  private finish(outcome: Outcome, cacheMs: number): void {
    this.closeTry();
    this.onDone(outcome, cacheMs);
  }

  private tryNext(): void {
    for (;;) {
      this.closeTry();
      const server = this.tries[this.next++];
      if (server === undefined) {
        const code = this.timeouts === this.tries.length ? 'timeout' : 'failed';
        this.finish({ error: `${this.name}: lookup failed: ${this.failures.join('; ')}`, code }, 0);
        return;
      }
      const problem = this.send(server);
      if (problem === null) return;
      this.failures.push(`${server.text} ${problem}`);
    }
  }

  /** Opens a socket and sends both queries to `server`; the failure, or null once they are out. */
  private send(server: Server): string | null {
    const rc = native.getrandom(new Uint8Array(this.ids.buffer), 0, 4);
    if (rc < 0) return `cannot draw a query id: ${native.strerror(-rc)}`;
    if (this.ids[0] === this.ids[1]) this.ids[1] ^= 1;
    const fd = native.udpBind(server.family, 0, this.fwmark);
    if (fd < 0) return `cannot open a socket: ${native.strerror(-fd)}`;
    this.fd = fd;
    this.server = server;
    const thisTry = ++this.tryCount;
    this.answers[0] = this.answers[1] = null;
    for (let i = 0; i < QUERY_TYPES.length; i++) {
      const query = encodeQuery(this.ids[i]!, this.name, QUERY_TYPES[i]!);
      const sent = native.udpSend(fd, query, 0, query.length, server.meta, 0);
      if (sent < 0) return `cannot send: ${native.strerror(-sent)}`;
    }
    this.logger.verbose(`DNS: asking ${server.text} for ${this.name} (ids ${this.ids[0]}, ${this.ids[1]})`);
    os.setReadHandler(fd, safely(() => this.receive(fd, thisTry)));
    this.timer = this.clock.setTimer(safely(() => this.timedOut()), this.config.timeoutMs);
    return null;
  }

  private receive(fd: number, thisTry: number): void {
    for (;;) {
      if (this.tryCount !== thisTry || this.fd < 0) return; // settled: this socket is closed
      const n = native.udpRecv(fd, this.recvBuf, RECV_SLOT, 0, RECV_BATCH, this.recvMeta);
      if (n <= 0) {
        if (n < 0 && n !== -EAGAIN) this.logger.verbose(`DNS: receive failed: ${native.strerror(-n)}`);
        return;
      }
      for (let i = 0; i < n; i++) {
        const at = i * native.META_STRIDE;
        if (!this.fromServer(at)) continue;
        this.handle(this.recvBuf.subarray(i * RECV_SLOT, i * RECV_SLOT + this.recvMeta[at]!));
        if (this.tryCount !== thisTry || this.fd < 0) return;
      }
      if (n < RECV_BATCH) return;
    }
  }

  private fromServer(at: number): boolean {
    const want = this.server!.meta;
    for (let i = M_FAMILY; i < M_ADDR_END; i++) if (this.recvMeta[at + i] !== want[i]) return false;
    return true;
  }

  private handle(msg: Uint8Array): void {
    for (let i = 0; i < QUERY_TYPES.length; i++) {
      if (this.answers[i] !== null) continue;
      const r = parseResponse(msg, this.ids[i]!, this.name, QUERY_TYPES[i]!);
      // Not an answer to this query (or a broken one): keep waiting for the real one until the timeout.
      if ('error' in r && (r.error === 'mismatch' || r.error === 'malformed')) continue;
      this.answers[i] = r;
      break;
    }
    this.settle(false);
  }

  private timedOut(): void {
    this.timer = null;
    this.settle(true);
  }

  /** Decides once both answers are in (or the time is up): done, or on to the next server. */
  private settle(timedOut: boolean): void {
    const [a, aaaa] = this.answers;
    const addresses = [...(isAnswer(a) ? a.addresses : []), ...(isAnswer(aaaa) ? aaaa.addresses : [])];
    const nxdomain = [a, aaaa].some((r) => r !== null && 'error' in r && r.error === 'nxdomain');
    const complete = a !== null && aaaa !== null;
    if (addresses.length > 0 && (complete || timedOut)) {
      const ttl = Math.min(...[a, aaaa].filter(isAnswer).filter((r) => r.addresses.length > 0).map((r) => r.ttl));
      this.finish({ addresses }, clampCacheMs(ttl));
    } else if (nxdomain && addresses.length === 0) {
      // The name does not exist: the authoritative answer, no other server will know better.
      this.finish({ error: `${this.name}: no such host (NXDOMAIN from ${this.server!.text})`, code: 'nxdomain' }, MIN_CACHE_MS);
    } else if (complete && isAnswer(a) && isAnswer(aaaa)) {
      this.finish({ error: `${this.name}: no IPv4 or IPv6 address`, code: 'nodata' }, clampCacheMs(Math.min(a.ttl, aaaa.ttl)));
    } else if (complete || timedOut) {
      const errors = [a, aaaa].filter((r) => r !== null && 'error' in r).map((r) => (r as { error: string }).error.toUpperCase());
      if (timedOut) this.timeouts++;
      this.failures.push(`${this.server!.text} ${timedOut ? 'timed out' : [...new Set(errors)].join('/')}`);
      this.tryNext();
    }
  }
}

/**
 * Resolves endpoint host names to numeric addresses, without blocking the
 * event loop. Results are cached for their TTL (clamped to 30 s .. 1 h);
 * lookups of a name already under way are joined. Callbacks always run later
 * from the event loop, never inside resolve().
 */
export class Resolver {
  /** SO_MARK for the query sockets: set it to the device's fwmark so queries bypass the tunnel's routes. */
  fwmark = 0;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly lookups = new Map<string, Lookup>();

  constructor(private readonly logger: Logger, private readonly clock: Clock = quickjsClock) {}

  resolve(name: string, cb: ResolveCallback, options: ResolveOptions = {}): void {
    const prefer = options.prefer ?? null;
    const host = typeof name === 'string' && name.startsWith('[') && name.endsWith(']') ? name.slice(1, -1) : name;
    const literal = parseIp(host);
    if (literal !== null) return this.later(cb, { addresses: [literal] }, prefer);
    const problem = hostnameError(name);
    if (problem !== null) return this.later(cb, { error: problem, code: 'invalid' }, prefer);

    const key = (name.endsWith('.') ? name.slice(0, -1) : name).toLowerCase();
    const running = this.lookups.get(key);
    if (running) {
      running.waiters.push({ cb, prefer });
      return;
    }
    const cached = this.cache.get(key);
    if (cached && cached.expires > this.clock.now() && !options.fresh) return this.later(cb, cached.outcome, prefer);

    const lookup = new Lookup(name, this.loadConfig(), this.clock, this.logger, this.fwmark, (outcome, cacheMs) => {
      this.lookups.delete(key);
      if (cacheMs > 0) this.remember(key, outcome, cacheMs);
      if ('error' in outcome) this.logger.verbose(`DNS: ${outcome.error}`);
      else this.logger.verbose(`DNS: ${name} is ${outcome.addresses.map(formatIp).join(', ')}`);
      for (const w of lookup.waiters) safely(() => w.cb(this.resultFor(outcome, w.prefer)))();
    });
    lookup.waiters.push({ cb, prefer });
    this.lookups.set(key, lookup);
    lookup.start();
  }

  /** Stops every lookup under way (their callbacks are not called) and forgets the cache. */
  close(): void {
    for (const lookup of this.lookups.values()) lookup.cancel();
    this.lookups.clear();
    this.cache.clear();
  }

  private resultFor(outcome: Outcome, prefer: 4 | 6 | null): ResolveResult {
    if ('error' in outcome) return outcome;
    const addresses = orderAddresses(outcome.addresses, prefer).map(formatIp);
    return { address: addresses[0]!, addresses };
  }

  private later(cb: ResolveCallback, outcome: Outcome, prefer: 4 | 6 | null): void {
    const result = this.resultFor(outcome, prefer);
    this.clock.setTimer(safely(() => cb(result)), 0);
  }

  private remember(key: string, outcome: Outcome, cacheMs: number): void {
    const now = this.clock.now();
    this.cache.delete(key);
    if (this.cache.size >= MAX_CACHE_ENTRIES) {
      for (const [k, e] of this.cache) if (e.expires <= now) this.cache.delete(k);
      // Still full: drop the oldest entry (Map keeps insertion order).
      if (this.cache.size >= MAX_CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
    }
    this.cache.set(key, { expires: now + cacheMs, outcome });
  }

  /**
   * The servers and timing of resolv.conf, read for every lookup so changes
   * apply. WGTS_RESOLV_CONF names another file (tests). WGTS_DNS_SERVER, TEST
   * ONLY, replaces its servers with a comma-separated list of `ip:port` /
   * `[ipv6]:port`: resolv.conf cannot say a port, and a test's fake server
   * cannot have port 53.
   */
  private loadConfig(): Config {
    const path = std.getenv('WGTS_RESOLV_CONF') ?? RESOLV_CONF;
    const text = std.loadFile(path);
    if (text === null) this.logger.verbose(`DNS: cannot read ${path}, asking 127.0.0.1`);
    const conf = parseResolvConf(text ?? '');
    let servers = conf.servers.map((s) => serverOf(parseIp(s)!, DNS_PORT));
    const override = std.getenv('WGTS_DNS_SERVER');
    if (override) {
      const parsed = override.split(',').map((s) => parseEndpoint(s.trim()));
      if (parsed.every((e) => e !== null)) servers = parsed.map((e) => serverOf(parseIp(e!.address)!, e!.port));
      else this.logger.error(`DNS: ignoring WGTS_DNS_SERVER=${override}: expected ip:port[,ip:port...]`);
    }
    return { servers, timeoutMs: conf.timeoutMs ?? DEFAULT_TIMEOUT_MS, attempts: conf.attempts ?? DEFAULT_ATTEMPTS };
  }
}
