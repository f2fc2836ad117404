// A serialisable picture of everything a Device holds, for tests that must
// prove a packet changed nothing. It walks the whole object graph at run time
// (TypeScript's `private` is compile-time only), so no accessor had to be
// added to the core; objects carry a stable identity number so replacing a
// keypair or endpoint by an equal copy still shows up as a change.
import type { Device } from '../../src/device/device.js';
import type { Keypair } from '../../src/protocol/keypair.js';
import { toHex } from '../../src/crypto/encoding.js';
import { formatCidr } from '../../src/routing/ip.js';

const identities = new WeakMap<object, number>();
let nextIdentity = 1;

/** A number naming this object for as long as it lives (same across snapshots). */
export function identityOf(o: object): number {
  let id = identities.get(o);
  if (id === undefined) {
    id = nextIdentity++;
    identities.set(o, id);
  }
  return id;
}

function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/** Plain-data copy of an object graph: bytes as hex, cycles and repeats as "@id", functions left out. */
export function deepState(root: unknown, skip: ReadonlySet<unknown> = new Set()): unknown {
  const seen = new Set<object>();
  const walk = (value: unknown): unknown => {
    if (typeof value === 'function') return undefined;
    if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
    if (typeof value === 'bigint') return `${value}n`;
    if (value === undefined) return '<undefined>';
    if (value === null || typeof value !== 'object') return value;
    if (skip.has(value)) return '<skipped>';
    if (ArrayBuffer.isView(value)) return `${identityOf(value)}:${toHex(bytesOf(value))}`;
    if (seen.has(value)) return `@${identityOf(value)}`;
    seen.add(value);
    if (Array.isArray(value)) return { '#': identityOf(value), items: value.map(walk) };
    if (value instanceof Map) return { '#': identityOf(value), entries: [...value].map(([k, v]) => [walk(k), walk(v)]) };
    if (value instanceof Set) return { '#': identityOf(value), values: [...value].map(walk) };
    const out: Record<string, unknown> = { '#': identityOf(value) };
    for (const [key, field] of Object.entries(value)) {
      if (typeof field !== 'function') out[key] = walk(field);
    }
    return out;
  };
  return walk(root);
}

function keypairState(kp: Keypair | null): unknown {
  if (!kp) return null;
  return {
    identity: identityOf(kp),
    localIndex: kp.localIndex,
    remoteIndex: kp.remoteIndex,
    sendCounter: kp.sendCounter,
    replay: deepState(kp.replay),
  };
}

export interface StateSnapshot {
  status: unknown;
  indices: number;
  peers: unknown[];
  cookieChecker: unknown;
  rateLimiter: unknown;
  /** Everything else: the whole device graph minus the parts listed in the comment of snapshotState. */
  all: unknown;
}

/**
 * Everything observable about a device. Left out on purpose: `stats`
 * (counters that bad input is expected to bump), `load` (it counts every
 * handshake message with a valid mac1, authenticated or not, as the kernel's
 * queue length does), the scratch encryption buffer, and the runtime
 * callbacks (clock, random, logger, aead).
 */
export function snapshotState(device: Device): StateSnapshot {
  const status = device.status();
  const peers: unknown[] = [];
  for (const ps of status.peers) {
    const peer = device.peerByKey(ps.publicKey)!;
    const hs = peer.handshake;
    peers.push({
      publicKey: toHex(ps.publicKey),
      endpoint: peer.endpoint ? { identity: identityOf(peer.endpoint), address: peer.endpoint.address, port: peer.endpoint.port } : null,
      rxBytes: peer.rxBytes,
      txBytes: peer.txBytes,
      keypairs: {
        previous: keypairState(peer.keypairs.previous),
        current: keypairState(peer.keypairs.current),
        next: keypairState(peer.keypairs.next),
      },
      handshake: {
        state: hs.state,
        localIndex: hs.localIndex,
        remoteIndex: hs.remoteIndex,
        latestTimestamp: toHex(hs.latestTimestamp),
        lastInitiationConsumed: String(hs.lastInitiationConsumed),
        hash: toHex(hs.hash),
        chainingKey: toHex(hs.chainingKey),
        remoteEphemeral: toHex(hs.remoteEphemeral),
      },
      pendingTimers: peer.timers.pendingTimers(),
      cookies: deepState(peer.cookies),
      staged: peer.staged.length,
    });
  }
  const skip = new Set<unknown>([device.clock, device.logger, device.aead, device.scratch, device.stats, device.load]);
  return {
    status: {
      privateKey: status.privateKey ? toHex(status.privateKey) : null,
      listenPort: status.listenPort,
      fwmark: status.fwmark,
      peers: status.peers.map((p) => ({
        publicKey: toHex(p.publicKey),
        presharedKey: p.presharedKey ? toHex(p.presharedKey) : null,
        endpoint: p.endpoint,
        lastHandshakeWallMs: p.lastHandshakeWallMs,
        rxBytes: p.rxBytes,
        txBytes: p.txBytes,
        persistentKeepalive: p.persistentKeepalive,
        allowedIps: p.allowedIps.map(formatCidr),
      })),
    },
    indices: device.indices.size,
    peers,
    cookieChecker: deepState(device.cookieChecker),
    rateLimiter: deepState(device.rateLimiter),
    all: deepState(device, skip),
  };
}

/** The snapshot as one string, for cheap equality checks over thousands of cases. */
export function snapshotKey(device: Device): string {
  return JSON.stringify(snapshotState(device));
}
