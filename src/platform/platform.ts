// The seam between the pure protocol core and a runtime (Node, QuickJS).
// The core never reads a global clock, never draws randomness itself and
// never touches a socket: everything arrives through these interfaces.

export type TimerHandle = unknown;

export interface Clock {
  /** Monotonic milliseconds; only differences matter. */
  now(): number;
  /** Wall-clock Unix time in milliseconds (TAI64N timestamps, "latest handshake"). */
  wallMs(): number;
  setTimer(fn: () => void, delayMs: number): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

/** Fills `out` with cryptographically secure random bytes. */
export type RandomSource = (out: Uint8Array) => void;

/** Where a UDP datagram came from or goes to. `address` is a canonical numeric IP string. */
export interface Endpoint {
  readonly address: string;
  readonly port: number;
  /** Runtime-private data, e.g. the local source address for sticky sockets. */
  readonly local?: unknown;
}

export type LogLevel = 'error' | 'verbose';
export interface Logger {
  error(message: string): void;
  verbose(message: string): void;
}

export const silentLogger: Logger = { error() {}, verbose() {} };
