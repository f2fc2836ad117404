// What a wgts that dropped root after start-up could still do, measured:
// tools/privdrop-probe.c opens what wgts opens (TUN, UDP socket, UAPI
// socket in a root-owned 0755 directory), becomes uid/gid 65534 keeping no
// capability or only CAP_NET_ADMIN, and tries each later operation of wgts.
// The expectations below are what docs/SECURITY.md ("Secrets and
// privileges") states; wgts itself does not drop privileges (yet).
import t from 'tap';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNetnsLink, requireInterop, run, uniqueIfname } from '../../test/helpers/netns.js';
import { ROOT } from '../../test/helpers/wgts-binary.js';

async function compileProbe(): Promise<string> {
  const out = join(ROOT, '.cache', 'privdrop-probe');
  const src = join(ROOT, 'test-reliability', 'tools', 'privdrop-probe.c');
  mkdirSync(join(ROOT, '.cache'), { recursive: true });
  try {
    if (statSync(out).mtimeMs >= statSync(src).mtimeMs) return out;
  } catch { /* not built yet */ }
  await run(['gcc', '-O2', '-Wall', '-Wextra', '-o', out, src], { timeoutMs: 60_000 });
  return out;
}

/** operation -> 'ok' or the errno name */
type Outcome = Record<string, string>;

const NEEDS_NOTHING = ['tun_write', 'tun_read', 'udp_send', 'bind_port_40123', 'mtu_get'];

if (requireInterop(t)) {
  const probe = await compileProbe();
  const link = await createNetnsLink({ purpose: 'privdrop' });
  const dir = mkdtempSync(join(tmpdir(), 'wgts-privdrop-'));
  chmodSync(dir, 0o755); // like /var/run/wireguard: root's, readable by all
  t.teardown(async () => {
    await link.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const probeAs = async (mode: 'none' | 'net_admin'): Promise<Outcome> => {
    const r = await link.exec([probe, uniqueIfname('p'), dir, mode]);
    const out: Outcome = {};
    for (const line of r.stdout.trim().split('\n')) {
      const [name, result] = line.split(' ');
      out[name!] = result!;
    }
    return out;
  };

  t.test('no capability left', async (t) => {
    const o = await probeAs('none');
    t.equal(o.uid, '65534', 'running as nobody');
    for (const op of NEEDS_NOTHING) t.equal(o[op], 'ok', `${op}: works unprivileged`);
    t.equal(o.so_mark, 'EPERM', 'fwmark (SO_MARK) needs CAP_NET_ADMIN');
    t.equal(o.bind_port_853, 'EACCES', 'a listen port below 1024 needs CAP_NET_BIND_SERVICE');
    t.equal(o.mtu_set, 'EPERM', 'setting the MTU needs CAP_NET_ADMIN');
    t.equal(o.uapi_connect_as_nobody, 'EACCES', 'the 0600 socket file keeps nobody out, the daemon included');
    t.equal(o.uapi_unlink, 'EACCES', 'removing the socket at exit needs write access to its directory');
  });

  t.test('CAP_NET_ADMIN kept', async (t) => {
    const o = await probeAs('net_admin');
    t.equal(o.uid, '65534', 'running as nobody');
    for (const op of NEEDS_NOTHING) t.equal(o[op], 'ok', `${op}: works`);
    t.equal(o.so_mark, 'ok', 'fwmark works');
    t.equal(o.mtu_set, 'ok', 'MTU changes work');
    t.equal(o.bind_port_853, 'EACCES', 'a port below 1024 still needs CAP_NET_BIND_SERVICE');
    t.equal(o.uapi_unlink, 'EACCES', 'the socket directory is still root\'s');
  });
}
