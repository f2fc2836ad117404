// The basic end-to-end checks shared by the wgts <-> wireguard-go and
// wgts <-> wgts suites: who initiates, endpoint learning, IPv4 and IPv6
// inside, full-MTU packets both ways, PSK, persistent keepalive.
import type { Test } from 'tap';
import { createTunnel, hostPort, ping, waitFor, logsOf, type Impl, type Side, type Tunnel } from './tunnel.js';

/** Inner MTU of every rig (the default of both implementations). */
export const MTU = 1420;
/** Largest ICMP payloads that fit the MTU unfragmented. */
export const FULL_V4 = MTU - 20 - 8;
export const FULL_V6 = MTU - 40 - 8;

export interface BasicsCase {
  name: string;
  left: Impl;
  right: Impl;
  outer: 4 | 6;
  /** The side that alone knows the other's endpoint, so it must start the handshake. */
  initiator: 'left' | 'right';
  psk: boolean;
}

function sides(tun: Tunnel, initiator: 'left' | 'right'): [Side, Side] {
  return initiator === 'left' ? [tun.left, tun.right] : [tun.right, tun.left];
}

/** One tunnel: the initiator's first pings carry the handshake; then everything else in both directions. */
export function basics(t: Test, c: BasicsCase): Promise<void> {
  return t.test(c.name, async (t) => {
    const tun = await createTunnel(t, { purpose: 'basic', left: c.left, right: c.right, outer: c.outer, endpoints: c.initiator, psk: c.psk });
    const [init, resp] = sides(tun, c.initiator);
    const logs = () => logsOf(tun.left.daemon, tun.right.daemon);
    t.equal((await init.peer()).latestHandshake, 0, 'no handshake before traffic');

    const first = await ping(init, resp.v4, { count: 3 });
    t.equal(first.received, 3, `${init.impl} (initiator) pings ${resp.impl} over IPv4 inside`, { ping: first.output, ...logs() });
    const initPeer = await init.peer();
    const respPeer = await resp.peer();
    t.ok(initPeer.latestHandshake > 0, `${init.impl} reports a handshake`);
    t.ok(respPeer.latestHandshake > 0, `${resp.impl} reports a handshake`);
    const initOuter = c.outer === 4 ? init.outerV4 : init.outerV6;
    t.equal(respPeer.endpoint, hostPort(initOuter, init.port), `${resp.impl} learned the initiator's endpoint from the handshake`);
    if (c.psk) {
      t.equal(initPeer.presharedKey, tun.psk!.base64, `${init.impl} shows the PSK`);
      t.equal(respPeer.presharedKey, tun.psk!.base64, `${resp.impl} shows the PSK`);
    }

    for (const [from, to] of [[resp, init], [init, resp]] as const) {
      const v4 = await ping(from, to.v4, { count: 2 });
      t.equal(v4.received, 2, `${from.impl} -> ${to.impl}: IPv4 inside`, { ping: v4.output, ...logs() });
      const v6 = await ping(from, to.v6, { count: 2 });
      t.equal(v6.received, 2, `${from.impl} -> ${to.impl}: IPv6 inside`, { ping: v6.output, ...logs() });
      const big4 = await ping(from, to.v4, { count: 2, size: FULL_V4, dontFragment: true });
      t.equal(big4.received, 2, `${from.impl} -> ${to.impl}: ${FULL_V4 + 28}-byte IPv4 packets, DF`, { ping: big4.output, ...logs() });
      const big6 = await ping(from, to.v6, { count: 2, size: FULL_V6, dontFragment: true });
      t.equal(big6.received, 2, `${from.impl} -> ${to.impl}: ${FULL_V6 + 48}-byte IPv6 packets`, { ping: big6.output, ...logs() });
    }
  }).then(() => {});
}

export interface KeepaliveCase {
  name: string;
  left: Impl;
  right: Impl;
  outer: 4 | 6;
  /** The side with persistent-keepalive = 1 s (and the only one that knows the endpoint). */
  sender: 'left' | 'right';
}

/** Persistent keepalive alone (no traffic at all) makes a handshake and then a steady trickle of keepalives. */
export function keepalive(t: Test, c: KeepaliveCase): Promise<void> {
  return t.test(c.name, async (t) => {
    const tun = await createTunnel(t, {
      purpose: 'keep', left: c.left, right: c.right, outer: c.outer, endpoints: c.sender,
      keepaliveLeft: c.sender === 'left' ? 1 : undefined, keepaliveRight: c.sender === 'right' ? 1 : undefined,
    });
    const [sender, receiver] = sides(tun, c.sender);
    t.equal((await sender.peer()).persistentKeepalive, 1, `${sender.impl} shows persistent keepalive 1`);
    const shaken = await waitFor(async () => {
      const [a, b] = [await sender.peer(), await receiver.peer()];
      return a.latestHandshake > 0 && b.latestHandshake > 0 ? b : null;
    }, 5_000, 'a handshake on both sides without traffic').catch((e: Error) => {
      t.fail(e.message, logsOf(sender.daemon, receiver.daemon));
      return null;
    });
    if (!shaken) return;
    t.pass('handshake on both sides without any traffic');
    // Keepalives are 32-byte transport messages, one per second.
    const grown = await waitFor(async () => {
      const now = (await receiver.peer()).rx;
      return now >= shaken.rx + 64 ? now : null;
    }, 5_000, 'two more keepalives').catch(() => null);
    t.ok(grown !== null, `${receiver.impl} keeps receiving keepalives from ${sender.impl}`, logsOf(sender.daemon, receiver.daemon));
    if (grown !== null) t.equal((grown - shaken.rx) % 32, 0, 'what arrived since is whole 32-byte keepalives');
  }).then(() => {});
}
