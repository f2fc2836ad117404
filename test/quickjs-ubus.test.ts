// QuickjsUbus on the real runtime: test/quickjs/ubus-client.ts, bundled like
// the product and run by wgts-js, talks over a unix socket to the mock ubusd
// (test/helpers/mock-ubusd.ts, a stand-in for OpenWrt's ubusd, which no
// registry ships). Checked: connecting with a fallback path, notify_proto,
// being called (also with messages larger than one read and than the socket
// buffer), and reconnecting after ubusd restarts. Waits are for events, each
// bounded; the daemon's reconnect backoff runs on its real clock.
import t from 'tap';
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { UbusStatus } from '../src/control/ubusmsg.js';
import { addMockNetifd, MockUbusd, NodeUbusClient, type NetifdCall } from './helpers/mock-ubusd.js';
import { VirtualClock } from './helpers/virtual.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const runner = process.env.WGTS_JS ?? join(root, 'dist/x86_64/wgts-js');
const dir = mkdtempSync(join(tmpdir(), 'wgts-qjs-ubus-'));
const socketPath = join(dir, 'ubus.sock');
const bundle = join(root, '.cache/qjs-tests/ubus-client.mjs');

let child: ChildProcessWithoutNullStreams | null = null;
const lines: string[] = [];
let waiters: { re: RegExp; from: number; resolve: (line: string) => void }[] = [];

t.teardown(() => {
  if (child) {
    child.kill('SIGKILL');
    // Do not let a straggler's open pipes keep this process alive.
    child.stdout.destroy();
    child.stderr.destroy();
    child.unref();
  }
  rmSync(dir, { recursive: true, force: true });
});

/** The next output line (from index `from`) matching re; fails after 10 s. */
function line(re: RegExp, from = 0): Promise<string> {
  const found = lines.slice(from).find((l) => re.test(l));
  if (found) return Promise.resolve(found);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no line matching ${re} in 10 s; output:\n${lines.join('\n')}`)), 10_000);
    waiters.push({ re, from, resolve: (l) => { clearTimeout(timer); resolve(l); } });
  });
}

async function startMock(): Promise<{ mock: MockUbusd; calls: NetifdCall[] }> {
  const mock = await MockUbusd.start(socketPath);
  return { mock, calls: addMockNetifd(mock, ['vpn']) };
}

t.before(async () => {
  if (!process.env.WGTS_JS && !existsSync(runner)) execFileSync('node', [join(root, 'build/build.mjs'), '--runner-only'], { stdio: 'inherit' });
  mkdirSync(dirname(bundle), { recursive: true });
  await build({
    entryPoints: [join(root, 'test/quickjs/ubus-client.ts')], bundle: true, format: 'esm', target: 'es2020', platform: 'neutral',
    outfile: bundle, external: ['os', 'std', 'wgts_native'], logLevel: 'error', mainFields: ['module', 'main'],
  });
});

t.test('QuickjsUbus against the mock ubusd', async (t) => {
  let { mock, calls } = await startMock();
  t.teardown(() => mock.close());
  child = spawn(runner, [bundle, socketPath]);
  let partial = '';
  const onOutput = (chunk: Buffer) => {
    partial += chunk.toString();
    const parts = partial.split('\n');
    partial = parts.pop()!;
    for (const l of parts) {
      lines.push(l);
      const index = lines.length - 1;
      waiters = waiters.filter((w) => (index >= w.from && w.re.test(l) ? (w.resolve(l), false) : true));
    }
  };
  child.stdout.on('data', onOutput);
  child.stderr.on('data', onOutput);

  await line(/^CONNECTED /);
  t.ok(true, 'connected through the second socket path after the first failed');
  t.equal(await line(/^NOTIFY /), 'NOTIFY 0', 'notify_proto accepted');
  t.equal(calls.length, 1);
  t.same(calls[0]!.data, { action: 0, interface: 'vpn', ifname: 'wgts-vpn', 'link-up': true, ipaddr: [{ ipaddr: '10.9.0.2', mask: '24' }] }, 'netifd got the link update');

  const clock = new VirtualClock();
  let luci = new NodeUbusClient(socketPath, clock);
  await luci.connect();
  const status = await luci.conn.invoke('wgts.wg0', 'status');
  t.equal(status.status, 0, 'wgts.wg0 status answered');
  t.match(status.data, { interfaces: { wg0: { listen_port: 51820, public_key: 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=', peers: [{ endpoint: '192.0.2.1:51820' }] } } });

  // 600 KB each way: many reads on the QuickJS side, and a reply larger than the socket buffer (EAGAIN, write handler).
  const big = { list: Array.from({ length: 20000 }, (_, i) => `entry ${i} ${'x'.repeat(16)}`) };
  const echoed = await luci.conn.invoke('test.qjs', 'echo', big);
  t.equal(echoed.status, 0, 'a large call answered');
  t.same(echoed.data, big, 'and echoed intact');
  t.equal((await luci.conn.invoke('test.qjs', 'nope')).status, UbusStatus.METHOD_NOT_FOUND, 'unknown method: status 3');
  luci.close();

  // ubusd restarts: the daemon notices, reconnects with backoff and registers again.
  const before = lines.length;
  await mock.close();
  await line(/connection lost/, before);
  ({ mock, calls } = await startMock());
  await line(/^CONNECTED /, before);
  t.equal(await line(/^NOTIFY /, before), 'NOTIFY 0', 'notify_proto sent again after reconnecting');
  t.equal(calls.length, 1, 'to the new netifd');
  luci = new NodeUbusClient(socketPath, clock);
  await luci.connect();
  await luci.conn.lookup(); // ADD_OBJECT was sent before NOTIFY; by now ubusd has it
  t.equal((await luci.conn.invoke('wgts.wg0', 'status')).status, 0, 'wgts.wg0 answers on the new ubusd');
  luci.close();
  t.notOk(lines.some((l) => /Internal error/.test(l)), 'no exception in the daemon');
});
