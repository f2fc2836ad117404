// A UDP relay standing in for a bad network path (this kernel has no
// sch_netem): it sits between a WireGuard daemon and its peer, and can drop,
// delay, reorder and duplicate datagrams per direction, capture them, and
// inject captured ones again later (replay). Plain JavaScript so it runs
// under `ip netns exec ... node` without a TypeScript loader.
//
//   node udp-relay.mjs BIND_ADDR OUTER_PORT INNER_PORT TARGET_ADDR TARGET_PORT PEER_ADDR PEER_PORT SEED
//
// The peer sends to BIND_ADDR:OUTER_PORT; the relay forwards to the target
// (the local daemon) from BIND_ADDR:INNER_PORT, which the daemon must use as
// the peer's endpoint. The peer is first expected at PEER_ADDR:PORT and then
// wherever its datagrams come from, as a NAT would. Direction "in" is peer -> daemon, "out" daemon -> peer.
// Commands are JSON lines on stdin; each gets one JSON line on stdout.
import { createSocket } from 'node:dgram';
import { createInterface } from 'node:readline';

const [bindAddr, outerPort, innerPort, targetAddr, targetPort, peerAddr, peerPort, seedArg] = process.argv.slice(2);
const CAPTURE_LIMIT = 20000;

// Seeded xorshift32: the same seed gives the same impairment pattern.
let seed = (Number(seedArg) >>> 0) || 1;
function random() {
  seed ^= seed << 13; seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5; seed >>>= 0;
  return seed / 4294967296;
}

const clean = () => ({ loss: 0, duplicate: 0, reorder: 0, delayMs: 0, reorderDelayMs: 0 });
const impair = { in: clean(), out: clean() };
const newStats = () => ({ received: 0, forwarded: 0, dropped: 0, duplicated: 0, heldBack: 0, outOfOrder: 0, byType: {}, forwardedByType: {} });
let stats = { in: newStats(), out: newStats(), replayed: 0 };
const sequence = { in: { next: 0, highestSent: -1 }, out: { next: 0, highestSent: -1 } };
let capturing = false;
let captured = [];
let peer = { address: peerAddr, port: Number(peerPort) }; // where the peer's datagrams come from

const outer = createSocket('udp4');
const inner = createSocket('udp4');
const target = { address: targetAddr, port: Number(targetPort) };

function typeOf(buf) {
  return buf.length > 0 ? buf[0] : -1;
}

function bump(map, key) {
  map[key] = (map[key] ?? 0) + 1;
}

function emit(dir, buf, seq) {
  const s = stats[dir];
  const order = sequence[dir];
  if (seq < order.highestSent) s.outOfOrder++;
  else order.highestSent = seq;
  s.forwarded++;
  bump(s.forwardedByType, typeOf(buf));
  if (dir === 'in') inner.send(buf, target.port, target.address);
  else outer.send(buf, peer.port, peer.address);
}

function relay(dir, buf) {
  const s = stats[dir];
  s.received++;
  bump(s.byType, typeOf(buf));
  if (capturing && captured.length < CAPTURE_LIMIT) captured.push({ dir, data: Buffer.from(buf) });
  const p = impair[dir];
  const seq = sequence[dir].next++;
  if (random() < p.loss) { s.dropped++; return; }
  const copies = random() < p.duplicate ? 2 : 1;
  if (copies === 2) s.duplicated++;
  for (let i = 0; i < copies; i++) {
    let delay = p.delayMs;
    if (random() < p.reorder) { delay += p.reorderDelayMs; s.heldBack++; }
    if (delay <= 0) emit(dir, buf, seq);
    else setTimeout(() => emit(dir, buf, seq), delay);
  }
}

outer.on('message', (buf, rinfo) => {
  peer = { address: rinfo.address, port: rinfo.port };
  relay('in', buf);
});
inner.on('message', (buf, rinfo) => {
  if (rinfo.address === target.address && rinfo.port === target.port) relay('out', buf);
});

function handle(cmd) {
  switch (cmd.cmd) {
    case 'impair':
      impair[cmd.dir] = { ...clean(), ...cmd.settings };
      return { impair };
    case 'capture':
      capturing = Boolean(cmd.on);
      if (cmd.clear) captured = [];
      return { capturing, captured: captured.length };
    case 'replay': {
      // Re-sends captured datagrams of one direction (optionally of some message types), unimpaired.
      const picked = captured.filter((c) => c.dir === cmd.dir && (!cmd.types || cmd.types.includes(typeOf(c.data))));
      for (const c of picked) {
        if (c.dir === 'in') inner.send(c.data, target.port, target.address);
        else outer.send(c.data, peer.port, peer.address);
      }
      stats.replayed += picked.length;
      return { replayed: picked.length };
    }
    case 'stats':
      return { stats };
    case 'resetStats':
      stats = { in: newStats(), out: newStats(), replayed: 0 };
      return { ok: true };
    default:
      return { error: `unknown command ${JSON.stringify(cmd.cmd)}` };
  }
}

let bound = 0;
const ready = () => {
  if (++bound === 2) process.stdout.write(JSON.stringify({ ready: true }) + '\n');
};
outer.bind(Number(outerPort), bindAddr, ready);
inner.bind(Number(innerPort), bindAddr, ready);

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  let reply;
  try {
    const cmd = JSON.parse(line);
    reply = { id: cmd.id, ...handle(cmd) };
  } catch (e) {
    reply = { error: String(e) };
  }
  process.stdout.write(JSON.stringify(reply) + '\n');
});
// The test owns us: when it closes our stdin, we are done.
lines.on('close', () => process.exit(0));
