#!/usr/bin/env node
// npm run bench: iperf3 TCP throughput through wgts and through wireguard-go
// between the same two network namespaces, in the same run, interleaved, plus
// the daemons' CPU time per GB and their memory (section `throughput`);
// guest instruction counts on the router CPUs under qemu-user (`insns`,
// bench/insns.mjs); the daemon's memory with 1 and 1,000 peers (`memory`);
// 10,000 peers and 50,000 prefixes (`scale`); package sizes (`flash`).
// Prints markdown tables and writes bench/results.json, keeping the figures
// of sections not run this time. Needs root. See bench/README.md.
//
//   node bench/run.mjs [--only throughput,insns,memory,scale,flash] [--seconds N] [--rounds N]
//                      [--scenarios A,B,C] [--arches mips,...] [--memory-arches x86_64,mipsel,...]
//                      [--no-build] [--out FILE]
//
// Env: BENCH_SECONDS, BENCH_ROUNDS, BENCH_SCENARIOS, BENCH_ONLY (same meaning as the flags).
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, release, tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ARCHES as INSN_ARCHES, METHOD as INSN_METHOD, bundleCosts, hostTimes, measureArch, pluginPath, qemuVersion } from './insns.mjs';
import { removeDaemonLeftovers } from './daemon.mjs';
import { MEMORY_METHOD, measureMemory } from './memory.mjs';
import { SCALE_METHOD, measureScale } from './scale.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const WGTS = join(root, 'dist/x86_64/wgts');
const SOCK_DIR = '/var/run/wireguard';
const MTU = 1420;
const OMIT_SECONDS = 1;
const IPERF_PORT = 5201;
const CLK_TCK = 100; // USER_HZ; checked against getconf at start

const SCENARIOS = {
  A: { name: 'wgts ↔ wireguard-go', side1: 'wgts', side2: 'wireguard-go' },
  B: { name: 'wireguard-go ↔ wireguard-go', side1: 'wireguard-go', side2: 'wireguard-go' },
  C: { name: 'wgts ↔ wgts', side1: 'wgts', side2: 'wgts' },
};

// Everything this run creates is named after its pid, so a later run can tell
// leftovers of a dead run from those of a live one.
const PID = process.pid;
const NS1 = `wgts-bench-${PID}-1`;
const NS2 = `wgts-bench-${PID}-2`;
const VETH1 = `wgbv${PID}a`;
const VETH2 = `wgbv${PID}b`;
const IF1 = `wgb${PID}a`;
const IF2 = `wgb${PID}b`;
const OUTER1 = '192.168.250.1', OUTER2 = '192.168.250.2';
const INNER1 = '10.250.0.1', INNER2 = '10.250.0.2';
const PORT1 = 51820, PORT2 = 51821;

const SECTIONS = ['throughput', 'insns', 'memory', 'scale', 'flash'];
const MEMORY_ARCHES = ['x86_64', 'mips', 'mipsel'];

function usage(msg) {
  console.error(`bench: ${msg}\nusage: node bench/run.mjs [--only ${SECTIONS.join(',')}] [--seconds N] [--rounds N] [--scenarios A,B,C] ` +
    '[--arches mips,mipsel,armel,armhf,aarch64] [--memory-arches x86_64,mips,mipsel] [--lookup-arches mips] [--no-build] [--out FILE]');
  process.exit(2);
}

function parseArgs(argv) {
  const opts = {
    seconds: Number(process.env.BENCH_SECONDS ?? 10),
    rounds: Number(process.env.BENCH_ROUNDS ?? 2),
    scenarios: (process.env.BENCH_SCENARIOS ?? 'A,B,C').split(','),
    only: (process.env.BENCH_ONLY ?? SECTIONS.join(',')).split(','),
    arches: INSN_ARCHES,
    memoryArches: MEMORY_ARCHES,
    lookupArches: ['mips'],
    build: true,
    out: join(root, 'bench/results.json'),
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const value = () => inline ?? argv[++i] ?? usage(`${flag} needs a value`);
    if (flag === '--seconds') opts.seconds = Number(value());
    else if (flag === '--rounds') opts.rounds = Number(value());
    else if (flag === '--scenarios') opts.scenarios = value().split(',');
    else if (flag === '--only') opts.only = value().split(',');
    else if (flag === '--arches') opts.arches = value().split(',');
    else if (flag === '--memory-arches') opts.memoryArches = value().split(',');
    else if (flag === '--lookup-arches') opts.lookupArches = value().split(',').filter(Boolean);
    else if (flag === '--no-build') opts.build = false;
    else if (flag === '--out') opts.out = resolve(value());
    else usage(`unknown argument ${argv[i]}`);
  }
  if (!Number.isInteger(opts.seconds) || opts.seconds < 2 || opts.seconds > 600) usage('--seconds must be an integer in 2..600');
  if (!Number.isInteger(opts.rounds) || opts.rounds < 1 || opts.rounds > 50) usage('--rounds must be an integer in 1..50');
  opts.scenarios = [...new Set(opts.scenarios.map((s) => s.trim().toUpperCase()))];
  for (const s of opts.scenarios) if (!(s in SCENARIOS)) usage(`unknown scenario ${s}; known: ${Object.keys(SCENARIOS).join(', ')}`);
  if (!opts.scenarios.includes('A') || !opts.scenarios.includes('B')) usage('scenarios A and B are both needed for the ratio');
  opts.only = [...new Set(opts.only.map((x) => x.trim()).filter(Boolean))];
  for (const x of opts.only) if (!SECTIONS.includes(x)) usage(`unknown section ${x}; known: ${SECTIONS.join(', ')}`);
  for (const a of opts.arches) if (!INSN_ARCHES.includes(a)) usage(`unknown arch ${a}; known: ${INSN_ARCHES.join(', ')}`);
  for (const a of opts.lookupArches) if (!INSN_ARCHES.includes(a)) usage(`unknown arch ${a}; known: ${INSN_ARCHES.join(', ')}`);
  for (const a of opts.memoryArches) if (!['x86_64', ...INSN_ARCHES].includes(a)) usage(`unknown arch ${a}`);
  return opts;
}

// ---------------------------------------------------------------- processes

const children = new Set();

function alive(child) {
  return child.exitCode === null && child.signalCode === null;
}

/** Runs a command to completion; rejects with its stderr on failure or timeout. */
function run(cmd, args, timeoutMs = 10_000) {
  return new Promise((resolvePromise, reject) => {
    const child = execFile(cmd, args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      children.delete(child);
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${err.killed ? `timed out after ${timeoutMs} ms` : err.message}\n${stderr}${stdout}`.trim()));
      else resolvePromise(stdout);
    });
    children.add(child);
  });
}

/** Starts a long-running process, keeping the last few KB of its output for error messages. */
function start(cmd, args, env = {}) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  child.outputTail = '';
  const keep = (chunk) => { child.outputTail = (child.outputTail + chunk).slice(-4096); };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.on('error', (e) => keep(String(e)));
  child.exited = new Promise((r) => child.once('exit', r));
  children.add(child);
  return child;
}

async function stop(child, graceMs = 5000) {
  if (alive(child)) {
    child.kill('SIGTERM');
    const timer = setTimeout(() => { if (alive(child)) child.kill('SIGKILL'); }, graceMs);
    await child.exited;
    clearTimeout(timer);
  }
  children.delete(child);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls check() every intervalMs, at most `tries` times; returns whether it became true. */
async function poll(check, tries, intervalMs) {
  for (let i = 0; i < tries; i++) {
    if (await check()) return true;
    await sleep(intervalMs);
  }
  return false;
}

function quiet(cmd, args) {
  try {
    execFileSync(cmd, args, { stdio: 'ignore', timeout: 5000 });
  } catch { /* already gone */ }
}

// ---------------------------------------------------------------- /proc

function cpuTicks(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime, all threads
}

function memoryKiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: field('VmRSS'), hwm: field('VmHWM') };
}

async function tunnelBytes(ns, ifname) {
  const [link] = JSON.parse(await run('ip', ['-n', ns, '-s', '-j', 'link', 'show', 'dev', ifname]));
  return link.stats64.rx.bytes + link.stats64.tx.bytes;
}

// ---------------------------------------------------------------- topology

function removeLeftovers() {
  // Namespaces and sockets of bench runs whose process is gone.
  const dead = (pid) => {
    if (Number(pid) === PID) return true;
    try { process.kill(Number(pid), 0); return false; } catch (e) { return e.code === 'ESRCH'; }
  };
  let names = [];
  try { names = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8', timeout: 5000 }).split('\n').map((l) => l.split(' ')[0]); } catch { /* none */ }
  for (const ns of names) {
    const m = /^wgts-bench-(\d+)-[12]$/.exec(ns);
    if (m && dead(m[1])) quiet('ip', ['netns', 'del', ns]);
  }
  if (existsSync(SOCK_DIR)) {
    for (const f of readdirSync(SOCK_DIR)) {
      const m = /^wgb(\d+)[ab]\.sock$/.exec(f);
      if (m && dead(m[1])) rmSync(join(SOCK_DIR, f), { force: true }); // its daemon exits when the socket goes
    }
  }
}

let workDir = null;

/** Synchronous, so it also runs from signal handlers and on exit. */
function cleanup() {
  for (const child of children) if (alive(child)) child.kill('SIGKILL');
  children.clear();
  quiet('ip', ['-n', NS1, 'link', 'del', IF1]);
  quiet('ip', ['-n', NS2, 'link', 'del', IF2]);
  rmSync(join(SOCK_DIR, `${IF1}.sock`), { force: true });
  rmSync(join(SOCK_DIR, `${IF2}.sock`), { force: true });
  quiet('ip', ['netns', 'del', NS1]);
  quiet('ip', ['netns', 'del', NS2]);
  if (workDir) rmSync(workDir, { recursive: true, force: true });
  workDir = null;
}

async function createTopology() {
  await run('ip', ['netns', 'add', NS1]);
  await run('ip', ['netns', 'add', NS2]);
  await run('ip', ['link', 'add', VETH1, 'netns', NS1, 'type', 'veth', 'peer', 'name', VETH2, 'netns', NS2]);
  for (const [ns, veth, addr] of [[NS1, VETH1, OUTER1], [NS2, VETH2, OUTER2]]) {
    await run('ip', ['-n', ns, 'addr', 'add', `${addr}/24`, 'dev', veth]);
    await run('ip', ['-n', ns, 'link', 'set', veth, 'up']);
    await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  }
}

function genKeyPair() {
  const priv = execFileSync('wg', ['genkey'], { encoding: 'utf8', timeout: 5000 }).trim();
  const pub = execFileSync('wg', ['pubkey'], { input: priv, encoding: 'utf8', timeout: 5000 }).trim();
  return { priv, pub };
}

async function startDaemon(impl, ns, ifname) {
  const bin = impl === 'wgts' ? WGTS : 'wireguard-go';
  const child = start('ip', ['netns', 'exec', ns, bin, '-f', ifname], { LOG_LEVEL: 'error' });
  const sock = join(SOCK_DIR, `${ifname}.sock`);
  const up = await poll(() => !alive(child) || existsSync(sock), 100, 50);
  if (!up || !alive(child)) {
    await stop(child);
    throw new Error(`${impl} ${ifname} did not start within 5 s:\n${child.outputTail}`);
  }
  return child;
}

/** One side: daemon up, key, listen port, one peer, address, MTU 1420. */
async function configureSide(ns, ifname, keyFile, port, peerPub, peerOuter, peerPort, inner, peerInner) {
  await run('ip', ['netns', 'exec', ns, 'wg', 'set', ifname, 'private-key', keyFile, 'listen-port', String(port),
    'peer', peerPub, 'endpoint', `${peerOuter}:${peerPort}`, 'allowed-ips', `${peerInner}/32`]);
  await run('ip', ['-n', ns, 'addr', 'add', `${inner}/24`, 'dev', ifname]);
  await run('ip', ['-n', ns, 'link', 'set', ifname, 'mtu', String(MTU), 'up']);
}

async function bringUp(scenario) {
  const keys1 = genKeyPair(), keys2 = genKeyPair();
  const key1 = join(workDir, 'key1'), key2 = join(workDir, 'key2');
  writeFileSync(key1, keys1.priv, { mode: 0o600 });
  writeFileSync(key2, keys2.priv, { mode: 0o600 });
  const d1 = await startDaemon(scenario.side1, NS1, IF1);
  const d2 = await startDaemon(scenario.side2, NS2, IF2).catch(async (e) => { await stop(d1); throw e; });
  const daemons = [d1, d2];
  try {
    await configureSide(NS1, IF1, key1, PORT1, keys2.pub, OUTER2, PORT2, INNER1, INNER2);
    await configureSide(NS2, IF2, key2, PORT2, keys1.pub, OUTER1, PORT1, INNER2, INNER1);
    const ping = () => run('ip', ['netns', 'exec', NS1, 'ping', '-c', '1', '-W', '1', INNER2], 5000).then(() => true, () => false);
    if (!(await poll(ping, 10, 100))) throw new Error('no ping through the tunnel after 10 tries (handshake failed?)');
  } catch (e) {
    await tearDown(daemons);
    throw new Error(`${e.message}\nside 1 output: ${d1.outputTail}\nside 2 output: ${d2.outputTail}`);
  }
  return daemons;
}

async function tearDown(daemons) {
  for (const d of daemons) await stop(d);
  quiet('ip', ['-n', NS1, 'link', 'del', IF1]);
  quiet('ip', ['-n', NS2, 'link', 'del', IF2]);
  rmSync(join(SOCK_DIR, `${IF1}.sock`), { force: true });
  rmSync(join(SOCK_DIR, `${IF2}.sock`), { force: true });
}

// ---------------------------------------------------------------- iperf3

/** One iperf3 TCP run, client in ns1, server in ns2; reverse: ns2 sends. */
async function iperf(reverse, seconds, daemons) {
  const server = start('ip', ['netns', 'exec', NS2, 'iperf3', '-s', '-1', '-B', INNER2, '-p', String(IPERF_PORT)]);
  try {
    const listening = () => run('ip', ['netns', 'exec', NS2, 'ss', '-Hltn', `sport = :${IPERF_PORT}`])
      .then((out) => out.trim() !== '', () => false);
    if (!(await poll(listening, 50, 100))) throw new Error(`iperf3 server did not listen within 5 s:\n${server.outputTail}`);

    const cpuBefore = daemons.map((d) => cpuTicks(d.pid));
    const bytesBefore = [await tunnelBytes(NS1, IF1), await tunnelBytes(NS2, IF2)];
    const out = await run('ip', ['netns', 'exec', NS1, 'iperf3', '-c', INNER2, '-p', String(IPERF_PORT),
      '-t', String(seconds), '-O', String(OMIT_SECONDS), '-J', ...(reverse ? ['-R'] : [])],
    (seconds + OMIT_SECONDS + 30) * 1000).catch((e) => e.message);
    const cpuAfter = daemons.map((d) => cpuTicks(d.pid));
    const bytesAfter = [await tunnelBytes(NS1, IF1), await tunnelBytes(NS2, IF2)];

    let result;
    try { result = JSON.parse(out.slice(out.indexOf('{'))); } catch { throw new Error(`iperf3 gave no JSON:\n${out.slice(0, 2000)}`); }
    if (result.error) throw new Error(`iperf3: ${result.error}`);
    const sides = [0, 1].map((i) => {
      const cpuSeconds = (cpuAfter[i] - cpuBefore[i]) / CLK_TCK;
      const tunBytes = bytesAfter[i] - bytesBefore[i];
      return { cpu_seconds: cpuSeconds, tun_bytes: tunBytes, cpu_seconds_per_gb: tunBytes > 0 ? cpuSeconds / (tunBytes / 1e9) : null };
    });
    return {
      receiver_bits_per_second: result.end.sum_received.bits_per_second,
      sender_bits_per_second: result.end.sum_sent.bits_per_second,
      receiver_bytes: result.end.sum_received.bytes,
      retransmits: result.end.sum_sent.retransmits ?? null,
      side1: sides[0],
      side2: sides[1],
    };
  } finally {
    await poll(() => !alive(server), 50, 100); // -1: it exits after its one client
    await stop(server, 1000);
  }
}

async function runScenario(id, seconds) {
  const scenario = SCENARIOS[id];
  const daemons = await bringUp(scenario);
  try {
    await sleep(1000); // let the handshake settle before sampling idle memory
    const idle = daemons.map((d) => memoryKiB(d.pid));
    const forward = await iperf(false, seconds, daemons);
    const reverse = await iperf(true, seconds, daemons);
    const after = daemons.map((d) => memoryKiB(d.pid));
    return {
      forward, reverse,
      side1: { rss_idle_kib: idle[0].rss, rss_after_kib: after[0].rss, rss_peak_kib: after[0].hwm },
      side2: { rss_idle_kib: idle[1].rss, rss_after_kib: after[1].rss, rss_peak_kib: after[1].hwm },
    };
  } finally {
    await tearDown(daemons);
  }
}

// ---------------------------------------------------------------- figures

function median(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

const round = (x, digits) => (x === null ? null : Number(x.toFixed(digits)));

function summarize(id, rounds) {
  const { name, side1, side2 } = SCENARIOS[id];
  const mbps = (dir) => round(median(rounds.map((r) => r[dir].receiver_bits_per_second)) / 1e6, 1);
  const range = (dir) => {
    const v = rounds.map((r) => r[dir].receiver_bits_per_second / 1e6);
    return [round(Math.min(...v), 1), round(Math.max(...v), 1)];
  };
  const side = (s, impl) => ({
    impl,
    cpu_seconds_per_gb: {
      forward: round(median(rounds.map((r) => r.forward[s].cpu_seconds_per_gb)), 2),
      reverse: round(median(rounds.map((r) => r.reverse[s].cpu_seconds_per_gb)), 2),
    },
    rss_idle_kib: median(rounds.map((r) => r[s].rss_idle_kib)),
    rss_after_kib: median(rounds.map((r) => r[s].rss_after_kib)),
    rss_peak_kib: median(rounds.map((r) => r[s].rss_peak_kib)),
  });
  const forward = mbps('forward'), reverse = mbps('reverse');
  return {
    name,
    median_mbit_per_s: { forward, reverse, mean: round((forward + reverse) / 2, 1) },
    range_mbit_per_s: { forward: range('forward'), reverse: range('reverse') },
    side1: side('side1', side1),
    side2: side('side2', side2),
    rounds,
  };
}

function machineInfo() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^(model name|cpu model|Processor)\s*:\s*(.+)$/m.exec(cpuinfo)?.[2] ?? 'unknown';
  return {
    arch: execFileSync('uname', ['-m'], { encoding: 'utf8' }).trim(),
    cpu_model: model,
    cores: availableParallelism(),
    kernel: release(),
  };
}

function dpkgVersion(pkg) {
  try {
    return execFileSync('dpkg-query', ['-W', '-f', '${Version}', pkg], { encoding: 'utf8', timeout: 5000 }).trim();
  } catch {
    return null;
  }
}

const mib = (kib) => (kib === null ? '–' : (kib / 1024).toFixed(1));
const num = (x, digits = 1) => (x === null ? '–' : x.toFixed(digits));

function table(results) {
  const { machine: m, versions: v, config: c } = results;
  const lines = [
    `## wgts bench, ${results.date}`,
    '',
    `Machine: ${m.arch}, ${m.cpu_model}, ${m.cores} cores, Linux ${m.kernel}. ` +
      `wgts ${v.wgts_package} (${v.wgts_binary}), wireguard-go ${v.wireguard_go}, iperf3 ${v.iperf3}.`,
    `iperf3 TCP, 1 stream, ${c.seconds} s per direction (first ${c.omit_seconds} s omitted), tunnel MTU ${c.mtu}, ` +
      `${c.rounds} round${c.rounds === 1 ? '' : 's'} interleaved (${c.scenarios.join(', ')}); medians over rounds. ` +
      `Load average at start ${m.loadavg_start.join(' ')}. ` +
      'Side 1 runs the iperf3 client in ns1, side 2 the server in ns2; 1 → 2 means side 1 sends.',
    '',
    '| Scenario (side 1 ↔ side 2) | 1 → 2 Mbit/s (min–max) | 2 → 1 Mbit/s (min–max) | mean Mbit/s |',
    '|---|---:|---:|---:|',
  ];
  for (const [id, s] of Object.entries(results.scenarios)) {
    const cell = (dir) => `${num(s.median_mbit_per_s[dir])} (${s.range_mbit_per_s[dir].map((x) => num(x, 0)).join('–')})`;
    lines.push(`| ${id}: ${s.name} | ${cell('forward')} | ${cell('reverse')} | ${num(s.median_mbit_per_s.mean)} |`);
  }
  lines.push('', '| Scenario | side | process | CPU s/GB 1 → 2 | CPU s/GB 2 → 1 | RSS idle MiB | RSS after MiB | RSS peak MiB |',
    '|---|---|---|---:|---:|---:|---:|---:|');
  for (const [id, s] of Object.entries(results.scenarios)) {
    for (const [n, side] of [[1, s.side1], [2, s.side2]]) {
      lines.push(`| ${id} | ${n} | ${side.impl} | ${num(side.cpu_seconds_per_gb.forward, 2)} | ${num(side.cpu_seconds_per_gb.reverse, 2)} | ` +
        `${mib(side.rss_idle_kib)} | ${mib(side.rss_after_kib)} | ${mib(side.rss_peak_kib)} |`);
    }
  }
  const r = results.throughput_ratio_by_direction;
  lines.push('', `**throughput_ratio_vs_wireguard_go = ${num(results.throughput_ratio_vs_wireguard_go, 2)}** ` +
    `(A / B, mean of both directions; 1 → 2: ${num(r.forward, 2)}, 2 → 1: ${num(r.reverse, 2)})`);
  return lines.join('\n');
}

// ---------------------------------------------------------------- main

function ensureBuilt(build) {
  const newest = (dir) => {
    let t = 0;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
    }
    return t;
  };
  const stale = !existsSync(WGTS) ||
    statSync(WGTS).mtimeMs < Math.max(...['src', 'native', 'build'].map((d) => newest(join(root, d))));
  if (!stale) return;
  if (!build) throw new Error(`${relative(root, WGTS)} is missing or older than its sources, and --no-build was given`);
  console.log('== building the host runtime (node build/build.mjs)');
  execFileSync(process.execPath, [join(root, 'build/build.mjs')], { cwd: root, stdio: 'inherit', timeout: 600_000 });
}

/** Section `throughput`: the top-level fields of results.json (kept where they were). */
async function runThroughput(opts) {
  for (const tool of ['ip', 'wg', 'wireguard-go', 'iperf3', 'ping', 'ss']) {
    try { execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }); } catch { throw new Error(`${tool} not found (apt-get install iproute2 wireguard-tools wireguard-go iperf3 iputils-ping)`); }
  }
  const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  if (ticks !== CLK_TCK) throw new Error(`CLK_TCK is ${ticks}, this script assumes ${CLK_TCK}`);
  ensureBuilt(opts.build);

  const versions = {
    wgts_package: JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version,
    wgts_binary: execFileSync(WGTS, ['--version'], { encoding: 'utf8', timeout: 5000 }).trim(),
    wireguard_go: dpkgVersion('wireguard-go'),
    iperf3: dpkgVersion('iperf3'),
    node: process.version,
  };
  const machine = machineInfo();
  const loadStart = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);

  removeLeftovers();
  workDir = mkdtempSync(join(tmpdir(), `wgts-bench-${PID}-`));
  await createTopology();

  // Each scenario run is two iperf3 runs plus set-up; anything far beyond that is a hang.
  const perRunMs = (2 * (opts.seconds + OMIT_SECONDS) + 60) * 1000;
  const deadline = Date.now() + opts.rounds * opts.scenarios.length * perRunMs;
  const perScenario = Object.fromEntries(opts.scenarios.map((id) => [id, []]));
  for (let r = 1; r <= opts.rounds; r++) {
    for (const id of opts.scenarios) {
      if (Date.now() > deadline) throw new Error('time limit for the whole benchmark exceeded');
      const res = await runScenario(id, opts.seconds);
      perScenario[id].push({ round: r, ...res });
      const fmt = (d) => (d.receiver_bits_per_second / 1e6).toFixed(1);
      console.log(`round ${r}/${opts.rounds} ${id} ${SCENARIOS[id].name}: 1 → 2 ${fmt(res.forward)} Mbit/s, 2 → 1 ${fmt(res.reverse)} Mbit/s`);
    }
  }

  const scenarios = Object.fromEntries(opts.scenarios.map((id) => [id, summarize(id, perScenario[id])]));
  const a = scenarios.A.median_mbit_per_s, b = scenarios.B.median_mbit_per_s;
  const ratio = (x, y) => (x !== null && y ? round(x / y, 3) : null);
  const results = {
    date: new Date().toISOString(),
    throughput_ratio_vs_wireguard_go: ratio(a.mean, b.mean),
    throughput_ratio_by_direction: { forward: ratio(a.forward, b.forward), reverse: ratio(a.reverse, b.reverse) },
    machine: { ...machine, loadavg_start: loadStart, loadavg_end: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number) },
    versions,
    config: {
      test: 'iperf3 TCP, single stream', seconds: opts.seconds, omit_seconds: OMIT_SECONDS, rounds: opts.rounds,
      scenarios: opts.scenarios, mtu: MTU, cpu_per_gb: 'utime+stime of the daemon per 1e9 bytes through its own tunnel interface (rx+tx)',
    },
    scenarios,
  };
  console.log(`\n${table(results)}\n`);
  cleanup();
  return results;
}


// ---------------------------------------------------------------- router CPUs, memory, scale, flash


function stamp() {
  return { date: new Date().toISOString(), machine: { ...machineInfo(), loadavg: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number) } };
}

/** Builds what the sections need and is missing or stale (test-qemu's rule: binaries older than native/, src/). */
async function ensureRouterBuilds(arches, build) {
  const { ensureBuilt: ensureArchBuilt } = await import('../test-qemu/common.mjs');
  if (!build) {
    for (const a of arches) if (!existsSync(join(root, 'dist', a, 'wgts-js'))) throw new Error(`dist/${a}/wgts-js is missing and --no-build was given`);
    return;
  }
  ensureArchBuilt(arches, true, (m) => console.log(`== ${m}`));
}

async function runInsns(opts) {
  await ensureRouterBuilds(opts.arches, opts.build);
  const plugin = pluginPath();
  const bundle = await bundleCosts();
  const arches = {};
  for (const arch of opts.arches) {
    const t0 = Date.now();
    try {
      arches[arch] = await measureArch(arch, { plugin, bundle, lookups: opts.lookupArches.includes(arch), log: (m) => console.log(`insns: ${m}`) });
    } catch (e) {
      arches[arch] = { error: e.message.slice(0, 2000) };
      console.error(`insns: ${arch}: ${e.message}`);
    }
    console.log(`insns: ${arch} done in ${Math.round((Date.now() - t0) / 1000)} s`);
  }
  // Wall clock on this machine, for the handshake and cold-start times (not counts).
  const x86_64_wall = await hostTimes(bundle).catch((e) => ({ error: e.message }));
  return { ...stamp(), qemu: qemuVersion(), bundle: 'bench/qjs/costs.ts', method: INSN_METHOD, arches, x86_64_wall };
}

async function runMemory(opts) {
  await ensureRouterBuilds(opts.memoryArches.filter((a) => a !== 'x86_64'), opts.build);
  if (opts.memoryArches.includes('x86_64')) ensureBuilt(opts.build);
  removeDaemonLeftovers();
  const arches = {};
  for (const arch of opts.memoryArches) {
    try {
      arches[arch] = await measureMemory(arch, { log: (m) => console.log(`memory: ${m}`) });
    } catch (e) {
      arches[arch] = { error: e.message.slice(0, 2000) };
      console.error(`memory: ${arch}: ${e.message}`);
    }
  }
  return { ...stamp(), method: MEMORY_METHOD, arches };
}

async function runScale(opts) {
  ensureBuilt(opts.build);
  removeDaemonLeftovers();
  const bundle = await bundleCosts();
  return { ...stamp(), method: SCALE_METHOD, ...(await measureScale({ log: (m) => console.log(m), bundle })) };
}

/** Section `flash`: .ipk and installed (data.tar) bytes per OpenWrt arch, from a private build/ipk.mjs run. */
function runFlash(opts) {
  const out = join(root, '.cache/bench/ipk');
  const args = [join(root, 'build/ipk.mjs'), '--out', out, '--feed', join(root, '.cache/bench/openwrt-feed'), ...(opts.build ? [] : ['--reuse'])];
  execFileSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], timeout: 1_800_000 });
  const packages = readFileSync(join(out, 'Packages'), 'utf8').split(/\n\n+/);
  const archs = {};
  for (const p of packages) {
    const field = (name) => new RegExp(`^${name}: (.+)$`, 'm').exec(p)?.[1];
    if (field('Package') !== 'wgts') continue;
    archs[field('Architecture')] = { ipk_bytes: Number(field('Size')), installed_bytes: Number(field('Installed-Size')) };
  }
  return { ...stamp(), version: packages.map((p) => /^Version: (.+)$/m.exec(p)?.[1]).find(Boolean) ?? null,
    method: 'node build/ipk.mjs into .cache/bench/ipk; Size and Installed-Size (bytes of the uncompressed data.tar) of the wgts package per OpenWrt arch', arches: archs };
}

// ---------------------------------------------------------------- tables of the new sections

const k = (x) => (typeof x === 'number' ? x.toLocaleString('en-US') : '–');
const kib = (x) => (typeof x === 'number' ? `${(x / 1024).toFixed(2)} MiB` : '–');

function sectionTables(results) {
  const lines = [];
  const ins = results.insns;
  if (ins?.error) lines.push(`Instructions: error: ${ins.error.split('\n')[0]}`, '');
  if (ins?.arches) {
    lines.push(`## Guest instructions under qemu-user (${ins.date.slice(0, 10)}, qemu ${ins.qemu}; exact, independent of load)`, '',
      '| arch (CPU) | seal insns/B | open insns/B | send path insns/B (× seal) | receive path insns/B (× open) | handshake (both sides) | cold start → first packet |',
      '|---|---:|---:|---:|---:|---:|---:|');
    for (const [arch, r] of Object.entries(ins.arches)) {
      if (r.error) { lines.push(`| ${arch} | error: ${r.error.split('\n')[0].slice(0, 80)} |||||| `); continue; }
      lines.push(`| ${arch} (${r.cpu}) | ${r.aead.seal_per_byte} | ${r.aead.open_per_byte} | ${r.send_path.per_byte} (${r.send_path.ratio_to_aead}×) | ` +
        `${r.receive_path.per_byte} (${r.receive_path.ratio_to_aead}×) | ${(r.handshake_per_pair / 1e6).toFixed(1)} M | ${(r.cold_start.after_runtime_start / 1e6).toFixed(1)} M |`);
    }
    lines.push('', '| arch | send overhead/packet: Device / runtime I/O | receive overhead/packet: Device / runtime I/O | allowed-IPs lookup, 50k prefixes (v4 / v6) |', '|---|---:|---:|---:|');
    for (const [arch, r] of Object.entries(ins.arches)) {
      if (r.error) continue;
      lines.push(`| ${arch} | ${k(r.send_path.overhead_per_packet)}: ${k(r.send_path.device_overhead_per_packet)} / ${k(r.send_path.runtime_io_per_packet)} | ` +
        `${k(r.receive_path.overhead_per_packet)}: ${k(r.receive_path.device_overhead_per_packet)} / ${k(r.receive_path.runtime_io_per_packet)} | ` +
        `${r.lookup ? `${k(r.lookup.ipv4_per_lookup)} / ${k(r.lookup.ipv6_per_lookup)}` : '–'} |`);
    }
    const w = ins.x86_64_wall;
    if (w && !w.error) {
      lines.push('', `On this x86_64 machine (wall clock, load average ${w.loadavg.join(' ')}): one handshake (both sides) ${w.handshake_ms} ms; ` +
        `cold start to the first packet delivered ${w.coldstart_process_ms} ms for the whole process (${w.empty_process_ms} ms of it starting wgts-js with the bundle).`);
    }
    lines.push('');
  }
  const mem = results.memory;
  if (mem?.error) lines.push(`Memory: error: ${mem.error.split('\n')[0]}`, '');
  if (mem?.arches) {
    lines.push(`## Daemon memory, idle (${mem.date.slice(0, 10)})`, '', '| arch | no peers | 1 peer | 1,000 peers | per extra peer |', '|---|---:|---:|---:|---:|');
    for (const [arch, r] of Object.entries(mem.arches)) {
      if (r.error) { lines.push(`| ${arch} | error: ${r.error.split('\n')[0].slice(0, 80)} |||| `); continue; }
      lines.push(`| ${arch}${arch === 'x86_64' ? '' : ' (qemu-user, guest pages)'} | ${kib(r.no_peers.rss_kib)} | ${kib(r.one_peer.rss_kib)} | ${kib(r.thousand_peers.rss_kib)} | ${r.per_peer_kib} KiB |`);
    }
    lines.push('');
  }
  const sc = results.scale;
  if (sc?.error) lines.push(`Scale: error: ${sc.error.split('\n')[0]}`, '');
  if (sc && !sc.error) {
    lines.push(`## Scale (${sc.date.slice(0, 10)}, x86_64, load average ${sc.loadavg?.join(' ')})`, '',
      `${k(sc.peers)} peers, ${k(sc.prefixes)} prefixes in one UAPI set (${(sc.request_bytes / 1e6).toFixed(1)} MB): ${sc.uapi_set_seconds} s ` +
      `(${k(sc.uapi_set_us_per_peer)} µs per peer); RSS ${kib(sc.rss_before_kib)} → ${kib(sc.rss_after_kib)} (peak ${kib(sc.hwm_after_kib)}). ` +
      `Lookup on x86_64 QuickJS: ${sc.lookup_x86_64_quickjs_ns?.ipv4 ?? '–'} ns (IPv4), ${sc.lookup_x86_64_quickjs_ns?.ipv6 ?? '–'} ns (IPv6).`, '');
  }
  const fl = results.flash;
  if (fl?.error) lines.push(`Flash: error: ${fl.error.split('\n')[0]}`, '');
  if (fl?.arches) {
    lines.push(`## Flash (${fl.date.slice(0, 10)}, wgts ${fl.version})`, '', '| OpenWrt arch | .ipk | installed |', '|---|---:|---:|');
    for (const [arch, r] of Object.entries(fl.arches)) lines.push(`| ${arch} | ${(r.ipk_bytes / 1024).toFixed(0)} KiB | ${kib(r.installed_bytes / 1024)} |`);
    lines.push('');
  }
  return lines.join('\n');
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (process.getuid?.() !== 0) throw new Error('needs root (network namespaces, TUN devices)');
  let previous = {};
  try { previous = JSON.parse(readFileSync(opts.out, 'utf8')); } catch { /* first run */ }
  let results = { ...previous };
  const save = () => {
    const tmp = `${opts.out}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(results, null, 2)}\n`);
    renameSync(tmp, opts.out);
  };
  if (opts.only.includes('throughput')) {
    const t = await runThroughput(opts);
    results = { ...t, ...Object.fromEntries(Object.entries(results).filter(([key]) => ['insns', 'memory', 'scale', 'flash'].includes(key))) };
    save();
  }
  const sections = { insns: runInsns, memory: runMemory, scale: runScale, flash: runFlash };
  for (const [name, fn] of Object.entries(sections)) {
    if (!opts.only.includes(name)) continue;
    console.log(`== ${name}`);
    try {
      results[name] = await fn(opts);
    } catch (e) {
      results[name] = { ...stamp(), error: e.message.slice(0, 2000) };
      console.error(`bench: ${name}: ${e.message}`);
      process.exitCode = 1;
    }
    save(); // each section's figures are kept even if a later one fails
  }
  console.log(`\n${sectionTables(results)}\nwrote ${opts.out.startsWith(`${root}/`) ? relative(root, opts.out) : opts.out}`);
}

let stopping = false; // a signal arrived: failures from here on are ours, not worth reporting
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(sig, async () => {
    stopping = true;
    console.error(`bench: ${sig}, cleaning up`);
    // Stop and reap our children first (at most 3 s), so none is left a zombie.
    const pending = [...children].filter((c) => alive(c) && c.exited);
    for (const c of pending) c.kill('SIGTERM');
    await Promise.race([Promise.all(pending.map((c) => c.exited)), sleep(3000)]);
    cleanup();
    process.exit(130);
  });
}
process.on('exit', cleanup);

main().then(() => cleanup(), (e) => {
  if (stopping) return;
  console.error(`bench: ${e.message}`);
  cleanup();
  process.exitCode = 1;
});
