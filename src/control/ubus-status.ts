// The ubus object `wgts.<ifname>` each daemon hosts: `status` returns the
// device as a table for LuCI and scripts (`ubus call wgts.wg0 status`). The
// shape follows LuCI's luci.wireguard getWgInstances, so a view can show
// either: keys in base64, endpoints as text, latest_handshake in Unix
// seconds (0 = never), persistent_keepalive in seconds (0 = off).
import { toBase64 } from '../crypto/encoding.js';
import { publicKeyFromPrivate } from '../crypto/keys.js';
import { formatCidr, formatEndpoint } from '../routing/ip.js';
import type { BlobmsgTable } from './blobmsg.js';
import type { DeviceStatus } from './config.js';
import type { UbusConnection, UbusObjectHandle } from './ubus.js';

export function wgtsObjectPath(ifname: string): string {
  return `wgts.${ifname}`;
}

export interface StatusSource {
  ifname: string;
  status(): DeviceStatus;
  /** The interface's public key (Device: identity?.publicKey); derived from the private key when absent. */
  publicKey?(): Uint8Array | null;
  /** Peer descriptions from the configuration, by base64 public key. */
  descriptions?(): ReadonlyMap<string, string>;
}

/** `{ interfaces: { <ifname>: { name, public_key, listen_port, fwmark, peers: [...] } } }`. */
export function statusTable(ifname: string, status: DeviceStatus, publicKey: Uint8Array | null, descriptions?: ReadonlyMap<string, string>): BlobmsgTable {
  const peers: BlobmsgTable[] = status.peers.map((p) => {
    const key = toBase64(p.publicKey);
    return {
      public_key: key,
      description: descriptions?.get(key) ?? '',
      endpoint: p.endpoint ? formatEndpoint(p.endpoint) : '',
      allowed_ips: p.allowedIps.map(formatCidr),
      latest_handshake: Math.floor(p.lastHandshakeWallMs / 1000),
      transfer_rx: p.rxBytes,
      transfer_tx: p.txBytes,
      persistent_keepalive: p.persistentKeepalive,
      preshared_key: p.presharedKey !== null,
    };
  });
  return {
    interfaces: {
      [ifname]: {
        name: ifname,
        public_key: publicKey ? toBase64(publicKey) : '',
        listen_port: status.listenPort,
        fwmark: status.fwmark,
        peers,
      },
    },
  };
}

/** Hosts `wgts.<ifname>` with `status` on conn (registered again after ubusd restarts). */
export function hostStatusObject(conn: UbusConnection, source: StatusSource): UbusObjectHandle {
  return conn.addObject(wgtsObjectPath(source.ifname), { status: {} }, () => {
    const status = source.status();
    let publicKey: Uint8Array | null;
    if (source.publicKey) publicKey = source.publicKey();
    else publicKey = status.privateKey ? publicKeyFromPrivate(status.privateKey) : null;
    status.privateKey?.fill(0);
    return { data: statusTable(source.ifname, status, publicKey, source.descriptions?.()) };
  });
}
