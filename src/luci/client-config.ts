// The configuration a phone or laptop client imports for one peer: the
// wg-quick format every WireGuard app reads from a file or a QR code. The
// client's [Peer] is this router.
import { parseIp } from '../routing/ip.js';

export interface ClientConfigInput {
  /** The client's own private key (the peer section's private_key). */
  clientPrivateKey: string;
  /** The client's tunnel addresses: the peer's allowed IPs that name one host. */
  addresses: readonly string[];
  dns: readonly string[];
  /** This router's public key. */
  serverPublicKey: string;
  presharedKey: string | null;
  /** What the client sends through the tunnel (0.0.0.0/0, ::/0 for everything). */
  allowedIps: readonly string[];
  /** This router as the client reaches it: a host name or an IP address. */
  endpointHost: string;
  endpointPort: number;
  /** 0 = none. */
  persistentKeepalive: number;
}

/** host:port with IPv6 literals in brackets, as wg-quick wants. */
export function formatEndpointHostPort(host: string, port: number): string {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const address = parseIp(bare);
  return address !== null && address.length === 16 ? `[${bare}]:${port}` : `${bare}:${port}`;
}

/** The allowed IPs of a peer that are single hosts (/32, /128 or no prefix): the client's own addresses. */
export function clientAddresses(allowedIps: readonly string[]): string[] {
  return allowedIps.filter((cidr) => {
    const slash = cidr.indexOf('/');
    const address = parseIp(slash < 0 ? cidr : cidr.slice(0, slash));
    if (address === null) return false;
    return slash < 0 || Number(cidr.slice(slash + 1)) === address.length * 8;
  });
}

export function clientConfig(input: ClientConfigInput): string {
  const lines = ['[Interface]', `PrivateKey = ${input.clientPrivateKey}`];
  if (input.addresses.length > 0) lines.push(`Address = ${input.addresses.join(', ')}`);
  if (input.dns.length > 0) lines.push(`DNS = ${input.dns.join(', ')}`);
  lines.push('', '[Peer]', `PublicKey = ${input.serverPublicKey}`);
  if (input.presharedKey) lines.push(`PresharedKey = ${input.presharedKey}`);
  lines.push(`AllowedIPs = ${input.allowedIps.join(', ')}`);
  lines.push(`Endpoint = ${formatEndpointHostPort(input.endpointHost, input.endpointPort)}`);
  if (input.persistentKeepalive > 0) lines.push(`PersistentKeepalive = ${input.persistentKeepalive}`);
  return `${lines.join('\n')}\n`;
}

/** A file name for the download: the description made safe, else the interface and peer number. */
export function clientConfigFileName(description: string, fallback: string): string {
  const safe = description.replace(/[^A-Za-z0-9_.=+-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 32);
  return `${safe || fallback}.conf`;
}
