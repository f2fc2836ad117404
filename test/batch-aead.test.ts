// BatchAead (src/crypto/batch-aead.ts): the device seals and opens one packet
// at a time while the runtime runs each batch's crypto together (natively on
// several cores, see native/aead_batch.c). Here: the pure TypeScript path on
// two real Devices driven the way UdpBinding drives them, the safety rules
// (nothing unsealed leaves, a result never outlives its batch or its key),
// and the native batch against the twin on QuickJS.
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createJsAead, TAG_LEN } from '../src/crypto/aead.js';
import { BatchAead } from '../src/crypto/batch-aead.js';
import type { Endpoint } from '../src/platform/platform.js';
import { readCounter } from '../src/protocol/messages.js';
import { bundleForQuickjs } from './helpers/qjs-bundle.mjs';
import { numbered, sequenceOf } from './helpers/lifecycle.js';
import { type Datagram, type Node, seededRandom, VirtualClock, VirtualNetwork } from './helpers/virtual.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SLOT = 1536;
const HEADROOM = 16;
const BATCH = 32;

interface BatchNode {
  node: Node;
  aead: BatchAead;
  /** Datagrams handed to sendUdp from the batch buffer: not copied until the batch is flushed. */
  pending: { buf: Uint8Array; off: number; len: number; to: Endpoint; plainAtSend: Uint8Array }[];
  batchBuf: Uint8Array | null;
}

function makeNodes(): { net: VirtualNetwork; a: BatchNode; b: BatchNode } {
  const clock = new VirtualClock();
  const net = new VirtualNetwork(clock, seededRandom(7));
  const make = (name: string, address: string): BatchNode => {
    const aead = new BatchAead(createJsAead(), null, BATCH);
    const self: BatchNode = { node: null as unknown as Node, aead, pending: [], batchBuf: null };
    const endpoint: Endpoint = { address, port: 51820 };
    self.node = net.addNode(name, address, 51820, {
      aead,
      sendUdp: (buf, off, len, to) => {
        if (buf === self.batchBuf) {
          self.pending.push({ buf, off, len, to, plainAtSend: buf.slice(off + HEADROOM, off + len - TAG_LEN) });
          return;
        }
        const d = { from: endpoint, to, data: buf.slice(off, off + len) };
        net.log.push(d);
        net.queue.push(d);
      },
    });
    return self;
  };
  const a = make('a', '192.0.2.1');
  const b = make('b', '192.0.2.2');
  net.pair(a.node, ['10.0.0.1/32'], b.node, ['10.0.0.2/32']);
  return { net, a, b };
}

/** What Tun.drain + UdpBinding do for one batch read from the TUN: seal in place, flush, then send. */
function sendBatch(net: VirtualNetwork, from: BatchNode, packets: Uint8Array[]): Datagram[] {
  const ring = new Uint8Array(SLOT * BATCH);
  from.batchBuf = ring;
  from.aead.beginSeals(ring);
  packets.forEach((p, i) => {
    ring.set(p, i * SLOT + HEADROOM);
    from.node.device.sendPacket(ring, i * SLOT + HEADROOM, p.length);
  });
  from.aead.flushSeals();
  from.batchBuf = null;
  const out = from.pending.map(({ buf, off, len, to }) => ({ from: from.node.endpoint, to, data: buf.slice(off, off + len) }));
  for (const d of out) net.queue.push(d);
  return out;
}

/** What UdpBinding.drain does with a received batch: open ahead, then hand each datagram to the device. */
function receiveBatch(to: BatchNode, datagrams: Datagram[]): void {
  const ring = new Uint8Array(SLOT * BATCH);
  const { aead, node } = to;
  aead.endOpens();
  datagrams.forEach((d, i) => {
    ring.set(d.data, i * SLOT);
    const key = node.device.receiveKeyFor(ring, i * SLOT, d.data.length);
    if (key) aead.prepareOpen(key, readCounter(ring, i * SLOT + 8), ring, i * SLOT + 16, d.data.length - 16);
  });
  aead.runOpens();
  datagrams.forEach((d, i) => node.device.receiveDatagram(ring, i * SLOT, d.data.length, d.from));
  aead.endOpens();
}

function established(t: Test) {
  const nodes = makeNodes();
  const { net, a } = nodes;
  const first = numbered('10.0.0.1', '10.0.0.2', 0);
  a.node.device.sendPacket(first, 0, first.length); // staged: no session yet
  net.deliver();
  a.pending.length = 0;
  t.ok(a.node.device.peerByKey(nodes.b.node.publicKey)?.keypairs.current, 'session up');
  return nodes;
}

t.test('a batch sealed together and opened together arrives whole and in order', async (t) => {
  const { net, a, b } = established(t);
  const before = b.node.delivered.length;
  const packets = Array.from({ length: BATCH }, (_, i) => numbered('10.0.0.1', '10.0.0.2', 100 + i, 40 + i * 37));
  const wire = sendBatch(net, a, packets);
  net.queue.length = 0;
  t.equal(wire.length, BATCH, 'one datagram per packet');
  t.ok(a.pending.every((p, i) => p.plainAtSend.subarray(0, packets[i]!.length).every((v, j) => v === packets[i]![j])),
    'at sendUdp time the bytes were still plaintext: only the flush seals them, so the runtime must send after it');
  t.ok(wire.every((d, i) => !d.data.subarray(HEADROOM, HEADROOM + 20).every((v, j) => v === packets[i]![j])),
    'after the flush every datagram is ciphertext');
  receiveBatch(b, wire);
  t.same(b.node.delivered.slice(before).map(sequenceOf), packets.map(sequenceOf), 'all delivered, in order');
  t.ok(b.node.delivered.slice(before).every((p, i) => p.length === packets[i]!.length && p.every((v, j) => v === packets[i]![j])),
    'byte for byte');
});

t.test('a device with a plain Aead opens what the batch sealed, and the other way round', async (t) => {
  const { net, a, b } = established(t);
  const packets = Array.from({ length: 5 }, (_, i) => numbered('10.0.0.1', '10.0.0.2', 200 + i));
  const wire = sendBatch(net, a, packets);
  net.queue.length = 0;
  // b opens one at a time without preparing: BatchAead falls through to the wrapped Aead.
  const before = b.node.delivered.length;
  for (const d of wire) {
    const copy = d.data.slice();
    b.node.device.receiveDatagram(copy, 0, copy.length, d.from);
  }
  t.same(b.node.delivered.slice(before).map(sequenceOf), [200, 201, 202, 203, 204]);
  // b sends outside a batch (no beginSeals): sealed at once, as a plain Aead does.
  const reply = numbered('10.0.0.2', '10.0.0.1', 300);
  b.node.device.sendPacket(reply, 0, reply.length);
  const out = net.queue.splice(0);
  t.equal(out.length, 1);
  receiveBatch(a, out);
  t.same(a.node.delivered.map(sequenceOf).slice(-1), [300]);
});

t.test('in a received batch: a duplicate is delivered once, a forgery never, and both count as invalid', async (t) => {
  const { net, a, b } = established(t);
  const wire = sendBatch(net, a, [numbered('10.0.0.1', '10.0.0.2', 400), numbered('10.0.0.1', '10.0.0.2', 401)]);
  net.queue.length = 0;
  const forged = { ...wire[1]!, data: wire[1]!.data.slice() };
  forged.data[40] ^= 1;
  const invalid = b.node.device.stats.invalid;
  const before = b.node.delivered.length;
  receiveBatch(b, [wire[0]!, wire[0]!, forged, wire[1]!]);
  t.same(b.node.delivered.slice(before).map(sequenceOf), [400, 401]);
  t.equal(b.node.device.stats.invalid - invalid, 2, 'the duplicate and the forgery');
});

t.test('a result belongs to its batch and its key only', async (t) => {
  const js = createJsAead();
  const aead = new BatchAead(js, null, 4);
  const key = new Uint8Array(32).fill(9);
  const ring = new Uint8Array(256);
  ring.fill(5, 0, 100);
  js.seal(key, 77, null, ring, 0, 100, ring, 0);
  const sealed = ring.slice(0, 100 + TAG_LEN);

  aead.prepareOpen(key, 77, ring, 0, 100 + TAG_LEN);
  aead.runOpens();
  t.equal(aead.open(key, 77, null, ring, 0, 100 + TAG_LEN, ring, 0), 100, 'the prepared result');
  t.ok(ring.subarray(0, 100).every((v) => v === 5), 'plaintext in place');

  // Same slot, same header, different bytes, after the batch ended: opened afresh, refused.
  ring.set(sealed);
  ring[3] ^= 1;
  aead.endOpens();
  t.equal(aead.open(key, 77, null, ring, 0, 100 + TAG_LEN, ring, 0), -1, 'no stale result after endOpens');

  // A counter or key other than the prepared one is not matched.
  ring.set(sealed);
  aead.prepareOpen(key, 77, ring, 0, 100 + TAG_LEN);
  aead.runOpens();
  t.equal(aead.open(key, 78, null, ring, 0, 100 + TAG_LEN, ring, 0), -1, 'other counter: opened afresh (the bytes are plaintext by now), refused');
  aead.endOpens();
  ring.set(sealed);
  aead.prepareOpen(key, 77, ring, 0, 100 + TAG_LEN);
  aead.runOpens();
  key.fill(0); // the keypair expired and was wiped in between
  t.equal(aead.open(key, 77, null, ring, 0, 100 + TAG_LEN, ring, 0), -1, 'a wiped key gets no prepared result');
  aead.endOpens();

  // Seals beyond the capacity, or outside the batch buffer, happen at once.
  const batch = new Uint8Array(64 * 8), other = new Uint8Array(64);
  aead.beginSeals(batch);
  for (let i = 0; i < 5; i++) aead.seal(key, i, null, batch, i * 64, 20, batch, i * 64);
  aead.seal(key, 9, null, other, 0, 20, other, 0);
  t.ok(batch.subarray(4 * 64, 4 * 64 + 36).some((v) => v !== 0), 'the fifth seal (capacity 4) ran at once');
  t.ok(batch.subarray(0, 36).every((v) => v === 0), 'the first four wait for the flush');
  t.ok(other.subarray(0, 36).some((v) => v !== 0), 'a seal outside the batch buffer ran at once');
  aead.flushSeals();
  const want = new Uint8Array(36);
  js.seal(key, 0, null, new Uint8Array(20), 0, 20, want, 0);
  t.same(batch.subarray(0, 36), want, 'flushed: the same bytes as sealing alone');
});

t.test('native aeadBatch on 1, 2 and 4 threads equals the twin (QuickJS, x86_64)', async (t) => {
  const wgtsJs = join(root, 'dist/x86_64/wgts-js');
  if (!existsSync(wgtsJs)) {
    const r = spawnSync(process.execPath, [join(root, 'build/build.mjs'), '--runner-only'], { encoding: 'utf8', timeout: 840_000 });
    t.equal(r.status, 0, 'build wgts-js', { output: `${r.stdout}${r.stderr}`.slice(-2000) });
  }
  const dir = join(root, '.cache/batch-aead');
  mkdirSync(dir, { recursive: true });
  const program = await bundleForQuickjs(join(root, 'test/quickjs/batch-aead-compare.ts'), join(dir, 'batch-aead-compare.mjs'));
  const r = spawnSync(wgtsJs, [program, '90', '20261122'], { encoding: 'utf8', timeout: 280_000 });
  t.equal(r.status, 0, 'wgts-js exits 0', { output: `${r.stdout}${r.stderr}`.slice(-2000) });
  const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
  const result = line ? JSON.parse(line) as { rounds: number; checks: number; failures: string[] } : null;
  t.equal(result?.rounds, 90);
  t.ok((result?.checks ?? 0) > 90 * 20, `checks: ${result?.checks}`);
  t.same(result?.failures, [], 'no mismatches');
  const bench = spawnSync(wgtsJs, [program, 'bench'], { encoding: 'utf8', timeout: 120_000 });
  const rates = bench.stdout.split('\n').find((l) => l.startsWith('{'));
  if (rates) t.comment(`batch seal of 32 × 1420 bytes on this machine (report only): ${rates}`);
});
