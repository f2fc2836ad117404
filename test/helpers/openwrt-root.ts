// A throwaway OpenWrt-like root in which proto scripts run the way netifd
// runs them: BusyBox as the only userland (Debian's `busybox`, ash as
// /bin/sh), cwd /lib/netifd/proto, a bare environment, and the stand-ins in
// test/fixtures/openwrt-root/ as /lib/functions.sh and
// /lib/netifd/netifd-proto.sh.
//
// Why a private mount namespace plus chroot, and not the host's /lib: proto
// scripts source /lib/functions.sh by absolute path and must not find
// anything of the host's. Each run is `unshare --mount --propagation private`
// (optionally inside `ip netns exec`), which bind-mounts BusyBox, its shared
// libraries, a few /dev nodes, /proc, the proto script and the stand-ins
// read-only onto empty placeholders in a temp tree, then chroots there. The
// mounts exist only in that namespace: nothing reaches the host's mount
// table, they vanish with the last process inside (a crash leaves no mount
// behind), and removing the tree from the host only ever sees the
// placeholders. Bind mounts also keep working where the temp directory is
// mounted nodev, which device nodes made with mknod would not.
import { execFile, spawnSync } from 'node:child_process';
import {
  chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ExecResult } from './netns.js';
import { ROOT } from './wgts-binary.js';

export const PROTO_SCRIPT = join(ROOT, 'openwrt', 'files', 'wgts.sh');
const STANDINS = join(ROOT, 'test', 'fixtures', 'openwrt-root');
const BUSYBOX = '/usr/bin/busybox';
/** procd's PATH on OpenWrt, which netifd and its children inherit. */
const OPENWRT_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';
/** Where the stand-ins keep their log and task state, inside the root. */
export const STANDIN_DIR = '/tmp/netifd-standin';

/** Why proto scripts cannot run here, or null when they can. */
export function openwrtRootUnavailableReason(): string | null {
  if (process.platform !== 'linux') return `needs Linux, this is ${process.platform}`;
  if (process.getuid?.() !== 0) return 'needs root (mount namespace, chroot)';
  if (!existsSync(BUSYBOX)) return `${BUSYBOX} is missing (apt-get install busybox)`;
  const u = spawnSync('unshare', ['--help'], { encoding: 'utf8', timeout: 5_000 });
  if (u.status !== 0 || !/--root/.test(u.stdout)) return '`unshare --root` (util-linux) is not available';
  return null;
}

export interface OpenwrtRootOptions {
  /** Host file installed as /lib/netifd/proto/wgts.sh; default openwrt/files/wgts.sh, unchanged. */
  protoScript?: string;
  /** Host executable bind-mounted as /usr/sbin/wgts. */
  wgtsBinary?: string;
  /** Or: text of a script written as /usr/sbin/wgts (mode 0755). */
  wgtsScript?: string;
}

export interface ProtoRunOptions {
  /** Run inside this network namespace (`ip netns exec`). */
  ns?: string;
  /** Added to the bare environment (PATH only otherwise). */
  env?: Record<string, string>;
  timeoutMs?: number;
}

/** One line of the stand-ins' call log, split at tabs: e.g. ['notify', '{...}'], ['call', 'init_proto', ...]. */
export type StandinEntry = string[];

export interface OpenwrtRoot {
  /** The tree on the host. */
  dir: string;
  /** Host path of an absolute path inside the root. */
  host(inside: string): string;
  /** Runs argv in the root with cwd /lib/netifd/proto, as netifd_start_process does. */
  exec(argv: string[], opts?: ProtoRunOptions): Promise<ExecResult>;
  /** Discovery, as handler.c does it: popen("./wgts.sh '' dump"). */
  dump(opts?: ProtoRunOptions): Promise<ExecResult>;
  /** `./wgts.sh wgts <action> <iface> '<config json>'`, as proto-shell.c runs it. */
  action(action: 'setup' | 'teardown' | 'renew', iface: string, config: Record<string, unknown>, opts?: ProtoRunOptions):
    Promise<ExecResult>;
  /** The stand-ins' call log so far. */
  calls(): StandinEntry[];
  /** The messages the script would have sent to netifd (notify_proto bodies), in order. */
  notifications(): Record<string, unknown>[];
  /** Pid of the proto task the stand-in started for `iface`, or null. */
  taskPid(iface: string): number | null;
  /** Exit status of that task once it has ended, else null. */
  taskExit(iface: string): number | null;
  /** Output (stdout+stderr) of that task. */
  taskOutput(iface: string): string;
  /** Removes the tree (call when no process runs inside any more). */
  destroy(): void;
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Shared libraries of a dynamic executable, as absolute paths (none for a static one). */
function sharedLibraries(binary: string): string[] {
  const r = spawnSync('ldd', [binary], { encoding: 'utf8', timeout: 5_000 });
  if (r.status !== 0) return [];
  const libs: string[] = [];
  for (const line of r.stdout.split('\n')) {
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x[0-9a-f]+\)/.exec(line);
    if (m) libs.push(m[1]!);
  }
  return libs;
}

function busyboxApplets(): string[] {
  const r = spawnSync(BUSYBOX, ['--list'], { encoding: 'utf8', timeout: 5_000 });
  if (r.status !== 0) throw new Error(`${BUSYBOX} --list failed: ${r.stderr}`);
  return r.stdout.split('\n').filter((a) => /^[a-z0-9_.[-]+$/.test(a) && a !== 'busybox');
}

export function createOpenwrtRoot(opts: OpenwrtRootOptions = {}): OpenwrtRoot {
  const dir = mkdtempSync(join(tmpdir(), 'wgts-owrt-'));
  const host = (inside: string) => join(dir, inside);
  const binds: { from: string; to: string; ro: boolean }[] = [];
  const bind = (from: string, to: string, ro = true, isDir = false) => {
    const target = host(to);
    mkdirSync(isDir ? target : dirname(target), { recursive: true });
    if (!isDir) writeFileSync(target, '');
    binds.push({ from, to: target, ro });
  };

  for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc/config', 'tmp/run', 'lib/netifd/proto', 'dev/net']) {
    mkdirSync(host(d), { recursive: true });
  }
  chmodSync(host('tmp'), 0o1777);
  symlinkSync('tmp', host('var')); // as on OpenWrt: /var -> /tmp

  bind(BUSYBOX, '/bin/busybox');
  for (const applet of busyboxApplets()) {
    if (!existsSync(host(`bin/${applet}`))) symlinkSync('busybox', host(`bin/${applet}`));
  }
  for (const lib of sharedLibraries(BUSYBOX)) bind(realpathSync(lib), lib);
  for (const node of ['null', 'zero', 'random', 'urandom', 'net/tun']) {
    if (existsSync(`/dev/${node}`)) bind(`/dev/${node}`, `/dev/${node}`, false);
  }
  bind('/proc', '/proc', false, true);
  bind(join(STANDINS, 'lib', 'functions.sh'), '/lib/functions.sh');
  bind(join(STANDINS, 'lib', 'netifd', 'netifd-proto.sh'), '/lib/netifd/netifd-proto.sh');
  bind(opts.protoScript ?? PROTO_SCRIPT, '/lib/netifd/proto/wgts.sh');
  if (opts.wgtsBinary) bind(opts.wgtsBinary, '/usr/sbin/wgts');
  else if (opts.wgtsScript !== undefined) writeFileSync(host('usr/sbin/wgts'), opts.wgtsScript, { mode: 0o755 });

  const mounts = binds.map((b) => `mount --bind${b.ro ? ' -o ro' : ''} ${shellQuote(b.from)} ${shellQuote(b.to)}`);
  const enter = [
    'set -e',
    ...mounts,
    `exec unshare --root=${shellQuote(dir)} --wd=/lib/netifd/proto "$@"`,
  ].join('\n');

  const exec = (argv: string[], o: ProtoRunOptions = {}): Promise<ExecResult> => {
    const env = Object.entries(o.env ?? {}).map(([k, v]) => `${k}=${v}`);
    const inner = ['/bin/busybox', 'env', '-i', `PATH=${OPENWRT_PATH}`, ...env, ...argv];
    const outer = ['unshare', '--mount', '--propagation', 'private', '--', '/bin/sh', '-c', enter, 'enter-root', ...inner];
    const full = o.ns ? ['ip', 'netns', 'exec', o.ns, ...outer] : outer;
    const timeout = o.timeoutMs ?? 15_000;
    return new Promise((resolve, reject) => {
      execFile(full[0]!, full.slice(1), { timeout, killSignal: 'SIGKILL', encoding: 'utf8' }, (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { code?: number | string; killed?: boolean }) | null;
        if (e?.killed) reject(new Error(`${argv.join(' ')} in ${dir}: timed out after ${timeout} ms\n${stderr}${stdout}`));
        else resolve({ code: e ? (typeof e.code === 'number' ? e.code : -1) : 0, stdout, stderr });
      });
    });
  };

  const readState = (name: string): string | null => {
    try {
      return readFileSync(host(`${STANDIN_DIR}/${name}`), 'utf8');
    } catch {
      return null;
    }
  };
  const calls = (): StandinEntry[] =>
    (readState('calls.log') ?? '').split('\n').filter((l) => l.length > 0).map((l) => l.split('\t'));

  return {
    dir,
    host,
    exec,
    dump: (o) => exec(['/bin/sh', '-c', "./wgts.sh '' dump"], o),
    action: (action, iface, config, o) => exec(['./wgts.sh', 'wgts', action, iface, JSON.stringify(config)], o),
    calls,
    notifications: () => calls().filter((c) => c[0] === 'notify').map((c) => JSON.parse(c[1]!) as Record<string, unknown>),
    taskPid: (iface) => {
      const s = readState(`${iface}.pid`);
      return s === null ? null : Number(s.trim());
    },
    taskExit: (iface) => {
      const s = readState(`${iface}.exit`);
      return s === null ? null : Number(s.trim());
    },
    taskOutput: (iface) => readState(`${iface}.out`) ?? '',
    destroy: () => rmSync(dir, { recursive: true, force: true }),
  };
}
