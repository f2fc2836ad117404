// Shared by the netifd-mode end-to-end tests: /etc/config/network text for a
// `proto 'wgts'` interface and its peers, the wgts.<ifname> status call as
// LuCI makes it, a deadline for promises, and the wireguard-go peer both
// tests tunnel to.
import type { Test } from 'tap';
import { generateKeyPair, type TestKeyPair } from './keys.js';
import type { NodeUbusClient } from './mock-ubusd.js';
import { type NetnsPair, startWireguardGo, uniqueIfname, type WireguardGo } from './netns.js';

export interface UciInterface {
  privateKey: string;
  listenPort?: number;
  addresses: string[];
}

export interface UciPeer {
  publicKey: string;
  allowedIps: string[];
  routeAllowedIps?: boolean;
  endpointHost?: string;
  endpointPort?: number;
  description?: string;
}

/** `config interface '<iface>'` with proto wgts; options in the order of OpenWrt's examples. */
export function wgtsInterfaceSection(iface: string, o: UciInterface): string {
  const lines = [`config interface '${iface}'`, `\toption proto 'wgts'`, `\toption private_key '${o.privateKey}'`];
  if (o.listenPort !== undefined) lines.push(`\toption listen_port '${o.listenPort}'`);
  for (const a of o.addresses) lines.push(`\tlist addresses '${a}'`);
  return lines.join('\n') + '\n';
}

/** One `config wireguard_<iface>` peer section. */
export function wgtsPeerSection(iface: string, p: UciPeer): string {
  const lines = [`config wireguard_${iface}`, `\toption public_key '${p.publicKey}'`];
  for (const a of p.allowedIps) lines.push(`\tlist allowed_ips '${a}'`);
  if (p.routeAllowedIps) lines.push(`\toption route_allowed_ips '1'`);
  if (p.endpointHost !== undefined) lines.push(`\toption endpoint_host '${p.endpointHost}'`);
  if (p.endpointPort !== undefined) lines.push(`\toption endpoint_port '${p.endpointPort}'`);
  if (p.description !== undefined) lines.push(`\toption description '${p.description}'`);
  return lines.join('\n') + '\n';
}

/** A network file: the interface, then its peers, sections separated by blank lines. */
export function wgtsNetworkFile(iface: string, o: UciInterface, peers: UciPeer[]): string {
  return [wgtsInterfaceSection(iface, o), ...peers.map((p) => wgtsPeerSection(iface, p))].join('\n');
}

export interface StatusPeer {
  public_key: string;
  description: string;
  allowed_ips: string[];
  latest_handshake: number;
  transfer_rx: number;
  transfer_tx: number;
}

/** `ubus call wgts.<iface> status`, the peers of that interface. */
export async function wgtsStatusPeers(client: NodeUbusClient, iface: string): Promise<StatusPeer[]> {
  const r = await client.conn.invoke(`wgts.${iface}`, 'status');
  if (r.status !== 0) throw new Error(`wgts.${iface} status: ubus status ${r.status}`);
  const table = r.data as unknown as { interfaces: Record<string, { peers: StatusPeer[] }> };
  return table.interfaces[iface]!.peers;
}

export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<T>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

export interface NetifdPeers {
  /** The wgts interface (section) name to use on side a. */
  iface: string;
  ours: TestKeyPair;
  theirs: TestKeyPair;
  ourV4: string;
  theirV4: string;
  /** wireguard-go on side b, with wgts's key as its peer; stopped at teardown. */
  wggo: WireguardGo;
}

/** Keys and tunnel addresses for wgts on side a and a wireguard-go peer on side b. */
export async function netifdPeers(t: Test, pair: NetnsPair): Promise<NetifdPeers> {
  const iface = uniqueIfname('w');
  const ours = generateKeyPair();
  const theirs = generateKeyPair();
  const [ourV4, theirV4] = pair.tunnel.v4;
  const wggo = await startWireguardGo(pair.b.ns, uniqueIfname('g'), {
    privateKey: theirs.privateKey,
    peers: [{ publicKey: ours.publicKey, allowedIps: [`${ourV4}/32`] }],
    addresses: [`${theirV4}/24`],
  });
  t.teardown(() => wggo.stop());
  return { iface, ours, theirs, ourV4: ourV4!, theirV4: theirV4!, wggo };
}
