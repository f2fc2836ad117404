// qemu-system rows: a Debian kernel boots an initramfs (busybox-static, the
// kernel's tun and NIC modules, the cross-built wgts) whose /init
// (guest/init.sh) brings up a wgts tunnel to wireguard-go on the host side.
// Everything of a row lives in a network namespace of its own: wireguard-go,
// the TCP end of the bulk transfers (host-peer.mjs) and QEMU itself, whose
// user networking maps the guest's 10.0.2.2 to the namespace's loopback and
// forwards the namespace's 127.0.0.1:51821/udp to the guest's wgts.
import { createHash, generateKeyPairSync } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { cpioArchive, parentDirs } from './cpio.mjs';
import { CACHE, ROOT, runProcess, userCpu } from './common.mjs';

const HOST_TUN = '10.99.0.1';
const GUEST_TUN = '10.99.0.2';
const WG_PORT = 51820; // wireguard-go in the namespace, and wgts in the guest
const FORWARD_PORT = 51821; // namespace 127.0.0.1:51821/udp → guest :51820

/** The full-system rows: Debian architecture, kernel flavour, QEMU machine and NIC. */
export const SYSTEM_ROWS = {
  mipsel: {
    debarch: 'mipsel', meta: 'linux-image-4kc-malta', qemu: 'qemu-system-mipsel', console: 'ttyS0',
    machine: ['-M', 'malta', '-vga', 'none'], cpu: (bin) => userCpu('mipsel', bin),
    // malta's PCI pcnet; no option ROM is needed to boot a -kernel.
    nic: ['-device', 'pcnet,netdev=n0,romfile='], modules: ['tun', 'pcnet32'],
  },
  armhf: {
    debarch: 'armhf', meta: 'linux-image-armmp', qemu: 'qemu-system-arm', console: 'ttyAMA0',
    // The non-LPAE armmp kernel cannot reach virt's high PCI window: virtio over MMIO.
    machine: ['-M', 'virt,highmem=off'], cpu: () => 'cortex-a7',
    nic: ['-device', 'virtio-net-device,netdev=n0'], modules: ['tun', 'virtio_mmio', 'virtio_net'],
  },
  aarch64: {
    debarch: 'arm64', meta: 'linux-image-arm64', qemu: 'qemu-system-aarch64', console: 'ttyAMA0',
    machine: ['-M', 'virt'], cpu: () => 'cortex-a53',
    nic: ['-device', 'virtio-net-device,netdev=n0'], modules: ['tun', 'virtio_mmio', 'virtio_net'],
  },
};

/** Kernel and busybox from Debian, unpacked under .cache/qemu/<debarch>/root (cached). */
function fetchDebs(row) {
  const r = spawnSync('bash', [join(ROOT, 'test-qemu/fetch-debs.sh'), row.debarch, row.meta], { encoding: 'utf8', maxBuffer: 16 << 20 });
  if (r.status !== 0) throw new Error(`test-qemu/fetch-debs.sh ${row.debarch} failed:\n${r.stderr}${r.stdout}`);
  const [, version] = r.stdout.trim().split('\n').pop().split(' ');
  const root = join(CACHE, row.debarch, 'root');
  const kernel = readdirSync(join(root, 'boot')).find((f) => f.startsWith('vmlinu'));
  return { root, version, kernel: join(root, 'boot', kernel) };
}

/** Module files in load order (dependencies first), from the depmod'ed modules.dep. */
function moduleOrder(modRoot, names) {
  const deps = new Map();
  for (const line of readFileSync(join(modRoot, 'modules.dep'), 'utf8').split('\n')) {
    const [mod, rest] = line.split(':');
    if (mod) deps.set(mod, rest ? rest.trim().split(/\s+/).filter(Boolean) : []);
  }
  const byName = new Map([...deps.keys()].map((p) => [basename(p).replace(/\.ko(\.\w+)?$/, '').replace(/-/g, '_'), p]));
  const order = [];
  for (const name of names) {
    const path = byName.get(name);
    if (!path) continue; // built into this kernel
    for (const p of [...deps.get(path)].reverse().concat(path)) if (!order.includes(p)) order.push(p);
  }
  return order;
}

/** The cached part of the initramfs: busybox, modules and /init. */
function baseImage(row, debs) {
  const modRoot = join(debs.root, 'lib/modules', debs.version);
  const modules = moduleOrder(modRoot, row.modules);
  const init = readFileSync(join(ROOT, 'test-qemu/guest/init.sh'));
  const key = createHash('sha256').update(debs.version).update(modules.join()).update(init).digest('hex').slice(0, 12);
  const file = join(CACHE, row.debarch, `base-${key}.cpio`);
  if (existsSync(file)) return file;
  const files = [
    { path: 'init', mode: 0o100755, data: init },
    { path: 'bin/busybox', mode: 0o100755, data: readFileSync(join(debs.root, 'bin/busybox')) },
    { path: 'bin/sh', mode: 0o120777, target: 'busybox' },
    ...modules.map((m) => ({ path: `modules/${basename(m)}`, mode: 0o100644, data: readFileSync(join(modRoot, m)) })),
    { path: 'modules/order', mode: 0o100644, data: Buffer.from(modules.map((m) => basename(m)).join('\n') + '\n') },
  ];
  const entries = [
    ...parentDirs([...files.map((f) => f.path), 'dev/x', 'proc/x', 'sys/x', 'tmp/x']),
    { path: 'dev/console', mode: 0o020600, rdev: [5, 1] },
    ...files,
  ];
  writeFileSync(`${file}.tmp`, cpioArchive(entries));
  rmSync(file, { force: true });
  writeFileSync(file, readFileSync(`${file}.tmp`));
  rmSync(`${file}.tmp`);
  return file;
}

function x25519Keys() {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  const raw = (k, field) => Buffer.from(k.export({ format: 'jwk' })[field], 'base64url');
  return { priv: raw(privateKey, 'd'), pub: raw(publicKey, 'x') };
}

/** The per-run part: binaries, test bundles for the guest, keys and settings. */
function runImage(arch, dir, { guestKeys, hostPub, bulkBytes, guestTests, uapiClient }) {
  const uapi = [
    `private_key=${guestKeys.priv.toString('hex')}`, `listen_port=${WG_PORT}`, 'replace_peers=true',
    `public_key=${hostPub.toString('hex')}`, `endpoint=10.0.2.2:${WG_PORT}`, `allowed_ip=${HOST_TUN}/32`,
  ].join('\n');
  const files = [
    { path: 'bin/wgts', mode: 0o100755, data: readFileSync(join(ROOT, 'dist', arch, 'wgts')) },
    { path: 'bin/wgts-js', mode: 0o100755, data: readFileSync(join(ROOT, 'dist', arch, 'wgts-js')) },
    { path: 'uapi-client.mjs', mode: 0o100644, data: readFileSync(uapiClient) },
    ...guestTests.map((t) => ({ path: `tests/${basename(t)}`, mode: 0o100644, data: readFileSync(t) })),
    { path: 'etc/wg0.uapi', mode: 0o100600, data: Buffer.from(`${uapi}\n`) },
    { path: 'etc/wgts-test.env', mode: 0o100644, data: Buffer.from(`HOST_TUN=${HOST_TUN}\nGUEST_TUN=${GUEST_TUN}\nBULK_BYTES=${bulkBytes}\n`) },
  ];
  const file = join(dir, 'run.cpio');
  writeFileSync(file, cpioArchive([...parentDirs(files.map((f) => f.path)), ...files]));
  return file;
}

const sh = (argv, timeoutMs = 15_000) => runProcess(argv[0], argv.slice(1), { timeoutMs });

/**
 * One full-system row. Returns { arch, kind: 'system', ok, checks, bootMs,
 * handshakeMs, kernel, consoleTail }.
 */
export async function systemRow(arch, { bulkBytes = 1 << 20, guestTests = [], uapiClient, timeoutMs = 900_000, log = () => {} }) {
  const row = SYSTEM_ROWS[arch];
  const checks = [];
  const check = (name, ok, detail = '') => { checks.push({ name, ok: Boolean(ok), detail }); return Boolean(ok); };
  const result = { arch, kind: 'system', ok: false, checks, bootMs: null, handshakeMs: null, kernel: null, timeline: '', consoleTail: [] };
  const tag = `${process.pid.toString(36)}${Object.keys(SYSTEM_ROWS).indexOf(arch)}`;
  const ns = `wgts-qemu-${arch}-${process.pid}`;
  const ifname = `wq${tag}`;
  const dir = join(CACHE, 'runs', `${arch}-${process.pid}`);
  const children = [];
  const consoleLines = [];
  const consoleMarks = new Map(); // step → [{ at: ms since QEMU started, rest }]

  try {
    const debs = fetchDebs(row);
    result.kernel = debs.version;
    mkdirSync(dir, { recursive: true });
    const guestKeys = x25519Keys();
    const hostKeys = x25519Keys();
    const initrd = join(dir, 'initrd.cpio');
    writeFileSync(initrd, Buffer.concat([readFileSync(baseImage(row, debs)),
      readFileSync(runImage(arch, dir, { guestKeys, hostPub: hostKeys.pub, bulkBytes, guestTests, uapiClient }))]));

    // The namespace, wireguard-go in it (foreground, so it is our child) and its configuration.
    await sh(['ip', 'netns', 'add', ns]);
    await sh(['ip', 'netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
    const wgGo = spawn('ip', ['netns', 'exec', ns, 'wireguard-go', '-f', ifname], { stdio: 'ignore', env: { ...process.env, LOG_LEVEL: 'error' } });
    children.push(wgGo);
    const socket = `/var/run/wireguard/${ifname}.sock`;
    for (let i = 0; i < 100 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 50));
    if (!check('wireguard-go started', existsSync(socket))) return result;
    const keyFile = join(dir, 'host.key');
    writeFileSync(keyFile, `${hostKeys.priv.toString('base64')}\n`, { mode: 0o600 });
    const wgSet = await sh(['ip', 'netns', 'exec', ns, 'wg', 'set', ifname, 'private-key', keyFile, 'listen-port', String(WG_PORT),
      'peer', guestKeys.pub.toString('base64'), 'allowed-ips', `${GUEST_TUN}/32`, 'endpoint', `127.0.0.1:${FORWARD_PORT}`]);
    await sh(['ip', 'netns', 'exec', ns, 'ip', 'addr', 'add', `${HOST_TUN}/24`, 'dev', ifname]);
    await sh(['ip', 'netns', 'exec', ns, 'ip', 'link', 'set', ifname, 'up']);
    if (!check('host peer configured', wgSet.code === 0, wgSet.out)) return result;

    const peer = spawn('ip', ['netns', 'exec', ns, process.execPath, join(ROOT, 'test-qemu/host-peer.mjs'), HOST_TUN, GUEST_TUN], { stdio: ['pipe', 'pipe', 'inherit'] });
    children.push(peer);
    const peerEvents = [];
    let peerWaiter = null;
    peer.stdout.setEncoding('utf8');
    let peerBuf = '';
    peer.stdout.on('data', (c) => {
      peerBuf += c;
      let nl;
      while ((nl = peerBuf.indexOf('\n')) >= 0) {
        const line = peerBuf.slice(0, nl);
        peerBuf = peerBuf.slice(nl + 1);
        try { peerEvents.push(JSON.parse(line)); } catch { /* not ours */ }
        peerWaiter?.();
      }
    });
    const peerEvent = (name, ms) => new Promise((resolve) => {
      const deadline = setTimeout(() => { peerWaiter = null; resolve(null); }, ms);
      peerWaiter = () => {
        const e = peerEvents.find((x) => x.event === name || x.event === 'error');
        if (e) { clearTimeout(deadline); peerWaiter = null; resolve(e); }
      };
      peerWaiter();
    });
    if (!check('host TCP peer listening', await peerEvent('listening', 10_000))) return result;

    // The guest.
    const started = Date.now();
    const qemuArgs = [...row.machine, '-cpu', row.cpu(join(ROOT, 'dist', arch, 'wgts')), '-m', '256', '-smp', '1',
      '-display', 'none', '-monitor', 'none', '-serial', 'stdio', '-no-reboot',
      '-kernel', debs.kernel, '-initrd', initrd, '-append', `console=${row.console} panic=-1 rdinit=/init`,
      '-netdev', `user,id=n0,net=10.0.2.0/24,hostfwd=udp:127.0.0.1:${FORWARD_PORT}-10.0.2.15:${WG_PORT}`, ...row.nic];
    const qemu = spawn('ip', ['netns', 'exec', ns, row.qemu, ...qemuArgs], { stdio: ['pipe', 'pipe', 'pipe'] });
    children.push(qemu);
    qemu.stdin.on('error', () => {});
    const marks = consoleMarks;
    let waiter = null;
    let buf = '';
    const onData = (c) => {
      buf += c;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).replace(/\r/g, '');
        buf = buf.slice(nl + 1);
        consoleLines.push(line);
        if (consoleLines.length > 400) consoleLines.shift();
        const m = /WGTS-QEMU (\S+) ?(.*)$/.exec(line);
        if (m) {
          const list = marks.get(m[1]) ?? [];
          list.push({ at: Date.now() - started, rest: m[2] });
          marks.set(m[1], list);
        }
        waiter?.();
      }
    };
    qemu.stdout.setEncoding('utf8').on('data', onData);
    qemu.stderr.setEncoding('utf8').on('data', onData);
    let exited = false;
    const exitPromise = new Promise((resolve) => qemu.on('close', () => { exited = true; waiter?.(); resolve(); }));
    const deadline = started + timeoutMs;
    const mark = (step) => new Promise((resolve) => {
      const timer = setTimeout(() => { waiter = null; resolve(null); }, Math.max(0, deadline - Date.now()));
      waiter = () => {
        const hit = marks.get(step)?.[0] ?? (marks.has('done') || exited ? null : undefined);
        if (hit !== undefined) { clearTimeout(timer); waiter = null; resolve(hit); }
      };
      waiter();
    });

    const init = await mark('init');
    if (!check('guest boots to /init', init, init ? init.rest : 'no /init')) return result;
    result.bootMs = init.at;
    const network = await mark('network');
    if (!check('tun and NIC modules load, eth0 up', network, (marks.get('warn') ?? []).map((w) => w.rest).join('; '))) return result;
    const configured = await mark('configured');
    if (!check('wgts runs and takes its configuration over UAPI', configured)) return result;

    // Time to first handshake, seen by wireguard-go.
    const hsStart = Date.now();
    const hsPoll = (async () => {
      while (Date.now() < deadline && !exited) {
        const r = await sh(['ip', 'netns', 'exec', ns, 'wg', 'show', ifname, 'latest-handshakes']);
        const secs = Number(r.out.trim().split(/\s+/)[1] ?? 0);
        if (secs > 0) return Date.now() - hsStart;
        await new Promise((res) => setTimeout(res, 100));
      }
      return null;
    })();

    const ping = await mark('ping-host');
    const hs = await mark('handshake');
    result.handshakeMs = await hsPoll;
    for (const t of marks.get('test-pass') ?? []) check(`guest test ${t.rest.split(' ')[0]}`, true, t.rest);
    for (const t of marks.get('test-fail') ?? []) check(`guest test ${t.rest.split(' ')[0]}`, false, t.rest);
    check('guest pings the host through the tunnel', ping && ping.rest.startsWith('ok'), ping?.rest ?? 'no result');
    check('handshake (guest UAPI status and wireguard-go)', hs && result.handshakeMs !== null, `${hs?.rest ?? 'guest saw none'}; wireguard-go after ${result.handshakeMs} ms`);

    const sendMd5 = await mark('send-md5');
    const sent = await mark('sent');
    const received = await peerEvent('received', 60_000);
    check(`guest → host ${bulkBytes} bytes over TCP`, sent && received && received.bytes === bulkBytes && received.md5 === sendMd5?.rest,
      received ? `host got ${received.bytes} bytes, md5 ${received.md5 === sendMd5?.rest ? 'matches' : 'differs'}` : `${marks.get('send-fail')?.[0]?.rest ?? 'nothing received'}`);

    const ready = await mark('ready');
    if (ready) {
      const hostPing = await sh(['ip', 'netns', 'exec', ns, 'ping', '-c', '3', '-W', '5', '-i', '0.3', GUEST_TUN], 30_000);
      check('host pings the guest through the tunnel', hostPing.code === 0, hostPing.out.trim().split('\n').slice(-2).join(' '));
      peer.stdin.write(`send ${bulkBytes} 5002\n`);
      const delivered = await peerEvent('sent', 120_000);
      qemu.stdin.write('finish\n');
      const rx = await mark('rx-md5');
      check(`host → guest ${bulkBytes} bytes over TCP`, delivered && rx && rx.rest.startsWith(`${delivered.md5} bytes=${bulkBytes}`),
        `${rx?.rest ?? 'guest reported nothing'}; host sent md5 ${delivered?.md5 ?? '-'}`);
    } else {
      check('guest ready for the host side', false);
    }
    const status = await mark('status');
    const field = (name) => Number(new RegExp(`${name}=(\\d+)`).exec(status?.rest ?? '')?.[1] ?? NaN);
    check('guest status shows the handshake and the traffic', field('last_handshake_time_sec') > 0 && field('rx_bytes') > bulkBytes && field('tx_bytes') > bulkBytes,
      status?.rest ?? 'no status');
    const done = await mark('done');
    check('guest finishes', done && done.rest === 'ok', done?.rest ?? 'no end');
    await Promise.race([exitPromise, new Promise((r) => setTimeout(r, 10_000))]);
  } catch (e) {
    check('row ran', false, e.message);
  } finally {
    for (const c of children.reverse()) if (c.exitCode === null) c.kill('SIGKILL');
    await sh(['ip', 'netns', 'delete', ns]);
    rmSync(`/var/run/wireguard/${ifname}.sock`, { force: true });
    rmSync(dir, { recursive: true, force: true });
    result.timeline = [...consoleMarks].map(([step, list]) => `${step} ${(list[0].at / 1000).toFixed(1)}`).join(', ');
    result.ok = checks.length > 0 && checks.every((c) => c.ok);
    if (!result.ok) result.consoleTail = consoleLines.slice(-40);
    log(`${arch} system row ${result.ok ? 'passed' : 'FAILED'}`);
  }
  return result;
}
