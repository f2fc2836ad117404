// wgts (this Node process, UDP bound on the root end of a veth) against a real
// wireguard-go in a network namespace. Inner traffic is ICMP echo: the
// namespace's kernel answers our requests, and we answer its pings.
import t, { type Test } from 'tap';
import { createNodeTunnel, type NodeTunnel } from '../../src/platform/node.js';
import { base64ToHex, generateKeyPair, generatePresharedKey, type TestKeyPair } from '../helpers/keys.js';
import {
  createNetnsLink,
  requireInterop,
  startWireguardGo,
  uniqueIfname,
  type NetnsLink,
  type WireguardGo,
} from '../helpers/netns.js';
import {
  buildIcmpEcho4,
  buildIcmpEcho6,
  buildIcmpEchoReplyTo,
  parseIcmpEchoReply,
  parseIcmpEchoRequest,
  type IcmpEcho,
} from '../helpers/packets.js';

/** Every inner packet wgts delivers, with a bounded wait for the next match. */
class Inbox {
  readonly packets: Uint8Array[] = [];
  private waiters: { match: (p: Uint8Array) => boolean; resolve: (p: Uint8Array) => void }[] = [];
  /** Called for every packet before it is stored; e.g. to answer pings. */
  onEach: (p: Uint8Array) => void = () => {};

  push(p: Uint8Array): void {
    this.onEach(p);
    this.packets.push(p);
    this.waiters = this.waiters.filter((w) => {
      if (!w.match(p)) return true;
      w.resolve(p);
      return false;
    });
  }

  /** The first packet (already received or arriving within `ms`) for which `match` holds. */
  next(match: (p: Uint8Array) => boolean, ms: number, what: string): Promise<Uint8Array> {
    const seen = this.packets.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`no ${what} within ${ms} ms (${this.packets.length} other packets)`));
      }, ms);
      const done = (p: Uint8Array) => {
        clearTimeout(timer);
        resolve(p);
      };
      this.waiters.push({ match, resolve: done });
    });
  }
}

interface Rig {
  link: NetnsLink;
  tunnel: NodeTunnel;
  peer: WireguardGo;
  inbox: Inbox;
  ours: TestKeyPair;
  theirs: TestKeyPair;
  /** Our inner addresses and the peer's. */
  v4: readonly [string, string];
  v6: readonly [string, string];
}

interface RigOptions {
  purpose: string;
  /** PSK on wgts / on wireguard-go (base64); omit for none. */
  pskOurs?: string;
  pskTheirs?: string;
  /** Tell wgts the peer's endpoint (false: wgts must learn it from the peer's handshake). */
  wgtsKnowsEndpoint?: boolean;
  /** The public key wgts believes the peer has (default: the real one). */
  peerKeyForWgts?: string;
  /** The public key wireguard-go believes wgts has (default: the real one). */
  ourKeyForPeer?: string;
}

async function setUp(t: Test, o: RigOptions): Promise<Rig> {
  const link = await createNetnsLink({ purpose: o.purpose });
  const cleanups: (() => Promise<void>)[] = [() => link.destroy()];
  t.teardown(async () => {
    for (const c of cleanups.reverse()) await c();
  });
  const [ourV4, peerV4] = link.tunnel.v4;
  const [ourV6, peerV6] = link.tunnel.v6;
  const ours = generateKeyPair();
  const theirs = generateKeyPair();

  const inbox = new Inbox();
  const tunnel = await createNodeTunnel({
    address: link.hostV4,
    listenPort: 0,
    onPacket: (p) => inbox.push(p),
    logLevel: process.env.WGTS_TEST_VERBOSE === '1' ? 'verbose' : 'error',
  });
  cleanups.push(() => tunnel.close());

  const peer = await startWireguardGo(link.ns, uniqueIfname('w'), {
    privateKey: theirs.privateKey,
    peers: [
      {
        publicKey: o.ourKeyForPeer ?? ours.publicKey,
        presharedKey: o.pskTheirs,
        allowedIps: [`${ourV4}/32`, `${ourV6}/128`],
        endpoint: `${link.hostV4}:${tunnel.listenPort}`,
      },
    ],
    addresses: [`${peerV4}/${link.tunnel.v4Prefix}`, `${peerV6}/${link.tunnel.v6Prefix}`],
  });
  cleanups.push(() => peer.stop());

  const uapi = [
    `private_key=${ours.privateHex}`,
    'replace_peers=true',
    `public_key=${base64ToHex(o.peerKeyForWgts ?? theirs.publicKey)}`,
    ...(o.pskOurs ? [`preshared_key=${base64ToHex(o.pskOurs)}`] : []),
    ...(o.wgtsKnowsEndpoint === false ? [] : [`endpoint=${link.nsV4}:${peer.listenPort}`]),
    'replace_allowed_ips=true',
    `allowed_ip=${peerV4}/32`,
    `allowed_ip=${peerV6}/128`,
  ].join('\n');
  t.equal(tunnel.uapiSet(uapi + '\n'), 0, 'wgts accepts its UAPI configuration');
  return { link, tunnel, peer, inbox, ours, theirs, v4: [ourV4, peerV4], v6: [ourV6, peerV6] };
}

const REPLY_WAIT_MS = 5_000;
let nextId = 0x4000;

/** Sends one echo request through wgts and waits for the matching reply. */
async function echo(rig: Rig, family: 4 | 6, payload: Uint8Array): Promise<IcmpEcho> {
  const id = nextId++;
  const seq = 1;
  const [src, dst] = family === 4 ? rig.v4 : rig.v6;
  const request = family === 4 ? buildIcmpEcho4(src, dst, id, seq, payload) : buildIcmpEcho6(src, dst, id, seq, payload);
  if (!rig.tunnel.send(request)) throw new Error(`wgts found no route for ${dst}`);
  const raw = await rig.inbox.next(
    (p) => {
      const r = parseIcmpEchoReply(p);
      return r !== null && r.id === id && r.seq === seq;
    },
    REPLY_WAIT_MS,
    `echo reply from ${dst}`,
  );
  return parseIcmpEchoReply(raw)!;
}

function bytes(n: number, seed: number): Uint8Array {
  return new Uint8Array(n).map((_, i) => (i * 31 + seed) & 0xff);
}

/** Counts wireguard-go log lines that mark an initiation it accepted from its peer. */
function initiationsReceived(peer: WireguardGo): number {
  return peer.output().match(/Received handshake initiation/g)?.length ?? 0;
}

async function checkHandshook(t: Test, rig: Rig): Promise<number> {
  const show = await rig.peer.wgShow();
  const p = show.peers[0]!;
  const now = Date.now() / 1000;
  t.ok(p.latestHandshake > now - 60 && p.latestHandshake <= now + 1, `wg show: handshake at ${p.latestHandshake}`);
  t.ok(p.rx > 0 && p.tx > 0, `wg show: rx ${p.rx}, tx ${p.tx}`);
  const st = rig.tunnel.device.status().peers[0]!;
  t.ok(st.lastHandshakeWallMs > 0, 'wgts status: handshake time set');
  t.ok(st.rxBytes > 0 && st.txBytes > 0, `wgts status: rx ${st.rxBytes}, tx ${st.txBytes}`);
  return p.latestHandshake;
}

/**
 * Sends echoes for a bounded window and checks that no session came up.
 * `responderAnswers`: a PSK mismatch only shows on the initiator, so
 * wireguard-go does accept the initiation and respond; a key mismatch
 * makes it drop the initiation unanswered.
 */
async function expectSilence(t: Test, rig: Rig, responderAnswers: boolean): Promise<void> {
  rig.tunnel.send(buildIcmpEcho4(rig.v4[0], rig.v4[1], 1, 1, bytes(8, 0)));
  rig.tunnel.send(buildIcmpEcho6(rig.v6[0], rig.v6[1], 1, 1, bytes(8, 0)));
  // Shorter than REKEY_TIMEOUT (5 s), so this window holds exactly one initiation attempt.
  await t.rejects(rig.inbox.next(() => true, 2_500, 'packet'), 'wgts receives no packet');
  t.equal(rig.inbox.packets.length, 0, 'nothing was delivered');
  const p = (await rig.peer.wgShow()).peers[0]!;
  t.equal(p.latestHandshake, 0, 'wg show: no handshake');
  t.equal(rig.tunnel.device.status().peers[0]!.lastHandshakeWallMs, 0, 'wgts: no handshake');
  if (responderAnswers) {
    t.equal(initiationsReceived(rig.peer), 1, 'wireguard-go accepted the initiation');
    t.match(rig.peer.output(), /Sending handshake response/, 'and answered it');
  } else {
    t.equal(p.rx, 0, 'wg show: nothing received from wgts counted');
    t.notMatch(rig.peer.output(), /Received handshake initiation|Sending handshake response/, 'wireguard-go dropped it');
  }
}

if (requireInterop(t)) {
  t.test('(a) wgts initiates; IPv4 echo, small and full-MTU', async (t) => {
    const rig = await setUp(t, { purpose: 'wgoinit' });
    const small = bytes(56, 1);
    const r = await echo(rig, 4, small);
    t.same(r, { family: 4, src: rig.v4[1], dst: rig.v4[0], id: r.id, seq: 1, payload: small }, 'the first packet (staged during the handshake) is answered');
    for (let i = 0; i < 5; i++) t.same((await echo(rig, 4, bytes(64, i))).payload, bytes(64, i), `echo ${i + 2}`);
    // 1420-byte inner packet = wireguard-go's default MTU; the reply is as large.
    const full = bytes(1420 - 28, 7);
    t.same((await echo(rig, 4, full)).payload, full, 'full-MTU echo both ways');
    await checkHandshook(t, rig);
    const show = await rig.peer.wgShow();
    t.equal(show.peers[0]!.endpoint, `${rig.link.hostV4}:${rig.tunnel.listenPort}`, 'wireguard-go sees wgts at its bound address');
  });

  t.test('(b) IPv6 inner echo', async (t) => {
    const rig = await setUp(t, { purpose: 'wgov6' });
    const p = bytes(100, 3);
    const r = await echo(rig, 6, p);
    t.same(r, { family: 6, src: rig.v6[1], dst: rig.v6[0], id: r.id, seq: 1, payload: p });
    const full = bytes(1420 - 48, 9);
    t.same((await echo(rig, 6, full)).payload, full, 'full-MTU IPv6 echo');
    t.same((await echo(rig, 4, p)).payload, p, 'IPv4 still works on the same session');
    await checkHandshook(t, rig);
  });

  t.test('(c) wireguard-go initiates; wgts learns its endpoint and answers pings', async (t) => {
    const rig = await setUp(t, { purpose: 'wgoresp', wgtsKnowsEndpoint: false });
    let answered = 0;
    rig.inbox.onEach = (p) => {
      const req = parseIcmpEchoRequest(p);
      if (!req) return;
      if (rig.tunnel.send(buildIcmpEchoReplyTo(req))) answered++;
    };
    t.equal(rig.tunnel.device.status().peers[0]!.endpoint, null, 'wgts starts without an endpoint');
    const ping4 = await rig.peer.exec(['ping', '-c', '3', '-i', '0.2', '-W', '2', rig.v4[0]], { allowFail: true });
    t.equal(ping4.code, 0, 'the namespace pings wgts over IPv4', { output: ping4.stdout + ping4.stderr, log: rig.peer.output() });
    t.match(ping4.stdout, /3 received/);
    const ping6 = await rig.peer.exec(['ping', '-6', '-c', '3', '-i', '0.2', '-W', '2', rig.v6[0]], { allowFail: true });
    t.equal(ping6.code, 0, 'and over IPv6', { output: ping6.stdout + ping6.stderr });
    t.ok(answered >= 6, `wgts answered ${answered} echo requests`);
    t.same(rig.tunnel.device.status().peers[0]!.endpoint, { address: rig.link.nsV4, port: rig.peer.listenPort }, 'wgts learned the endpoint');
    t.equal(initiationsReceived(rig.peer), 0, 'wireguard-go was the initiator');
    await checkHandshook(t, rig);
  });

  t.test('(d) preshared key on both sides', async (t) => {
    const psk = generatePresharedKey().base64;
    const rig = await setUp(t, { purpose: 'wgopsk', pskOurs: psk, pskTheirs: psk });
    const p = bytes(32, 5);
    t.same((await echo(rig, 4, p)).payload, p, 'echo with PSK');
    t.same((await echo(rig, 6, p)).payload, p, 'IPv6 echo with PSK');
    await checkHandshook(t, rig);
    t.equal((await rig.peer.wgShow()).peers[0]!.presharedKey, psk, 'wireguard-go really had the PSK');
  });

  t.test('(d2) preshared key on one side only: no session', async (t) => {
    const rig = await setUp(t, { purpose: 'wgopskx', pskOurs: generatePresharedKey().base64 });
    await expectSilence(t, rig, true);
  });

  t.test('(e) forced rekey on the wgts side; traffic continues on a newer handshake', async (t) => {
    const rig = await setUp(t, { purpose: 'wgorekey' });
    t.same((await echo(rig, 4, bytes(20, 1))).payload, bytes(20, 1));
    const first = await checkHandshook(t, rig);
    const wgtsFirst = rig.tunnel.device.status().peers[0]!.lastHandshakeWallMs;
    t.equal(initiationsReceived(rig.peer), 1, 'one handshake so far');
    // `wg show` counts handshakes in whole seconds: let the second change so a new one is visible.
    // This waits on the wall clock's display resolution, not on any protocol timer.
    for (let i = 0; i < 30 && Math.floor(Date.now() / 1000) <= first; i++) await new Promise((r) => setTimeout(r, 50));

    rig.tunnel.device.forceRekey();
    for (let i = 0; i < 5; i++) t.same((await echo(rig, 4, bytes(20, i))).payload, bytes(20, i), `echo ${i} after the rekey`);
    t.same((await echo(rig, 6, bytes(20, 9))).payload, bytes(20, 9), 'IPv6 too');

    // Bounded poll of an observable (the responder confirms on our first packet under the new keys).
    let latest = first;
    for (let i = 0; i < 40 && latest <= first; i++) {
      latest = (await rig.peer.wgShow()).peers[0]!.latestHandshake;
      if (latest <= first) await new Promise((r) => setTimeout(r, 50));
    }
    t.ok(latest > first, `wg show: handshake moved from ${first} to ${latest}`);
    t.equal(initiationsReceived(rig.peer), 2, 'wireguard-go received exactly one more initiation');
    t.ok(rig.tunnel.device.status().peers[0]!.lastHandshakeWallMs > wgtsFirst, 'wgts status: newer handshake');
  });

  t.test('(f) wgts identity unknown to wireguard-go: silence', async (t) => {
    const rig = await setUp(t, { purpose: 'wgounknown', ourKeyForPeer: generateKeyPair().publicKey });
    await expectSilence(t, rig, false);
  });

  t.test('(f2) wgts aims at the wrong responder key: silence', async (t) => {
    const rig = await setUp(t, { purpose: 'wgowrongkey', peerKeyForWgts: generateKeyPair().publicKey });
    await expectSilence(t, rig, false);
  });
}
