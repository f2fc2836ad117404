// One operation of the router runtime, repeated N times, for exact guest
// instruction counts under qemu-user (bench/insns.mjs): the count of N=a and
// N=b runs of the same process differ only by (b-a) operations, so start-up
// and set-up drop out. Run by dist/<arch>/wgts-js:
//
//   wgts-js costs.mjs MODE N [MAX]      prints one JSON line, then exits
//
// Modes (packets are 1420-byte IPv4 packets, the tunnel MTU, so no padding):
//   empty                 nothing (start-up and bundle parse only)
//   seal N                native AEAD (createNativeAead) seals one packet in place
//   open N                seal + open in place (open = open - seal)
//   send N [MAX]          N batches of 32: TUN read → Device.sendPacket → sendmmsg
//   send-feed N [MAX]     the stand-in's share of `send`, to subtract
//   recv N MAX            N batches of 32: recvmmsg → Device.receiveDatagram → TUN write
//   recv-feed N MAX       the stand-in's share of `recv`, to subtract
//   send-device N         the Device alone: sendPacket on 32 slots per batch, datagrams dropped
//   send-device-feed N    its stand-in share (putting the 20-byte header back)
//   recv-device N MAX     the Device alone: receiveDatagram on prepared datagrams, delivered nowhere
//   micro N STEP          one step of the data path N times (see micro())
//   handshake N           N full handshakes (initiator + responder) between two Devices
//   handshake-time N      the same on this machine's clock: ms per handshake (not a count)
//   coldstart             UAPI config of two Devices, first packet: handshake, then delivered
//   lookup4 N / lookup6 N allowed-IPs lookups among 10,000 peers with 50,000 prefixes
//   lookup-time N         the same on this machine's clock: ns per lookup (not a count)
//
// In send/recv the real Device (as createQuickjsDevice makes it: native AEAD,
// real clock; seeded randomness), the real UdpBinding (recvmmsg/sendmmsg on loopback UDP)
// and the real Tun class run unchanged; what stands in for the TUN device is
// a loopback UDP socket read with read() for the TUN read side (the same
// syscall tunRead makes) and /dev/null for the TUN write side, and the peer
// is a plain Device whose datagrams the driver carries over loopback.
import * as os from 'os';
import * as std from 'std';
import * as native from 'wgts_native';
import { TAG_LEN } from '../../src/crypto/aead.js';
import { createNativeAead } from '../../src/crypto/native-aead.js';
import { toHex } from '../../src/crypto/encoding.js';
import { publicKeyFromPrivate } from '../../src/crypto/keys.js';
import { parseUapiSet } from '../../src/control/uapi.js';
import type { DeviceChange } from '../../src/control/config.js';
import { Device } from '../../src/device/device.js';
import type { Peer } from '../../src/device/peer.js';
import { keepKeyFreshSending, paddingFor } from '../../src/device/send.js';
import type { Clock, Endpoint, RandomSource } from '../../src/platform/platform.js';
import { silentLogger } from '../../src/platform/platform.js';
import { quickjsClock, Tun, UdpBinding } from '../../src/platform/quickjs.js';
import { AllowedIps } from '../../src/routing/allowedips.js';
import { ipTotalLength, ipVersion, parseCidr } from '../../src/routing/ip.js';
import { messageType, readCounter, writeTransportHeader } from '../../src/protocol/messages.js';

declare function print(...args: unknown[]): void;

const PACKET = 1420;
const BATCH = 32; // the runtime's batch (src/platform/quickjs.ts)
const TUN_HEADROOM = 16;
const META = native.META_STRIDE;
const LOOPBACK = '127.0.0.1';

function fail(message: string): never {
  std.err.puts(`costs: ${message}\n`);
  std.exit(1);
}

/** mulberry32 over bytes: reproducible keys and indices, so counts repeat exactly. */
function seededRandom(seed: number): RandomSource {
  let a = seed >>> 0;
  return (out) => {
    for (let i = 0; i < out.length; i++) {
      a = (a + 0x6d2b79f5) >>> 0;
      let x = a;
      x = Math.imul(x ^ (x >>> 15), x | 1);
      x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
      out[i] = (x ^ (x >>> 14)) & 255;
    }
  };
}

function privateKey(seed: number): Uint8Array {
  const k = new Uint8Array(32);
  seededRandom(seed)(k);
  k[0]! &= 248;
  k[31] = (k[31]! & 127) | 64;
  return k;
}

/** A 1420-byte IPv4 packet from src to dst (10.9.0.x), written at buf[off]. */
function writeIpv4(buf: Uint8Array, off: number, src: number, dst: number, fill: number): void {
  buf.fill(fill, off, off + PACKET);
  buf[off] = 0x45;
  buf[off + 1] = 0;
  buf[off + 2] = PACKET >> 8;
  buf[off + 3] = PACKET & 255;
  buf[off + 8] = 64;
  buf[off + 9] = 17;
  buf.set([10, 9, 0, src], off + 12);
  buf.set([10, 9, 0, dst], off + 16);
}

/** A clock that moves only when told to; timers never fire (nothing runs the event loop). */
class StillClock implements Clock {
  t = 1000;
  now(): number { return this.t; }
  wallMs(): number { return 1_790_000_000_000 + this.t; }
  setTimer(): unknown { return {}; }
  clearTimer(): void {}
}

function peerChange(publicKey: Uint8Array, endpoint: Endpoint | null, cidr: string): DeviceChange['peers'][number] {
  return {
    publicKey, remove: false, updateOnly: false, replaceAllowedIps: false,
    ...(endpoint ? { endpoint: { address: endpoint.address, port: endpoint.port } } : {}),
    allowedIps: [{ cidr: parseCidr(cidr)!, remove: false }],
  };
}

// ---------------------------------------------------------------- AEAD alone

function aeadLoop(n: number, open: boolean): Record<string, number> {
  const aead = createNativeAead(native);
  const key = privateKey(7);
  const buf = new Uint8Array(TUN_HEADROOM + PACKET + TAG_LEN);
  writeIpv4(buf, TUN_HEADROOM, 1, 2, 0x5a);
  for (let i = 0; i < n; i++) {
    aead.seal(key, i, null, buf, TUN_HEADROOM, PACKET, buf, TUN_HEADROOM);
    if (open && aead.open(key, i, null, buf, TUN_HEADROOM, PACKET + TAG_LEN, buf, TUN_HEADROOM) !== PACKET) fail('open failed');
  }
  if (buf[TUN_HEADROOM] !== (open ? 0x45 : buf[TUN_HEADROOM])) fail('open did not restore the packet');
  return { ops: n };
}

// ---------------------------------------------------------------- the runtime's data path

interface Pair {
  device: Device;
  udp: UdpBinding;
  peerOfA: Peer;
  /** The peer side: a plain Device whose datagrams the driver carries. */
  b: Device;
  fdB: number;
  portB: number;
  /** B's datagrams captured by its sendUdp, in order. */
  outbox: Uint8Array[];
  setTun(t: Tun | null): void;
  close(): void;
}

/** Device A as the daemon builds it (src/cli/daemon.ts), peer B on loopback, one handshake done. */
function runtimePair(): Pair {
  let udp: UdpBinding | null = null;
  let tun: Tun | null = null;
  // createQuickjsDevice's Device, callback for callback, with one core's AEAD
  // (no BatchAead) and seeded randomness: the handshake's X25519 on @noble
  // takes a key-dependent number of instructions, which must not vary between runs.
  const device = new Device({
    clock: quickjsClock,
    random: seededRandom(1),
    logger: silentLogger,
    aead: createNativeAead(native),
    mtu: PACKET,
    sendUdp: (buf, off, len, to) => udp!.send(buf, off, len, to),
    writeTun: (buf, off, len) => tun?.write(buf, off, len),
    bindPort: (port, fwmark) => udp!.bind(port, fwmark),
  });
  udp = new UdpBinding(silentLogger, (buf, off, len, from) => device.receiveDatagram(buf, off, len, from));
  const portA = udp.bind(0, 0);
  if (portA < 0) fail(`bind: ${native.strerror(-portA)}`);
  device.listenPort = portA;

  const fdB = native.udpBind(4, 0, 0);
  if (fdB < 0) fail(`bind B: ${native.strerror(-fdB)}`);
  const portB = native.localPort(fdB);
  const outbox: Uint8Array[] = [];
  const b = new Device({
    clock: quickjsClock, random: seededRandom(2), aead: createNativeAead(native), mtu: PACKET,
    sendUdp: (buf, off, len) => { outbox.push(buf.slice(off, off + len)); },
    writeTun: () => {},
  });
  const keyA = privateKey(11), keyB = privateKey(12);
  const pubA = publicKeyFromPrivate(keyA), pubB = publicKeyFromPrivate(keyB);
  device.applyChange({ privateKey: keyA, replacePeers: false, peers: [peerChange(pubB, { address: LOOPBACK, port: portB }, '10.9.0.2/32')] });
  b.applyChange({ privateKey: keyB, replacePeers: false, peers: [peerChange(pubA, { address: LOOPBACK, port: portA }, '10.9.0.1/32')] });
  const peerOfA = device.peerByKey(pubB)!;

  // B's socket → B; B's answers → A's socket → A. Until quiet.
  const ring = new Uint8Array(2048 * BATCH);
  const meta = new Int32Array(META * BATCH);
  const toA = new Int32Array(META);
  toA[1] = 4; toA[2] = portA; new Uint8Array(toA.buffer, 12, 4).set([127, 0, 0, 1]);
  const fromA: Endpoint = { address: LOOPBACK, port: portA };
  const pump = () => {
    for (let round = 0; round < 10; round++) {
      const n = native.udpRecv(fdB, ring, 2048, 0, BATCH, meta);
      for (let i = 0; i < n; i++) b.receiveDatagram(ring, i * 2048, meta[i * META]!, fromA);
      const out = outbox.splice(0);
      for (const d of out) native.udpSend(fdB, d, 0, d.length, toA, 0);
      drainUdp(udp!);
      if (n <= 0 && out.length === 0) return;
    }
  };
  const first = new Uint8Array(TUN_HEADROOM + PACKET + 32);
  writeIpv4(first, TUN_HEADROOM, 1, 2, 1);
  device.sendPacket(first, TUN_HEADROOM, PACKET);
  pump();
  if (!peerOfA.keypairs.current || peerOfA.txBytes === 0) fail('no session after the handshake');
  const bPeer = b.peerByKey(pubA)!;
  if (!bPeer.keypairs.current) fail('the responder did not confirm the session');
  outbox.length = 0;
  return {
    device, udp, peerOfA, b, fdB, portB, outbox,
    setTun: (t) => { tun = t; },
    close: () => { device.close(); b.close(); udp!.close(); os.close(fdB); },
  };
}

/** The runtime's read handlers are private; the benchmark calls them as the event loop would. */
function drainUdp(udp: UdpBinding): void {
  (udp as unknown as { drain(fd: number): void }).drain(udp.fd4);
}
function drainTun(tun: Tun): void {
  (tun as unknown as { drain(): void }).drain();
}

function loopbackMeta(port: number): Int32Array {
  const m = new Int32Array(META);
  m[1] = 4; m[2] = port;
  new Uint8Array(m.buffer, 12, 4).set([127, 0, 0, 1]);
  return m;
}

/** N batches of 32 packets from the TUN stand-in through A to B's socket. feedOnly: the stand-in's sends alone. */
function sendPath(n: number, feedOnly: boolean): Record<string, number> {
  const pair = runtimePair();
  const tunFd = native.udpBind(4, 0, 0);
  const feedFd = native.udpBind(4, 0, 0);
  if (tunFd < 0 || feedFd < 0) fail('bind the TUN stand-in');
  const tun = new Tun('bench0', tunFd, silentLogger, (buf, off, len) => { pair.device.sendPacket(buf, off, len); }, pair.udp,
    (reason) => fail(`TUN stand-in: ${reason}`));
  pair.setTun(tun);
  const feed = new Uint8Array(PACKET * BATCH);
  const offs = new Int32Array(BATCH), lens = new Int32Array(BATCH), metaAt = new Int32Array(BATCH);
  for (let i = 0; i < BATCH; i++) {
    writeIpv4(feed, i * PACKET, 1, 2, i);
    offs[i] = i * PACKET;
    lens[i] = PACKET;
  }
  const toTun = loopbackMeta(native.localPort(tunFd));
  const tx0 = pair.peerOfA.txBytes;
  for (let j = 0; j < n; j++) {
    if (native.udpSendBatch(feedFd, feed, offs, lens, toTun, metaAt, BATCH) !== BATCH) fail('feed fell short');
    if (!feedOnly) drainTun(tun);
  }
  const sent = (pair.peerOfA.txBytes - tx0) / (PACKET + 32);
  if (!feedOnly && sent !== n * BATCH) fail(`sent ${sent} of ${n * BATCH} packets`);
  tun.close();
  pair.close();
  os.close(feedFd);
  return { batches: n, packets: feedOnly ? 0 : sent };
}

/** N of MAX prepared batches of 32 sealed datagrams from B through A to the TUN stand-in (/dev/null). */
function receivePath(n: number, max: number, feedOnly: boolean): Record<string, number> {
  if (n > max) fail('N > MAX');
  const pair = runtimePair();
  const nullFd = os.open('/dev/null', os.O_RDWR);
  const tun = new Tun('bench0', nullFd, silentLogger, () => {}, pair.udp, (reason) => fail(`TUN stand-in: ${reason}`));
  pair.setTun(tun);
  // MAX × 32 datagrams sealed by B up front (the same work for every N).
  const ip = new Uint8Array(PACKET);
  const slot = PACKET + 32;
  const wire = new Uint8Array(max * BATCH * slot);
  const batchOffs: Int32Array[] = [];
  const lens = new Int32Array(BATCH), metaAt = new Int32Array(BATCH);
  for (let j = 0; j < max; j++) {
    const offs = new Int32Array(BATCH);
    for (let i = 0; i < BATCH; i++) {
      writeIpv4(ip, 0, 2, 1, i);
      pair.b.sendPacket(ip, 0, PACKET);
      const d = pair.outbox.pop()!;
      if (d.length !== slot) fail(`sealed datagram of ${d.length} bytes`);
      offs[i] = (j * BATCH + i) * slot;
      wire.set(d, offs[i]!);
      lens[i] = slot;
    }
    batchOffs.push(offs);
  }
  const toA = loopbackMeta(pair.udp.port);
  const rx0 = pair.peerOfA.rxBytes;
  for (let j = 0; j < n; j++) {
    if (native.udpSendBatch(pair.fdB, wire, batchOffs[j]!, lens, toA, metaAt, BATCH) !== BATCH) fail('feed fell short');
    if (!feedOnly) drainUdp(pair.udp);
  }
  const received = (pair.peerOfA.rxBytes - rx0) / slot;
  if (!feedOnly && received !== n * BATCH) fail(`received ${received} of ${n * BATCH} packets (invalid: ${pair.device.stats.invalid})`);
  tun.close();
  pair.close();
  return { batches: n, packets: feedOnly ? 0 : received };
}

// ---------------------------------------------------------------- handshakes

interface Link {
  a: Device;
  b: Device;
  clock: StillClock;
  peerOfA: Peer;
  peerOfB: Peer;
  delivered: { count: number };
  /** From now on datagrams vanish (the device-only paths). */
  drop(): void;
  /** Moves the datagrams waiting in the link into out. */
  take(out: Uint8Array[]): void;
  pump(): void;
}

/** Two Devices joined in memory; the clock stands still unless moved. */
function memoryLink(configure: (a: Device, b: Device) => void): Link {
  const clock = new StillClock();
  const queue: { to: 'a' | 'b'; bytes: Uint8Array }[] = [];
  const delivered = { count: 0 };
  let dropping = false;
  const epA: Endpoint = { address: '192.0.2.1', port: 51820 };
  const epB: Endpoint = { address: '192.0.2.2', port: 51820 };
  const make = (seed: number, to: 'a' | 'b') => new Device({
    clock, random: seededRandom(seed), aead: createNativeAead(native), mtu: PACKET,
    sendUdp: (buf, off, len) => { if (!dropping) queue.push({ to, bytes: buf.slice(off, off + len) }); },
    writeTun: () => { delivered.count++; },
  });
  const a = make(21, 'b'), b = make(22, 'a');
  configure(a, b);
  const pump = () => {
    for (let guard = 0; guard < 100 && queue.length > 0; guard++) {
      const d = queue.shift()!;
      if (d.to === 'a') a.receiveDatagram(d.bytes, 0, d.bytes.length, epB);
      else b.receiveDatagram(d.bytes, 0, d.bytes.length, epA);
    }
  };
  const peerOfA = a.status().peers.length === 1 ? a.peerByKey(a.status().peers[0]!.publicKey)! : fail('A has no peer');
  const peerOfB = b.status().peers.length === 1 ? b.peerByKey(b.status().peers[0]!.publicKey)! : fail('B has no peer');
  const take = (out: Uint8Array[]) => { for (const d of queue.splice(0)) out.push(d.bytes); };
  return { a, b, clock, peerOfA, peerOfB, delivered, pump, drop: () => { dropping = true; }, take };
}

function configureDirect(a: Device, b: Device): void {
  const keyA = privateKey(31), keyB = privateKey(32);
  const pubA = publicKeyFromPrivate(keyA), pubB = publicKeyFromPrivate(keyB);
  a.applyChange({ privateKey: keyA, replacePeers: false, peers: [peerChange(pubB, { address: '192.0.2.2', port: 51820 }, '10.9.0.2/32')] });
  b.applyChange({ privateKey: keyB, replacePeers: false, peers: [peerChange(pubA, { address: '192.0.2.1', port: 51820 }, '10.9.0.1/32')] });
}

function handshakes(n: number, timed = false): Record<string, number> {
  const link = memoryLink(configureDirect);
  const t0 = os.now();
  for (let i = 0; i < n; i++) {
    link.clock.t += 200_000; // past REJECT_AFTER_TIME: every round is a fresh handshake
    const before = link.peerOfA.keypairs.current;
    link.a.forceRekey();
    link.pump();
    const kp = link.peerOfA.keypairs.current;
    const confirmed = link.peerOfB.keypairs.current;
    if (!kp || kp === before || !confirmed || (confirmed.localIndex >>> 0) !== (kp.remoteIndex >>> 0)) fail(`handshake ${i + 1} did not complete`);
  }
  const ms = os.now() - t0;
  link.a.close();
  link.b.close();
  return timed ? { handshakes: n, ms_per_handshake: Number((ms / n).toFixed(3)) } : { handshakes: n };
}

/** From a configuration text (as `wg set` sends it) to the first data packet delivered on the other side. */
function coldStart(): Record<string, number> {
  const keyA = privateKey(41), keyB = privateKey(42);
  const pubA = publicKeyFromPrivate(keyA), pubB = publicKeyFromPrivate(keyB);
  const config = (key: Uint8Array, peer: Uint8Array, endpoint: string, allowed: string) =>
    `private_key=${toHex(key)}\nlisten_port=51820\npublic_key=${toHex(peer)}\nendpoint=${endpoint}\nallowed_ip=${allowed}\n`;
  const apply = (d: Device, text: string) => {
    const r = parseUapiSet(text);
    if (!('change' in r)) fail(r.message);
    d.applyChange(r.change);
  };
  const link = memoryLink((a, b) => {
    apply(a, config(keyA, pubB, '192.0.2.2:51820', '10.9.0.2/32'));
    apply(b, config(keyB, pubA, '192.0.2.1:51820', '10.9.0.1/32'));
  });
  const packet = new Uint8Array(TUN_HEADROOM + PACKET + 32);
  writeIpv4(packet, TUN_HEADROOM, 1, 2, 3);
  link.a.sendPacket(packet, TUN_HEADROOM, PACKET);
  link.pump();
  if (link.delivered.count !== 1) fail('the first packet was not delivered');
  return { delivered: link.delivered.count };
}

/**
 * The Device alone, no I/O: sendPacket on 32 slots per batch (headroom and
 * tailroom as the Tun leaves them; the 20-byte header is put back before each,
 * since sealing in place overwrote it; headerOnly: that alone), datagrams dropped.
 */
function deviceSend(n: number, headerOnly: boolean): Record<string, number> {
  const link = memoryLink(configureDirect);
  const first = new Uint8Array(TUN_HEADROOM + PACKET + 32);
  writeIpv4(first, TUN_HEADROOM, 1, 2, 0);
  link.a.sendPacket(first, TUN_HEADROOM, PACKET);
  link.pump();
  if (link.delivered.count !== 1) fail('no session');
  link.drop();
  const slot = TUN_HEADROOM + PACKET + 32;
  const ring = new Uint8Array(slot * BATCH);
  for (let i = 0; i < BATCH; i++) writeIpv4(ring, i * slot + TUN_HEADROOM, 1, 2, i);
  const header = ring.slice(TUN_HEADROOM, TUN_HEADROOM + 20);
  const tx0 = link.peerOfA.txBytes;
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < BATCH; i++) {
      const off = i * slot + TUN_HEADROOM;
      ring.set(header, off);
      if (!headerOnly) link.a.sendPacket(ring, off, PACKET);
    }
  }
  const sent = (link.peerOfA.txBytes - tx0) / (PACKET + 32);
  if (!headerOnly && sent !== n * BATCH) fail(`sent ${sent}`);
  return { packets: sent };
}

/** The Device alone: receiveDatagram in place on N of MAX prepared batches of 32 sealed datagrams. */
function deviceReceive(n: number, max: number): Record<string, number> {
  if (n > max) fail('N > MAX');
  const link = memoryLink(configureDirect);
  const first = new Uint8Array(TUN_HEADROOM + PACKET + 32);
  writeIpv4(first, TUN_HEADROOM, 1, 2, 0);
  link.a.sendPacket(first, TUN_HEADROOM, PACKET);
  link.pump();
  if (link.delivered.count !== 1) fail('no session');
  const outbox: Uint8Array[] = [];
  const epB: Endpoint = { address: '192.0.2.2', port: 51820 };
  // B seals MAX × 32 packets; the link's queue holds them until taken here.
  const ip = new Uint8Array(PACKET);
  const slot = PACKET + 32;
  const wire = new Uint8Array(max * BATCH * slot);
  for (let k = 0; k < max * BATCH; k++) {
    writeIpv4(ip, 0, 2, 1, k);
    link.b.sendPacket(ip, 0, PACKET);
  }
  link.take(outbox);
  if (outbox.length !== max * BATCH) fail(`B sealed ${outbox.length}`);
  for (let k = 0; k < outbox.length; k++) wire.set(outbox[k]!, k * slot);
  link.drop();
  const before = link.delivered.count;
  for (let k = 0; k < n * BATCH; k++) link.a.receiveDatagram(wire, k * slot, slot, epB);
  const got = link.delivered.count - before;
  if (got !== n * BATCH) fail(`delivered ${got}`);
  return { packets: got };
}

/**
 * Single steps of the data path, N times each, to find where the overhead
 * goes (bench/insns.mjs --micro). The session comes from a real handshake.
 */
function micro(name: string, n: number): Record<string, number> {
  const link = memoryLink(configureDirect);
  const first = new Uint8Array(TUN_HEADROOM + PACKET + 32);
  writeIpv4(first, TUN_HEADROOM, 1, 2, 0);
  link.a.sendPacket(first, TUN_HEADROOM, PACKET);
  link.pump();
  link.drop();
  const peer = link.peerOfA;
  const kp = peer.keypairs.current!;
  const a = link.a;
  const buf = first;
  const key = kp.sendKey;
  let sink = 0;
  const metaQueue = new Int32Array(META * BATCH), metaOne = new Int32Array(META);
  const nullFd = name === 'tunWrite-devnull' ? os.open('/dev/null', os.O_RDWR) : -1;
  const steps: Record<string, () => void> = {
    nothing: () => {},
    'os.now': () => { sink += os.now() > 0 ? 1 : 0; },
    'clock.now': () => { sink += a.clock.now() > 0 ? 1 : 0; },
    ipVersion: () => { sink += ipVersion(buf, TUN_HEADROOM, PACKET); },
    lookup: () => { if (a.allowedIps.lookup(buf, TUN_HEADROOM + 16, 4) === peer) sink++; },
    canSend: () => { if (kp.canSend(1000)) sink++; },
    header: () => { writeTransportHeader(buf, 0, kp.remoteIndex, 12345); },
    'fill-empty': () => { buf.fill(0, 100, 100); },
    'seal-0': () => { native.aeadSeal(key, 1, 0, null, buf, TUN_HEADROOM, 0); },
    'aead.seal-0': () => { a.aead.seal(key, 1, null, buf, TUN_HEADROOM, 0, buf, TUN_HEADROOM); },
    timersSent: () => { peer.timers.anyAuthenticatedPacketTraversal(); peer.timers.anyAuthenticatedPacketSent(); peer.timers.dataSent(); },
    timersReceived: () => { peer.timers.anyAuthenticatedPacketTraversal(); peer.timers.anyAuthenticatedPacketReceived(); peer.timers.dataReceived(); },
    txBytes: () => { peer.txBytes += PACKET; },
    replay: () => { sink += kp.replay.check(sink + 1000) ? 1 : 0; },
    indices: () => { if (a.indices.get(kp.localIndex)) sink++; },
    readCounter: () => { sink += readCounter(buf, 8); },
    messageType: () => { sink += messageType(buf, 0, PACKET); },
    canReceive: () => { if (kp.canReceive(1000)) sink++; },
    receivedWith: () => { if (peer.keypairs.receivedWith(kp)) sink++; },
    timersReceived1: () => { peer.timers.authenticatedPacketReceived(true); },
    timersSent1: () => { peer.timers.authenticatedPacketSent(true); },
    ipTotalLength: () => { sink += ipTotalLength(buf, TUN_HEADROOM, PACKET); },
    'open-0': () => { native.aeadOpen(key, 1, 0, null, buf, TUN_HEADROOM, 16); },
    'device.receiveDatagram-short': () => { a.receiveDatagram(buf, 0, 3, peer.endpoint!); },
    'stats.invalid++': () => { a.stats.invalid++; },
    'peer.endpoint=': () => { peer.endpoint = peer.endpoint; },
    'buf.length': () => { sink += buf.length; },
    'meta.set': () => { metaQueue.set(metaOne, 12); },
    'meta-copy-unrolled': () => {
      const q = metaQueue, m = metaOne, at = 12;
      q[at + 1] = m[1]!; q[at + 2] = m[2]!; q[at + 3] = m[3]!; q[at + 4] = m[4]!; q[at + 5] = m[5]!; q[at + 6] = m[6]!;
      q[at + 7] = m[7]!; q[at + 8] = m[8]!; q[at + 9] = m[9]!; q[at + 10] = m[10]!; q[at + 11] = m[11]!;
    },
    'tunWrite-devnull': () => { native.tunWrite(nullFd, buf, 0, 100); },
    'int<2^52': () => { if (kp.sendCounter < 2 ** 52) sink++; },
    'now-created<180000': () => { if (os.now() - kp.createdAt < 180_000) sink++; },
    'keepKeyFreshSending': () => { keepKeyFreshSending(a, peer, kp); },
    'paddingFor': () => { sink += paddingFor(PACKET, 1420); },
    'sendPacket-noroute': () => { a.sendPacket(buf, 0, 0); },
  };
  const step = steps[name] ?? fail(`unknown step ${name}; known: ${Object.keys(steps).join(' ')}`);
  for (let i = 0; i < n; i++) step();
  return { sink: sink > -1 ? 0 : 1 };
}

// ---------------------------------------------------------------- allowed IPs at scale

const SCALE_PEERS = 10_000;
const PREFIXES_PER_PEER = 5;
const LOOKUP_TABLE = 4096;

/**
 * 10,000 peers × 5 prefixes: an IPv4 /32 and a /24 in 10.0.0.0/8, an IPv4
 * prefix of 24..28 bits in 11-210.x.x.x, an IPv6 /128 and a /64 in fd00::/8. The
 * addresses looked up are 4096 of the peers' /32 or /128 hosts (every lookup
 * hits, at the deepest node).
 */
function scaleTable(family: 4 | 6): { table: AllowedIps<object>; addrs: Uint8Array } {
  const table = new AllowedIps<object>();
  const rnd = seededRandom(99);
  const b = new Uint8Array(8);
  const width = family === 4 ? 4 : 16;
  const hosts = new Uint8Array(SCALE_PEERS * width);
  for (let p = 0; p < SCALE_PEERS; p++) {
    const peer = { p };
    rnd(b);
    const hi = (p >> 8) & 255, lo = p & 255;
    const host4 = [10, hi, lo, 1 + (b[0]! % 254)];
    const host6 = `fd00:${hi.toString(16)}:${lo.toString(16)}::${(b[5]! + 1).toString(16)}`;
    table.insert(parseCidr(`${host4.join('.')}/32`)!, peer);
    table.insert(parseCidr(`10.${128 + (hi & 127)}.${lo}.0/24`)!, peer);
    table.insert(parseCidr(`${11 + (p % 200)}.${(p / 200) | 0}.${b[3]! & 0xf0}.0/${24 + (b[4]! % 5)}`)!, peer);
    table.insert(parseCidr(`${host6}/128`)!, peer);
    table.insert(parseCidr(`fd01:${hi.toString(16)}:${lo.toString(16)}:${b[6]!.toString(16)}::/64`)!, peer);
    hosts.set(family === 4 ? host4 : parseCidr(`${host6}/128`)!.address, p * width);
  }
  if (table.size !== SCALE_PEERS * PREFIXES_PER_PEER) fail(`table has ${table.size} prefixes`);
  const addrs = new Uint8Array(LOOKUP_TABLE * width);
  const pick = seededRandom(7);
  for (let i = 0; i < LOOKUP_TABLE; i++) {
    pick(b);
    const p = ((b[0]! << 8) | b[1]!) % SCALE_PEERS;
    addrs.set(hosts.subarray(p * width, (p + 1) * width), i * width);
  }
  return { table, addrs };
}

function lookups(n: number, family: 4 | 6): Record<string, number> {
  const { table, addrs } = scaleTable(family);
  const width = family === 4 ? 4 : 16;
  let found = 0;
  for (let i = 0; i < n; i++) {
    if (table.lookup(addrs, (i & (LOOKUP_TABLE - 1)) * width, family) !== undefined) found++;
  }
  return { lookups: n, found, prefixes: table.size };
}

function lookupTime(n: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const family of [4, 6] as const) {
    const { table, addrs } = scaleTable(family);
    const width = family === 4 ? 4 : 16;
    let found = 0;
    const t0 = os.now();
    for (let i = 0; i < n; i++) {
      if (table.lookup(addrs, (i & (LOOKUP_TABLE - 1)) * width, family) !== undefined) found++;
    }
    const ms = os.now() - t0;
    out[`ipv${family}_ns_per_lookup`] = Math.round((ms * 1e6) / n);
    out[`ipv${family}_found`] = found;
  }
  return out;
}

// ---------------------------------------------------------------- main

const [, mode = 'empty', nArg = '1', maxArg] = scriptArgs;
const n = Number(nArg);
if (!Number.isInteger(n) || n < 0) fail(`bad N ${nArg}`);
const max = maxArg === undefined ? n : Number(maxArg);
let result: Record<string, number>;
switch (mode) {
  case 'empty': result = {}; break;
  case 'seal': result = aeadLoop(n, false); break;
  case 'open': result = aeadLoop(n, true); break;
  case 'send': result = sendPath(n, false); break;
  case 'send-feed': result = sendPath(n, true); break;
  case 'recv': result = receivePath(n, max, false); break;
  case 'recv-feed': result = receivePath(n, max, true); break;
  case 'send-device': result = deviceSend(n, false); break;
  case 'send-device-feed': result = deviceSend(n, true); break;
  case 'recv-device': result = deviceReceive(n, max); break;
  case 'micro': result = micro(maxArg ?? 'nothing', n); break;
  case 'handshake': result = handshakes(n); break;
  case 'handshake-time': result = handshakes(n, true); break;
  case 'coldstart': result = coldStart(); break;
  case 'lookup4': result = lookups(n, 4); break;
  case 'lookup6': result = lookups(n, 6); break;
  case 'lookup-time': result = lookupTime(n); break;
  default: fail(`unknown mode ${mode}`);
}
print(JSON.stringify({ mode, n, ...result }));
std.out.flush();
std.exit(0); // nothing is left for the event loop to do
