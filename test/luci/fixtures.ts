// Router state the LuCI tests start from: /etc/config/network as rpcd's
// `uci get` returns it, and what the daemon's ubus object answers (built by
// the daemon's own statusTable, so the page reads exactly that shape).
import { x25519 } from '@noble/curves/ed25519.js';
import type { BlobmsgTable } from '../../src/control/blobmsg.js';
import { statusTable } from '../../src/control/ubus-status.js';
import { parseCidr } from '../../src/routing/ip.js';
import { prng } from '../helpers/prng.js';
import type { UciConfig } from './server.js';

export function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

/** A clamped private key from a seed (fixtures only), and its public key. */
export function fixtureKey(seed: number): { privateKey: string; publicKey: string; raw: Uint8Array } {
  const next = prng(seed);
  const raw = new Uint8Array(32).map(() => Math.floor(next() * 256));
  raw[0]! &= 248;
  raw[31] = (raw[31]! & 127) | 64;
  return { privateKey: b64(raw), publicKey: b64(x25519.getPublicKey(raw)), raw };
}

export const ROUTER = fixtureKey(1);
export const LAPTOP = fixtureKey(2);
export const PHONE = fixtureKey(3);

export function networkFixture(): UciConfig {
  return {
    loopback: { '.anonymous': false, '.type': 'interface', '.name': 'loopback', '.index': 0, device: 'lo', proto: 'static', ipaddr: '127.0.0.1', netmask: '255.0.0.0' },
    lan: { '.anonymous': false, '.type': 'interface', '.name': 'lan', '.index': 1, device: 'br-lan', proto: 'static', ipaddr: '192.168.1.1', netmask: '255.255.255.0' },
    wg0: {
      '.anonymous': false, '.type': 'interface', '.name': 'wg0', '.index': 2,
      proto: 'wgts', private_key: ROUTER.privateKey, listen_port: '51820', addresses: ['10.9.0.1/24', 'fd00:9::1/64'],
    },
    cfg0c1d2e: {
      '.anonymous': true, '.type': 'wireguard_wg0', '.name': 'cfg0c1d2e', '.index': 3,
      description: 'laptop', public_key: LAPTOP.publicKey, allowed_ips: ['10.9.0.2/32'],
      endpoint_host: '192.0.2.10', endpoint_port: '51820', persistent_keepalive: '25',
    },
    wg1: { '.anonymous': false, '.type': 'interface', '.name': 'wg1', '.index': 4, proto: 'wgts', private_key: fixtureKey(4).privateKey },
  };
}

export interface FixturePeer {
  key: { publicKey: string; raw?: Uint8Array };
  description: string;
  endpoint: { address: string; port: number } | null;
  allowedIps: string[];
  handshakeMs: number;
  rx: number;
  tx: number;
}

/** `ubus call wgts.<ifname> status` for these peers, as the daemon builds it. */
export function statusFixture(ifname: string, peers: FixturePeer[]): BlobmsgTable {
  const descriptions = new Map(peers.map((p) => [p.key.publicKey, p.description]));
  return statusTable(ifname, {
    privateKey: null,
    listenPort: 51820,
    fwmark: 0,
    peers: peers.map((p) => ({
      publicKey: new Uint8Array(Buffer.from(p.key.publicKey, 'base64')),
      presharedKey: null,
      endpoint: p.endpoint,
      lastHandshakeWallMs: p.handshakeMs,
      rxBytes: p.rx,
      txBytes: p.tx,
      persistentKeepalive: 25,
      allowedIps: p.allowedIps.map((c) => parseCidr(c)!),
    })),
  }, new Uint8Array(Buffer.from(ROUTER.publicKey, 'base64')), descriptions);
}
