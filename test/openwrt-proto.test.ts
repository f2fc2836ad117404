// openwrt/files/wgts.sh, unchanged, under BusyBox ash the way netifd runs it
// (discovery with `./wgts.sh '' dump`, then setup / renew / teardown from
// /lib/netifd/proto), against the netifd-proto.sh and functions.sh stand-ins
// in test/fixtures/openwrt-root/, which record every call. /usr/sbin/wgts is
// a recording stub here; test/e2e/openwrt-proto.test.ts runs the real daemon.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { createOpenwrtRoot, openwrtRootUnavailableReason, PROTO_SCRIPT, type OpenwrtRoot } from './helpers/openwrt-root.js';
import { processGone, waitGone } from './helpers/netns.js';
import { waitFor } from './helpers/tunnel.js';

const IFACE = 'wg0';

// Blobmsg types netifd uses for declared options.
const ARRAY = 1;
const STRING = 3;
const INT32 = 5;
const BOOL = 7;

/**
 * The interface options of OpenWrt's `wireguard` proto, as wgts must declare
 * them. Lists (addresses, ip6prefix) must be arrays: libubox's UCI-to-blob
 * conversion drops a `list` whose declared type is string. fwmark is a string
 * because it is written in hex ('0x..').
 */
const EXPECTED_OPTIONS: Record<string, number> = {
  private_key: STRING,
  listen_port: INT32,
  addresses: ARRAY,
  mtu: INT32,
  fwmark: STRING,
  ip6prefix: ARRAY,
  nohostroute: BOOL,
  tunlink: STRING,
};

/** Flags the daemon-based handler needs: no L2 device, up at once, netifd supervises the task, renew reloads. */
const EXPECTED_FLAGS: Record<string, boolean> = {
  'no-device': true,
  available: true,
  'no-proto-task': false,
  'renew-handler': true,
  lasterror: true,
};

/** What is wrong with a dump, one line per problem; empty when it is right. */
function dumpProblems(stdout: string): string[] {
  const lines = stdout.split('\n').filter((l) => l.length > 0);
  if (lines.length !== 1) return [`dump printed ${lines.length} lines, netifd expects one JSON object`];
  let dump: Record<string, unknown>;
  try {
    dump = JSON.parse(lines[0]!) as Record<string, unknown>;
  } catch (e) {
    return [`dump is not JSON: ${(e as Error).message}`];
  }
  const problems: string[] = [];
  if (dump.name !== 'wgts') problems.push(`name is ${JSON.stringify(dump.name)}, not "wgts"`);
  const config = dump.config;
  if (!Array.isArray(config)) return [...problems, 'no config array'];
  const declared = new Map<string, number>();
  for (const entry of config as unknown[]) {
    if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string' || typeof entry[1] !== 'number') {
      problems.push(`malformed config entry ${JSON.stringify(entry)}`);
      continue;
    }
    if (declared.has(entry[0])) problems.push(`option ${entry[0]} declared twice`);
    declared.set(entry[0], entry[1]);
  }
  for (const [option, type] of Object.entries(EXPECTED_OPTIONS)) {
    const got = declared.get(option);
    if (got === undefined) problems.push(`option ${option} not declared`);
    else if (got !== type) problems.push(`option ${option} has blobmsg type ${got}, expected ${type}`);
  }
  for (const option of declared.keys()) if (!(option in EXPECTED_OPTIONS)) problems.push(`unexpected option ${option}`);
  for (const [flag, value] of Object.entries(EXPECTED_FLAGS)) {
    if (dump[flag] !== value) problems.push(`flag ${flag} is ${JSON.stringify(dump[flag])}, expected ${value}`);
  }
  return problems;
}

/** Calls the stand-ins could not honour; a proto script must make none. */
function unsupported(root: OpenwrtRoot): string[] {
  return root.calls().filter((c) => c[0] === 'unsupported').map((c) => c.slice(1).join(' '));
}

/**
 * Stands in for the daemon: records argv, cwd and signals, exits 0 on
 * SIGTERM. Bounded: gives up after about 60 s.
 */
const STUB = `#!/bin/sh
log=/tmp/stub.log
trap 'echo signal HUP >> $log' HUP
trap 'echo signal TERM >> $log; kill $sleeper 2>/dev/null; exit 0' TERM
echo "argv $*" >> $log
echo "cwd $(pwd)" >> $log
echo "path $PATH" >> $log
echo ready >> $log
i=0
while [ $i -lt 60 ]; do
	sleep 1 & sleeper=$!
	wait $sleeper
	i=$((i + 1))
done
echo "gave up" >> $log
exit 3
`;

/** The config netifd hands to setup: the interface section as blobmsg JSON, options typed as declared. */
const CONFIG = {
  proto: 'wgts',
  private_key: 'yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=',
  listen_port: 51820,
  addresses: ['10.0.0.1/24', 'fd00::1/64'],
};

const reason = openwrtRootUnavailableReason();
if (reason && process.env.WGTS_SKIP_INTEROP === '1') {
  t.plan(0, `skip: WGTS_SKIP_INTEROP=1 and ${reason}`);
} else if (reason) {
  throw new Error(`openwrt-proto tests cannot run: ${reason}`);
} else {
  t.test('dump: the options of the wireguard proto and the flags of a supervised daemon', async (t) => {
    const root = createOpenwrtRoot({ wgtsScript: STUB });
    t.teardown(() => root.destroy());
    const r = await root.dump();
    t.equal(r.code, 0, 'dump exits 0', { stderr: r.stderr });
    t.equal(r.stderr, '', 'nothing on stderr');
    t.same(dumpProblems(r.stdout), [], 'the dump is what netifd needs', { stdout: r.stdout });
    t.same(root.calls().slice(0, 4), [
      ['sourced', '/lib/functions.sh'],
      ['sourced', '/lib/netifd/netifd-proto.sh'],
      ['call', 'init_proto', '', 'dump'],
      ['call', 'add_protocol', 'wgts'],
    ], 'sources both files, then init_proto and add_protocol as the script is run');
    t.same(unsupported(root), [], 'no unsupported helper used');
    t.same(root.notifications(), [], 'dump sends nothing to netifd');
    t.equal(root.taskPid(IFACE), null, 'and starts nothing');
  });

  t.test('the dump check fails on a broken script', async (t) => {
    const original = readFileSync(PROTO_SCRIPT, 'utf8');
    const dir = mkdtempSync(join(tmpdir(), 'wgts-proto-mut-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const mutants: [string, string, RegExp][] = [
      ['renamed option', original.replace('"listen_port"', '"listenport"'), /listen_port not declared[\s\S]*unexpected option listenport/],
      ['list declared as string', original.replace('proto_config_add_array "addresses"', 'proto_config_add_string "addresses"'),
        /option addresses has blobmsg type 3, expected 1/],
      ['no_device dropped', original.replace(/\n\s*no_device=1\n/, '\n'), /flag no-device is false/],
      ['netifd told not to supervise', original.replace('available=1', 'available=1\n\tno_proto_task=1'), /flag no-proto-task is true/],
    ];
    for (const [name, text, expected] of mutants) {
      t.not(text, original, `${name}: the mutation applies`);
      const path = join(dir, `${name.replace(/\W+/g, '-')}.sh`);
      writeFileSync(path, text, { mode: 0o755 });
      const root = createOpenwrtRoot({ protoScript: path, wgtsScript: STUB });
      try {
        const r = await root.dump();
        t.match(dumpProblems(r.stdout).join('\n'), expected, `${name}: reported`);
      } finally {
        root.destroy();
      }
    }
  });

  t.test('setup, renew and teardown drive the daemon through netifd', async (t) => {
    const root = createOpenwrtRoot({ wgtsScript: STUB });
    t.teardown(() => {
      const pid = root.taskPid(IFACE);
      if (pid !== null && !processGone(pid)) process.kill(pid, 'SIGKILL');
      root.destroy();
    });
    const stubLog = () => {
      try {
        return readFileSync(root.host('/tmp/stub.log'), 'utf8');
      } catch {
        return '';
      }
    };

    const setup = await root.action('setup', IFACE, CONFIG);
    t.equal(setup.code, 0, 'setup exits 0', { stderr: setup.stderr });
    const json = JSON.stringify(CONFIG);
    t.same(root.calls(), [
      ['sourced', '/lib/functions.sh'],
      ['sourced', '/lib/netifd/netifd-proto.sh'],
      ['call', 'init_proto', 'wgts', 'setup', IFACE, json],
      ['call', 'add_protocol', 'wgts'],
      ['hotplug', 'pre-setup'],
      ['call', 'proto_run_command', IFACE, '/usr/sbin/wgts', '--netifd', IFACE],
      ['notify', JSON.stringify({ action: 1, command: ['/usr/sbin/wgts', '--netifd', IFACE], interface: IFACE })],
      ['netifd', 'started', IFACE, String(root.taskPid(IFACE))],
      ['hotplug', 'post-setup'],
    ], 'setup: one proto_run_command with `/usr/sbin/wgts --netifd <iface>`, no exported environment');
    const pid = root.taskPid(IFACE);
    t.ok(pid !== null && !processGone(pid), 'the daemon runs after the setup script has returned');
    await waitFor(() => stubLog().includes('ready'), 5_000, 'the stub to start');
    t.match(stubLog(), `argv --netifd ${IFACE}\ncwd /lib/netifd/proto\npath /usr/sbin:/usr/bin:/sbin:/bin\n`,
      'started with its arguments, from /lib/netifd/proto, with netifd\'s PATH');

    const before = root.calls().length;
    const renew = await root.action('renew', IFACE, CONFIG);
    t.equal(renew.code, 0, 'renew exits 0', { stderr: renew.stderr });
    const renewCalls = root.calls().slice(before);
    t.same(renewCalls.filter((c) => c[0] === 'call' && c[1]!.startsWith('proto_')),
      [['call', 'proto_kill_command', IFACE, '1']], 'renew: proto_kill_command <iface> 1');
    t.same(root.notifications().at(-1), { action: 2, signal: 1, interface: IFACE }, 'renew: kill message with signal 1');
    await waitFor(() => stubLog().includes('signal HUP'), 5_000, 'SIGHUP at the daemon');
    t.ok(!processGone(pid!), 'SIGHUP leaves the daemon running');

    const teardownStart = Date.now();
    const teardown = await root.action('teardown', IFACE, CONFIG);
    t.equal(teardown.code, 0, 'teardown exits 0', { stderr: teardown.stderr });
    t.same(root.calls().slice(-5), [
      ['hotplug', 'pre-teardown'],
      ['call', 'proto_kill_command', IFACE],
      ['notify', JSON.stringify({ action: 2, interface: IFACE })],
      ['netifd', 'signalled', IFACE, String(pid), '15'],
      ['hotplug', 'post-teardown'],
    ], 'teardown: proto_kill_command without a signal, which netifd sends as SIGTERM');
    t.ok(await waitGone(pid!, 5_000), 'the daemon is gone within netifd\'s 5 s');
    t.ok(Date.now() - teardownStart < 5_000, 'teardown took under 5 s');
    await waitFor(() => root.taskExit(IFACE) !== null, 2_000, 'the exit status');
    t.equal(root.taskExit(IFACE), 0, 'the daemon exited 0');
    t.match(stubLog(), /signal TERM/, 'it got SIGTERM');
    t.same(unsupported(root), [], 'no unsupported helper used');
  });
}
