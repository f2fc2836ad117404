// The long run: two real Devices on a VirtualClock and VirtualNetwork
// (test/helpers), driven through hours of protocol time with one numbered
// packet each way every virtual second. It counts handshakes and session
// rotations and checks that every packet arrives exactly once, in the second
// it was sent (no session loss, nothing lost at a rotation). Pure: it runs on
// Node and, bundled, on QuickJS; the caller measures memory at each sample.
import type { Keypair } from '../../src/protocol/keypair.js';
import { makePair, send, sequenceOf, INITIATION } from '../../test/helpers/lifecycle.js';

export interface SoakSample {
  /** virtual hours elapsed */
  hour: number;
  /** filled by the caller's probe: bytes (Node heap after gc, or QuickJS RSS) */
  memory: number;
  /** entries the devices hold: receiver indices, armed timers, staged packets (must stay flat) */
  entries: number;
}

export interface SoakResult {
  hours: number;
  packetsSent: number;
  packetsDelivered: number;
  /** packets that arrived late (not in the second they were sent), twice, or never */
  late: number;
  duplicates: number;
  missing: number;
  /** initiations sent by either side */
  handshakes: number;
  /** times a side's current session changed */
  rotations: number;
  /** seconds in which a session rotated, and how many of them delivered both packets exactly once */
  rotationSeconds: number;
  cleanRotationSeconds: number;
  samples: SoakSample[];
  /** first problems seen, for the report */
  problems: string[];
}

/**
 * Runs `hours` of protocol time. `probe` is called at the start and after
 * every virtual hour with the network drained and the per-second records
 * cleared, so only the devices' own state remains to measure.
 */
export function runSoak(hours: number, probe: () => number, seed = 1): SoakResult {
  const pair = makePair(seed);
  const result: SoakResult = {
    hours, packetsSent: 0, packetsDelivered: 0, late: 0, duplicates: 0, missing: 0, handshakes: 0, rotations: 0,
    rotationSeconds: 0, cleanRotationSeconds: 0, samples: [], problems: [],
  };
  const problem = (text: string) => { if (result.problems.length < 10) result.problems.push(text); };
  let current: [Keypair | null, Keypair | null] = [null, null];
  let seq = 0;
  const clearRecords = () => {
    pair.sent.length = 0;
    pair.net.log.length = 0;
    pair.logs.length = 0;
    pair.a.delivered.length = 0;
    pair.b.delivered.length = 0;
  };
  const entries = () => pair.a.device.indices.size + pair.b.device.indices.size + pair.clock.pendingCount +
    pair.pa.staged.length + pair.pb.staged.length;
  result.samples.push({ hour: 0, memory: probe(), entries: entries() });

  const seconds = hours * 3600;
  for (let s = 0; s < seconds; s++) {
    const sentA = seq++;
    const sentB = seq++;
    // Half a second apart: two data-triggered initiations in the very same virtual instant cross each
    // other on this zero-latency network and (as in the kernel) both are dropped, again and again.
    send(pair, 'a', sentA);
    pair.net.run(500);
    send(pair, 'b', sentB);
    pair.net.run(500);
    result.packetsSent += 2;
    const problemsBefore = result.missing + result.duplicates + result.late;
    for (const [node, want] of [[pair.b, sentA], [pair.a, sentB]] as const) {
      const got = node.delivered.map(sequenceOf);
      result.packetsDelivered += got.length;
      const hits = got.filter((x) => x === want).length;
      if (hits === 0) { result.missing++; problem(`second ${s}: packet ${want} to ${node.name} not delivered in its second`); }
      if (hits > 1) { result.duplicates += hits - 1; problem(`second ${s}: packet ${want} delivered ${hits} times`); }
      const others = got.filter((x) => x !== want).length;
      if (others > 0) { result.late += others; problem(`second ${s}: ${others} late packet(s) at ${node.name}`); }
    }
    for (const sent of pair.sent) if (sent.type === INITIATION) result.handshakes++;
    const now: [Keypair | null, Keypair | null] = [pair.pa.keypairs.current, pair.pb.keypairs.current];
    let rotated = false;
    for (let i = 0; i < 2; i++) {
      if (now[i] !== current[i]) {
        if (current[i] !== null) { result.rotations++; rotated = true; }
        current[i] = now[i];
      }
    }
    if (rotated) {
      result.rotationSeconds++;
      if (result.missing + result.duplicates + result.late === problemsBefore) result.cleanRotationSeconds++;
    }
    clearRecords();
    if ((s + 1) % 3600 === 0) result.samples.push({ hour: (s + 1) / 3600, memory: probe(), entries: entries() });
  }
  return result;
}

/**
 * Growth of memory over the run, ignoring the first `warmupHours` (caches,
 * JIT, tables filling up): the last sample minus the smallest after warm-up,
 * and the least-squares slope in bytes per hour over the same samples.
 */
export function memoryTrend(samples: SoakSample[], warmupHours = 1): { growth: number; slopePerHour: number } {
  const s = samples.filter((x) => x.hour >= warmupHours);
  if (s.length < 2) return { growth: 0, slopePerHour: 0 };
  const growth = s[s.length - 1]!.memory - Math.min(...s.map((x) => x.memory));
  const mx = s.reduce((a, x) => a + x.hour, 0) / s.length;
  const my = s.reduce((a, x) => a + x.memory, 0) / s.length;
  let num = 0;
  let den = 0;
  for (const x of s) { num += (x.hour - mx) * (x.memory - my); den += (x.hour - mx) ** 2; }
  return { growth, slopePerHour: den === 0 ? 0 : num / den };
}
