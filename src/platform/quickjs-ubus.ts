// ubus on QuickJS: a unix stream socket to ubusd (/var/run/ubus/ubus.sock,
// or /var/run/ubus.sock like older libubus) driven by QuickJS's select()
// loop, feeding the pure UbusConnection. When ubusd goes away (restart,
// upgrade) the socket is dropped and connecting is retried with a bounded
// backoff; the connection registers its objects again after the new HELLO.
import * as os from 'os';
import * as native from 'wgts_native';
import { UbusConnection } from '../control/ubus.js';
import { UBUS_SOCKET_PATH, UBUS_SOCKET_PATH_LEGACY } from '../control/ubusmsg.js';
import type { Clock, Logger, TimerHandle } from './platform.js';
import { quickjsClock, safely } from './quickjs.js';

const { EAGAIN, EINTR } = native.errno;
const READ_CHUNK = 16384;
export const UBUS_RECONNECT_MIN_MS = 500;
export const UBUS_RECONNECT_MAX_MS = 8000;

export interface QuickjsUbusOptions {
  /** Socket paths tried in order; default the current and the legacy ubusd path. */
  paths?: string[];
  clock?: Clock;
  /** Per-request timeout for the connection. */
  timeoutMs?: number;
}

export class QuickjsUbus {
  readonly connection: UbusConnection;
  /** Called after each HELLO, i.e. on connecting and after every reconnection (e.g. to send notify_proto again). */
  onConnect: ((clientId: number) => void) | null = null;
  private readonly paths: string[];
  private readonly clock: Clock;
  private readonly buf = new Uint8Array(READ_CHUNK);
  private fd = -1;
  private pending: Uint8Array | null = null;
  private retryMs = UBUS_RECONNECT_MIN_MS;
  private retryTimer: TimerHandle | null = null;
  private failures = 0;
  private stopped = false;

  constructor(private readonly logger: Logger, options: QuickjsUbusOptions = {}) {
    this.paths = options.paths ?? [UBUS_SOCKET_PATH, UBUS_SOCKET_PATH_LEGACY];
    this.clock = options.clock ?? quickjsClock;
    const connectionOptions = { write: (b: Uint8Array) => this.queue(b), clock: this.clock, logger };
    this.connection = new UbusConnection(options.timeoutMs === undefined ? connectionOptions : { ...connectionOptions, timeoutMs: options.timeoutMs });
    this.connection.onConnect = (id) => {
      this.retryMs = UBUS_RECONNECT_MIN_MS;
      this.failures = 0;
      logger.verbose(`ubus: connected as client ${id.toString(16).padStart(8, '0')}`);
      this.onConnect?.(id);
    };
  }

  /** Connects now (or keeps retrying in the background). */
  start(): void {
    if (!this.stopped && this.fd < 0 && this.retryTimer === null) this.connect();
  }

  get socketConnected(): boolean {
    return this.fd >= 0;
  }

  private connect(): void {
    this.retryTimer = null;
    if (this.stopped) return;
    let rc = 0;
    for (const path of this.paths) {
      rc = native.unixConnect(path);
      if (rc >= 0) {
        this.fd = rc;
        os.setReadHandler(rc, safely(() => this.readable()));
        return;
      }
    }
    // Said once per outage; ubusd may simply not be up yet at boot.
    if (this.failures++ === 0) this.logger.error(`ubus: cannot connect to ubusd (${native.strerror(-rc)}); retrying`);
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.stopped || this.retryTimer !== null) return;
    this.retryTimer = this.clock.setTimer(() => this.connect(), this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, UBUS_RECONNECT_MAX_MS);
  }

  private readable(): void {
    while (this.fd >= 0) {
      const n = native.sockRead(this.fd, this.buf, 0, this.buf.length);
      if (n === -EAGAIN) return;
      if (n === -EINTR) continue;
      if (n <= 0) {
        this.drop(n === 0 ? 'ubusd closed the connection' : native.strerror(-n));
        return;
      }
      if (!this.connection.feed(this.buf, 0, n)) {
        this.drop('corrupt data from ubusd');
        return;
      }
    }
  }

  private queue(bytes: Uint8Array): void {
    if (this.fd < 0) return;
    if (this.pending) {
      const joined = new Uint8Array(this.pending.length + bytes.length);
      joined.set(this.pending);
      joined.set(bytes, this.pending.length);
      this.pending = joined;
      return; // the write handler is armed
    }
    this.pending = bytes;
    this.flush();
  }

  private flush(): void {
    while (this.pending && this.fd >= 0) {
      const n = native.sockWrite(this.fd, this.pending, 0, this.pending.length);
      if (n === -EINTR) continue;
      if (n === -EAGAIN) {
        os.setWriteHandler(this.fd, safely(() => this.flush()));
        return;
      }
      if (n < 0) {
        this.drop(native.strerror(-n));
        return;
      }
      this.pending = n === this.pending.length ? null : this.pending.subarray(n);
    }
    if (this.fd >= 0) os.setWriteHandler(this.fd, null);
  }

  private closeSocket(): void {
    if (this.fd < 0) return;
    os.setReadHandler(this.fd, null);
    os.setWriteHandler(this.fd, null);
    os.close(this.fd);
    this.fd = -1;
    this.pending = null;
  }

  private drop(reason: string): void {
    this.logger.error(`ubus: connection lost (${reason}); reconnecting`);
    this.closeSocket();
    this.connection.connectionLost();
    this.failures = 1;
    this.scheduleRetry();
  }

  /** Closes the socket for good; pending requests fail with CONNECTION_FAILED. */
  close(): void {
    this.stopped = true;
    if (this.retryTimer !== null) {
      this.clock.clearTimer(this.retryTimer);
      this.retryTimer = null;
    }
    this.closeSocket();
    this.connection.close();
  }
}
