// The Node.js runtime adapter: a real clock, crypto randomness and UDP
// sockets around the pure Device. It is also the library entry point for
// applications that want a WireGuard tunnel without root and without a TUN:
// they hand inner IP packets to `send` and get decrypted ones in `onPacket`.
import { randomFillSync } from 'node:crypto';
import dgram from 'node:dgram';
import { isIPv4, isIPv6 } from 'node:net';
import { performance } from 'node:perf_hooks';
import { formatUapiGet, parseUapiSet } from '../control/uapi.js';
import { Device } from '../device/device.js';
import type { Clock, Endpoint, Logger, LogLevel, RandomSource } from './platform.js';

export const nodeClock: Clock = {
  now: () => performance.now(),
  wallMs: () => Date.now(),
  setTimer(fn, delayMs) {
    const t = setTimeout(fn, delayMs);
    t.unref();
    return t;
  },
  clearTimer(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};

export const nodeRandom: RandomSource = (out) => {
  randomFillSync(out);
};

/** Logs like wireguard-go: "DEBUG: ..." for verbose, "ERROR: ..." for errors, to stderr. */
export function consoleLogger(level: LogLevel | 'silent', prefix = ''): Logger {
  const write = (tag: string, msg: string) => process.stderr.write(`${tag}: ${prefix}${msg}\n`);
  return {
    error: level === 'silent' ? () => {} : (m) => write('ERROR', m),
    verbose: level === 'verbose' ? (m) => write('DEBUG', m) : () => {},
  };
}

/** Node reports IPv4 peers on a dual-stack socket as ::ffff:a.b.c.d and IPv6 with a zone. */
function canonicalAddress(address: string): string {
  if (address.startsWith('::ffff:') && isIPv4(address.slice(7))) return address.slice(7);
  const zone = address.indexOf('%');
  return zone >= 0 ? address.slice(0, zone) : address;
}

export interface NodeTunnelOptions {
  /** Local address to bind; default: all IPv4 and IPv6 addresses. */
  address?: string;
  /** UDP port; 0 (default) picks a random free one. */
  listenPort?: number;
  /** Receives each decrypted inner IP packet (a copy the application may keep). */
  onPacket: (packet: Uint8Array) => void;
  logLevel?: LogLevel | 'silent';
  /** Tunnel MTU (default 1420): bounds padding. */
  mtu?: number;
}

export interface NodeTunnel {
  readonly device: Device;
  readonly listenPort: number;
  /** A UAPI `set` body (the lines after `set=1`). Returns 0 or a negative errno. */
  uapiSet(text: string): number;
  /** The UAPI `get` response body. */
  uapiGet(): string;
  /** Sends one inner IP packet through the tunnel; false if no peer's allowed IPs route it. */
  send(packet: Uint8Array): boolean;
  close(): Promise<void>;
}

function bindSocket(type: 'udp4' | 'udp6', address: string, port: number): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket({ type, ipv6Only: type === 'udp6' });
    sock.once('error', reject);
    sock.bind(port, address, () => {
      sock.off('error', reject);
      resolve(sock);
    });
  });
}

/** Creates a Device bound to real UDP sockets on this host. */
export async function createNodeTunnel(options: NodeTunnelOptions): Promise<NodeTunnel> {
  const logger = consoleLogger(options.logLevel ?? 'error');
  const sockets: { v4?: dgram.Socket; v6?: dgram.Socket } = {};
  const address = options.address;
  let port = options.listenPort ?? 0;
  if (address === undefined || isIPv4(address)) {
    sockets.v4 = await bindSocket('udp4', address ?? '0.0.0.0', port);
    port = sockets.v4.address().port;
  }
  if (address === undefined || isIPv6(address)) {
    try {
      sockets.v6 = await bindSocket('udp6', address ?? '::', port);
      port = sockets.v6.address().port;
    } catch (err) {
      if (address !== undefined) throw err;
      logger.verbose(`IPv6 unavailable: ${(err as Error).message}`);
    }
  }

  const device = new Device({
    clock: nodeClock,
    random: nodeRandom,
    logger,
    mtu: options.mtu,
    sendUdp(buf, off, len, to) {
      const sock = isIPv4(to.address) ? sockets.v4 : sockets.v6;
      if (!sock) { logger.verbose(`No socket for ${to.address}`); return; }
      // dgram sends asynchronously: hand it a copy.
      sock.send(new Uint8Array(buf.subarray(off, off + len)), to.port, to.address);
    },
    writeTun(buf, off, len) {
      // A Buffer's slice is a view; hand the application its own copy.
      options.onPacket(new Uint8Array(buf.subarray(off, off + len)));
    },
    bindPort(newPort, fwmark) {
      // Node cannot rebind synchronously or set SO_MARK; the port is fixed at creation.
      if (fwmark !== 0) return -95; // EOPNOTSUPP
      return newPort === 0 || newPort === port ? port : -95;
    },
  });
  device.listenPort = port;

  const onMessage = (msg: Buffer, rinfo: dgram.RemoteInfo) => {
    const from: Endpoint = { address: canonicalAddress(rinfo.address), port: rinfo.port };
    device.receiveDatagram(msg, 0, msg.length, from);
  };
  sockets.v4?.on('message', onMessage);
  sockets.v6?.on('message', onMessage);

  return {
    device,
    listenPort: port,
    uapiSet(text) {
      const parsed = parseUapiSet(text);
      if ('errno' in parsed) {
        logger.error(`UAPI set refused: ${parsed.message}`);
        return parsed.errno;
      }
      return device.applyChange(parsed.change);
    },
    uapiGet() {
      return formatUapiGet(device.status());
    },
    send(packet) {
      return device.sendPacket(packet, 0, packet.length);
    },
    async close() {
      device.close();
      await Promise.all([sockets.v4, sockets.v6].map((s) => s && new Promise<void>((r) => s.close(() => r()))));
    },
  };
}
