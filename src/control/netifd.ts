// Reports to netifd through ubus `network.interface` `notify_proto`, as the
// shell helpers of netifd-proto.sh do (OPENWRT-FACTS.md §2.2). The field
// types follow netifd's policies: `action` INT32, `link-up`/`keep`/
// `address-external` BOOL, address masks and route netmasks as strings,
// metrics INT32.
import { typed, type BlobmsgTable, type BlobmsgValue } from './blobmsg.js';
import type { UbusConnection } from './ubus.js';

export const NETIFD_OBJECT = 'network.interface';

export const NetifdAction = {
  UPDATE_LINK: 0, RUN_COMMAND: 1, KILL: 2, ERROR: 3, BLOCK_RESTART: 4, SET_AVAILABLE: 5,
  HOST_DEPENDENCY: 6, SETUP_FAILED: 7,
} as const;

export interface NetifdAddress {
  ipaddr: string;
  /** Prefix length (or dotted mask for IPv4). */
  mask: number | string;
  broadcast?: string;
  ptp?: string;
}

export interface NetifdAddress6 {
  ipaddr: string;
  mask: number | string;
  preferred?: number;
  valid?: number;
  offlink?: boolean;
  class?: string;
}

export interface NetifdRoute {
  target: string;
  netmask: number | string;
  gateway?: string;
  metric?: number;
  mtu?: number;
  valid?: number;
  source?: string;
  table?: string;
}

export interface LinkUpdate {
  /** The L3 device (our TUN); netifd claims it. */
  ifname: string;
  /** false reports the link as lost. */
  up: boolean;
  addressExternal?: boolean;
  /** Keep the addresses and routes netifd already has. */
  keep?: boolean;
  ipaddr?: NetifdAddress[];
  ip6addr?: NetifdAddress6[];
  routes?: NetifdRoute[];
  routes6?: NetifdRoute[];
  /** Delegated IPv6 prefixes (proto_add_ipv6_prefix). */
  ip6prefix?: string[];
  dns?: string[];
  dnsSearch?: string[];
  /** Free-form data shown in `ifstatus` (proto `data`). */
  data?: BlobmsgTable;
}

function int32(v: number): BlobmsgValue {
  return typed('int32', v);
}

function compact(table: Record<string, BlobmsgValue | undefined>): BlobmsgTable {
  const out: BlobmsgTable = {};
  for (const key of Object.keys(table)) if (table[key] !== undefined) out[key] = table[key]!;
  return out;
}

function address(a: NetifdAddress): BlobmsgTable {
  return compact({ ipaddr: a.ipaddr, mask: String(a.mask), broadcast: a.broadcast, ptp: a.ptp });
}

function address6(a: NetifdAddress6): BlobmsgTable {
  return compact({
    ipaddr: a.ipaddr, mask: String(a.mask),
    preferred: a.preferred === undefined ? undefined : int32(a.preferred),
    valid: a.valid === undefined ? undefined : int32(a.valid),
    offlink: a.offlink, class: a.class,
  });
}

function route(r: NetifdRoute): BlobmsgTable {
  return compact({
    target: r.target, netmask: String(r.netmask), gateway: r.gateway,
    metric: r.metric === undefined ? undefined : int32(r.metric),
    mtu: r.mtu === undefined ? undefined : int32(r.mtu),
    valid: r.valid === undefined ? undefined : int32(r.valid),
    source: r.source, table: r.table,
  });
}

/** Action 0, what `proto_init_update` + `proto_add_*` + `proto_send_update` send. */
export function linkUpdateMessage(iface: string, u: LinkUpdate): BlobmsgTable {
  return compact({
    action: int32(NetifdAction.UPDATE_LINK),
    interface: iface,
    ifname: u.ifname,
    'link-up': u.up,
    'address-external': u.addressExternal,
    keep: u.keep,
    ipaddr: u.ipaddr?.map(address),
    ip6addr: u.ip6addr?.map(address6),
    routes: u.routes?.map(route),
    routes6: u.routes6?.map(route),
    ip6prefix: u.ip6prefix,
    dns: u.dns,
    dns_search: u.dnsSearch,
    data: u.data,
  });
}

/**
 * Action 6, like `proto_add_host_dependency`: keep a host route to `host`
 * (a peer's endpoint) through the uplink; `ifname` optionally names the
 * logical interface to route it through.
 */
export function hostDependencyMessage(iface: string, host: string, ifname?: string): BlobmsgTable {
  return compact({ action: int32(NetifdAction.HOST_DEPENDENCY), interface: iface, host, ifname });
}

/** Action 3: error codes shown in `ifstatus` and LuCI, like `proto_notify_error`. */
export function errorMessage(iface: string, codes: string[]): BlobmsgTable {
  return { action: int32(NetifdAction.ERROR), interface: iface, error: codes };
}

/** Action 7: setup failed, netifd tears the interface down (`proto_setup_failed`). */
export function setupFailedMessage(iface: string): BlobmsgTable {
  return { action: int32(NetifdAction.SETUP_FAILED), interface: iface };
}

/** Sends one notify_proto message; resolves to the ubus status (0 = accepted). */
export async function notifyProto(conn: UbusConnection, message: BlobmsgTable, timeoutMs?: number): Promise<number> {
  const reply = await conn.invoke(NETIFD_OBJECT, 'notify_proto', message, timeoutMs);
  return reply.status;
}
