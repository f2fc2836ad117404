// Field checks for the LuCI form, with the rules the daemon applies when it
// reads the same UCI options (src/control/uci.ts), so a value the page
// accepts is one `wgts --netifd` accepts. Each returns true or a message
// for the person at the form; messages never echo a key.
import { keyFromBase64 } from '../crypto/encoding.js';
import { parseCidr, parseIp } from '../routing/ip.js';

export type Verdict = true | string;

export const MTU_MIN = 576;
export const MTU_MAX = 8940;

export function checkKey(value: string): Verdict {
  if (keyFromBase64(value) !== null) return true;
  return 'Not a WireGuard key: expected 44 characters of base64 ending in "=" (as from "wg genkey")';
}

/** An interface address: IPv4 or IPv6, with an optional /prefix (host bits allowed, 10.0.0.1/24). */
export function checkInterfaceAddress(value: string): Verdict {
  const slash = value.indexOf('/');
  const address = parseIp(slash < 0 ? value : value.slice(0, slash));
  if (address === null) return `"${value}" is not an IPv4 or IPv6 address (e.g. 10.0.0.1/24 or fd00::1/64)`;
  if (slash < 0) return true;
  const bits = value.slice(slash + 1);
  const max = address.length * 8;
  if (!/^[0-9]{1,3}$/.test(bits) || Number(bits) > max) return `"${value}": the prefix length must be 0..${max}`;
  return true;
}

/** An allowed IP: address or address/prefix (the daemon masks host bits). */
export function checkAllowedIp(value: string): Verdict {
  if (parseCidr(value) !== null) return true;
  return `"${value}" is not an IP address or network in CIDR notation (e.g. 10.0.0.2/32 or 0.0.0.0/0)`;
}

function decimal(value: string): number {
  return /^[0-9]{1,10}$/.test(value) ? Number(value) : NaN;
}

/** A UDP port; 0 means "random" where allowZero. */
export function checkPort(value: string, allowZero: boolean): Verdict {
  const n = decimal(value);
  const min = allowZero ? 0 : 1;
  if (n >= min && n <= 65535) return true;
  return `"${value}" is not a port number (${min}..65535)`;
}

/** 0 (leave the default) or MTU_MIN..MTU_MAX. */
export function checkMtu(value: string): Verdict {
  const n = decimal(value);
  if (n === 0 || (n >= MTU_MIN && n <= MTU_MAX)) return true;
  return `"${value}" is not an MTU (${MTU_MIN}..${MTU_MAX}, or 0 for the default)`;
}

/** A 32-bit mark as `wg` takes it: decimal, 0x hex, or "off". */
export function checkFwmark(value: string): Verdict {
  let n = NaN;
  if (value === 'off') n = 0;
  else if (/^0[xX][0-9a-fA-F]{1,8}$/.test(value)) n = parseInt(value.slice(2), 16);
  else n = decimal(value);
  if (n >= 0 && n <= 0xffffffff) return true;
  return `"${value}" is not a firewall mark (decimal or 0x hex up to 0xffffffff, or "off")`;
}

function isHostName(text: string): boolean {
  const name = text.endsWith('.') ? text.slice(0, -1) : text;
  if (name === '' || name.length > 253) return false;
  return name.split('.').every((label) => label.length > 0 && label.length <= 63 && /^[A-Za-z0-9_-]+$/.test(label));
}

/** An IP address ([v6] brackets allowed) or a host name. */
export function checkEndpointHost(value: string): Verdict {
  const bracketed = value.startsWith('[') && value.endsWith(']');
  const address = parseIp(bracketed ? value.slice(1, -1) : value);
  if (address !== null ? !bracketed || address.length === 16 : !bracketed && isHostName(value)) return true;
  return `"${value}" is neither an IP address nor a host name`;
}

/** Seconds between keepalives, 0 or "off" to disable. */
export function checkKeepalive(value: string): Verdict {
  const n = value === 'off' ? 0 : decimal(value);
  if (n >= 0 && n <= 65535) return true;
  return `"${value}" is not a keepalive interval (0..65535 seconds; 0 = off)`;
}
