// The command-line contract of wgts as a drop-in for wireguard-go: it
// daemonizes and returns once its socket exists, wg-quick drives it, it stops
// on SIGTERM / interface deletion / socket removal, start-up failures say
// what went wrong with a non-zero exit, and the UAPI socket is root's alone.
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair } from '../helpers/keys.js';
import {
  WG_SOCKET_DIR,
  adoptDaemon,
  createNetnsPair,
  nsExec,
  processGone,
  requireInterop,
  run,
  startWireguardGo,
  stopAdopted,
  uniqueIfname,
  waitGone,
  type ExecResult,
  type NetnsPair,
} from '../helpers/netns.js';
import { ping } from '../helpers/tunnel.js';
import { wgtsBinary } from '../helpers/wgts-binary.js';

const NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
/** The environment of a plain `wgts IF` from a script: no LOG_LEVEL, no foreground flag. */
const PLAIN_ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'LOG_LEVEL' && k !== 'WG_PROCESS_FOREGROUND'));

let wgts = '';

const socketOf = (ifname: string) => join(WG_SOCKET_DIR, `${ifname}.sock`);

/** The pid of the wgts daemon serving `ifname`, from /proc (its argv ends with the name). */
function daemonPid(ifname: string): number | null {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter((a) => a.length > 0);
    } catch {
      continue;
    }
    if (argv[0] === wgts && argv[argv.length - 1] === ifname && !processGone(Number(entry))) return Number(entry);
  }
  return null;
}

interface Launch {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Whether stdout and stderr were closed (by everyone holding them) within the wait after exit. */
  released: boolean;
}

/**
 * Runs `wgts args...` in `ns` the way a script does, with pipes for output.
 * Resolves when the process exits (or after `ms`), then gives its stdio a
 * moment to close: a daemon that kept them would make `$(wgts wg0)` hang.
 */
function launch(ns: string, args: string[], opts: { asNobody?: boolean; ms?: number } = {}): Promise<Launch> {
  const argv = ['netns', 'exec', ns, ...(opts.asNobody ? NOBODY : []), wgts, ...args];
  return new Promise((resolve) => {
    const child = spawn('ip', argv, { env: PLAIN_ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), opts.ms ?? 5_000);
    child.once('exit', (code) => {
      clearTimeout(killer);
      let done = false;
      const finish = (released: boolean) => {
        if (done) return;
        done = true;
        child.stdout.destroy();
        child.stderr.destroy();
        resolve({ code, stdout, stderr, released });
      };
      child.once('close', () => finish(true));
      setTimeout(() => finish(false), 1_000);
    });
  });
}

/** A namespace (one end of a fresh pair) for one subtest, removed with it. */
async function namespaceFor(t: Test, purpose: string): Promise<NetnsPair> {
  const pair = await createNetnsPair({ purpose });
  t.teardown(() => pair.destroy());
  return pair;
}

/** Starts a daemonized wgts for `ifname` in `ns`; stops it with `t` unless the test did. */
async function startDaemon(t: Test, ns: string, ifname: string): Promise<number> {
  const r = await launch(ns, [ifname]);
  if (r.code !== 0) throw new Error(`wgts ${ifname} exited with ${r.code}: ${r.stderr}`);
  const pid = daemonPid(ifname);
  if (pid === null) throw new Error(`no wgts daemon for ${ifname} after start-up`);
  adoptDaemon(pid, ns, ifname);
  t.teardown(() => stopAdopted(pid));
  return pid;
}

function linkExists(ns: string, ifname: string): Promise<boolean> {
  return nsExec(ns, ['ip', 'link', 'show', ifname], { allowFail: true }).then((r: ExecResult) => r.code === 0);
}

function confText(privateKey: string, listenPort: number): string {
  return `[Interface]\nPrivateKey = ${privateKey}\nListenPort = ${listenPort}\n`;
}

if (requireInterop(t)) {
  wgts = await wgtsBinary();
  const confDir = mkdtempSync(join(tmpdir(), 'wgts-e2e-cli-'));
  t.teardown(() => rmSync(confDir, { recursive: true, force: true }));
  t.jobs = 3;

  t.test('daemonizes, returns only once the socket exists, and lets go of the caller\'s output', async (t) => {
    const { a } = await namespaceFor(t, 'daemon');
    for (let i = 0; i < 5; i++) {
      const ifname = uniqueIfname('d');
      const key = generateKeyPair();
      const conf = join(confDir, `${ifname}.conf`);
      writeFileSync(conf, confText(key.privateKey, 40000 + i), { mode: 0o600 });
      const r = await launch(a.ns, [ifname]);
      const pid = daemonPid(ifname);
      if (pid !== null) {
        adoptDaemon(pid, a.ns, ifname);
        t.teardown(() => stopAdopted(pid));
      }
      t.equal(r.code, 0, `round ${i + 1}: \`wgts ${ifname}\` exits 0`, { stderr: r.stderr });
      t.ok(r.released, `round ${i + 1}: the daemon does not hold the caller's stdout/stderr open (\`$(wgts IF)\` must return)`);
      // No waiting: wg-quick runs `wg setconf` right after starting the daemon.
      const set = await a.exec(['wg', 'setconf', ifname, conf], { allowFail: true });
      t.equal(set.code, 0, `round ${i + 1}: wg setconf right after start-up succeeds`, { stderr: set.stderr });
      const dump = await a.exec(['wg', 'show', ifname, 'dump'], { allowFail: true });
      t.equal(dump.stdout.split('\t')[1], key.publicKey, `round ${i + 1}: the daemon took the configuration`);
      t.ok(pid !== null && pid !== 0, `round ${i + 1}: a wgts process keeps serving ${ifname} in the background`);
    }
  });

  t.test('WG_QUICK_USERSPACE_IMPLEMENTATION=wgts wg-quick up/down, full tunnel with fwmark', async (t) => {
    const pair = await namespaceFor(t, 'wgquick');
    const ifname = uniqueIfname('q');
    const ours = generateKeyPair();
    const theirs = generateKeyPair();
    const [ourV4, peerV4] = pair.tunnel.v4;
    const [ourV6] = pair.tunnel.v6;
    const peer = await startWireguardGo(pair.b.ns, uniqueIfname('w'), {
      privateKey: theirs.privateKey,
      listenPort: 51821,
      peers: [{ publicKey: ours.publicKey, allowedIps: [`${ourV4}/32`] }],
      addresses: [`${peerV4}/24`],
    });
    t.teardown(() => peer.stop());
    const conf = join(confDir, `${ifname}.conf`);
    // AllowedIPs 0.0.0.0/0 makes wg-quick set a fwmark and policy routing: the UDP socket must carry the mark.
    writeFileSync(conf, [
      '[Interface]', `PrivateKey = ${ours.privateKey}`, `Address = ${ourV4}/24, ${ourV6}/64`, 'ListenPort = 51820', 'MTU = 1380', '',
      '[Peer]', `PublicKey = ${theirs.publicKey}`, 'AllowedIPs = 0.0.0.0/0', `Endpoint = ${pair.b.v4}:51821`, '',
    ].join('\n'), { mode: 0o600 });
    const env = ['env', '-u', 'LOG_LEVEL', `WG_QUICK_USERSPACE_IMPLEMENTATION=${wgts}`];
    const up = await pair.a.exec([...env, 'wg-quick', 'up', conf], { allowFail: true, timeoutMs: 20_000 });
    t.equal(up.code, 0, 'wg-quick up succeeds', { output: up.stderr + up.stdout });
    const pid = daemonPid(ifname);
    if (pid !== null) adoptDaemon(pid, pair.a.ns, ifname);
    t.ok(pid !== null, 'a wgts daemon serves the interface (not a kernel module)');
    if (up.code !== 0 || pid === null) return;
    const dump = (await pair.a.exec(['wg', 'show', ifname, 'dump'])).stdout.split('\n')[0]!.split('\t');
    t.same(dump.slice(1), [ours.publicKey, '51820', '0xca6c'], 'key, port and the fwmark wg-quick chose');
    t.match((await pair.a.exec(['ip', 'link', 'show', ifname])).stdout, /mtu 1380/, 'the MTU from the file');
    t.equal((await ping(pair.a, peerV4, { count: 3 })).received, 3, 'traffic flows through the full tunnel to wireguard-go', { wgquick: up.stderr });
    const down = await pair.a.exec(['wg-quick', 'down', conf], { allowFail: true, timeoutMs: 20_000 });
    t.equal(down.code, 0, 'wg-quick down succeeds', { output: down.stderr });
    t.ok(await waitGone(pid, 5_000), 'the daemon has stopped');
    t.notOk(existsSync(socketOf(ifname)), 'its socket is gone');
    t.notOk(await linkExists(pair.a.ns, ifname), 'the interface is gone');
  });

  t.test('stops cleanly: SIGTERM, interface deleted, socket removed', async (t) => {
    const { a } = await namespaceFor(t, 'stop');
    const [byTerm, byLinkDel, bySocket] = [uniqueIfname('t'), uniqueIfname('l'), uniqueIfname('s')];
    const pids = [await startDaemon(t, a.ns, byTerm), await startDaemon(t, a.ns, byLinkDel), await startDaemon(t, a.ns, bySocket)];
    for (const name of [byTerm, byLinkDel, bySocket]) {
      t.ok(existsSync(socketOf(name)) && (await linkExists(a.ns, name)), `${name}: socket and interface exist`);
    }
    process.kill(pids[0]!, 'SIGTERM');
    await a.exec(['ip', 'link', 'del', byLinkDel]);
    rmSync(socketOf(bySocket));
    const how = ['SIGTERM', 'ip link del', 'socket removed'];
    for (const [i, name] of [byTerm, byLinkDel, bySocket].entries()) {
      t.ok(await waitGone(pids[i]!, 5_000), `${how[i]}: the daemon exits`);
      t.notOk(existsSync(socketOf(name)), `${how[i]}: no socket left`);
      t.notOk(await linkExists(a.ns, name), `${how[i]}: no interface left`);
    }
  });

  t.test('start-up failures: clear message, non-zero exit', async (t) => {
    const pair = await namespaceFor(t, 'fail');
    const ns = pair.a.ns;
    const taken = uniqueIfname('x');
    await startDaemon(t, ns, taken);

    const twice = await launch(ns, [taken]);
    t.not(twice.code, 0, 'same name twice: non-zero exit');
    t.match(twice.stderr, /already in use/, 'same name twice: says the name is in use', { stderr: twice.stderr });
    t.equal((await pair.a.exec(['wg', 'show', taken, 'listen-port'], { allowFail: true })).code, 0, 'the first daemon still answers');

    const veth = await launch(ns, [pair.a.ifname]);
    t.not(veth.code, 0, 'name of an existing non-TUN interface: non-zero exit');
    t.match(veth.stderr, /already in use/, 'and says so', { stderr: veth.stderr });
    t.equal((await pair.a.exec(['ip', 'link', 'show', pair.a.ifname])).code, 0, 'the veth is untouched');

    for (const bad of ['bad/name', 'x'.repeat(16), '']) {
      const r = await launch(ns, [bad]);
      t.not(r.code, 0, `bad name ${JSON.stringify(bad)}: non-zero exit`);
      t.match(r.stderr, /invalid interface name|expected exactly one/, `bad name ${JSON.stringify(bad)}: says why`, { stderr: r.stderr });
    }
    const unknown = await launch(ns, ['-x', uniqueIfname('u')]);
    t.not(unknown.code, 0, '-x: non-zero exit');
    t.match(unknown.stderr, /unknown option: -x/, '-x: names the unknown option', { stderr: unknown.stderr });

    const noRoot = uniqueIfname('n');
    const nobody = await launch(ns, [noRoot], { asNobody: true });
    t.not(nobody.code, 0, 'not root: non-zero exit');
    t.match(nobody.stderr, /permission denied/i, 'not root: says permission denied', { stderr: nobody.stderr });
    t.notOk(existsSync(socketOf(noRoot)), 'not root: no socket left behind');
  });

  t.test('listen port in use: wg set fails and the old port stays', async (t) => {
    const { a } = await namespaceFor(t, 'port');
    const ifname = uniqueIfname('p');
    await startDaemon(t, a.ns, ifname);
    await a.exec(['wg', 'set', ifname, 'listen-port', '41000']);
    // Another program holds UDP 41001 (IPv4) and 41002 (IPv6).
    const holder = spawn('ip', ['netns', 'exec', a.ns, process.execPath, '-e', `
      const dgram = require('node:dgram');
      const s4 = dgram.createSocket('udp4'), s6 = dgram.createSocket({ type: 'udp6', ipv6Only: true });
      s4.bind(41001, () => s6.bind(41002, () => console.log('ready')));`], { stdio: ['ignore', 'pipe', 'inherit'] });
    t.teardown(() => { holder.kill('SIGKILL'); });
    await new Promise<void>((resolve, reject) => {
      holder.stdout!.once('data', () => resolve());
      holder.once('exit', (c) => reject(new Error(`port holder exited with ${c}`)));
    });
    for (const port of [41001, 41002]) {
      const r = await a.exec(['wg', 'set', ifname, 'listen-port', String(port)], { allowFail: true });
      t.not(r.code, 0, `port ${port} taken: wg set fails`);
      t.match(r.stderr, /Address already in use/, `port ${port} taken: wg says why`, { stderr: r.stderr });
      t.equal((await a.exec(['wg', 'show', ifname, 'listen-port'])).stdout.trim(), '41000', `port ${port} taken: wg show still says 41000`);
    }
    const ss = (await a.exec(['ss', '-H', '-u', '-a', '-n', '-p'])).stdout;
    t.match(ss, /0\.0\.0\.0:41000\s.*wgts/, 'wgts still listens on 41000 (IPv4)');
    t.match(ss, /\[::\]:41000\s.*wgts/, 'wgts still listens on 41000 (IPv6)');
    t.equal((await a.exec(['wg', 'set', ifname, 'listen-port', '41003'], { allowFail: true })).code, 0, 'a free port is taken');
  });

  t.test('fwmark: set, kept across a port change, cleared; on the sockets themselves', async (t) => {
    const { a } = await namespaceFor(t, 'mark');
    const ifname = uniqueIfname('k');
    await startDaemon(t, a.ns, ifname);
    const marks = async (port: number) => {
      const ss = (await a.exec(['ss', '-H', '-u', '-a', '-n', '-e', `sport = :${port}`])).stdout;
      return ss.split('\n').filter((l) => l.trim()).map((l) => /fwmark:(0x[0-9a-f]+)/.exec(l)?.[1] ?? 'none');
    };
    await a.exec(['wg', 'set', ifname, 'listen-port', '42000']);
    // wg-quick does exactly this on a running interface: same port, new mark.
    const set = await a.exec(['wg', 'set', ifname, 'fwmark', '0x1234'], { allowFail: true });
    t.equal(set.code, 0, 'wg set fwmark succeeds on a bound device', { stderr: set.stderr });
    t.equal((await a.exec(['wg', 'show', ifname, 'fwmark'])).stdout.trim(), '0x1234', 'wg show reports it');
    t.same(await marks(42000), ['0x1234', '0x1234'], 'both UDP sockets carry the mark');
    await a.exec(['wg', 'set', ifname, 'listen-port', '42001']);
    t.same(await marks(42001), ['0x1234', '0x1234'], 'the new sockets after a port change carry it too');
    await a.exec(['wg', 'set', ifname, 'fwmark', 'off']);
    t.equal((await a.exec(['wg', 'show', ifname, 'fwmark'])).stdout.trim(), 'off', 'fwmark off');
    t.same(await marks(42001), ['none', 'none'], 'and the sockets lost the mark');
  });

  t.test('socket buffers: both UDP sockets get 1 MiB each way, above the namespace default', async (t) => {
    const { a } = await namespaceFor(t, 'buf');
    const ifname = uniqueIfname('b');
    await startDaemon(t, a.ns, ifname);
    await a.exec(['wg', 'set', ifname, 'listen-port', '43000']);
    const ss = (await a.exec(['ss', '-H', '-u', '-a', '-n', '-m', 'sport = :43000'])).stdout;
    // skmem shows what the kernel charges against: twice the requested size.
    const sizes = [...ss.matchAll(/rb(\d+),t\d+,tb(\d+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
    t.same(sizes, [[2 << 20, 2 << 20], [2 << 20, 2 << 20]], 'rb and tb of the IPv4 and IPv6 sockets', { ss });
  });

  t.test('the UAPI socket is mode 0600 and refuses non-root clients', async (t) => {
    const { a } = await namespaceFor(t, 'perm');
    const ifname = uniqueIfname('m');
    await startDaemon(t, a.ns, ifname);
    const st = statSync(socketOf(ifname));
    t.equal(st.mode & 0o777, 0o600, 'socket mode is 0600');
    t.equal(st.uid, 0, 'owned by root');
    const denied = await a.exec([...NOBODY, 'wg', 'show', ifname], { allowFail: true });
    t.not(denied.code, 0, 'nobody cannot use it');
    t.match(denied.stderr, /Permission denied/, 'wg reports permission denied', { stderr: denied.stderr });
    // Even with the file opened up, the daemon checks who is calling.
    chmodSync(socketOf(ifname), 0o666);
    const refused = await a.exec([...NOBODY, 'wg', 'show', ifname, 'dump'], { allowFail: true });
    t.not(refused.code, 0, 'nobody is refused by the daemon itself when the file mode would allow it');
    t.equal(refused.stdout, '', 'and gets no configuration');
    chmodSync(socketOf(ifname), 0o600);
    t.equal((await a.exec(['wg', 'show', ifname, 'dump'], { allowFail: true })).code, 0, 'root still can');
  });

  t.test('key helpers and --version', async (t) => {
    const priv = (await run([wgts, 'genkey'])).stdout.trim();
    t.match(priv, /^[A-Za-z0-9+/]{43}=$/, 'genkey prints a base64 key');
    const pubOurs = await new Promise<string>((resolve, reject) => {
      const c = spawn(wgts, ['pubkey'], { stdio: ['pipe', 'pipe', 'inherit'] });
      let out = '';
      c.stdout.on('data', (d: Buffer) => (out += d.toString()));
      c.once('exit', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`pubkey exited ${code}`))));
      c.stdin.end(`${priv}\n`);
    });
    const pubWg = await new Promise<string>((resolve) => {
      const c = spawn('wg', ['pubkey'], { stdio: ['pipe', 'pipe', 'inherit'] });
      let out = '';
      c.stdout.on('data', (d: Buffer) => (out += d.toString()));
      c.once('exit', () => resolve(out.trim()));
      c.stdin.end(`${priv}\n`);
    });
    t.equal(pubOurs, pubWg, 'wgts pubkey agrees with wg pubkey');
    t.match((await run([wgts, 'genpsk'])).stdout.trim(), /^[A-Za-z0-9+/]{43}=$/, 'genpsk prints a base64 key');
    t.match((await run([wgts, '--version'])).stdout, /^wgts v\d+\.\d+/, '--version');
  });
}
