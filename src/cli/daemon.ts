// The long-running part shared by `wgts IFNAME` and `wgts --netifd IFACE`:
// the TUN device, the UDP sockets, the UAPI socket, signals and housekeeping
// around one Device.
import * as os from 'os';
import * as std from 'std';
import * as native from 'wgts_native';
import { DEFAULT_MTU } from '../device/device.js';
import type { Device } from '../device/device.js';
import { createQuickjsAead, createQuickjsDevice, cryptoThreadsWanted, safely, Tun, UdpBinding } from '../platform/quickjs.js';
import { UapiServer } from '../platform/quickjs-uapi.js';
import type { Logger } from '../platform/platform.js';

export function fail(message: string, code = 1): never {
  std.err.puts(`wgts: ${message}\n`);
  std.exit(code);
}

function describeTunError(rc: number, ifname: string): string {
  const e = native.errno;
  const why = rc === -e.EPERM || rc === -e.EACCES ? 'permission denied (wgts needs root or CAP_NET_ADMIN)'
    : rc === -e.ENOENT || rc === -e.ENODEV ? '/dev/net/tun is missing (is the tun module loaded?)'
    : rc === -e.EBUSY || rc === -e.EEXIST ? 'the name is already in use by another interface'
    : native.strerror(-rc);
  return `Failed to create TUN device ${ifname}: ${why}`;
}

export interface Daemon {
  ifname: string;
  device: Device;
  tun: Tun;
  udp: UdpBinding;
  uapi: UapiServer;
  logger: Logger;
  /** Run at shutdown, before the device goes (ubus, resolver, ...). */
  cleanups: (() => void)[];
}

export function shutdown(d: Daemon, reason: string, code = 0): never {
  d.logger.verbose(`Shutting down: ${reason}`);
  for (const c of d.cleanups) c();
  d.device.close();
  d.udp.close();
  d.uapi.close(true);
  d.tun.close(); // closing a non-persistent TUN removes the interface
  std.exit(code);
}

/** Creates the interface and everything around it; exits with a clear message on any start-up failure. */
export function startDaemon(ifname: string, logger: Logger, mtuWanted = DEFAULT_MTU): Daemon {
  const tunFd = native.tunOpen(ifname);
  if (tunFd < 0) fail(describeTunError(tunFd, ifname));
  let mtu = native.getMtu(ifname);
  if (native.setMtu(ifname, mtuWanted) === 0) mtu = mtuWanted;
  if (mtu <= 0) mtu = DEFAULT_MTU;

  let daemon: Daemon | null = null;
  let udpRef: UdpBinding | null = null;
  let tunRef: Tun | null = null;
  const threads = cryptoThreadsWanted(std.getenv('WGTS_CRYPTO_THREADS'), native.cpuCount(), logger);
  const crypto = createQuickjsAead(threads);
  const device = createQuickjsDevice(logger, () => udpRef!, () => tunRef, mtu, crypto.aead);
  const udp = new UdpBinding(logger, (buf, off, len, from) => device.receiveDatagram(buf, off, len, from));
  udpRef = udp;
  if (crypto.batch) udp.useBatchCrypto(crypto.batch, (buf, off, len) => device.receiveKeyFor(buf, off, len));
  udp.useHandshakeQueue((budgetMs) => device.processHandshakes(budgetMs));
  udp.resize(mtu);
  const tun = new Tun(ifname, tunFd, logger, (buf, off, len) => { device.sendPacket(buf, off, len); }, udp,
    (reason) => { if (daemon) shutdown(daemon, reason); });
  tunRef = tun;
  tun.resize(mtu);
  const port = udp.bind(0, 0);
  if (port < 0) {
    tun.close();
    fail(`Failed to bind a UDP socket: ${native.strerror(-port)}`);
  }
  device.listenPort = port;

  const uapi = UapiServer.listen(ifname, device, logger);
  if (typeof uapi === 'number') {
    udp.close();
    tun.close();
    fail(uapi === -native.errno.EADDRINUSE
      ? `UAPI socket /var/run/wireguard/${ifname}.sock is in use by another process`
      : `Failed to create UAPI socket: ${native.strerror(-uapi)}`);
  }
  const d: Daemon = { ifname, device, tun, udp, uapi, logger, cleanups: [] };
  daemon = d;

  os.signal(os.SIGPIPE, undefined);
  os.signal(os.SIGTERM, safely(() => shutdown(d, 'SIGTERM')));
  os.signal(os.SIGINT, safely(() => shutdown(d, 'SIGINT')));
  logger.verbose(`Device started (pid ${os.getpid()}, UDP port ${port}, MTU ${mtu}, crypto on ${crypto.batch ? threads : 1} thread(s))`);

  // Housekeeping: follow MTU changes (wg-quick sets it after start-up), stop
  // when the interface or the UAPI socket is removed, as wireguard-go does.
  const housekeeping = safely(() => {
    if (native.ifIndex(ifname) < 0) shutdown(d, 'interface removed');
    if (!uapi.socketExists()) shutdown(d, 'UAPI socket removed');
    const m = native.getMtu(ifname);
    if (m > 0 && m !== device.mtu) {
      logger.verbose(`MTU changed to ${m}`);
      device.mtu = m;
      udp.resize(m);
      tun.resize(m);
    }
    os.setTimeout(housekeeping, 1000);
  });
  os.setTimeout(housekeeping, 1000);
  return d;
}
