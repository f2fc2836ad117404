// Memory of the real daemon, idle, with 1 peer and with 1,000 peers (no
// handshakes, no traffic), configured over the UAPI socket: natively on
// x86_64 (VmRSS, VmHWM) and under qemu-user on 32-bit MIPS (the guest's
// resident pages; see guestRssKiB in bench/daemon.mjs). Used by bench/run.mjs (--only memory).
import { daemonMemoryKiB, privateKeyHex, seededBytes, startDaemon, uapiPeerCount, uapiSet } from './daemon.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** `wg set` lines for peers first..first+count-1: one /32 each in 10.64.0.0/10, an endpoint. */
export function peerLines(bytes, first, count) {
  const lines = [];
  for (let p = first; p < first + count; p++) {
    lines.push(`public_key=${bytes(32).toString('hex')}`,
      `endpoint=192.0.2.${1 + (p % 250)}:${20000 + p}`,
      `allowed_ip=10.${64 + (p >> 16)}.${(p >> 8) & 255}.${p & 255}/32`);
  }
  return lines;
}

export async function measureMemory(arch, { log = () => {}, settleMs = 2000 } = {}) {
  const d = await startDaemon(arch, 'm');
  try {
    const bytes = seededBytes(1000);
    await sleep(settleMs);
    const empty = daemonMemoryKiB(d);
    const oneMs = await uapiSet(d.sock, [`private_key=${privateKeyHex(bytes)}`, 'listen_port=0', ...peerLines(bytes, 0, 1)]);
    await sleep(settleMs);
    const one = daemonMemoryKiB(d);
    log(`${arch}: 1 peer: ${one.rss_kib} KiB`);
    const moreMs = await uapiSet(d.sock, peerLines(bytes, 1, 999));
    const peers = await uapiPeerCount(d.sock);
    if (peers !== 1000) throw new Error(`the daemon reports ${peers} peers, want 1000`);
    await sleep(settleMs);
    const thousand = daemonMemoryKiB(d);
    log(`${arch}: 1,000 peers: ${thousand.rss_kib} KiB`);
    return {
      binary: d.binary.slice(d.binary.indexOf('dist/')),
      no_peers: empty, one_peer: one, thousand_peers: thousand,
      per_peer_kib: Number(((thousand.rss_kib - one.rss_kib) / 999).toFixed(2)),
      uapi_set_ms: { one_peer_and_key: Math.round(oneMs), next_999_peers: Math.round(moreMs) },
    };
  } catch (e) {
    throw new Error(`${e.message}\n${d.output().trim().slice(-800)}`);
  } finally {
    await d.stop();
  }
}

export const MEMORY_METHOD = {
  what: 'the real daemon (`wgts -f IFNAME` in its own network namespace, TUN created), configured over its UAPI socket with a private key and peers (one /32 and an endpoint each), no handshake, no traffic; read 2 s after each step',
  x86_64: 'VmRSS and VmHWM of the daemon process',
  qemu_user: 'the guest\'s resident memory: Rss of the emulator\'s mappings inside the 4 GiB window where qemu-user keeps the 32-bit guest\'s address space (guest_base found from where the binary\'s first segment is mapped), i.e. the pages the guest program touched, as VmRSS would count them on the router; everything else in the qemu process (emulator code, translated-code cache) is reported apart as emulator_process_rss_kib. No peak (VmHWM) for the guest alone.',
};
