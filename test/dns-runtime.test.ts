// The DNS stub resolver of the router runtime (src/platform/quickjs-dns.ts)
// on the real thing: a small program using Resolver is bundled with esbuild
// and run by dist/x86_64/wgts-js (QuickJS + wgts_native, as in the wgts
// executable). The name servers are fake ones in this process (Node dgram on
// 127.0.0.1, random ports): they stand in for OpenWrt's dnsmasq, record every
// query and answer from a small zone. resolv.conf cannot carry a port, so the
// program gets WGTS_RESOLV_CONF (options) and the test-only WGTS_DNS_SERVER
// (the fake servers' ip:port list). The program prints one RESULT line.
import t from 'tap';
import { execFileSync, spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { buildResponse, decodeQuery, ipv4, ipv6, type ResourceRecord } from './helpers/dns-wire.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const runner = join(root, 'dist/x86_64/wgts-js');
const A = 1, AAAA = 28;

if (process.platform !== 'linux') {
  t.plan(0, 'needs Linux (wgts-js)');
  process.exit(0);
}

// ---- the fake name server ----

interface ZoneEntry { a?: string[]; aaaa?: string[]; cname?: string; ttl?: number }
type Zone = (name: string) => ZoneEntry | undefined;

interface SeenQuery { id: number; name: string; type: number; rd: boolean; port: number; at: number }

type Mode = 'answer' | 'silent' | 'servfail' | 'junk-first';

const ZONE: Record<string, ZoneEntry> = {
  'vpn.example.org': { a: ['192.0.2.10'], aaaa: ['2001:db8::10'], ttl: 600 },
  'v6only.example.org': { aaaa: ['2001:db8::20'] },
  'alias.example.org': { cname: 'vpn.example.org', ttl: 120 },
  'short.example.org': { a: ['192.0.2.30'], ttl: 10 },
  'long.example.org': { a: ['192.0.2.40'], ttl: 86400 },
  'noaddr.example.org': {},
};
const standardZone: Zone = (name) => {
  const hit = ZONE[name];
  if (hit) return hit;
  // Any name under rand.example: for tests that need many distinct names.
  const m = /^n(\d+)\.rand\.example$/.exec(name);
  return m ? { a: [`198.51.100.${Number(m[1]) % 250}`] } : undefined;
};

class FakeDns {
  readonly queries: SeenQuery[] = [];
  private readonly socket: Socket;
  port = 0;

  constructor(private readonly mode: Mode, private readonly zone: Zone = standardZone, private readonly family: 4 | 6 = 4) {
    this.socket = createSocket(family === 4 ? 'udp4' : 'udp6');
    this.socket.on('message', (msg, from) => this.onQuery(new Uint8Array(msg), from.port, from.address));
  }

  async listen(address = this.family === 4 ? '127.0.0.1' : '::1', port = 0): Promise<this> {
    await new Promise<void>((ok, fail) => {
      this.socket.once('error', fail);
      this.socket.bind(port, address, () => {
        this.socket.off('error', fail);
        ok();
      });
    });
    this.port = this.socket.address().port;
    return this;
  }

  endpoint(): string {
    return this.family === 4 ? `127.0.0.1:${this.port}` : `[::1]:${this.port}`;
  }

  close(): void {
    this.socket.close();
  }

  private send(bytes: Uint8Array, port: number, address: string, via: Socket = this.socket): void {
    via.send(bytes, port, address);
  }

  private onQuery(msg: Uint8Array, port: number, address: string): void {
    const q = decodeQuery(msg);
    if (!q) return;
    this.queries.push({ id: q.id, name: q.name, type: q.type, rd: (q.flags & 0x0100) !== 0, port, at: Date.now() });
    if (this.mode === 'silent') return;
    const question = { name: q.name, type: q.type };
    if (this.mode === 'servfail') {
      this.send(buildResponse({ id: q.id, question, rcode: 2 }), port, address);
      return;
    }
    const answer = this.answer(q.id, q.name, q.type);
    if (this.mode === 'junk-first') {
      const forged = buildResponse({ id: q.id, question, answers: [q.type === A ? rr(q.name, A, '6.6.6.6') : rr(q.name, AAAA, '2001:db8::666')] });
      this.send(Uint8Array.of(1, 2, 3, 4, 5), port, address); // garbage
      this.send(buildResponse({ id: q.id ^ 0x8000, question, answers: [rr(q.name, A, '6.6.6.6')] }), port, address); // another id
      this.send(answer.subarray(0, answer.length - 3), port, address); // cut short
      // A complete, correct-looking answer from another port of the same host: an off-path forger who guessed the id.
      const impostor = createSocket('udp4');
      impostor.bind(0, '127.0.0.1', () => impostor.send(forged, port, address, () => impostor.close()));
      setTimeout(() => this.send(answer, port, address), 100);
      return;
    }
    this.send(answer, port, address);
  }

  private answer(id: number, name: string, type: number): Uint8Array {
    const question = { name, type };
    const answers: ResourceRecord[] = [];
    let current = name.toLowerCase().replace(/\.$/, '');
    let entry = this.zone(current);
    if (!entry) return buildResponse({ id, question, rcode: 3, authority: [soaRecord()] });
    while (entry?.cname) {
      answers.push({ name: current, type: 5, ttl: entry.ttl ?? 300, data: { name: entry.cname } });
      current = entry.cname;
      entry = this.zone(current);
    }
    for (const address of (type === A ? entry?.a : entry?.aaaa) ?? []) answers.push(rr(current, type, address, entry?.ttl));
    return buildResponse({ id, question, compress: true, answers, authority: answers.length === 0 ? [soaRecord()] : [] });
  }
}

function rr(name: string, type: number, address: string, ttl = 300): ResourceRecord {
  return { name, type, ttl, data: type === A ? ipv4(address) : ipv6(address) };
}

function soaRecord(): ResourceRecord {
  return { name: 'example.org', type: 6, ttl: 900, data: { soa: { mname: 'ns1.example.org', rname: 'hostmaster.example.org', minimum: 60 } } };
}

// ---- the program run by wgts-js ----

interface Step {
  resolve?: string;
  parallel?: string[];
  prefer?: 4 | 6;
  fresh?: boolean;
  /** Moves the resolver's clock (now(), not its timers) forward before this step: cache expiry without waiting. */
  advanceMs?: number;
}

interface Outcome { address?: string; addresses?: string[]; error?: string; code?: string; ms: number; sync: boolean }

const PROGRAM = `
import * as os from 'os';
import { Resolver } from './src/platform/quickjs-dns.ts';
import { quickjsClock } from './src/platform/quickjs.ts';

let offset = 0;
const clock = { ...quickjsClock, now: () => quickjsClock.now() + offset };
const logs = [];
const resolver = new Resolver({ error: (m) => logs.push('E ' + m), verbose: (m) => logs.push('V ' + m) }, clock);
const steps = JSON.parse(scriptArgs[1]);
const results = [];

function run(i) {
  if (i === steps.length) {
    // Nothing else may keep the event loop alive: the program must end by itself.
    print('RESULT ' + JSON.stringify({ results, logs }));
    return;
  }
  const step = steps[i];
  offset += step.advanceMs || 0;
  const names = step.parallel || [step.resolve];
  const out = [];
  let pending = names.length;
  const started = os.now();
  names.forEach((name, k) => {
    let sync = true;
    resolver.resolve(name, (r) => {
      out[k] = { ...r, ms: Math.round(os.now() - started), sync };
      if (--pending === 0) {
        results.push(step.parallel ? out : out[0]);
        run(i + 1);
      }
    }, { prefer: step.prefer, fresh: step.fresh });
    sync = false;
  });
}
run(0);
`;

let dir = '';
let bundle = '';

t.before(async () => {
  if (!existsSync(runner)) {
    execFileSync(process.execPath, [join(root, 'build/build.mjs'), '--runner-only'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], timeout: 840_000 });
  }
  dir = mkdtempSync(join(tmpdir(), 'wgts-dns-'));
  bundle = join(dir, 'resolve.mjs');
  await build({
    stdin: { contents: PROGRAM, resolveDir: root, sourcefile: 'resolve-program.js', loader: 'js' },
    bundle: true, format: 'esm', target: 'es2020', platform: 'neutral', mainFields: ['module', 'main'],
    external: ['os', 'std', 'wgts_native'], outfile: bundle, logLevel: 'error',
  });
});
t.teardown(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

let confs = 0;
function resolvConf(text: string): string {
  const file = join(dir, `resolv${confs++}.conf`);
  writeFileSync(file, text);
  return file;
}

/** Runs the steps under wgts-js; the fake servers keep answering meanwhile (spawn, not spawnSync). */
async function runSteps(steps: Step[], env: { servers?: FakeDns[] | string; conf?: string }): Promise<{ results: (Outcome | Outcome[])[]; logs: string[] }> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, WGTS_RESOLV_CONF: env.conf ?? resolvConf('nameserver 127.0.0.1\n') };
  delete childEnv.WGTS_DNS_SERVER;
  if (typeof env.servers === 'string') childEnv.WGTS_DNS_SERVER = env.servers;
  else if (env.servers) childEnv.WGTS_DNS_SERVER = env.servers.map((s) => s.endpoint()).join(',');
  const child = spawn(runner, [bundle, JSON.stringify(steps)], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '', stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const status = await new Promise<number | null>((done) => child.on('close', (code) => done(code)));
  clearTimeout(killer);
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (status !== 0 || !line) throw new Error(`wgts-js exited ${status} (killed after 30 s if null)\n${stdout}${stderr}`);
  return JSON.parse(line.slice(7));
}

const single = (r: Outcome | Outcome[]): Outcome => r as Outcome;

t.test('resolves A and AAAA', async (t) => {
  const dns = await new FakeDns('answer').listen();
  t.teardown(() => dns.close());
  const { results } = await runSteps([
    { resolve: 'vpn.example.org' },
    { resolve: 'v6only.example.org' },
    { resolve: 'VPN.Example.Org.', prefer: 6 },
    { resolve: 'alias.example.org' },
    { resolve: 'noaddr.example.org' },
  ], { servers: [dns] });
  const [both, v6only, preferV6, alias, none] = results.map(single);
  t.match(both, { address: '192.0.2.10', addresses: ['192.0.2.10', '2001:db8::10'] }, 'both families, IPv4 first');
  t.match(v6only, { address: '2001:db8::20', addresses: ['2001:db8::20'] }, 'only AAAA exists');
  t.match(preferV6, { address: '2001:db8::10', addresses: ['2001:db8::10', '192.0.2.10'] },
    'another spelling of the same name, current endpoint IPv6: IPv6 first (from the cache)');
  t.match(alias, { address: '192.0.2.10' }, 'through a CNAME');
  t.match(none, { code: 'nodata', error: /noaddr\.example\.org: no IPv4 or IPv6 address/ }, 'a name without addresses');
  t.ok(results.every((r) => !single(r).sync), 'callbacks never run inside resolve()');
  const asked = dns.queries.map((q) => `${q.name}/${q.type}`);
  t.strictSame(asked, ['vpn.example.org/1', 'vpn.example.org/28', 'v6only.example.org/1', 'v6only.example.org/28',
    'alias.example.org/1', 'alias.example.org/28', 'noaddr.example.org/1', 'noaddr.example.org/28'], 'A and AAAA per name, the cached spelling not asked again');
  t.ok(dns.queries.every((q) => q.rd), 'recursion desired');
});

t.test('a server that does not answer times out, the next one answers', async (t) => {
  const silent = await new FakeDns('silent').listen();
  const good = await new FakeDns('answer').listen();
  t.teardown(() => { silent.close(); good.close(); });
  const conf = resolvConf('nameserver 127.0.0.1\noptions timeout:1 attempts:2\n');
  const { results } = await runSteps([{ resolve: 'vpn.example.org' }], { servers: [silent, good], conf });
  const r = single(results[0]!);
  t.match(r, { address: '192.0.2.10' }, 'resolved by the second server');
  t.ok(r.ms >= 900, `after the first server's 1 s timeout (${r.ms} ms)`);
  t.equal(silent.queries.length, 2, 'the silent server was asked A and AAAA once');
  t.equal(good.queries.length, 2, 'then the second server');
  t.ok(good.queries[0]!.at - silent.queries[1]!.at >= 900, 'only after the timeout');
  t.not(silent.queries[0]!.port, good.queries[0]!.port, 'a new source port for the new try');
  t.not(silent.queries[0]!.id, good.queries[0]!.id, 'and new ids');

  const alone = await new FakeDns('silent').listen();
  t.teardown(() => alone.close());
  const { results: [gaveUp] } = await runSteps([{ resolve: 'vpn.example.org' }], { servers: [alone], conf });
  t.match(gaveUp, { code: 'timeout', error: /vpn\.example\.org: lookup failed: 127\.0\.0\.1:\d+ timed out; 127\.0\.0\.1:\d+ timed out/ }, 'nobody answers: timeout');
  t.equal(alone.queries.length, 4, 'two attempts (options attempts:2), A and AAAA each');
  t.ok(single(gaveUp!).ms >= 1900, `after 2 × 1 s (${single(gaveUp!).ms} ms)`);
});

t.test('NXDOMAIN is final, SERVFAIL moves on at once', async (t) => {
  const first = await new FakeDns('answer').listen();
  const second = await new FakeDns('answer').listen();
  t.teardown(() => { first.close(); second.close(); });
  const { results } = await runSteps([
    { resolve: 'missing.example.org' },
    { resolve: 'missing.example.org' },
  ], { servers: [first, second] });
  t.match(results[0], { code: 'nxdomain', error: /missing\.example\.org: no such host \(NXDOMAIN from 127\.0\.0\.1:\d+\)/ }, 'NXDOMAIN');
  t.match(results[1], { code: 'nxdomain' }, 'and again');
  t.equal(first.queries.length, 2, 'asked once: the answer is cached too');
  t.equal(second.queries.length, 0, 'no other server is asked');

  const failing = await new FakeDns('servfail').listen();
  const good = await new FakeDns('answer').listen();
  t.teardown(() => { failing.close(); good.close(); });
  const conf = resolvConf('nameserver 127.0.0.1\noptions timeout:5\n');
  const { results: [r] } = await runSteps([{ resolve: 'vpn.example.org' }], { servers: [failing, good], conf });
  t.match(r, { address: '192.0.2.10' }, 'the second server answers');
  t.ok(single(r!).ms < 4000, `without waiting for the 5 s timeout (${single(r!).ms} ms)`);
  t.equal(failing.queries.length, 2);
  t.equal(good.queries.length, 2);
});

t.test('answers are cached for their TTL, 30 s .. 1 h', async (t) => {
  // Every new A query of a name gets the next address, so each result shows whether it was asked or cached.
  const asked = (name: string) => dns.queries.filter((q) => q.type === A && q.name.toLowerCase().replace(/\.$/, '') === name).length;
  const zone: Zone = (name) => {
    const base = { 'vpn.example.org': 10, 'short.example.org': 30, 'long.example.org': 40 }[name];
    return base === undefined ? undefined : { a: [`192.0.2.${base + asked(name) - 1}`], ttl: ZONE[name]!.ttl };
  };
  const dns = await new FakeDns('answer', zone).listen();
  t.teardown(() => dns.close());
  const { results } = await runSteps([
    { resolve: 'vpn.example.org' },
    { resolve: 'vpn.example.org' }, // cache hit
    { resolve: 'vpn.example.org', fresh: true }, // asks again
    { resolve: 'vpn.example.org' }, // the fresh answer was cached
    { parallel: ['short.example.org', 'short.example.org', 'SHORT.example.org.'] }, // one lookup
    { resolve: 'short.example.org', advanceMs: 29_000 }, // TTL 10 s counts as 30 s
    { resolve: 'short.example.org', advanceMs: 2_000 }, // 31 s: expired
    { resolve: 'long.example.org' },
    { resolve: 'long.example.org', advanceMs: 3_598_000 }, // TTL 1 day counts as 1 h
    { resolve: 'long.example.org', advanceMs: 3_000 }, // 1 h + 1 s: expired
  ], { servers: [dns] });
  const r = results.map((x) => (Array.isArray(x) ? x.map((y) => y.address) : x.address));
  t.strictSame(r.slice(0, 4), ['192.0.2.10', '192.0.2.10', '192.0.2.11', '192.0.2.11'], 'a cache hit asks nothing; fresh asks again');
  t.strictSame(r[4], ['192.0.2.30', '192.0.2.30', '192.0.2.30'], 'parallel lookups of one name (any spelling) share one query');
  t.strictSame(r.slice(5, 7), ['192.0.2.30', '192.0.2.31'], 'TTL 10 s: kept 29 s later, asked again after 30 s');
  t.strictSame(r.slice(7), ['192.0.2.40', '192.0.2.40', '192.0.2.41'], 'TTL 1 day: kept for 1 h only');
  t.equal(dns.queries.length, 2 * 6, 'A + AAAA for each of the 6 lookups');
});

t.test('random query ids and source ports', async (t) => {
  const dns = await new FakeDns('answer').listen();
  t.teardown(() => dns.close());
  const N = 16;
  const { results } = await runSteps(Array.from({ length: N }, (_, i) => ({ resolve: `n${i}.rand.example` })), { servers: [dns] });
  t.strictSame(results.map((r) => single(r).address), Array.from({ length: N }, (_, i) => `198.51.100.${i}`), 'all resolved');
  t.equal(dns.queries.length, 2 * N);
  const ids = dns.queries.map((q) => q.id);
  t.ok(new Set(ids).size >= 2 * N - 2, `ids differ: ${ids.join(' ')}`);
  const steps = new Set(ids.slice(1).map((id, i) => (id - ids[i]! + 0x10000) & 0xffff));
  t.ok(steps.size > N, 'and do not follow a sequence');
  for (let i = 0; i < N; i++) t.equal(dns.queries[2 * i]!.port, dns.queries[2 * i + 1]!.port, `lookup ${i}: A and AAAA from one socket`);
  const ports = dns.queries.filter((_, i) => i % 2 === 0).map((q) => q.port);
  t.ok(new Set(ports).size >= N - 1, `a new source port per lookup: ${ports.join(' ')}`);
});

t.test('forged, foreign and broken datagrams are ignored', async (t) => {
  const dns = await new FakeDns('junk-first').listen();
  t.teardown(() => dns.close());
  const { results: [r], logs } = await runSteps([{ resolve: 'vpn.example.org' }], { servers: [dns] });
  t.match(r, { address: '192.0.2.10', addresses: ['192.0.2.10', '2001:db8::10'] },
    'garbage, another id, a cut answer and a forged answer from another port all lose to the real answer');
  t.notMatch(JSON.stringify(logs), /6\.6\.6\.6|::666/, 'the forged addresses appear nowhere');
});

t.test('literals and bad names need no server', async (t) => {
  const dns = await new FakeDns('answer').listen();
  t.teardown(() => dns.close());
  const { results } = await runSteps([
    { resolve: '192.0.2.7' }, { resolve: '2001:DB8::7' }, { resolve: '[2001:db8::8]' },
    { resolve: 'bücher.example' }, { resolve: 'a..b' }, { resolve: 'vpn.example.org:51820' },
  ], { servers: [dns] });
  t.match(results.slice(0, 3), [{ address: '192.0.2.7', addresses: ['192.0.2.7'] }, { address: '2001:db8::7' }, { address: '2001:db8::8' }],
    'numeric addresses come back canonical');
  t.match(results.slice(3), [{ code: 'invalid', error: /IDNA/ }, { code: 'invalid', error: /empty label/ }, { code: 'invalid' }], 'invalid names');
  t.ok(results.every((r) => !single(r).sync), 'callbacks never run inside resolve()');
  t.equal(dns.queries.length, 0, 'no query');
});

t.test('resolv.conf names the server (port 53), or an IPv6 one', async (t) => {
  // Port 53 needs root and a free address: 127.0.0.77, not a resolver's usual 127.0.0.1/127.0.0.53.
  const at53 = new FakeDns('answer');
  const bound = await at53.listen('127.0.0.77', 53).then(() => true, () => false);
  if (bound) {
    t.teardown(() => at53.close());
    const conf = resolvConf('# test\nsearch lan\nnameserver 127.0.0.77\n');
    const { results: [r], logs } = await runSteps([{ resolve: 'vpn.example.org' }], { conf, servers: 'not-an-endpoint' });
    t.match(r, { address: '192.0.2.10' }, 'resolved by the nameserver of resolv.conf');
    t.equal(at53.queries.length, 2);
    t.match(logs.join('\n'), /E DNS: ignoring WGTS_DNS_SERVER=not-an-endpoint/, 'a bad WGTS_DNS_SERVER is reported and ignored');
    t.match(logs.join('\n'), /asking 127\.0\.0\.77:53 for vpn\.example\.org/, 'asked on port 53');
  } else {
    t.comment('cannot bind 127.0.0.77:53 (not root?): resolv.conf server not exercised');
  }

  const v6 = new FakeDns('answer', standardZone, 6);
  const hasV6 = await v6.listen().then(() => true, () => false);
  if (hasV6) {
    t.teardown(() => v6.close());
    const { results: [r] } = await runSteps([{ resolve: 'vpn.example.org' }], { servers: [v6] });
    t.match(r, { address: '192.0.2.10' }, 'over IPv6 (::1)');
    t.equal(v6.queries.length, 2);
  } else {
    t.comment('no IPv6 loopback');
  }
  t.pass('done');
});
