// The `wgts` command: a drop-in for wireguard-go (`wgts [-f] IFNAME`) plus
// the key helpers of `wg` (genkey, genpsk, pubkey).
import * as os from 'os';
import * as std from 'std';
import * as native from 'wgts_native';
import { keyFromBase64, toBase64 } from '../crypto/encoding.js';
import { generatePresharedKey, generatePrivateKey, publicKeyFromPrivate } from '../crypto/keys.js';
import { DEFAULT_MTU } from '../device/device.js';
import type { Device } from '../device/device.js';
import {
  createQuickjsDevice, logLevelFromEnv, quickjsLogger, quickjsRandom, safely, setErrorLogger, Tun, UdpBinding,
} from '../platform/quickjs.js';
import { UapiServer } from '../platform/quickjs-uapi.js';
import type { Logger } from '../platform/platform.js';
import { VERSION } from './version.js';

const USAGE = `Usage: wgts [-f/--foreground] INTERFACE-NAME
       wgts genkey | genpsk | pubkey
       wgts --version | --help

Creates the WireGuard interface INTERFACE-NAME as a TUN device and serves
the WireGuard cross-platform UAPI on /var/run/wireguard/INTERFACE-NAME.sock,
so that \`wg\` and \`wg-quick\` configure it like the kernel's. Without -f it
returns once the interface and its socket exist and keeps running in the
background.

Environment:
  LOG_LEVEL=error|verbose|silent   what to log (default: error)
  WG_PROCESS_FOREGROUND=1          same as --foreground

Key helpers (like wg): genkey prints a new private key, genpsk a new
preshared key, pubkey reads a private key on stdin and prints its public key.
`;

function fail(message: string, code = 1): never {
  std.err.puts(`wgts: ${message}\n`);
  std.exit(code);
}

function print(line: string): void {
  std.out.puts(`${line}\n`);
  std.out.flush();
}

/** Linux interface names: 1..15 bytes, no '/', no whitespace, not "." or "..". */
export function validIfname(name: string): boolean {
  return name.length >= 1 && name.length <= 15 && !/[/\s:]/.test(name) && name !== '.' && name !== '..';
}

function describeTunError(rc: number, ifname: string): string {
  const e = native.errno;
  const why = rc === -e.EPERM || rc === -e.EACCES ? 'permission denied (wgts needs root or CAP_NET_ADMIN)'
    : rc === -e.ENOENT || rc === -e.ENODEV ? '/dev/net/tun is missing (is the tun module loaded?)'
    : rc === -e.EBUSY || rc === -e.EEXIST ? 'the name is already in use by another interface'
    : native.strerror(-rc);
  return `Failed to create TUN device ${ifname}: ${why}`;
}

interface Daemon {
  device: Device;
  tun: Tun;
  udp: UdpBinding;
  uapi: UapiServer;
  logger: Logger;
}

function shutdown(d: Daemon, reason: string, code = 0): never {
  d.logger.verbose(`Shutting down: ${reason}`);
  d.device.close();
  d.udp.close();
  d.uapi.close(true);
  d.tun.close(); // closing a non-persistent TUN removes the interface
  std.exit(code);
}

function runInterface(ifname: string, foreground: boolean): void {
  if (!validIfname(ifname)) fail(`invalid interface name: ${ifname}`);
  const logger = quickjsLogger(logLevelFromEnv(std.getenv('LOG_LEVEL')), ifname);
  setErrorLogger(logger);

  const tunFd = native.tunOpen(ifname);
  if (tunFd < 0) fail(describeTunError(tunFd, ifname));
  let mtu = native.getMtu(ifname);
  if (native.setMtu(ifname, DEFAULT_MTU) === 0) mtu = DEFAULT_MTU;
  if (mtu <= 0) mtu = DEFAULT_MTU;

  let tun: Tun | null = null;
  let udpRef: UdpBinding | null = null;
  const device = createQuickjsDevice(logger, () => udpRef!, () => tun, mtu);
  const udp = new UdpBinding(logger, (buf, off, len, from) => device.receiveDatagram(buf, off, len, from));
  udpRef = udp;
  udp.resize(mtu);
  let daemon: Daemon | null = null;
  tun = new Tun(ifname, tunFd, logger, (buf, off, len) => { device.sendPacket(buf, off, len); }, udp,
    (reason) => { if (daemon) shutdown(daemon, reason); });
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
  const d: Daemon = { device, tun, udp, uapi, logger };
  daemon = d;

  if (!foreground) {
    // Everything exists now, so `wg setconf` may run as soon as we return.
    std.out.flush();
    std.err.flush();
    const pid = native.fork();
    if (pid < 0) shutdown(d, `fork failed: ${native.strerror(-pid)}`, 1);
    if (pid > 0) std.exit(0);
    native.setsid();
    // Like wireguard-go: the daemon keeps the caller's stdout/stderr only when LOG_LEVEL asks for a log,
    // otherwise `$(wgts wg0)` or a pipe would wait for the daemon to exit.
    const keepOutput = std.getenv('LOG_LEVEL') !== undefined && logLevelFromEnv(std.getenv('LOG_LEVEL')) !== 'silent';
    const devnull = os.open('/dev/null', os.O_RDWR);
    if (devnull >= 0) {
      os.dup2(devnull, 0);
      if (!keepOutput) { os.dup2(devnull, 1); os.dup2(devnull, 2); }
      os.close(devnull);
    }
  }

  os.signal(os.SIGPIPE, undefined);
  os.signal(os.SIGTERM, safely(() => shutdown(d, 'SIGTERM')));
  os.signal(os.SIGINT, safely(() => shutdown(d, 'SIGINT')));
  logger.verbose(`Device started (pid ${os.getpid()}, UDP port ${port}, MTU ${mtu})`);

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
}

function readStdin(): string {
  return std.in.readAsString(4096).trim();
}

export function main(args: string[]): void {
  let foreground = std.getenv('WG_PROCESS_FOREGROUND') === '1';
  const rest: string[] = [];
  for (const a of args) {
    if (a === '-f' || a === '--foreground') foreground = true;
    else if (a === '-h' || a === '--help') { print(USAGE.trimEnd()); return; }
    else if (a === '-v' || a === '--version') { print(`wgts v${VERSION}`); return; }
    else if (a.startsWith('-') && a.length > 1) fail(`unknown option: ${a}\n\n${USAGE}`);
    else rest.push(a);
  }
  if (rest.length !== 1) fail(`expected exactly one interface name or command\n\n${USAGE}`);
  const cmd = rest[0]!;
  switch (cmd) {
    case 'genkey':
      print(toBase64(generatePrivateKey(quickjsRandom)));
      return;
    case 'genpsk':
      print(toBase64(generatePresharedKey(quickjsRandom)));
      return;
    case 'pubkey': {
      const key = keyFromBase64(readStdin());
      if (!key) fail('Key is not the correct length or format');
      print(toBase64(publicKeyFromPrivate(key)));
      return;
    }
    default:
      if (cmd.startsWith('-')) fail(`unknown option: ${cmd}\n\n${USAGE}`);
      runInterface(cmd, foreground);
  }
}

main(scriptArgs.slice(1));
