// The `wgts` command: a drop-in for wireguard-go (`wgts [-f] IFNAME`) plus
// the key helpers of `wg` (genkey, genpsk, pubkey).
import * as os from 'os';
import * as std from 'std';
import * as native from 'wgts_native';
import { keyFromBase64, toBase64 } from '../crypto/encoding.js';
import { generatePresharedKey, generatePrivateKey, publicKeyFromPrivate } from '../crypto/keys.js';
import { logLevelFromEnv, quickjsLogger, quickjsRandom, setErrorLogger } from '../platform/quickjs.js';
import { fail, shutdown, startDaemon } from './daemon.js';
import { runNetifd } from './netifd.js';
import { VERSION } from './version.js';

const USAGE = `Usage: wgts [-f/--foreground] INTERFACE-NAME
       wgts genkey | genpsk | pubkey
       wgts --netifd INTERFACE-NAME
       wgts --version | --help

Creates the WireGuard interface INTERFACE-NAME as a TUN device and serves
the WireGuard cross-platform UAPI on /var/run/wireguard/INTERFACE-NAME.sock,
so that \`wg\` and \`wg-quick\` configure it like the kernel's. Without -f it
returns once the interface and its socket exist and keeps running in the
background.

Environment:
  LOG_LEVEL=error|verbose|silent   what to log (default: error)
  WG_PROCESS_FOREGROUND=1          same as --foreground
  WGTS_CRYPTO_THREADS=1..8         threads that encrypt and decrypt packets
                                   (default: one per CPU; 1 = no threads)

On OpenWrt, netifd runs \`wgts --netifd IFACE\` for interfaces with
\`option proto 'wgts'\` in /etc/config/network (same options as proto
wireguard); SIGHUP re-reads the file and applies peer changes live.

Key helpers (like wg): genkey prints a new private key, genpsk a new
preshared key, pubkey reads a private key on stdin and prints its public key.
`;


function print(line: string): void {
  std.out.puts(`${line}\n`);
  std.out.flush();
}

/** Linux interface names: 1..15 bytes, no '/', no whitespace, not "." or "..". */
export function validIfname(name: string): boolean {
  return name.length >= 1 && name.length <= 15 && !/[/\s:]/.test(name) && name !== '.' && name !== '..';
}

function runInterface(ifname: string, foreground: boolean): void {
  if (!validIfname(ifname)) fail(`invalid interface name: ${ifname}`);
  const logger = quickjsLogger(logLevelFromEnv(std.getenv('LOG_LEVEL')), ifname);
  setErrorLogger(logger);
  const d = startDaemon(ifname, logger);
  if (foreground) return;
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

function readStdin(): string {
  return std.in.readAsString(4096).trim();
}

export function main(args: string[]): void {
  let foreground = std.getenv('WG_PROCESS_FOREGROUND') === '1';
  const rest: string[] = [];
  if (args[0] === '--netifd') {
    if (args.length !== 2 || !validIfname(args[1]!)) fail('usage: wgts --netifd INTERFACE (run by netifd for proto wgts)');
    runNetifd(args[1]!);
    return;
  }
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
