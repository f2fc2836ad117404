// The OpenWrt packages from build/ipk.mjs, checked with standard tools: tar
// and gzip unpack them, `file`/`readelf` judge the executables, qemu-user runs
// each one on the CPU model of its OpenWrt target, busybox sh (the router's
// ash) parses and runs the maintainer scripts. Builds the executables that
// dist/ lacks (all six arches take many minutes the first time).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

interface Target {
  owrt: string;
  /** what `file` says about the executable */
  file: RegExp;
  elfClass: 'ELF32' | 'ELF64';
  endian: 'little endian' | 'big endian';
  machine: string;
  /** qemu-user and the CPU model of the OpenWrt target (null: the host runs it) */
  qemu: [string, string] | null;
}

// The OpenWrt package architectures are the spec here, not copied from build/ipk.mjs.
const TARGETS: Record<string, Target> = {
  x86_64: { owrt: 'x86_64', file: /ELF 64-bit LSB .*x86-64/, elfClass: 'ELF64', endian: 'little endian', machine: 'Advanced Micro Devices X86-64', qemu: null },
  mips: { owrt: 'mips_24kc', file: /ELF 32-bit MSB .*MIPS, MIPS32 rel2/, elfClass: 'ELF32', endian: 'big endian', machine: 'MIPS R3000', qemu: ['qemu-mips-static', '24Kc'] },
  mipsel: { owrt: 'mipsel_24kc', file: /ELF 32-bit LSB .*MIPS, MIPS32 rel2/, elfClass: 'ELF32', endian: 'little endian', machine: 'MIPS R3000', qemu: ['qemu-mipsel-static', '24Kc'] },
  armel: { owrt: 'arm_arm926ej-s', file: /ELF 32-bit LSB .*ARM, EABI5/, elfClass: 'ELF32', endian: 'little endian', machine: 'ARM', qemu: ['qemu-arm-static', 'arm926'] },
  armhf: { owrt: 'arm_cortex-a7_neon-vfpv4', file: /ELF 32-bit LSB .*ARM, EABI5/, elfClass: 'ELF32', endian: 'little endian', machine: 'ARM', qemu: ['qemu-arm-static', 'cortex-a7'] },
  aarch64: { owrt: 'aarch64_cortex-a53', file: /ELF 64-bit LSB .*ARM aarch64/, elfClass: 'ELF64', endian: 'little endian', machine: 'AArch64', qemu: ['qemu-aarch64-static', 'cortex-a53'] },
};

interface Run { status: number | null; stdout: string; stderr: string }
function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {}): Run {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, timeout: opts.timeout ?? 60_000, cwd: opts.cwd, env: opts.env });
  return { status: r.status, stdout: r.stdout ?? '', stderr: `${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}
const sh = (script: string, cwd?: string): Run => run('sh', ['-c', script], { cwd });

const missingTools = ['tar', 'gzip', 'file', 'readelf', 'busybox', 'sha256sum'].filter((c) => sh(`command -v ${c}`).status !== 0);
if (process.platform !== 'linux' || missingTools.length > 0) {
  t.plan(0, `needs Linux and ${missingTools.join(', ')}`);
  process.exit(0);
}

const npmVersion = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
const release = /^PKG_RELEASE:=(\d+)$/m.exec(readFileSync(join(root, 'openwrt/Makefile'), 'utf8'))?.[1];
const version = `${npmVersion}-${release}`;
const epoch = 1_700_000_000;
const work = mkdtempSync(join(tmpdir(), 'wgts-ipk-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

const missingBinaries = Object.keys(TARGETS).filter((a) => !existsSync(join(root, 'dist', a, 'wgts')));
// Cross-building QuickJS (and the soft-float musl) for every arch is slow the first time.
if (missingBinaries.length > 0) t.setTimeout(60 * 60_000);

function buildIpks(out: string): Run {
  return run(process.execPath, [join(root, 'build/ipk.mjs'), '--reuse', '--out', join(out, 'ipk'), '--feed', join(out, 'feed')], {
    cwd: root, env: { ...process.env, SOURCE_DATE_EPOCH: String(epoch) }, timeout: 60 * 60_000,
  });
}

const first = buildIpks(join(work, 'a'));
t.equal(first.status, 0, `build/ipk.mjs exits 0${first.status === 0 ? '' : `\n${first.stderr.slice(-3000)}`}`);
const ipkDir = join(work, 'a/ipk');

/** `tar -tv` lines as [mode string, owner, size, name]. */
function listing(tarArgs: string[], cwd: string): Array<{ mode: string; owner: string; size: number; name: string }> {
  const r = run('tar', tarArgs, { cwd });
  if (r.status !== 0) throw new Error(`tar ${tarArgs.join(' ')}: ${r.stderr}`);
  return r.stdout.trim().split('\n').map((line) => {
    const [mode, owner, size, , , name] = line.split(/\s+/);
    return { mode: mode!, owner: owner!, size: Number(size), name: name! };
  });
}

function controlFields(text: string): Array<[string, string]> {
  const fields: Array<[string, string]> = [];
  for (const line of text.replace(/\n$/, '').split('\n')) {
    if (line.startsWith(' ')) fields[fields.length - 1]![1] += `\n${line}`;
    else {
      const m = /^([A-Za-z0-9-]+): ?(.*)$/.exec(line);
      if (m === null) throw new Error(`bad control line: ${line}`);
      fields.push([m[1]!, m[2]!]);
    }
  }
  return fields;
}

const sizes: string[] = [];

for (const [arch, target] of Object.entries(TARGETS)) {
  t.test(`${arch}: wgts_${version}_${target.owrt}.ipk`, (t) => {
    const ipk = join(ipkDir, `wgts_${version}_${target.owrt}.ipk`);
    if (!t.ok(existsSync(ipk), 'the package exists')) return t.end();
    const dir = join(work, `x-${arch}`);
    mkdirSync(join(dir, 'data'), { recursive: true });
    mkdirSync(join(dir, 'control'), { recursive: true });

    // Outer container: gzip'd tar, the three members in ipkg-build's order.
    const outer = listing(['-tzvf', ipk], dir);
    t.same(outer.map((e) => e.name), ['./debian-binary', './data.tar.gz', './control.tar.gz'], 'outer members');
    t.ok(outer.every((e) => e.owner === '0/0'), 'outer members owned by 0/0');
    t.equal(sh(`tar -xzf '${ipk}'`, dir).status, 0, 'outer tar unpacks');
    t.equal(readFileSync(join(dir, 'debian-binary'), 'utf8'), '2.0\n', 'debian-binary');

    // data.tar.gz: the file list, modes and owners.
    const data = listing(['-tzvf', 'data.tar.gz'], dir);
    t.same(data.map((e) => `${e.mode} ${e.owner} ${e.name}`), [
      'drwxr-xr-x 0/0 ./',
      'drwxr-xr-x 0/0 ./etc/',
      'drwxr-xr-x 0/0 ./etc/init.d/',
      '-rwxr-xr-x 0/0 ./etc/init.d/wgts',
      'drwxr-xr-x 0/0 ./lib/',
      'drwxr-xr-x 0/0 ./lib/netifd/',
      'drwxr-xr-x 0/0 ./lib/netifd/proto/',
      '-rwxr-xr-x 0/0 ./lib/netifd/proto/wgts.sh',
      'drwxr-xr-x 0/0 ./usr/',
      'drwxr-xr-x 0/0 ./usr/sbin/',
      '-rwxr-xr-x 0/0 ./usr/sbin/wgts',
    ], 'data files, modes, owners, order');
    t.equal(sh('tar -xzpf data.tar.gz -C data && tar -xzf control.tar.gz -C control', dir).status, 0, 'inner tars unpack');
    t.equal(readFileSync(join(dir, 'data/lib/netifd/proto/wgts.sh'), 'utf8'), readFileSync(join(root, 'openwrt/files/wgts.sh'), 'utf8'), 'proto handler is openwrt/files/wgts.sh');
    t.equal(readFileSync(join(dir, 'data/etc/init.d/wgts'), 'utf8'), readFileSync(join(root, 'openwrt/files/wgts.init'), 'utf8'), 'init script is openwrt/files/wgts.init');
    t.ok(readFileSync(join(dir, 'data/usr/sbin/wgts')).equals(readFileSync(join(root, 'dist', arch, 'wgts'))), 'usr/sbin/wgts is dist/<arch>/wgts');
    // Byte for byte what GNU tar makes of the same tree (what ipkg-build runs).
    const gnu = sh(`tar --format=gnu --numeric-owner --owner=0 --group=0 --sort=name -cpf ../data.ref.tar --mtime=@${epoch} . && gzip -dc ../data.tar.gz | cmp - ../data.ref.tar`, join(dir, 'data'));
    t.equal(gnu.status, 0, `data tar equals GNU tar's${gnu.status === 0 ? '' : `: ${gnu.stdout}${gnu.stderr}`}`);

    // control.tar.gz
    const control = listing(['-tzvf', 'control.tar.gz'], dir);
    t.same(control.map((e) => `${e.mode} ${e.name}`), [
      'drwxr-xr-x ./', '-rw-r--r-- ./control', '-rwxr-xr-x ./postinst', '-rwxr-xr-x ./postinst-pkg',
      '-rwxr-xr-x ./prerm', '-rwxr-xr-x ./prerm-pkg',
    ], 'control members (no conffiles: nothing in the package is configuration)');
    const fields = controlFields(readFileSync(join(dir, 'control/control'), 'utf8'));
    const field = (k: string): string | undefined => fields.find(([n]) => n === k)?.[1];
    t.equal(fields[0]?.[0], 'Package', 'Package comes first');
    t.equal(fields.at(-1)?.[0], 'Description', 'Description comes last');
    t.equal(field('Package'), 'wgts', 'Package');
    t.equal(field('Version'), version, 'Version is package.json version - PKG_RELEASE');
    t.equal(field('Architecture'), target.owrt, 'Architecture');
    t.equal(field('Depends'), 'kmod-tun', 'Depends: kmod-tun only (static: no libc, no libatomic)');
    t.equal(field('License'), 'MIT', 'License');
    t.equal(field('Section'), 'net', 'Section');
    t.equal(field('SourceDateEpoch'), String(epoch), 'SourceDateEpoch');
    const unpacked = sh('gzip -dc data.tar.gz | wc -c', dir);
    t.equal(field('Installed-Size'), unpacked.stdout.trim(), 'Installed-Size = bytes of the uncompressed data tar');
    t.match(field('Description'), /^ \S.*\n \S/, 'Description with continuation lines');
    t.ok(data.every((e) => e.name.startsWith('./')) && outer.every((e) => /^\.\//.test(e.name)), 'names start with ./');

    // Maintainer scripts parse under dash and BusyBox ash.
    for (const s of ['postinst', 'postinst-pkg', 'prerm', 'prerm-pkg']) {
      const p = join(dir, 'control', s);
      const dash = run('sh', ['-n', p]);
      const ash = run('busybox', ['sh', '-n', p]);
      t.ok(dash.status === 0 && ash.status === 0, `${s}: sh -n clean${dash.stderr}${ash.stderr}`);
    }
    t.match(readFileSync(join(dir, 'control/postinst'), 'utf8'), /IPKG_NO_SCRIPT[\s\S]*\$\{IPKG_INSTROOT\}\/lib\/functions\.sh[\s\S]*default_postinst "\$0" "\$@"/, 'postinst hands over to default_postinst');
    t.match(readFileSync(join(dir, 'control/prerm'), 'utf8'), /\$\{IPKG_INSTROOT\}\/lib\/functions\.sh[\s\S]*default_prerm "\$0" "\$@"/, 'prerm hands over to default_prerm');

    // The executable: machine, class, byte order, static.
    const exe = join(dir, 'data/usr/sbin/wgts');
    const file = run('file', ['-b', exe]).stdout;
    t.match(file, target.file, `file: ${file.trim()}`);
    t.match(file, /statically linked/, 'file says statically linked');
    const header = run('readelf', ['-h', exe]).stdout;
    t.match(header, new RegExp(`Class:\\s+${target.elfClass}\\n`), `ELF class ${target.elfClass}`);
    t.match(header, new RegExp(`Data:\\s+2's complement, ${target.endian}\\n`), target.endian);
    t.match(header, new RegExp(`Machine:\\s+${target.machine}\\n`), `machine ${target.machine}`);
    t.match(header, /Type:\s+EXEC/, 'a fixed-address executable');
    t.notMatch(run('readelf', ['-lW', exe]).stdout, /\bINTERP\b/, 'no PT_INTERP');
    t.match(run('readelf', ['-d', exe]).stdout, /no dynamic section/, 'no dynamic section');

    const attrs = run('readelf', ['-A', exe]).stdout;
    if (arch === 'mips' || arch === 'mipsel') {
      // OpenWrt's 24Kc targets have no FPU.
      t.match(attrs, /FP ABI: Soft float/, 'soft-float ABI');
      const objdump = `${arch}-linux-gnu-objdump`;
      if (sh(`command -v ${objdump}`).status === 0) {
        const fpu = sh(`${objdump} -d '${exe}' | grep -cE '[[:space:]](cfc1|ctc1|mfc1|mtc1|mfhc1|mthc1|lwc1|swc1|ldc1|sdc1|lwxc1|swxc1|ldxc1|sdxc1|[a-z]+\\.(s|d|w|l|ps))[[:space:]]'`);
        t.equal(fpu.stdout.trim(), '0', 'no FPU instruction anywhere in the executable');
      }
    }
    if (arch === 'armhf') t.match(attrs, /Tag_ABI_VFP_args: VFP registers/, 'hard-float ABI, as arm_cortex-a7_neon-vfpv4');
    if (arch === 'armel') {
      t.notMatch(attrs, /Tag_ABI_VFP_args/, 'soft-float ABI, as arm_arm926ej-s');
      const cpuArch = /Tag_CPU_arch: (\S+)/.exec(attrs)?.[1] ?? 'none';
      t.comment(`armel Tag_CPU_arch: ${cpuArch}`);
      t.ok(['v4', 'v4T', 'v5T', 'v5TE', 'v5TEJ'].includes(cpuArch), 'Tag_CPU_arch no newer than v5TE');
      // The tag follows the objects linked; check the code too. build/build.mjs keeps libatomic's
      // never-selected ARMv7 alternatives (ldrexd, dmb) out of the link.
      if (sh('command -v arm-linux-gnueabi-objdump').status === 0) {
        const v6plus = sh(`arm-linux-gnueabi-objdump -d '${exe}' | grep -cE '[[:space:]](ldrexd?|strexd?|ldrex[bh]|strex[bh]|clrex|dmb|dsb|isb|rev|rev16|revsh|[su]xt[bh]|[su]xta[bh]|movw|movt|[su]bfx|bfi|bfc|rbit|[su]div|mls|sel|wfe|wfi|sev)[[:space:]]'`);
        t.equal(v6plus.stdout.trim(), '0', 'no ARMv6 or later instruction anywhere in the executable');
      }
    }

    // Runs on the CPU of its OpenWrt target (qemu-user's model of it).
    const argv = target.qemu === null ? [exe] : [target.qemu[0], '-cpu', target.qemu[1], exe];
    const canRun = target.qemu === null || sh(`command -v ${target.qemu[0]}`).status === 0;
    if (canRun) {
      const v = run(argv[0]!, [...argv.slice(1), '--version']);
      t.match(v.stdout, /^wgts v\S+\n$/, `runs on ${target.qemu?.[1] ?? 'the host'}: ${v.stdout.trim()}${v.stderr.trim()}`);
    }

    sizes.push(`${target.owrt}: ipk ${readFileSync(ipk).length} bytes, installed ${field('Installed-Size')} bytes`);
    t.end();
  });
}

t.test(`luci-app-wgts_${version}_all.ipk`, (t) => {
  const ipk = join(ipkDir, `luci-app-wgts_${version}_all.ipk`);
  if (!t.ok(existsSync(ipk), 'the package exists')) return t.end();
  const dir = join(work, 'x-luci');
  mkdirSync(join(dir, 'data'), { recursive: true });
  mkdirSync(join(dir, 'control'), { recursive: true });
  const outer = listing(['-tzvf', ipk], dir);
  t.same(outer.map((e) => e.name), ['./debian-binary', './data.tar.gz', './control.tar.gz'], 'outer members');
  t.equal(sh(`tar -xzf '${ipk}' && tar -xzpf data.tar.gz -C data && tar -xzf control.tar.gz -C control`, dir).status, 0, 'unpacks');
  t.equal(readFileSync(join(dir, 'debian-binary'), 'utf8'), '2.0\n', 'debian-binary');

  // luci.mk's layout: htdocs/ under /www, root/ under /.
  const app = join(root, 'openwrt/luci-app-wgts');
  const shipped: Record<string, string> = {
    './usr/share/luci/menu.d/luci-app-wgts.json': 'root/usr/share/luci/menu.d/luci-app-wgts.json',
    './usr/share/rpcd/acl.d/luci-app-wgts.json': 'root/usr/share/rpcd/acl.d/luci-app-wgts.json',
    './www/luci-static/resources/protocol/wgts.js': 'htdocs/luci-static/resources/protocol/wgts.js',
    './www/luci-static/resources/view/wgts/status.js': 'htdocs/luci-static/resources/view/wgts/status.js',
    './www/luci-static/resources/wgts/lib.js': '../../dist/luci/wgts/lib.js',
  };
  const data = listing(['-tzvf', 'data.tar.gz'], dir);
  const files = data.filter((e) => !e.name.endsWith('/'));
  t.same(files.map((e) => e.name), Object.keys(shipped), 'data files: the views, the resource, menu and ACL, nothing else');
  t.ok(data.every((e) => e.owner === '0/0'), 'owned by 0/0');
  t.ok(files.every((e) => e.mode === '-rw-r--r--'), 'files 0644 (web resources and JSON, nothing executable)');
  for (const [name, source] of Object.entries(shipped)) {
    t.ok(readFileSync(join(dir, 'data', name)).equals(readFileSync(join(app, source))), `${name} is ${join('openwrt/luci-app-wgts', source)}`);
  }
  const gnu = sh(`tar --format=gnu --numeric-owner --owner=0 --group=0 --sort=name -cpf ../data.ref.tar --mtime=@${epoch} . && gzip -dc ../data.tar.gz | cmp - ../data.ref.tar`, join(dir, 'data'));
  t.equal(gnu.status, 0, `data tar equals GNU tar's${gnu.status === 0 ? '' : `: ${gnu.stdout}${gnu.stderr}`}`);

  const acl = JSON.parse(readFileSync(join(dir, 'data/usr/share/rpcd/acl.d/luci-app-wgts.json'), 'utf8'));
  t.same(acl, {
    'luci-app-wgts': {
      description: acl['luci-app-wgts']?.description,
      read: { ubus: { 'wgts.*': ['status'] }, uci: ['network'] },
      write: { uci: ['network'] },
    },
  }, 'ACL: ubus wgts.<if> status only (rpcd matches object names with fnmatch), uci network for the form');
  const menu = JSON.parse(readFileSync(join(dir, 'data/usr/share/luci/menu.d/luci-app-wgts.json'), 'utf8'));
  t.same(menu['admin/status/wgts']?.action, { type: 'view', path: 'wgts/status' }, 'menu: Status → wgts opens view/wgts/status.js');
  t.same(menu['admin/status/wgts']?.depends?.acl, ['luci-app-wgts'], 'menu depends on the ACL group');

  const control = listing(['-tzvf', 'control.tar.gz'], dir);
  t.same(control.map((e) => `${e.mode} ${e.name}`), ['drwxr-xr-x ./', '-rw-r--r-- ./control', '-rwxr-xr-x ./postinst', '-rwxr-xr-x ./postinst-pkg'], 'control members');
  const fields = controlFields(readFileSync(join(dir, 'control/control'), 'utf8'));
  const field = (k: string): string | undefined => fields.find(([n]) => n === k)?.[1];
  t.equal(fields[0]?.[0], 'Package', 'Package comes first');
  t.equal(fields.at(-1)?.[0], 'Description', 'Description comes last');
  t.equal(field('Package'), 'luci-app-wgts', 'Package');
  t.equal(field('Version'), version, 'Version: the same as wgts');
  t.equal(field('Depends'), 'luci-base, wgts', 'Depends: luci-base, wgts');
  t.equal(field('Architecture'), 'all', 'Architecture: all');
  t.equal(field('Section'), 'luci', 'Section');
  t.equal(field('Installed-Size'), sh('gzip -dc data.tar.gz | wc -c', dir).stdout.trim(), 'Installed-Size');
  t.match(field('Description'), /^ \S.*\n \S/, 'Description with continuation lines');
  for (const s of ['postinst', 'postinst-pkg']) {
    const p = join(dir, 'control', s);
    t.ok(run('sh', ['-n', p]).status === 0 && run('busybox', ['sh', '-n', p]).status === 0, `${s}: sh -n clean`);
  }
  // In an image build the script must not touch the build host.
  const busybox = sh('command -v busybox').stdout.trim();
  const image = run(busybox, ['sh', join(dir, 'control/postinst-pkg')], { env: { PATH: '/nonexistent', IPKG_INSTROOT: join(dir, 'instroot') } });
  t.equal(image.status, 0, 'postinst-pkg with IPKG_INSTROOT exits 0 and runs nothing (PATH is empty)');
  sizes.push(`luci-app-wgts (all): ipk ${readFileSync(ipk).length} bytes, installed ${field('Installed-Size')} bytes`);
  t.end();
});

t.test('Packages index', (t) => {
  const index = readFileSync(join(ipkDir, 'Packages'), 'utf8');
  t.equal(run('gzip', ['-dc', join(ipkDir, 'Packages.gz')]).stdout, index, 'Packages.gz is Packages gzip-compressed');
  const stanzas = index.trim().split(/\n\n/);
  t.equal(stanzas.length, Object.keys(TARGETS).length + 1, 'one stanza per architecture, and luci-app-wgts');
  const files = readdirSync(ipkDir).filter((f) => f.endsWith('.ipk')).sort();
  for (const stanza of stanzas) {
    const f = controlFields(`${stanza}\n`);
    const get = (k: string): string => f.find(([n]) => n === k)?.[1] ?? '';
    const ipk = join(ipkDir, get('Filename'));
    t.ok(files.includes(get('Filename')), `${get('Filename')} is in the directory`);
    t.equal(get('Size'), String(readFileSync(ipk).length), `${get('Filename')}: Size`);
    t.equal(get('SHA256sum'), run('sha256sum', [ipk]).stdout.split(' ')[0], `${get('Filename')}: SHA256sum`);
    const control = sh(`tar -xzOf '${ipk}' ./control.tar.gz | tar -xzOf - ./control`).stdout;
    t.equal(stanza.replace(/^(Filename|Size|SHA256sum): .*\n/gm, ''), control.trimEnd(), `${get('Filename')}: the rest is the control file`);
  }
  t.match(readFileSync(join(ipkDir, 'README'), 'utf8'), /opkg install \.\/wgts_/, 'README says how to install');
  t.end();
});

t.test('reproducible: a second run gives the same bytes', (t) => {
  const second = buildIpks(join(work, 'b'));
  t.equal(second.status, 0, 'second build/ipk.mjs run');
  for (const f of readdirSync(ipkDir).filter((n) => n.endsWith('.ipk') || n.startsWith('Packages'))) {
    const a = createHash('sha256').update(readFileSync(join(ipkDir, f))).digest('hex');
    const b = existsSync(join(work, 'b/ipk', f)) ? createHash('sha256').update(readFileSync(join(work, 'b/ipk', f))).digest('hex') : 'missing';
    t.equal(b, a, f);
  }
  t.end();
});

t.test('SDK feed', (t) => {
  const feed = join(work, 'a/feed/wgts');
  for (const f of ['Makefile', 'files/wgts.sh', 'files/wgts.init', 'src/wgts.js', 'src/native/main.c', 'src/native/wgts_native.h', 'src/quickjs/quickjs.c', 'src/quickjs/Makefile']) {
    t.ok(existsSync(join(feed, f)), `${f}`);
  }
  t.notOk(existsSync(join(feed, 'src/native/runner.c')), 'test-only runner.c left out');
  const luciFeed = join(work, 'a/feed/luci-app-wgts');
  for (const f of ['Makefile', 'htdocs/luci-static/resources/protocol/wgts.js', 'htdocs/luci-static/resources/view/wgts/status.js',
    'htdocs/luci-static/resources/wgts/lib.js', 'root/usr/share/rpcd/acl.d/luci-app-wgts.json', 'root/usr/share/luci/menu.d/luci-app-wgts.json']) {
    t.ok(existsSync(join(luciFeed, f)), `luci-app-wgts/${f}`);
  }
  t.match(readFileSync(join(feed, 'Makefile'), 'utf8'), new RegExp(`^PKG_VERSION:=${npmVersion.replace(/\./g, '\\.')}$`, 'm'), 'Makefile PKG_VERSION is package.json version');
  t.end();
});

// --- Maintainer scripts, run ---------------------------------------------------------

/** Stand-ins for the router commands the scripts may call; each call is logged. */
function stubBin(dir: string, log: string): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const stub = (name: string, body: string): void => {
    writeFileSync(join(bin, name), `#!/bin/sh\n# stand-in for the router's ${name}\necho "${name} $*" >> '${log}'\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  stub('ubus', 'printf "%s\\n" "$STUB_PROTO_HANDLERS"');
  stub('uci', 'printf "%s\\n" "$STUB_UCI_NETWORK"');
  for (const c of ['ifup', 'ifdown', 'reboot', 'logger']) stub(c, '');
  return bin;
}

const UCI_NETWORK = [
  "network.loopback=interface", "network.loopback.proto='static'",
  "network.lan=interface", "network.lan.proto='static'",
  "network.vpn0=interface", "network.vpn0.proto='wgts'",
  "network.wg9=interface", "network.wg9.proto='wireguard'",
  "network.vpn1=interface", "network.vpn1.proto='wgts'",
].join('\n');

function scriptsOf(arch: string): string {
  return join(work, `x-${arch}`, 'control');
}

t.test('postinst in an image build (IPKG_INSTROOT) touches nothing outside the root', (t) => {
  const scripts = scriptsOf('mips');
  if (!t.ok(existsSync(join(scripts, 'postinst')), 'unpacked control scripts')) return t.end();
  const base = join(work, 'instroot');
  const rootfs = join(base, 'rootfs');
  const cwd = join(base, 'cwd');
  const log = join(base, 'calls.log');
  const info = join(rootfs, 'usr/lib/opkg/info');
  mkdirSync(info, { recursive: true });
  mkdirSync(join(rootfs, 'lib'), { recursive: true });
  mkdirSync(cwd, { recursive: true });
  for (const s of ['postinst', 'postinst-pkg', 'prerm', 'prerm-pkg']) {
    writeFileSync(join(info, `wgts.${s}`), readFileSync(join(scripts, s)));
    chmodSync(join(info, `wgts.${s}`), 0o755);
  }
  // Stand-in for base-files' /lib/functions.sh: default_postinst of an image
  // build sources postinst-pkg in a subshell (enabling init scripts is its own business).
  writeFileSync(join(rootfs, 'lib/functions.sh'), `# stand-in for OpenWrt's /lib/functions.sh
default_postinst() {
	echo "default_postinst $*" >> "$IPKG_INSTROOT/default_postinst.called"
	( . "$IPKG_INSTROOT/usr/lib/opkg/info/wgts.postinst-pkg" )
}
`);
  const before = sh('find .', rootfs).stdout.trim().split('\n');
  const bin = stubBin(base, log);
  const env = { PATH: `${bin}:/usr/sbin:/usr/bin:/sbin:/bin`, HOME: cwd, TMPDIR: cwd, IPKG_INSTROOT: rootfs,
    STUB_PROTO_HANDLERS: '{}', STUB_UCI_NETWORK: UCI_NETWORK };
  const r = run('busybox', ['sh', join(info, 'wgts.postinst'), 'configure'], { cwd, env });
  t.equal(r.status, 0, `exit status 0${r.stderr}`);
  t.equal(r.stdout, '', 'prints nothing (nothing to tell an image build)');
  t.equal(readFileSync(join(rootfs, 'default_postinst.called'), 'utf8'), `default_postinst ${join(info, 'wgts.postinst')} configure\n`, 'default_postinst ran with $0 and the arguments');
  t.notOk(existsSync(log), 'no router command ran (ubus, uci, ifup, ifdown, ...)');
  t.same(readdirSync(cwd), [], 'nothing written to the working directory');
  const after = sh('find .', rootfs).stdout.trim().split('\n').sort();
  t.same(after, [...before, './default_postinst.called'].sort(), 'nothing else written in the root');

  rmSync(join(rootfs, 'default_postinst.called'));
  const skipped = run('busybox', ['sh', join(info, 'wgts.postinst')], { cwd, env: { ...env, IPKG_NO_SCRIPT: '1' } });
  t.equal(skipped.status, 0, 'IPKG_NO_SCRIPT=1: exit 0');
  t.notOk(existsSync(join(rootfs, 'default_postinst.called')), 'IPKG_NO_SCRIPT=1: default_postinst not run');
  t.end();
});

/** Sources a *-pkg script the way default_postinst / default_prerm do, on a "live" system. */
function sourceLive(script: string, extraEnv: Record<string, string>): { r: Run; calls: string[] } {
  const base = mkdtempSync(join(work, 'live-'));
  const log = join(base, 'calls.log');
  const bin = stubBin(base, log);
  const r = run('busybox', ['sh', '-c', `( . '${script}' )`], {
    cwd: base, env: { PATH: `${bin}:/usr/bin:/bin`, STUB_UCI_NETWORK: UCI_NETWORK, ...extraEnv },
  });
  const calls = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [];
  return { r, calls };
}

t.test('postinst-pkg on a live router never restarts the network', (t) => {
  const script = join(scriptsOf('mips'), 'postinst-pkg');
  const fresh = sourceLive(script, { STUB_PROTO_HANDLERS: '{ "static": { }, "wireguard": { } }' });
  t.equal(fresh.r.status, 0, 'first install: exit 0');
  t.match(fresh.r.stdout, /\/etc\/init\.d\/network restart/, 'first install: says how to make netifd load the handler');
  t.same(fresh.calls, ['ubus call network get_proto_handlers'], 'first install: only asks netifd');

  const upgrade = sourceLive(script, { STUB_PROTO_HANDLERS: '{ "static": { }, "wgts": { "no-device": true } }' });
  t.equal(upgrade.r.status, 0, 'upgrade: exit 0');
  t.match(upgrade.r.stdout, /ifup <name>\): vpn0\s+vpn1\n$/, 'upgrade: names the wgts interfaces to restart');
  t.same(upgrade.calls, ['ubus call network get_proto_handlers', 'uci -q show network'], 'upgrade: restarts nothing');
  t.end();
});

t.test('prerm-pkg takes wgts interfaces down on removal only', (t) => {
  const script = join(scriptsOf('mips'), 'prerm-pkg');
  const removal = sourceLive(script, {});
  t.equal(removal.r.status, 0, 'removal: exit 0');
  t.same(removal.calls, ['uci -q show network', 'ifdown vpn0', 'ifdown vpn1'], 'removal: ifdown exactly the wgts interfaces');
  const upgrade = sourceLive(script, { PKG_UPGRADE: '1' });
  t.same(upgrade.calls, [], 'PKG_UPGRADE=1: nothing');
  const image = sourceLive(script, { IPKG_INSTROOT: join(work, 'instroot/rootfs') });
  t.same(image.calls, [], 'IPKG_INSTROOT: nothing');
  t.end();
});

t.test('sizes (for the README)', (t) => {
  for (const s of sizes) t.comment(s);
  t.equal(sizes.length, Object.keys(TARGETS).length + 1, 'every package measured');
  t.end();
});
