// Scale: 10,000 peers with 50,000 allowed-IPs prefixes given to the real
// x86_64 daemon in one UAPI `set` through its socket (time, memory after),
// and the allowed-IPs lookup at that size on this machine's QuickJS runtime
// (ns per lookup; the exact MIPS instruction count is in the insns section).
// Used by bench/run.mjs (--only scale).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../test/helpers/qjs-bundle.mjs';
import { daemonMemoryKiB, privateKeyHex, seededBytes, startDaemon, uapi, uapiPeerCount, uapiSet } from './daemon.mjs';

export const SCALE_PEERS = 10_000;

/** The same shape as bench/qjs/costs.ts's table: per peer an IPv4 /32, /24, /24../28, an IPv6 /128 and /64. */
export function scaleLines(bytes, peers = SCALE_PEERS) {
  const lines = [];
  for (let p = 0; p < peers; p++) {
    const b = bytes(40);
    const hi = (p >> 8) & 255, lo = p & 255;
    lines.push(`public_key=${b.subarray(0, 32).toString('hex')}`,
      `allowed_ip=10.${hi}.${lo}.${1 + (b[32] % 254)}/32`,
      `allowed_ip=10.${128 + (hi & 127)}.${lo}.0/24`,
      `allowed_ip=${11 + (p % 200)}.${(p / 200) | 0}.${b[33] & 0xf0}.0/${24 + (b[34] % 5)}`,
      `allowed_ip=fd00:${hi.toString(16)}:${lo.toString(16)}::${(b[35] + 1).toString(16)}/128`,
      `allowed_ip=fd01:${hi.toString(16)}:${lo.toString(16)}:${b[36].toString(16)}::/64`);
  }
  return lines;
}

export async function measureScale({ log = () => {}, bundle = null } = {}) {
  const d = await startDaemon('x86_64', 's');
  let result;
  try {
    const bytes = seededBytes(2000);
    const lines = [`private_key=${privateKeyHex(bytes)}`, 'listen_port=0', ...scaleLines(bytes)];
    const before = daemonMemoryKiB(d);
    const requestBytes = Buffer.byteLength(`set=1\n${lines.join('\n')}\n\n`);
    log(`scale: one UAPI set of ${SCALE_PEERS} peers, ${SCALE_PEERS * 5} prefixes (${(requestBytes / 1e6).toFixed(1)} MB)`);
    const setMs = await uapiSet(d.sock, lines);
    const peers = await uapiPeerCount(d.sock);
    if (peers !== SCALE_PEERS) throw new Error(`the daemon reports ${peers} peers`);
    const prefixCount = ((await uapi(d.sock, 'get=1\n\n')).match(/^allowed_ip=/gm) ?? []).length;
    if (prefixCount !== SCALE_PEERS * 5) throw new Error(`the daemon reports ${prefixCount} prefixes`);
    await new Promise((r) => setTimeout(r, 2000));
    const after = daemonMemoryKiB(d);
    log(`scale: set took ${(setMs / 1000).toFixed(1)} s, RSS ${after.rss_kib} KiB`);
    result = {
      peers, prefixes: prefixCount, request_bytes: requestBytes,
      uapi_set_seconds: Number((setMs / 1000).toFixed(2)),
      uapi_set_us_per_peer: Math.round((setMs * 1000) / SCALE_PEERS),
      rss_before_kib: before.rss_kib, rss_after_kib: after.rss_kib, hwm_after_kib: after.hwm_kib,
      loadavg: readLoad(),
    };
  } catch (e) {
    throw new Error(`${e.message}\n${d.output().trim().slice(-800)}`);
  } finally {
    await d.stop();
  }
  if (bundle) {
    const r = spawnSync('nice', ['-n', '10', join(ROOT, 'dist/x86_64/wgts-js'), bundle, 'lookup-time', '200000'], { encoding: 'utf8', timeout: 600_000 });
    const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
    if (r.status === 0 && line) {
      const t = JSON.parse(line);
      result.lookup_x86_64_quickjs_ns = { ipv4: t.ipv4_ns_per_lookup, ipv6: t.ipv6_ns_per_lookup, loadavg: readLoad() };
    } else {
      result.lookup_x86_64_quickjs_ns = { error: `${r.stderr}${r.stdout}`.slice(-500) };
    }
  }
  return result;
}

function readLoad() {
  return spawnSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).stdout.split(' ').slice(0, 3).map(Number);
}

export const SCALE_METHOD = {
  set: 'one UAPI `set=1` request (private key, 10,000 peers, 50,000 allowed_ip lines) written to the x86_64 daemon\'s socket; time from the first byte written to errno=0 read (wall clock: depends on the machine\'s load, see loadavg); the daemon then reports every peer and prefix back through `get=1`',
  memory: 'VmRSS/VmHWM of the daemon 2 s after the set',
  lookup: 'wgts-js on x86_64, bench/qjs/costs.ts lookup-time: 200,000 lookups of the peers\' /32 and /128 hosts in the same 50,000-prefix table, wall clock per lookup (noisy on a loaded machine)',
};
