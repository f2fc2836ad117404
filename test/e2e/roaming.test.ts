// Roaming in real namespaces: either side moves to a new address or port and
// traffic resumes; and a wgts whose own (sticky, learned) source address is
// taken away under it drops the cached source and carries on from the new one.
import t, { type Test } from 'tap';
import { requireInterop } from '../helpers/netns.js';
import { createTunnel, hostPort, logsOf, ping, pingUntil, type Impl, type Side, type Tunnel } from '../helpers/tunnel.js';
import { wgtsBinary } from '../helpers/wgts-binary.js';

const RESUME_MS = 8_000;

/** Traffic both ways, so each side has learned the other's endpoint (and wgts its local source) from packets. */
async function warmUp(t: Test, tun: Tunnel): Promise<void> {
  const logs = logsOf(tun.left.daemon, tun.right.daemon);
  t.equal((await ping(tun.right, tun.left.v4, { count: 2 })).received, 2, 'right -> left before the move', logs);
  t.equal((await ping(tun.left, tun.right.v4, { count: 2 })).received, 2, 'left -> right before the move', logs);
}

/** `mover` gets a new veth address in the same subnet (old one deleted first, so nothing is left of it). */
async function moveAddress(mover: Side, tun: Tunnel, family: 4 | 6): Promise<string> {
  const end = mover === tun.left ? tun.pair.a : tun.pair.b;
  const old = family === 4 ? end.v4 : end.v6;
  const fresh = family === 4 ? old.replace(/\.(\d+)$/, (_, h: string) => `.${Number(h) + 10}`) : old.replace(/::(\d+)$/, (_, h: string) => `::${Number(h) + 10}`);
  const prefix = family === 4 ? 24 : 64;
  await mover.exec(['ip', `-${family}`, 'addr', 'del', `${old}/${prefix}`, 'dev', end.ifname]);
  await mover.exec(['ip', `-${family}`, 'addr', 'add', `${fresh}/${prefix}`, 'dev', end.ifname, ...(family === 6 ? ['nodad'] : [])]);
  return fresh;
}

interface AddressMove {
  name: string;
  left: Impl;
  right: Impl;
  family: 4 | 6;
  /** whose address changes */
  mover: 'left' | 'right';
}

/**
 * The mover sends first after its move: its packets come from the new
 * address, the other side roams to it, and answers reach the mover there.
 */
function addressMove(t: Test, c: AddressMove): void {
  void t.test(c.name, async (t) => {
    const tun = await createTunnel(t, { purpose: 'roam', left: c.left, right: c.right, outer: c.family });
    await warmUp(t, tun);
    const [mover, other] = c.mover === 'left' ? [tun.left, tun.right] : [tun.right, tun.left];
    const fresh = await moveAddress(mover, tun, c.family);
    const logs = () => logsOf(tun.left.daemon, tun.right.daemon);
    if (mover.impl === 'wgts') {
      // A burst first: the packets leave as one batch (sendmmsg) that fails on the stale source as a whole;
      // every one of them must still go out from the new address.
      const burst = await ping(mover, other.v4, { count: 8, preload: 8, waitS: 3 });
      t.equal(burst.received, 8, `a burst of 8 right after the move: all answered (${fresh})`, { ping: burst.output, ...logs() });
    }
    t.ok(await pingUntil(mover, other.v4, RESUME_MS), `${mover.impl} reaches ${other.impl} again from its new address ${fresh}`, logs());
    t.equal((await other.peer()).endpoint, hostPort(fresh, mover.port), `${other.impl} roamed to the new address`);
    t.equal((await ping(other, mover.v4, { count: 2 })).received, 2, `${other.impl} reaches ${mover.impl} at the new address`, logs());
    t.equal((await ping(mover, other.v6, { count: 2 })).received, 2, 'IPv6 inside works after the move', logs());
  });
}

interface PortMove {
  name: string;
  left: Impl;
  right: Impl;
  /** whose listen port changes (`wg set ... listen-port`) */
  mover: 'left' | 'right';
}

function portMove(t: Test, c: PortMove): void {
  void t.test(c.name, async (t) => {
    const tun = await createTunnel(t, { purpose: 'port', left: c.left, right: c.right, outer: 4 });
    await warmUp(t, tun);
    const [mover, other] = c.mover === 'left' ? [tun.left, tun.right] : [tun.right, tun.left];
    const newPort = mover.port + 100;
    await mover.daemon.wg(['set', mover.daemon.ifname, 'listen-port', String(newPort)]);
    t.equal((await mover.daemon.wgShow()).listenPort, newPort, `${mover.impl} listens on the new port`);
    const logs = () => logsOf(tun.left.daemon, tun.right.daemon);
    t.ok(await pingUntil(mover, other.v4, RESUME_MS), `${mover.impl} reaches ${other.impl} from the new port`, logs());
    t.equal((await other.peer()).endpoint, hostPort(mover.outerV4, newPort), `${other.impl} roamed to the new port`);
    t.equal((await ping(other, mover.v4, { count: 2 })).received, 2, `${other.impl} reaches ${mover.impl} at the new port`, logs());
  });
}

if (requireInterop(t)) {
  await wgtsBinary();
  t.jobs = 3;
  // wgts remembers the local address each peer's packets arrived on and sends from it (pktinfo). Taking
  // that address away must make the send fail once, drop the cached source and go out from the new one.
  addressMove(t, { name: "wgts's own IPv4 address changes under it (sticky source dropped)", left: 'wgts', right: 'wireguard-go', family: 4, mover: 'left' });
  addressMove(t, { name: "wgts's own IPv6 address changes under it (sticky source dropped)", left: 'wgts', right: 'wireguard-go', family: 6, mover: 'left' });
  // IPv6 for wireguard-go's move: the 0.0.20220316 in Debian keeps its stale IPv4 source (the kernel says
  // ENETUNREACH, it only clears on EINVAL) and never sends again, a gap of wireguard-go, not of wgts.
  addressMove(t, { name: 'wireguard-go moves to a new IPv6 address; wgts roams', left: 'wgts', right: 'wireguard-go', family: 6, mover: 'right' });
  addressMove(t, { name: 'wgts <-> wgts: one moves to a new IPv4 address, the other roams', left: 'wgts', right: 'wgts', family: 4, mover: 'right' });
  portMove(t, { name: 'wgts changes its listen port; wireguard-go roams', left: 'wgts', right: 'wireguard-go', mover: 'left' });
  portMove(t, { name: 'wireguard-go changes its listen port; wgts roams', left: 'wgts', right: 'wireguard-go', mover: 'right' });
}
