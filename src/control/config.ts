// The data every control front end (UAPI, wg config files, UCI, ubus) turns
// its input into, and the status it reads back. Front ends validate; the
// device applies a DeviceChange as one unit.

import type { Cidr } from '../routing/ip.js';

export interface PeerChange {
  publicKey: Uint8Array;
  /** Delete this peer; every other field is then empty. */
  remove: boolean;
  /** Apply only if the peer already exists; never create it. */
  updateOnly: boolean;
  /** undefined = unchanged; null = clear (an all-zero key was given). */
  presharedKey?: Uint8Array | null;
  /** Numeric address (canonical text) and port. */
  endpoint?: { address: string; port: number };
  /** Seconds 0..65535; 0 turns persistent keepalive off. */
  persistentKeepalive?: number;
  /** Drop all of this peer's allowed IPs before applying `allowedIps`. */
  replaceAllowedIps: boolean;
  /**
   * Applied in order. An add takes the prefix over from any other peer; a
   * remove (`-prefix`) drops the prefix only if this peer holds it.
   */
  allowedIps: { cidr: Cidr; remove: boolean }[];
}

export interface DeviceChange {
  /** undefined = unchanged; null = clear. */
  privateKey?: Uint8Array | null;
  /** 0..65535; 0 = pick a random port. */
  listenPort?: number;
  /** u32; 0 = off. */
  fwmark?: number;
  /** Remove every existing peer before applying `peers`. */
  replacePeers: boolean;
  /** In order; the same key may appear more than once. */
  peers: PeerChange[];
}

export interface PeerStatus {
  publicKey: Uint8Array;
  presharedKey: Uint8Array | null;
  endpoint: { address: string; port: number } | null;
  /** Unix time in milliseconds of the last handshake; 0 = never. */
  lastHandshakeWallMs: number;
  rxBytes: number;
  txBytes: number;
  persistentKeepalive: number;
  allowedIps: Cidr[];
}

export interface DeviceStatus {
  privateKey: Uint8Array | null;
  listenPort: number;
  fwmark: number;
  peers: PeerStatus[];
}

/** What the device offers the control plane. The core Device implements it. */
export interface ConfigTarget {
  status(): DeviceStatus;
  /** Applies a validated change. Returns 0 or a negative errno (e.g. -98 EADDRINUSE when the port cannot be bound). */
  applyChange(change: DeviceChange): number;
}
