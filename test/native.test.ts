// The wgts_native QuickJS module, exercised for real: small JS programs run
// by dist/x86_64/wgts-js (the same runtime as the wgts executable) inside a
// network namespace this test creates and removes. Each program prints one
// `RESULT {...}` line; the assertions are made here.
// WGTS_NATIVE_ARCH=mips|mipsel|armel|armhf|aarch64 runs the same programs
// with that architecture's build under qemu-user.
import t, { type Test } from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const QEMU: Record<string, string> = {
  x86_64: '', mips: 'qemu-mips-static', mipsel: 'qemu-mipsel-static', armel: 'qemu-arm-static',
  armhf: 'qemu-arm-static', aarch64: 'qemu-aarch64-static',
};
const arch = process.env.WGTS_NATIVE_ARCH ?? 'x86_64';
if (!(arch in QEMU)) throw new Error(`WGTS_NATIVE_ARCH=${arch}: expected one of ${Object.keys(QEMU).join(', ')}`);
const runner = join(root, 'dist', arch, 'wgts-js');
/** argv prefix that runs wgts-js for the chosen arch */
const runnerArgv = QEMU[arch] ? [QEMU[arch]!, runner] : [runner];
// Gaps of qemu-user 7.2 (Debian bookworm), not of the module: it passes
// IPV6_PKTINFO control messages through without byte-swapping the ifindex,
// and refuses SO_MARK with ENOPROTOOPT.
const qemuSwapsNoPktinfo = arch === 'mips' ? 'qemu-user does not byte-swap the IPV6_PKTINFO ifindex for big-endian guests' : false;
const qemuNoSoMark = QEMU[arch] ? 'qemu-user does not pass SO_MARK through' : false;
const ns = `wgtsn-${process.pid}`;
const tunName = `wgtsn${process.pid}`.slice(0, 15);
/** errno values of the target (wgts_native's errno export; they differ on MIPS) */
let E: Record<string, number> = {};

const unavailable = process.platform !== 'linux' ? 'needs Linux'
  : process.getuid?.() !== 0 ? 'needs root (network namespace, TUN)' : null;
if (unavailable) {
  t.plan(0, unavailable);
  process.exit(0);
}

let dir = '';

function sh(argv: string[]): void {
  execFileSync(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
}

// Helpers every program gets.
const PRELUDE = `
import * as n from 'wgts_native';
import * as os from 'os';
import * as std from 'std';
const out = {};
function done() { print('RESULT ' + JSON.stringify(out)); }
function throwsType(f) {
  try { f(); return 'no exception'; } catch (e) { return e instanceof TypeError ? 'TypeError' : String(e); }
}
const bytesOf = (a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const text = (b, off, len) => String.fromCharCode(...b.subarray(off, off + len));
const ascii = (s) => Uint8Array.from(s, (c) => c.charCodeAt(0));
function v6(s) {
  const [head, tail] = s.split('::');
  const h = head ? head.split(':') : [], tl = tail !== undefined && tail ? tail.split(':') : [];
  const groups = [...h, ...Array(8 - h.length - tl.length).fill('0'), ...tl].map((g) => parseInt(g, 16));
  return groups.flatMap((g) => [g >> 8, g & 255]);
}
const v4 = (s) => s.split('.').map(Number);
// Writes endpoint i of meta (layout of wgts_native.d.ts).
function setEndpoint(meta, at, family, port, remote, local, ifindex) {
  meta.fill(0, at, at + n.META_STRIDE);
  meta[at + 1] = family; meta[at + 2] = port; meta[at + 7] = ifindex || 0;
  const b = bytesOf(meta);
  b.set(remote, (at + 3) * 4);
  if (local) b.set(local, (at + 8) * 4);
}
function formatAddr(b, family) {
  if (family === 4) return Array.from(b.subarray(0, 4)).join('.');
  const g = [];
  for (let i = 0; i < 16; i += 2) g.push(((b[i] << 8) | b[i + 1]).toString(16));
  return g.join(':');
}
function describe(meta, i) {
  const at = i * n.META_STRIDE, b = bytesOf(meta), f = meta[at + 1];
  return {
    len: meta[at], family: f, port: meta[at + 2], ifindex: meta[at + 7],
    remote: formatAddr(b.subarray((at + 3) * 4), f), local: formatAddr(b.subarray((at + 8) * 4), f),
  };
}
`;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  result: Record<string, any>;
}

let programs = 0;
/** Runs a JS program (PRELUDE + body) with wgts-js inside the namespace. */
function runJs(body: string, args: string[] = [], prelude = true): Run {
  const file = join(dir, `prog${programs++}.js`);
  writeFileSync(file, prelude ? PRELUDE + body : body);
  const r = spawnSync('ip', ['netns', 'exec', ns, ...runnerArgv, file, ...args], { encoding: 'utf8', timeout: 60_000 });
  const line = r.stdout.split('\n').reverse().find((l) => l.startsWith('RESULT '));
  return { status: r.status, stdout: r.stdout, stderr: r.stderr + (r.error ? String(r.error) : ''), result: line ? JSON.parse(line.slice(7)) : {} };
}

function ran(t: Test, r: Run): void {
  t.equal(r.status, 0, r.status === 0 ? 'program exits 0' : `program exits 0\n${r.stderr}${r.stdout}`);
}

// Also on exit: t.before runs at once, and a crash there must still clean up.
let cleanedUp = false;
function cleanUp(): void {
  if (cleanedUp) return;
  cleanedUp = true;
  spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore', timeout: 10_000 });
  if (dir) rmSync(dir, { recursive: true, force: true });
}
process.on('exit', cleanUp);
t.teardown(cleanUp);

t.before(() => {
  execFileSync(process.execPath, [join(root, 'build/build.mjs'), '--runner-only', '--arch', arch], {
    cwd: root, stdio: ['ignore', 'ignore', 'inherit'], timeout: 840_000,
  });
  dir = mkdtempSync(join(tmpdir(), 'wgts-native-'));
  sh(['ip', 'netns', 'add', ns]);
  sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  sh(['ip', '-n', ns, 'addr', 'add', 'fd00:77::1/128', 'dev', 'lo', 'nodad']);
  sh(['ip', '-n', ns, 'addr', 'add', 'fd00:77::2/128', 'dev', 'lo', 'nodad']);
  E = runJs(`print('RESULT ' + JSON.stringify(n.errno));`).result;
});


t.test('errno values come from the headers of the target', async (t) => {
  t.equal(Object.keys(E).length, 30, 'all exported');
  for (const [name, value] of Object.entries(E)) t.ok(Number.isInteger(value) && value > 0, `${name} = ${value}`);
  // generic Linux numbering everywhere but MIPS, which has its own above 34
  const linux = arch === 'mips' || arch === 'mipsel'
    ? { EAGAIN: 11, EINVAL: 22, EADDRINUSE: 125, ENAMETOOLONG: 78, ECONNREFUSED: 146, EBADFD: 81 }
    : { EAGAIN: 11, EINVAL: 22, EADDRINUSE: 98, ENAMETOOLONG: 36, ECONNREFUSED: 111, EBADFD: 77 };
  for (const [name, value] of Object.entries(linux)) t.equal(E[name], value, name);
});

t.test('wrong argument types throw TypeError', async (t) => {
  const r = runJs(`
    const u8 = new Uint8Array(16), i32 = new Int32Array(24);
    out.types = {
      plainArray: throwsType(() => n.tunRead(0, [1, 2, 3], 0, 1)),
      int32ForBytes: throwsType(() => n.tunWrite(0, new Int32Array(4), 0, 1)),
      clampedForBytes: throwsType(() => n.getrandom(new Uint8ClampedArray(4), 0, 4)),
      stringFd: throwsType(() => n.sockRead('0', u8, 0, 1)),
      missingLen: throwsType(() => n.getrandom(u8, 0)),
      bytesForMeta: throwsType(() => n.udpRecv(0, u8, 8, 0, 1, new Uint8Array(48))),
      float64Offs: throwsType(() => n.udpSendBatch(0, u8, new Float64Array(1), new Int32Array(1), i32, new Int32Array(1), 1)),
      numberName: throwsType(() => n.tunOpen(5)),
      nullPath: throwsType(() => n.unixListen(null)),
      stringFamily: throwsType(() => n.udpBind('4', 0, 0)),
      bigintMark: throwsType(() => n.setFwmark(0, 1n)),
      objectErrno: throwsType(() => n.strerror({})),
    };
    done();
  `);
  ran(t, r);
  for (const [name, outcome] of Object.entries(r.result.types ?? {})) t.equal(outcome, 'TypeError', name);
  t.equal(Object.keys(r.result.types ?? {}).length, 12);
});

t.test('out-of-view offsets and bad values return -EINVAL and write nothing', async (t) => {
  const r = runJs(`
    const u8 = new Uint8Array(16), i32 = new Int32Array(24);
    const fd = n.udpBind(4, 0, 0);
    out.einval = {
      readPastEnd: n.tunRead(fd, u8, 10, 7),
      negativeOff: n.sockRead(fd, u8, -1, 4),
      negativeLen: n.tunWrite(fd, u8, 0, -1),
      fractionalOff: n.getrandom(u8, 1.5, 2),
      hugeLen: n.getrandom(u8, 0, 2 ** 40),
      offAtEnd: n.getrandom(u8, 16, 1),
      sockWritePastEnd: n.sockWrite(fd, u8, 8, 9),
      recvSlotsPastBuf: n.udpRecv(fd, u8, 8, 0, 3, i32),
      recvMetaTooShort: n.udpRecv(fd, new Uint8Array(64), 8, 0, 3, new Int32Array(35)),
      recvHeadroomFillsSlot: n.udpRecv(fd, u8, 8, 8, 1, i32),
      recvNegativeCount: n.udpRecv(fd, u8, 8, 0, -1, i32),
      sendPastBuf: n.udpSend(fd, u8, 12, 5, i32, 0),
      sendMetaPastEnd: n.udpSend(fd, u8, 0, 1, i32, 13),
      sendNegativeAt: n.udpSend(fd, u8, 0, 1, i32, -1),
      sendBadFamily: n.udpSend(fd, u8, 0, 1, i32, 0),
      batchCountPastArrays: n.udpSendBatch(fd, u8, new Int32Array(1), new Int32Array(1), i32, new Int32Array(1), 2),
      batchEntryPastBuf: n.udpSendBatch(fd, u8, Int32Array.of(0, 10), Int32Array.of(4, 7), i32, Int32Array.of(0, 0), 2),
      batchMetaAtPastEnd: n.udpSendBatch(fd, u8, Int32Array.of(0), Int32Array.of(4), i32, Int32Array.of(20), 1),
      bindFamily5: n.udpBind(5, 0, 0),
      bindPort70000: n.udpBind(4, 70000, 0),
      bindNegativeMark: n.udpBind(4, 0, -1),
      tunNameTooLong: n.tunOpen('abcdefghijklmnop'),
      tunNamePattern: n.tunOpen('wgts%d'),
      tunNameEmpty: n.tunOpen(''),
      setMtuZero: n.setMtu('lo', 0),
      unixPathEmpty: n.unixListen(''),
    };
    out.zeroLengthAtEnd = n.getrandom(u8, 16, 0);
    out.untouched = u8.every((b) => b === 0);
    // offsets are relative to the view, and the view's end is enforced
    const parent = new Uint8Array(32), view = parent.subarray(8, 16);
    out.viewPastEnd = n.getrandom(view, 1, 8);
    out.viewWhole = n.getrandom(view, 0, 8);
    out.outsideViewZero = parent.subarray(0, 8).every((b) => b === 0) && parent.subarray(16).every((b) => b === 0);
    out.insideViewFilled = view.some((b) => b !== 0);
    os.close(fd);
    done();
  `);
  ran(t, r);
  const einval = r.result.einval ?? {};
  t.equal(Object.keys(einval).length, 26);
  for (const [name, rc] of Object.entries(einval)) t.equal(rc, -E.EINVAL, name);
  t.equal(r.result.zeroLengthAtEnd, 0);
  t.ok(r.result.untouched, 'refused calls wrote nothing');
  t.equal(r.result.viewPastEnd, -E.EINVAL);
  t.equal(r.result.viewWhole, 0);
  t.ok(r.result.outsideViewZero, 'bytes outside the view stay zero');
  t.ok(r.result.insideViewFilled, 'the view got random bytes');
});

t.test('process: getrandom, wallMs, umask, strerror, fork + setsid', async (t) => {
  const before = Date.now();
  const r = runJs(`
    const a = new Uint8Array(32), b = new Uint8Array(32), big = new Uint8Array(100000);
    out.rc = [n.getrandom(a, 0, 32), n.getrandom(b, 0, 32), n.getrandom(big, 0, big.length)];
    out.differ = a.some((x, i) => x !== b[i]);
    out.nonZero = a.some((x) => x !== 0) && b.some((x) => x !== 0);
    out.bigTailFilled = big.subarray(99000).some((x) => x !== 0);
    out.wallMs = n.wallMs();
    out.umaskFirst = n.umask(0o27);
    out.umaskSecond = n.umask(0o22);
    out.strerror = n.strerror(2);
    out.strerrorNegative = n.strerror(-13);
    const pid = n.fork();
    if (pid === 0) std.exit(n.setsid() === os.getpid() ? 7 : 8);
    const [waited, status] = os.waitpid(pid, 0);
    out.fork = { pidPositive: pid > 0, waited: waited === pid, exitCode: (status >> 8) & 255 };
    done();
  `);
  const after = Date.now();
  ran(t, r);
  t.same(r.result.rc, [0, 0, 0]);
  t.ok(r.result.differ, 'two draws differ');
  t.ok(r.result.nonZero, 'draws are not all zero');
  t.ok(r.result.bigTailFilled, 'a 100 kB draw is filled to the end');
  t.ok(r.result.wallMs >= before - 1000 && r.result.wallMs <= after + 1000, `wallMs ${r.result.wallMs} within [${before}, ${after}]`);
  t.ok(r.result.umaskFirst >= 0 && r.result.umaskFirst <= 0o777, 'umask returns the inherited mask');
  t.equal(r.result.umaskSecond, 0o27, 'umask returns the mask set before');
  t.equal(r.result.strerror, 'No such file or directory');
  t.equal(r.result.strerrorNegative, 'Permission denied');
  t.same(r.result.fork, { pidPositive: true, waited: true, exitCode: 7 }, 'child ran setsid and got its own session');
});

t.test('UDP over IPv4 and IPv6: send, receive, pktinfo source addresses', async (t) => {
  const r = runJs(`
    const buf = new Uint8Array(512), meta = new Int32Array(n.META_STRIDE * 4);
    const rbuf = new Uint8Array(4 * 2048).fill(0xee), rmeta = new Int32Array(n.META_STRIDE * 4);
    buf.set(ascii('hello'), 100);
    function exchange(family, toAddr, localAddr, ifindex) {
      const a = n.udpBind(family, 0, 0), b = n.udpBind(family, 0, 0);
      rbuf.fill(0xee);
      setEndpoint(meta, 0, family, n.localPort(b), toAddr, localAddr, ifindex);
      const sent = n.udpSend(a, buf, 100, 5, meta, 0);
      const got = n.udpRecv(b, rbuf, 2048, 64, 4, rmeta);
      const res = { sent, got, first: describe(rmeta, 0), payload: text(rbuf, 64, 5), headroomKept: rbuf[63] === 0xee,
        senderPort: n.localPort(a), again: n.udpRecv(b, rbuf, 2048, 64, 4, rmeta) };
      os.close(a); os.close(b);
      return res;
    }
    out.v4 = exchange(4, v4('127.0.0.1'), null, 0);
    out.v4From = exchange(4, v4('127.0.0.3'), v4('127.0.0.2'), 0);
    out.v6 = exchange(6, v6('::1'), null, 0);
    out.v6From = exchange(6, v6('fd00:77::2'), v6('fd00:77::1'), 0);
    out.v6FromIfindex = exchange(6, v6('fd00:77::2'), v6('fd00:77::1'), n.ifIndex('lo'));
    // a source address that is not ours: the caller is told to forget it
    const s4 = n.udpBind(4, 0, 0), s6 = n.udpBind(6, 0, 0);
    setEndpoint(meta, 0, 4, 9, v4('127.0.0.1'), v4('192.0.2.1'), 0);
    setEndpoint(meta, n.META_STRIDE, 6, 9, v6('::1'), v6('fd00:99::1'), 0);
    out.notOurs4 = n.udpSend(s4, buf, 0, 4, meta, 0);
    out.notOurs6 = n.udpSend(s6, buf, 0, 4, meta, n.META_STRIDE);
    out.notOursBatch = n.udpSendBatch(s4, buf, Int32Array.of(0), Int32Array.of(4), meta, Int32Array.of(0), 1);
    // IPV6_V6ONLY: a v6 socket can share a port with a v4 socket
    const port = n.localPort(s4);
    const s6same = n.udpBind(6, port, 0);
    out.v6OnlySharesPort = s6same >= 0 && n.localPort(s6same) === port;
    out.v4PortTaken = n.udpBind(4, port, 0);
    out.loIndex = n.ifIndex('lo');
    // a datagram larger than the slot is cut to the slot
    const big = new Uint8Array(300).fill(7);
    setEndpoint(meta, 0, 4, n.localPort(s4), v4('127.0.0.1'), null, 0);
    out.bigSent = n.udpSend(s4, big, 0, 300, meta, 0);
    out.bigGot = n.udpRecv(s4, rbuf, 128, 0, 1, rmeta);
    out.bigLen = rmeta[0];
    out.afterBig = rbuf[128];
    done();
  `);
  ran(t, r);
  const res = r.result;
  for (const [name, fam, remote, local, ifindex] of [
    ['v4', 4, '127.0.0.1', '127.0.0.1', 0],
    ['v4From', 4, '127.0.0.2', '127.0.0.3', 0],
    ['v6', 6, '0:0:0:0:0:0:0:1', '0:0:0:0:0:0:0:1', 1],
    ['v6From', 6, 'fd00:77:0:0:0:0:0:1', 'fd00:77:0:0:0:0:0:2', 1],
    ['v6FromIfindex', 6, 'fd00:77:0:0:0:0:0:1', 'fd00:77:0:0:0:0:0:2', 1],
  ] as const) {
    const x = res[name];
    const sendTodo = name === 'v6FromIfindex' ? qemuSwapsNoPktinfo : false;
    t.equal(x?.sent, 5, `${name}: sent`, { todo: sendTodo });
    t.equal(x?.got, 1, `${name}: received one`, { todo: sendTodo });
    const todo = fam === 6 ? qemuSwapsNoPktinfo : false;
    t.same(x?.first, { len: 5, family: fam, port: x?.senderPort, ifindex, remote, local }, `${name}: endpoint and local address`, { todo });
    t.equal(x?.payload, 'hello', `${name}: payload at the headroom`, { todo: sendTodo });
    t.ok(x?.headroomKept, `${name}: headroom untouched`, { todo: sendTodo });
    t.equal(x?.again, 0, `${name}: nothing more waiting gives 0`);
  }
  t.equal(res.notOurs4, -E.EINVAL, 'v4: a source address that is not ours gives -EINVAL');
  t.equal(res.notOurs6, -E.EINVAL, 'v6: a source address that is not ours gives -EINVAL');
  t.equal(res.notOursBatch, -E.EINVAL, 'batch: a source address that is not ours gives -EINVAL');
  t.ok(res.v6OnlySharesPort, 'v6 socket binds the port of a v4 socket');
  t.equal(res.v4PortTaken, -E.EADDRINUSE);
  t.equal(res.loIndex, 1);
  t.equal(res.bigSent, 300);
  t.equal(res.bigGot, 1);
  t.equal(res.bigLen, 128, 'truncated datagram reports the bytes stored');
  t.equal(res.afterBig, 0xee, 'nothing written past the slot');
});

t.test('UDP batches: 32 datagrams with sendmmsg and one recvmmsg', async (t) => {
  const r = runJs(`
    function batch(family, to, sources) {
      const a = n.udpBind(family, 0, 0), b = n.udpBind(family, 0, 0);
      const buf = new Uint8Array(32 * 64), meta = new Int32Array(n.META_STRIDE * 2);
      const offs = new Int32Array(32), lens = new Int32Array(32), metaAt = new Int32Array(32);
      sources.forEach((src, k) => setEndpoint(meta, k * n.META_STRIDE, family, n.localPort(b), to, src, 0));
      for (let i = 0; i < 32; i++) {
        offs[i] = i * 64; lens[i] = 10 + i; metaAt[i] = (i % sources.length) * n.META_STRIDE;
        buf.fill(i + 1, offs[i], offs[i] + lens[i]);
      }
      const sent = n.udpSendBatch(a, buf, offs, lens, meta, metaAt, 32);
      const rbuf = new Uint8Array(64 * 1500).fill(0xee), rmeta = new Int32Array(n.META_STRIDE * 64);
      const got = n.udpRecv(b, rbuf, 1500, 16, 64, rmeta);
      const rows = [];
      for (let i = 0; i < got; i++) {
        const d = describe(rmeta, i), at = i * 1500 + 16;
        rows.push({ len: d.len, remote: d.remote, filled: rbuf.subarray(at, at + d.len).every((x) => x === i + 1),
          headroomKept: rbuf[at - 1] === 0xee, port: d.port === n.localPort(a) });
      }
      // a batch with one bad endpoint is refused as a whole
      meta[2] = 0;
      const refused = n.udpSendBatch(a, buf, offs, lens, meta, metaAt, 32);
      const afterRefused = n.udpRecv(b, rbuf, 1500, 16, 64, rmeta);
      // fewer slots than datagrams: the rest stay queued
      meta[2] = n.localPort(b);
      const sentAgain = n.udpSendBatch(a, buf, offs, lens, meta, metaAt, 5);
      const part1 = n.udpRecv(b, rbuf, 1500, 16, 2, rmeta), part2 = n.udpRecv(b, rbuf, 1500, 16, 64, rmeta);
      os.close(a); os.close(b);
      return { sent, got, rows, refused, afterRefused, sentAgain, part1, part2 };
    }
    out.v4 = batch(4, v4('127.0.0.1'), [v4('127.0.0.1'), v4('127.0.0.2')]);
    out.v6 = batch(6, v6('fd00:77::2'), [v6('fd00:77::1'), v6('::1')]);
    done();
  `);
  ran(t, r);
  for (const [family, sources] of [['v4', ['127.0.0.1', '127.0.0.2']], ['v6', ['fd00:77:0:0:0:0:0:1', '0:0:0:0:0:0:0:1']]] as const) {
    const x = r.result[family];
    t.equal(x?.sent, 32, `${family}: sendmmsg sent 32`);
    t.equal(x?.got, 32, `${family}: one recvmmsg got 32`);
    t.same(x?.rows, Array.from({ length: 32 }, (_, i) => ({
      len: 10 + i, remote: sources[i % 2], filled: true, headroomKept: true, port: true,
    })), `${family}: every datagram in order, its bytes, length and source`);
    t.equal(x?.refused, -E.EINVAL, `${family}: a bad endpoint refuses the batch`);
    t.equal(x?.afterRefused, 0, `${family}: nothing of a refused batch was sent`);
    t.equal(x?.sentAgain, 5);
    t.equal(x?.part1, 2, `${family}: count limits the receive`);
    t.equal(x?.part2, 3, `${family}: the rest stays queued`);
  }
});

t.test('fwmark: SO_MARK at bind and with setFwmark steers policy routing', { skip: qemuNoSoMark }, async (t) => {
  // marked packets to 10.77.0.0/24 hit a prohibit route (EACCES); unmarked ones leave by the veth
  for (const argv of [
    ['link', 'add', 'wgtsv0', 'type', 'veth', 'peer', 'name', 'wgtsv1'],
    ['link', 'set', 'wgtsv0', 'up'], ['link', 'set', 'wgtsv1', 'up'],
    ['addr', 'add', '10.77.0.1/24', 'dev', 'wgtsv0'],
    ['rule', 'add', 'fwmark', '0x1234', 'table', '77'],
    ['route', 'add', 'prohibit', '10.77.0.0/24', 'table', '77'],
  ]) sh(['ip', '-n', ns, ...argv]);
  t.teardown(() => { spawnSync('ip', ['-n', ns, 'link', 'del', 'wgtsv0'], { stdio: 'ignore', timeout: 10_000 }); });
  const r = runJs(`
    const buf = new Uint8Array(4), meta = new Int32Array(n.META_STRIDE);
    setEndpoint(meta, 0, 4, 9, v4('10.77.0.2'), null, 0);
    const marked = n.udpBind(4, 0, 0x1234), plain = n.udpBind(4, 0, 0);
    out.marked = n.udpSend(marked, buf, 0, 4, meta, 0);
    out.plain = n.udpSend(plain, buf, 0, 4, meta, 0);
    out.clear = n.setFwmark(marked, 0);
    out.afterClear = n.udpSend(marked, buf, 0, 4, meta, 0);
    out.set = n.setFwmark(plain, 0x1234);
    out.afterSet = n.udpSend(plain, buf, 0, 4, meta, 0);
    out.markAboveInt32 = n.setFwmark(plain, 0xfffffff0);
    out.badFd = n.setFwmark(9999, 1);
    done();
  `);
  ran(t, r);
  t.same(r.result, { marked: -E.EACCES, plain: 4, clear: 0, afterClear: 4, set: 0, afterSet: -E.EACCES, markAboveInt32: 0, badFd: -E.EBADF });
});

t.test('TUN: open, MTU, index, and a ping answered through tunRead/tunWrite', async (t) => {
  const r = runJs(`
    const name = scriptArgs[1], buf = new Uint8Array(2048);
    const fd = n.tunOpen(name);
    out.fdOk = fd >= 0;
    out.busy = n.tunOpen(name);
    out.otherKind = n.tunOpen('lo');
    out.mtuDefault = n.getMtu(name);
    out.setMtu = n.setMtu(name, 1420);
    out.mtu = n.getMtu(name);
    out.indexOk = n.ifIndex(name) > 1;
    out.noSuchIndex = n.ifIndex('nosuch0');
    out.noSuchMtu = n.getMtu('nosuch0');
    out.emptyRead = n.tunRead(fd, buf, 0, buf.length);
    const ip = (...args) => os.exec(['ip', ...args]);
    out.ipRc = [ip('addr', 'add', '10.99.0.1/24', 'dev', name), ip('link', 'set', name, 'up')];
    const devnull = os.open('/dev/null', os.O_RDWR);
    const ping = os.exec(['ping', '-n', '-c', '1', '-W', '10', '10.99.0.2'], { block: false, stdout: devnull, stderr: devnull });
    function checksum(b, start, end) {
      let sum = 0;
      for (let i = start; i < end; i += 2) sum += (b[i] << 8) | (i + 1 < end ? b[i + 1] : 0);
      while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
      return ~sum & 0xffff;
    }
    out.requests = 0;
    os.setReadHandler(fd, () => {
      for (;;) {
        const len = n.tunRead(fd, buf, 0, buf.length);
        if (len < 0) { out.lastReadRc = len; break; }
        const ihl = (buf[0] & 15) * 4;
        if (buf[0] >> 4 !== 4 || buf[9] !== 1 || buf[ihl] !== 8) continue;
        out.requests++;
        out.request = { src: Array.from(buf.subarray(12, 16)).join('.'), dst: Array.from(buf.subarray(16, 20)).join('.'), len };
        // the echo reply: swap addresses (the IP checksum stays valid), type 0, new ICMP checksum
        const src = buf.slice(12, 16);
        buf.copyWithin(12, 16, 20);
        buf.set(src, 16);
        buf[ihl] = 0; buf[ihl + 2] = 0; buf[ihl + 3] = 0;
        const c = checksum(buf, ihl, len);
        buf[ihl + 2] = c >> 8; buf[ihl + 3] = c & 255;
        out.written = n.tunWrite(fd, buf, 0, len);
        out.writtenLen = len;
      }
    });
    const deadline = os.now() + 15000;
    function waitPing() {
      const [pid, status] = os.waitpid(ping, os.WNOHANG);
      if (pid === ping || os.now() > deadline) {
        if (pid !== ping) { os.kill(ping, 9); os.waitpid(ping, 0); out.timedOut = true; }
        out.pingExit = (status >> 8) & 255;
        os.setReadHandler(fd, null);
        os.close(fd);
        out.indexAfterClose = n.ifIndex(name);
        done();
      } else os.setTimeout(waitPing, 20);
    }
    waitPing();
  `, [tunName]);
  ran(t, r);
  const res = r.result;
  t.ok(res.fdOk, 'tunOpen gives an fd');
  t.equal(res.busy, -E.EBUSY, 'a name in use gives -EBUSY');
  t.equal(res.otherKind, -E.EEXIST, 'a name taken by another kind of link gives -EEXIST');
  t.equal(res.mtuDefault, 1500);
  t.equal(res.setMtu, 0);
  t.equal(res.mtu, 1420);
  t.ok(res.indexOk, 'ifIndex of the TUN');
  t.equal(res.noSuchIndex, -E.ENODEV);
  t.equal(res.noSuchMtu, -E.ENODEV);
  t.equal(res.emptyRead, -E.EAGAIN);
  t.same(res.ipRc, [0, 0]);
  t.notOk(res.timedOut, 'ping finished in time');
  t.ok(res.requests >= 1, 'tunRead got the echo request');
  t.same(res.request, { src: '10.99.0.1', dst: '10.99.0.2', len: 84 });
  t.equal(res.written, res.writtenLen, 'tunWrite wrote the whole reply');
  t.equal(res.pingExit, 0, 'ping got the reply written to the TUN');
  t.equal(res.lastReadRc, -E.EAGAIN);
  t.equal(res.indexAfterClose, -E.ENODEV, 'closing the fd removes the TUN');
});

t.test('unix sockets: listen 0600, accept, connect, peer uid, stale and live sockets', async (t) => {
  const sock = join(dir, 'u.sock');
  const regular = join(dir, 'regular');
  writeFileSync(regular, 'not a socket');
  const r = runJs(`
    const [, path, regular] = scriptArgs;
    const msg = ascii('hello'), rb = new Uint8Array(64);
    const oldMask = n.umask(0o22);
    const l = n.unixListen(path);
    out.umaskRestored = n.umask(oldMask) === 0o22;
    out.listenOk = l >= 0;
    out.acceptNone = n.unixAccept(l);
    const c = n.unixConnect(path);
    const s = n.unixAccept(l);
    out.connected = c >= 0 && s >= 0;
    out.peerUids = [n.peerUid(s), n.peerUid(c)];
    out.write = n.sockWrite(c, msg, 0, 5);
    out.read = n.sockRead(s, rb, 0, 64);
    out.text = text(rb, 0, 5);
    out.readNone = n.sockRead(s, rb, 0, 64);
    out.live = n.unixListen(path);
    os.close(c);
    out.eof = n.sockRead(s, rb, 0, 64);
    out.writeToClosed = n.sockWrite(s, msg, 0, 5);
    os.close(s); os.close(l);
    out.staleFileLeft = os.stat(path)[1] === 0;
    const l2 = n.unixListen(path);
    out.staleReplaced = l2 >= 0;
    const c2 = n.unixConnect(path);
    out.connectAfterReplace = c2 >= 0 && n.unixAccept(l2) >= 0;
    os.close(c2);
    out.regular = n.unixListen(regular);
    out.noSuch = n.unixConnect(path + '.missing');
    out.tooLong = n.unixListen('/tmp/' + 'x'.repeat(200));
    out.peerUidBadFd = n.peerUid(9999);
    done();
  `, [sock, regular]);
  ran(t, r);
  const res = r.result;
  t.ok(res.listenOk);
  t.ok(res.umaskRestored, 'unixListen restores the umask');
  t.equal(res.acceptNone, -E.EAGAIN);
  t.ok(res.connected);
  t.same(res.peerUids, [0, 0], 'SO_PEERCRED uid is root on both ends');
  t.equal(res.write, 5);
  t.equal(res.read, 5);
  t.equal(res.text, 'hello');
  t.equal(res.readNone, -E.EAGAIN);
  t.equal(res.live, -E.EADDRINUSE, 'a socket someone listens on is not taken over');
  t.equal(res.eof, 0);
  t.equal(res.writeToClosed, -E.EPIPE, 'writing to a closed peer gives -EPIPE, no SIGPIPE');
  t.ok(res.staleFileLeft);
  t.ok(res.staleReplaced, 'a stale socket file is replaced');
  t.ok(res.connectAfterReplace);
  t.equal(res.regular, -E.EADDRINUSE, 'a regular file in the way is neither replaced nor removed');
  t.equal(statSync(regular).isFile(), true);
  t.equal(res.noSuch, -E.ENOENT);
  t.equal(res.tooLong, -E.ENAMETOOLONG);
  t.equal(res.peerUidBadFd, -E.EBADF);
  const st = statSync(sock);
  t.ok(st.isSocket(), 'the socket file exists');
  t.equal(st.mode & 0o777, 0o600, 'mode 0600');
});

t.test('wgts-js runner: exit status, scriptArgs, unhandled rejections', async (t) => {
  const cases: [string, string, number, RegExp | null][] = [
    ['args', `print('ARGS ' + JSON.stringify(scriptArgs.slice(1)));`, 0, null],
    ['throw', `throw new Error('boom at top level');`, 1, /boom at top level/],
    ['rejection', `Promise.reject(new Error('nobody catches'));`, 1, /Uncaught \(in promise\).*nobody catches/s],
    ['handled later in the same turn', `
      async function f() { throw new Error('caught later'); }
      const p = f();
      Promise.resolve().then(() => Promise.resolve()).then(() => p.catch(() => print('HANDLED')));`, 0, null],
    ['rejection from a timer', `
      import * as os from 'os';
      os.setTimeout(() => { Promise.reject(new Error('late rejection')); }, 1);`, 1, /late rejection/],
    ['std.exit code', `import * as std from 'std'; std.exit(5);`, 5, null],
  ];
  for (const [name, body, status, stderr] of cases) {
    const r = runJs(body, ['x', 'y z'], false);
    t.equal(r.status, status, r.status === status ? `${name}: exit status` : `${name}: exit status\n${r.stderr}`);
    if (stderr) t.match(r.stderr, stderr, `${name}: message`);
  }
  t.match(runJs(`print('ARGS ' + JSON.stringify(scriptArgs.slice(1)));`, ['x', 'y z'], false).stdout, 'ARGS ["x","y z"]');
  t.match(runJs(cases[3]![1], [], false).stdout, 'HANDLED');
  const usage = spawnSync(runnerArgv[0]!, runnerArgv.slice(1), { encoding: 'utf8', timeout: 10_000 });
  t.equal(usage.status, 2, 'no file: usage and exit 2');
});
