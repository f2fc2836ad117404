// `wgts --netifd IFACE`: the daemon netifd runs for `option proto 'wgts'`
// (/lib/netifd/proto/wgts.sh). It reads the interface and its
// `wireguard_<IFACE>` peer sections from /etc/config/network, refuses to
// start on any bad option (each named in the log), creates the TUN device
// named after the section, and reports the link, its addresses, routes and
// endpoint host dependencies to netifd over ubus. SIGHUP re-reads the file
// and applies only the difference, so unchanged peers keep their sessions;
// host-name endpoints are resolved with our own DNS stub and resolved again
// when a peer's handshakes stop succeeding.
import * as os from 'os';
import * as std from 'std';
import { toBase64 } from '../crypto/encoding.js';
import type { DeviceChange } from '../control/config.js';
import { reresolveDue } from '../control/dns.js';
import { hostDependencyMessage, linkUpdateMessage, notifyProto } from '../control/netifd.js';
import { hostStatusObject } from '../control/ubus-status.js';
import {
  diffForReload, hostDependencies, hostsToResolve, netifdUpdate, parseUci, toDeviceChange, translateWgtsInterface,
  type WgtsInterfaceConfig,
} from '../control/uci.js';
import { DEFAULT_MTU } from '../device/device.js';
import { logLevelFromEnv, quickjsLogger, safely, setErrorLogger } from '../platform/quickjs.js';
import { Resolver } from '../platform/quickjs-dns.js';
import { QuickjsUbus } from '../platform/quickjs-ubus.js';
import type { Logger } from '../platform/platform.js';
import { fail, shutdown, startDaemon } from './daemon.js';

const SIGHUP = 1; // the same number on every Linux architecture; QuickJS's os module does not name it
const RERESOLVE_CHECK_MS = 30_000;

/** Reads and validates the interface's configuration; logs every problem and returns null if there is any. */
function loadConfig(path: string, iface: string, logger: Logger): WgtsInterfaceConfig | null {
  const text = std.loadFile(path);
  if (text === null) {
    logger.error(`Cannot read ${path}`);
    return null;
  }
  const parsed = parseUci(text);
  if ('errors' in parsed) {
    for (const e of parsed.errors) logger.error(`${path}:${e.line}: ${e.message}`);
    return null;
  }
  const t = translateWgtsInterface(parsed.sections, iface);
  for (const w of t.warnings) logger.error(`warning: ${w.option} (line ${w.line}): ${w.message}`);
  if ('errors' in t) {
    for (const e of t.errors) logger.error(`${e.option} (line ${e.line}): ${e.message}`);
    logger.error(`Interface ${iface} not started: fix the options above`);
    return null;
  }
  return t.config;
}

export function runNetifd(iface: string): void {
  // netifd logs each line of our output to syslog as "<iface> (<pid>): ...".
  const logger = quickjsLogger(logLevelFromEnv(std.getenv('LOG_LEVEL') ?? 'verbose'), iface);
  setErrorLogger(logger);
  const path = std.getenv('WGTS_UCI_NETWORK') ?? '/etc/config/network';
  let config = loadConfig(path, iface, logger);
  if (!config) fail(`invalid configuration for interface ${iface} in ${path}`);

  const d = startDaemon(iface, logger, config.mtu ?? DEFAULT_MTU);
  const resolver = new Resolver(logger);
  resolver.fwmark = config.fwmark ?? 0;
  const resolved = new Map<string, string>();
  let applied: DeviceChange = toDeviceChange(config, resolved);
  const rc = d.device.applyChange(applied);
  if (rc < 0) shutdown(d, `configuration refused (errno ${-rc})`, 1);

  const ubusPath = std.getenv('WGTS_UBUS_SOCKET');
  const ubus = new QuickjsUbus(logger, ubusPath ? { paths: [ubusPath] } : {});
  const descriptions = () => {
    const m = new Map<string, string>();
    for (const p of config!.peers) if (p.description) m.set(toBase64(p.publicKey), p.description);
    return m;
  };
  hostStatusObject(ubus.connection, {
    ifname: iface,
    status: () => d.device.status(),
    publicKey: () => d.device.identity?.publicKey ?? null,
    descriptions,
  });
  const announce = () => {
    const u = netifdUpdate(config!);
    void notifyProto(ubus.connection, linkUpdateMessage(iface, {
      ifname: iface, up: true, keep: false, ipaddr: u.ipaddr, ip6addr: u.ip6addr, routes: u.routes,
      routes6: u.routes6, ip6prefix: u.ip6prefix,
    })).then((status) => { if (status !== 0) logger.error(`netifd refused the link update (ubus status ${status})`); });
    for (const dep of hostDependencies(config!, resolved)) {
      void notifyProto(ubus.connection, hostDependencyMessage(iface, dep.host, dep.ifname));
    }
  };
  ubus.onConnect = safely(announce);
  ubus.start();
  d.cleanups.push(() => { ubus.close(); resolver.close(); });

  /** Applies a new configuration: only what differs from the running device. */
  const apply = (next: WgtsInterfaceConfig) => {
    const change = toDeviceChange(next, resolved);
    const diff = diffForReload(d.device.status(), change, applied);
    const rc = d.device.applyChange(diff);
    if (rc < 0) {
      logger.error(`Reload refused (errno ${-rc}); the running configuration stays`);
      return;
    }
    applied = change;
    config = next;
    resolver.fwmark = next.fwmark ?? 0;
  };

  const resolveHosts = (fresh: boolean) => {
    for (const host of hostsToResolve(config!)) {
      const peer = config!.peers.find((p) => p.endpointHost === host);
      if (fresh && peer) {
        const running = d.device.peerByKey(peer.publicKey);
        if (running && !reresolveDue(running.lastHandshakeWallMs, d.device.clock.wallMs())) continue;
      }
      resolver.resolve(host, (r) => {
        if ('error' in r) {
          logger.error(`Cannot resolve endpoint ${host}: ${r.error}`);
          return;
        }
        if (resolved.get(host) === r.address) return;
        logger.verbose(`Endpoint ${host} resolves to ${r.address}`);
        resolved.set(host, r.address);
        apply(config!);
        announce();
      }, { fresh });
    }
  };
  resolveHosts(false);
  const reresolve = safely(() => {
    resolveHosts(true);
    os.setTimeout(reresolve, RERESOLVE_CHECK_MS);
  });
  os.setTimeout(reresolve, RERESOLVE_CHECK_MS);

  os.signal(SIGHUP, safely(() => {
    logger.verbose(`Reloading ${path}`);
    const next = loadConfig(path, iface, logger);
    if (!next) {
      logger.error('Reload refused; the running configuration stays');
      return;
    }
    apply(next);
    announce();
    resolveHosts(false);
  }));
}


