// Handshake flood against the real wgts binary. wgts sits in a hub
// namespace with two spokes: an established wireguard-go peer, and an
// attacker that sends initiations from a thousand spoofed source addresses
// through a raw socket (test-reliability/tools/flood.c, built here with gcc).
// The attacker namespace routes the spoofed range to itself, so it sees
// every reply, as an attacker on the path would.
//
// Phase 0: the same at 100/s, which wgts should absorb with the peer unharmed.
// Phase 1: initiations with a valid mac1 (anyone who knows wgts's public key
// can make them) and garbage inside: wgts must turn to cookie replies, spend
// bounded CPU, never answer with a response, and keep the wireguard-go peer's
// traffic flowing (its ping loss and latency are measured and reported).
// Phase 2: the attacker uses a cookie it received (it can decrypt it: the
// cookie key derives from wgts's public key) to send initiations with a
// valid mac2 as a configured peer, under load: they are answered, but no
// more often than the rate limiter's token bucket allows (burst 5, 20/s).
import t from 'tap';
import { execFile } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createJsAead, xaeadOpen } from '../../src/crypto/aead.js';
import { hash, mac } from '../../src/crypto/blake2s.js';
import { asciiBytes, fromBase64 } from '../../src/crypto/encoding.js';
import { INITIATION_SIZE } from '../../src/protocol/constants.js';
import { COOKIE_REPLY, INITIATION, writeU32 } from '../../src/protocol/messages.js';
import { createInitiation, Handshake, StaticIdentity } from '../../src/protocol/noise.js';
import { generateKeyPair } from '../../test/helpers/keys.js';
import { seededRandom, VirtualClock, VirtualNetwork } from '../../test/helpers/virtual.js';
import { createNetnsStar, requireInterop, run, startWgts, startWireguardGo, uniqueIfname } from '../../test/helpers/netns.js';
import { logsOf, type Execer } from '../../test/helpers/tunnel.js';
import { ROOT } from '../../test/helpers/wgts-binary.js';
import { pingStats } from '../tools/relay-rig.js';

const SPOOFED_BASE = '10.99.0.1';
const SPOOFED_RANGE = '10.99.0.0/16';
const PHASE0 = { sources: 100, rate: 100, port: 40003 };
const PHASE1 = { sources: 1000, rate: 5000, total: 50_000, port: 40000, templates: 1024 };
const PHASE2 = { rate: 100, total: 400, port: PHASE1.port };
// Keeps wgts under load (> 32 handshake messages/s) during phase 2, at a rate it can digest.
const BACKGROUND = { sourceBase: '10.99.8.1', sources: 50, rate: 50, total: 750, port: 40002 };
/**
 * How long wgts may take to work through what the flood left in its socket
 * and complete the peer's next handshake (which itself waits on the peer's
 * 15 s + 5 s timers and one cookie round). Measured 20-50 s here when wgts
 * has its share of CPU; longer when niced on a busy machine.
 */
const RECOVERY_MS = 150_000;
const RATE_LIMIT = { burst: 5, perSecond: 20 };
const CLOCK_TICKS = 100; // USER_HZ on Linux

const mac1Key = (publicKey: Uint8Array) => hash(asciiBytes('mac1----'), publicKey);
const cookieKey = (publicKey: Uint8Array) => hash(asciiBytes('cookie--'), publicKey);

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS; // utime, stime (fields 14, 15)
}

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

/** Datagrams the namespace's UDP layer dropped because a socket's receive buffer was full. */
async function udpReceiveErrors(ns: string): Promise<number> {
  const snmp = (await run(['ip', 'netns', 'exec', ns, 'cat', '/proc/net/snmp'])).stdout.split('\n').filter((l) => l.startsWith('Udp:'));
  const names = snmp[0]!.split(/\s+/);
  return Number(snmp[1]!.split(/\s+/)[names.indexOf('RcvbufErrors')]);
}

/** Seconds until one ping gets through (at most RECOVERY_MS, then that bound). */
async function recoverySeconds(exec: Execer['exec'], to: string): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < RECOVERY_MS) {
    if ((await pingStats(exec, to, 1, 1, 1)).received === 1) return (Date.now() - start) / 1000;
  }
  return RECOVERY_MS / 1000;
}

/** Builds .cache/flood from tools/flood.c when missing or older (to a temporary name first: tests may run in parallel). */
async function compileFlood(): Promise<string> {
  const out = join(ROOT, '.cache', 'flood');
  const src = join(ROOT, 'test-reliability', 'tools', 'flood.c');
  mkdirSync(join(ROOT, '.cache'), { recursive: true });
  try {
    if (statSync(out).mtimeMs >= statSync(src).mtimeMs) return out;
  } catch { /* not built yet */ }
  const tmp = `${out}.${process.pid}`;
  await run(['gcc', '-O2', '-Wall', '-Wextra', '-o', tmp, src], { timeoutMs: 60_000 });
  renameSync(tmp, out);
  return out;
}

/** Initiations with random contents, sender index i + 1, and a valid mac1 for `publicKey`. */
function forgedInitiations(publicKey: Uint8Array, count: number): Uint8Array {
  const all = new Uint8Array(count * INITIATION_SIZE);
  randomFillSync(all);
  const key = mac1Key(publicKey);
  for (let i = 0; i < count; i++) {
    const m = all.subarray(i * INITIATION_SIZE, (i + 1) * INITIATION_SIZE);
    writeU32(m, 0, 1);
    writeU32(m, INITIATION.senderIndex, i + 1);
    m.set(mac(key, m.subarray(0, INITIATION.mac1)), INITIATION.mac1);
    m.fill(0, INITIATION.mac2);
  }
  return all;
}

interface Reply { dst: string; atMs: number; data: Uint8Array }

function parseReplies(path: string): Reply[] {
  const buf = new Uint8Array(readFileSync(path));
  const out: Reply[] = [];
  for (let off = 0; off + 10 <= buf.length;) {
    const dst = `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
    const atMs = (buf[off + 4]! | (buf[off + 5]! << 8) | (buf[off + 6]! << 16) | (buf[off + 7]! << 24)) >>> 0;
    const len = buf[off + 8]! | (buf[off + 9]! << 8);
    out.push({ dst, atMs, data: buf.slice(off + 10, off + 10 + len) });
    off += 10 + len;
  }
  return out;
}

interface FloodResult {
  sent: number;
  sendErrors: number;
  sendMs: number;
  replies: number;
  responses: number;
  cookieReplies: number;
  other: number;
}

function floodIn(ns: string, binary: string, args: (string | number)[]): Promise<FloodResult> {
  return new Promise((resolve, reject) => {
    execFile('ip', ['netns', 'exec', ns, binary, ...args.map(String)], { timeout: 120_000, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`flood failed: ${err.message}\n${stderr}`));
        else resolve(JSON.parse(stdout) as FloodResult);
      });
  });
}

function countBy<T>(items: T[], key: (x: T) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of items) m.set(key(x), (m.get(key(x)) ?? 0) + 1);
  return m;
}

// Three floods and up to three recoveries of up to RECOVERY_MS each.
t.setTimeout(1_000_000);

// The same attacker in virtual time against one Device queueing its handshake messages as the daemon does
// (queueHandshakes), saturated: a backlog of 100 waits and it gets through one message every 33 ms (30/s,
// under the rate threshold of 32/s). The backlog alone must keep it in cookie mode, so the attacker's valid
// cookie initiations meet the rate limiter. (Judging load by the rate handled, as wgts once did, answered
// every one of them: 288 of 300.)
t.test('a saturated device stays in cookie mode and keeps rate limiting (virtual time)', async (t) => {
  const clock = new VirtualClock();
  const net = new VirtualNetwork(clock, seededRandom(3));
  const victim = net.addNode('victim', '192.0.2.1', 51820, { queueHandshakes: true });
  const attacker = net.addNode('attacker', '192.0.2.2', 51820);
  net.pair(victim, ['10.0.0.1/32'], attacker, ['10.0.0.2/32']);
  const BACKLOG = 100;
  const forged = forgedInitiations(victim.publicKey, BACKLOG + 1);
  const source = { address: '10.99.0.1', port: 40000 };
  const feed = (m: Uint8Array, from = source) => victim.device.receiveDatagram(m.slice(), 0, m.length, from);
  for (let i = 0; i < BACKLOG; i++) feed(forged.subarray(i * INITIATION_SIZE, (i + 1) * INITIATION_SIZE), { address: `10.99.8.${i + 1}`, port: 40002 });
  const probe = forged.subarray(BACKLOG * INITIATION_SIZE, (BACKLOG + 1) * INITIATION_SIZE);
  net.queue.length = 0;
  feed(probe);
  while (victim.device.processHandshakes(Infinity) > 0) { /* the probe is last */ }
  const replies = net.queue.filter((d) => d.data[0] === 3);
  const reply = replies[replies.length - 1];
  t.equal(replies.length, BACKLOG + 1, 'under load, cookie replies to all of them');
  if (!reply) return;
  const cookie = xaeadOpen(cookieKey(victim.publicKey), reply.data.subarray(COOKIE_REPLY.nonce, COOKIE_REPLY.nonce + 24),
    reply.data.subarray(COOKIE_REPLY.encryptedCookie, 64), probe.slice(INITIATION.mac1, INITIATION.mac2))!;
  t.ok(cookie, 'the attacker opens the cookie meant for the probe');
  const identity = new StaticIdentity(attacker.privateKey);
  const hs = new Handshake(victim.publicKey);
  hs.setIdentity(identity);
  const aead = createJsAead();
  const k1 = mac1Key(victim.publicKey);
  // The backlog again, then one valid initiation in and one message handled every 33 ms.
  for (let i = 0; i < BACKLOG; i++) feed(forged.subarray(i * INITIATION_SIZE, (i + 1) * INITIATION_SIZE), { address: `10.99.8.${i + 1}`, port: 40002 });
  net.queue.length = 0;
  let responses = 0;
  const TICKS = 300;
  for (let k = 0; k < TICKS; k++) {
    const m = new Uint8Array(INITIATION_SIZE);
    createInitiation(hs, identity, aead, (b) => { b.fill(k & 255); }, 1_800_000_000_000 + 20 * k, 0x10000 + k, m);
    m.set(mac(k1, m.subarray(0, INITIATION.mac1)), INITIATION.mac1);
    m.set(mac(cookie, m.subarray(0, INITIATION.mac2)), INITIATION.mac2);
    clock.advance(33);
    feed(m);
    victim.device.processHandshakes(0); // exactly one
    responses += net.queue.filter((d) => d.data[0] === 2).length;
    net.queue.length = 0;
  }
  // The valid ones were handled from tick BACKLOG on, at 30/s.
  const seconds = ((TICKS - BACKLOG) * 33) / 1000;
  const budget = RATE_LIMIT.burst + RATE_LIMIT.perSecond * seconds;
  t.comment(`saturated (30 handshake messages/s handled, ${BACKLOG} waiting): ${responses} of ${TICKS - BACKLOG} ` +
    `valid initiations handled were answered in ${seconds.toFixed(1)} s; the rate limiter allows ${budget.toFixed(0)}`);
  t.ok(responses > 0, 'valid cookie initiations are answered under load');
  t.ok(responses <= budget, `responses within the rate limiter's budget (${responses} <= ${budget.toFixed(0)})`);
});

if (requireInterop(t)) {
  const flood = await compileFlood();

  t.test('handshake flood from 1000 spoofed sources', { timeout: 900_000 }, async (t) => {
    const star = await createNetnsStar({ purpose: 'flood', spokes: 2 });
    const dir = mkdtempSync(join(tmpdir(), 'wgts-flood-'));
    const stops: (() => Promise<void>)[] = [];
    t.teardown(async () => {
      for (const s of stops.reverse()) await s();
      await star.destroy();
      rmSync(dir, { recursive: true, force: true });
    });
    const [goSpoke, attacker] = star.spokes as [typeof star.spokes[0], typeof star.spokes[0]];
    const wgtsKeys = generateKeyPair();
    const goKeys = generateKeyPair();
    const floodPeerKeys = generateKeyPair(); // a configured peer whose key the attacker holds (phase 2)
    const wgtsPublic = fromBase64(wgtsKeys.publicKey)!;

    const wgts = await startWgts(star.hub, uniqueIfname('w'), {
      privateKey: wgtsKeys.privateKey, listenPort: 51820, logLevel: 'verbose',
      peers: [
        { publicKey: goKeys.publicKey, allowedIps: [`${goSpoke.tunnelV4}/32`], endpoint: `${goSpoke.v4}:51821` },
        { publicKey: floodPeerKeys.publicKey, allowedIps: ['10.233.0.1/32'] },
      ],
      addresses: [`${star.tunnelV4}/24`],
    });
    stops.push(() => wgts.stop());
    const go = await startWireguardGo(goSpoke.ns, uniqueIfname('g'), {
      privateKey: goKeys.privateKey, listenPort: 51821,
      peers: [{ publicKey: wgtsKeys.publicKey, allowedIps: [`${star.tunnelV4}/32`], endpoint: `${goSpoke.hubV4}:51820` }],
      addresses: [`${goSpoke.tunnelV4}/24`],
    });
    stops.push(() => go.stop());
    await run(['ip', '-n', star.hub, 'route', 'add', SPOOFED_RANGE, 'via', attacker.v4]);
    await run(['ip', '-n', attacker.ns, 'route', 'add', 'local', SPOOFED_RANGE, 'dev', 'lo']);

    const baseline = await pingStats(goSpoke.exec, star.tunnelV4, 100, 0.02);
    t.equal(baseline.received, 100, 'wireguard-go peer established, no loss before the flood', { ping: baseline.output });

    // ---- phase 0: a moderate flood, to see what wgts can absorb ----
    const forged = forgedInitiations(wgtsPublic, PHASE1.templates);
    const templates = join(dir, 'forged.bin');
    writeFileSync(templates, forged);
    const moderate = floodIn(attacker.ns, flood, [templates, INITIATION_SIZE, attacker.hubV4, 51820, '10.99.16.1',
      PHASE0.sources, PHASE0.port, PHASE0.rate, PHASE0.rate * 10, 1000, join(dir, 'replies0.bin')]);
    await new Promise((r) => setTimeout(r, 500));
    const [r0, p0] = await Promise.all([moderate, pingStats(goSpoke.exec, star.tunnelV4, 400, 0.02, 2)]);
    const loss0 = 1 - p0.received / p0.sent;
    t.comment(`phase 0: ${r0.sent} initiations at ${PHASE0.rate}/s: ${r0.cookieReplies} cookie replies; the peer's pings ` +
      `${p0.received}/${p0.sent} (${(loss0 * 100).toFixed(1)}% loss), rtt avg ${p0.avgMs} ms max ${p0.maxMs} ms`);
    t.equal(r0.responses, 0, `phase 0: no response to a forged initiation`);
    t.ok(loss0 <= 0.1, `at ${PHASE0.rate} initiations/s the established peer's traffic flows (loss ${(loss0 * 100).toFixed(1)}%)`,
      { ping: p0.output });
    t.ok(await recoverySeconds(goSpoke.exec, star.tunnelV4) < RECOVERY_MS / 1000, 'and keeps flowing after it');

    // ---- phase 1: valid mac1, nothing else ----
    const replies1 = join(dir, 'replies1.bin');
    const rssBefore = rssKiB(wgts.pid);
    const dropsBefore = await udpReceiveErrors(star.hub);
    const cpuBefore = cpuSeconds(wgts.pid);
    const wallBefore = Date.now();
    const attack = floodIn(attacker.ns, flood, [templates, INITIATION_SIZE, attacker.hubV4, 51820, SPOOFED_BASE,
      PHASE1.sources, PHASE1.port, PHASE1.rate, PHASE1.total, 1500, replies1]);
    await new Promise((r) => setTimeout(r, 500));
    const during = pingStats(goSpoke.exec, star.tunnelV4, 400, 0.02, 2);
    const [r1, p1] = await Promise.all([attack, during]);
    const cpu = cpuSeconds(wgts.pid) - cpuBefore;
    const wall = (Date.now() - wallBefore) / 1000;
    const drops = (await udpReceiveErrors(star.hub)) - dropsBefore;
    const cookieReplies = parseReplies(replies1).filter((r) => r.data[0] === 3);
    const perSource = countBy(cookieReplies, (r) => r.dst);
    const loss = 1 - p1.received / p1.sent;
    t.comment(`phase 1: ${r1.sent} initiations in ${(r1.sendMs / 1000).toFixed(1)} s (${r1.sendErrors} send errors) from ` +
      `${PHASE1.sources} sources; ${r1.cookieReplies} cookie replies (${((100 * r1.cookieReplies) / r1.sent).toFixed(1)}%) to ` +
      `${perSource.size} sources, ${r1.responses} responses; ${drops} datagrams dropped by the hub's full UDP receive ` +
      `buffers; wgts CPU ${cpu.toFixed(2)} s over ${wall.toFixed(1)} s, ` +
      `${r1.cookieReplies ? ((cpu * 1000) / r1.cookieReplies).toFixed(2) : '?'} ms per cookie reply`);
    t.comment(`wireguard-go peer during the flood: ${p1.received}/${p1.sent} pings (${(loss * 100).toFixed(1)}% loss), ` +
      `rtt avg ${p1.avgMs} ms max ${p1.maxMs} ms; before: avg ${baseline.avgMs} ms max ${baseline.maxMs} ms`);
    t.ok(r1.sent === PHASE1.total && r1.sendErrors < r1.sent / 100, 'the flood went out');
    t.equal(r1.responses, 0, 'no handshake response to any forged initiation');
    t.equal(r1.other, 0, 'nothing but cookie replies came back');
    t.ok(r1.cookieReplies > 0, 'wgts answered with cookie replies (under load)');
    t.ok(r1.cookieReplies <= r1.sent, 'at most one cookie reply per initiation');
    t.ok(cpu <= wall * 1.05, `wgts CPU bounded by one core (${cpu.toFixed(2)} s in ${wall.toFixed(1)} s)`);
    t.ok(rssKiB(wgts.pid) - rssBefore < 4096, `wgts RSS grew by less than 4 MiB (${rssBefore} -> ${rssKiB(wgts.pid)} KiB)`);
    t.notOk(wgts.exited(), 'wgts survived phase 1');
    // Known limit, see docs/SECURITY.md "## Flood": a cookie reply costs wgts about 0.8 ms of JavaScript
    // (mac1, mac2, the cookie and its XChaCha20-Poly1305), so it answers about a thousand a second and the
    // handshake queue drops the rest. Data does not wait behind them: transport packets are handled as they
    // are read, handshake messages in 2 ms slices between reads.
    t.ok(r1.cookieReplies >= r1.sent / 2, `cookie replies for at least half the initiations (${r1.cookieReplies})`,
      { todo: 'a cookie reply costs about 0.8 ms of JavaScript; the handshake queue drops what wgts cannot answer' });
    t.ok(loss <= 0.1, `the established peer's pings kept flowing (loss ${(loss * 100).toFixed(1)}% <= 10%)`);

    // The flood is over: wgts must work through its backlog and serve again, without help.
    const recoveryS = await recoverySeconds(goSpoke.exec, star.tunnelV4);
    t.comment(`after the flood stopped, the wireguard-go peer got through again after ${recoveryS.toFixed(1)} s`);
    t.ok(recoveryS < RECOVERY_MS / 1000, `wgts recovered on its own after the flood (${recoveryS.toFixed(1)} s)`, logsOf(wgts));
    if (recoveryS >= RECOVERY_MS / 1000) return;
    t.equal((await wgts.wgShow()).peers.length, 2, 'and answers wg show');

    // ---- phase 2: a cookie used, as a configured peer, under load ----
    // A background mac1-only flood from other sources keeps wgts under load from here on.
    const background = floodIn(attacker.ns, flood, [templates, INITIATION_SIZE, attacker.hubV4, 51820, BACKGROUND.sourceBase,
      BACKGROUND.sources, BACKGROUND.port, BACKGROUND.rate, BACKGROUND.total, 200, join(dir, 'bg.bin')]);
    await new Promise((r) => setTimeout(r, 1_000));
    // A fresh cookie (wgts renews its cookie secret every 2 minutes) for the first spoofed source and port.
    const probeFile = join(dir, 'probe.bin');
    const probeReplies = join(dir, 'probe-replies.bin');
    writeFileSync(probeFile, forged.subarray(0, INITIATION_SIZE));
    await floodIn(attacker.ns, flood, [probeFile, INITIATION_SIZE, attacker.hubV4, 51820, SPOOFED_BASE, 1, PHASE2.port, 10, 1,
      5_000, probeReplies]);
    const reply = parseReplies(probeReplies).find((r) => r.data[0] === 3);
    let cookie: Uint8Array | null = null;
    if (reply) {
      const mac1 = forged.slice(INITIATION.mac1, INITIATION.mac2); // the probe is forged message 1
      cookie = xaeadOpen(cookieKey(wgtsPublic), reply.data.subarray(COOKIE_REPLY.nonce, COOKIE_REPLY.nonce + 24),
        reply.data.subarray(COOKIE_REPLY.encryptedCookie, 64), mac1);
    }
    t.ok(cookie, 'the attacker decrypted its cookie (only the public key is needed)');
    if (!cookie) { await background; return; }

    // Valid initiations from the flood peer, timestamps 20 ms apart (TAI64N keeps ~16.7 ms), mac2 from the cookie.
    const identity = new StaticIdentity(fromBase64(floodPeerKeys.privateKey)!);
    const hs = new Handshake(wgtsPublic);
    hs.setIdentity(identity);
    const aead = createJsAead();
    const random = (b: Uint8Array) => { randomFillSync(b); };
    const valid = new Uint8Array(PHASE2.total * INITIATION_SIZE);
    const k1 = mac1Key(wgtsPublic);
    const start = Date.now();
    for (let k = 0; k < PHASE2.total; k++) {
      const m = valid.subarray(k * INITIATION_SIZE, (k + 1) * INITIATION_SIZE);
      if (!createInitiation(hs, identity, aead, random, start + 20 * k, 0x10000 + k, m)) throw new Error('createInitiation failed');
      m.set(mac(k1, m.subarray(0, INITIATION.mac1)), INITIATION.mac1);
      m.set(mac(cookie, m.subarray(0, INITIATION.mac2)), INITIATION.mac2);
    }
    const validFile = join(dir, 'valid.bin');
    writeFileSync(validFile, valid);
    const replies2 = join(dir, 'replies2.bin');
    const r2 = await floodIn(attacker.ns, flood, [validFile, INITIATION_SIZE, attacker.hubV4, 51820, SPOOFED_BASE,
      1, PHASE2.port, PHASE2.rate, PHASE2.total, 3000, replies2]);
    const bg = await background;
    const responses = parseReplies(replies2).filter((r) => r.data[0] === 2);
    // Every response was decided between the first send (time 0) and its arrival, so a token bucket
    // (burst 5, 20/s) allows at most 5 + 20/s x the last arrival time. Arrival gaps alone say less:
    // wgts sends its answers in batches.
    const spanS = Math.max(0, ...responses.map((r) => r.atMs)) / 1000;
    const budget = RATE_LIMIT.burst + RATE_LIMIT.perSecond * spanS;
    t.comment(`phase 2: ${r2.sent} valid initiations (mac2 from the cookie) from one source in ` +
      `${(r2.sendMs / 1000).toFixed(1)} s, with ${bg.sent} mac1-only ones from ${BACKGROUND.sources} others: ` +
      `${responses.length} responses within ${spanS.toFixed(1)} s (token-bucket budget ${budget.toFixed(0)}), ` +
      `${r2.cookieReplies} cookie replies`);
    t.ok(responses.length > 0, `initiations with a valid cookie are answered under load (${responses.length})`);
    // Passed in most runs here; failed (151 > 144) once, niced on a busy machine: see the virtual-time test below.
    t.ok(responses.length <= budget, `responses within the rate limiter's budget (${responses.length} <= ${budget.toFixed(0)} ` +
      `of ${r2.sent} sent)`);
    t.equal(r2.cookieReplies, 0, 'no cookie reply to initiations that carry a valid mac2');

    const recovery2 = await recoverySeconds(goSpoke.exec, star.tunnelV4);
    t.comment(`after phase 2 the wireguard-go peer got through again after ${recovery2.toFixed(1)} s`);
    t.ok(recovery2 < RECOVERY_MS / 1000, 'wgts recovered after phase 2 too');
    const after = await pingStats(goSpoke.exec, star.tunnelV4, 50, 0.02);
    t.equal(after.received, 50, 'the wireguard-go peer is fine after the floods', { ping: after.output });
    t.notOk(wgts.exited(), 'wgts survived');
  });
}
