#!/usr/bin/env node
// Packages dist/<arch>/wgts as OpenWrt .ipk files (opkg, OpenWrt up to 24.10)
// and assembles the SDK feed:
//
//   dist/ipk/wgts_<version>_<openwrt arch>.ipk   one per target
//   dist/ipk/luci-app-wgts_<version>_all.ipk      the LuCI pages (openwrt/luci-app-wgts)
//   dist/ipk/Packages, Packages.gz, README        an opkg feed index
//   dist/openwrt-feed/wgts/                       openwrt/Makefile + files/ + src/
//
//   node build/ipk.mjs [--arch x86_64|mips|mipsel|armel|armhf|aarch64]... [--reuse] [--out DIR] [--feed DIR]
//
// Default: every arch, rebuilt with build/build.mjs first. --reuse builds
// only the executables that are missing. Package metadata and the
// maintainer scripts come from openwrt/Makefile, so the SDK package and
// these say the same. The format is what opkg-lede reads (and what
// OpenWrt's ipkg-build writes): a gzip'd GNU tar of ./debian-binary,
// ./data.tar.gz and ./control.tar.gz; names sorted, owner 0/0, every mtime
// SOURCE_DATE_EPOCH (default: the last commit's time), so builds repeat
// byte for byte.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { LUCI_APP_DIR, LUCI_LIB_PATH, LUCI_LIB_RESOURCE, writeLuciLib } from './luci.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** build.mjs arch → OpenWrt package architecture. */
export const OPENWRT_ARCH = {
  x86_64: 'x86_64',
  mips: 'mips_24kc',
  mipsel: 'mipsel_24kc',
  armel: 'arm_arm926ej-s',
  armhf: 'arm_cortex-a7_neon-vfpv4',
  aarch64: 'aarch64_cortex-a53',
};

// Libraries the SDK build links dynamically but the static executables carry inside.
const LINKED_IN = new Set(['libatomic']);
// Where the package sits when dist/openwrt-feed is added as feed "wgts".
const FEED_SOURCE = 'feeds/wgts/wgts';

// --- Metadata from openwrt/Makefile -------------------------------------------------

/** Body of `define NAME` … `endef`, with make's `$$` turned back into `$`. */
function makeDefine(makefile, name) {
  const m = new RegExp(`^define ${name.replace(/[/]/g, '\\/')}\\n([\\s\\S]*?)^endef$`, 'm').exec(makefile);
  if (m === null) throw new Error(`openwrt/Makefile: no "define ${name}"`);
  const body = m[1];
  // A lone `$` would be expanded by make itself: the shell would never see it.
  if (/\$(?!\$)/.test(body.replace(/\$\$/g, ''))) throw new Error(`openwrt/Makefile: ${name} has a lone $ (write $$ for the shell)`);
  return body.replace(/\$\$/g, '$');
}

function makeVar(text, name) {
  const m = new RegExp(`^\\s*${name}:=(.*)$`, 'm').exec(text);
  if (m === null) throw new Error(`openwrt/Makefile: no ${name}:=`);
  return m[1].trim();
}

/** What the .ipk control file and scripts need, read from openwrt/Makefile. */
export function readPackageMeta(makefile = readFileSync(join(root, 'openwrt/Makefile'), 'utf8')) {
  const pkg = makeDefine(makefile, 'Package/wgts');
  const depends = makeVar(pkg, 'DEPENDS').split(/\s+/).filter((d) => d.startsWith('+')).map((d) => d.slice(1))
    .filter((d) => !LINKED_IN.has(d));
  return {
    name: makeVar(makefile, 'PKG_NAME'),
    version: `${makeVar(makefile, 'PKG_VERSION')}-${makeVar(makefile, 'PKG_RELEASE')}`,
    upstreamVersion: makeVar(makefile, 'PKG_VERSION'),
    license: makeVar(makefile, 'PKG_LICENSE'),
    maintainer: makeVar(makefile, 'PKG_MAINTAINER'),
    section: makeVar(pkg, 'SECTION'),
    depends,
    description: makeDefine(makefile, 'Package/wgts/description'),
    postinst: makeDefine(makefile, 'Package/wgts/postinst'),
    prerm: makeDefine(makefile, 'Package/wgts/prerm'),
  };
}

/** The control file as OpenWrt's package-pack.mk writes it (field order included). */
export function controlFile(meta, arch, installedSize, epoch) {
  const lines = [
    `Package: ${meta.name}`,
    `Version: ${meta.version}`,
    ...(meta.depends.length > 0 ? [`Depends: ${meta.depends.join(', ')}`] : []),
    `Source: ${FEED_SOURCE}`,
    `SourceName: ${meta.name}`,
    `License: ${meta.license}`,
    `Section: ${meta.section}`,
    `SourceDateEpoch: ${epoch}`,
    `Maintainer: ${meta.maintainer}`,
    `Architecture: ${arch}`,
    `Installed-Size: ${installedSize}`,
  ];
  // package-pack.mk prints "Description: " and then every description line
  // with its leading blanks replaced by one space (hence two spaces on the first).
  const description = meta.description.trimEnd().split('\n').map((l) => l.replace(/^\s*/, ' ')).join('\n');
  return `${lines.join('\n')}\nDescription: ${description}\n`;
}

// The generated wrappers around the package's own scripts (package-pack.mk):
// default_postinst / default_prerm from /lib/functions.sh enable and start
// the init script and source postinst-pkg / prerm-pkg.
const POSTINST = `#!/bin/sh
[ "\${IPKG_NO_SCRIPT}" = "1" ] && exit 0
[ -s "\${IPKG_INSTROOT}/lib/functions.sh" ] || exit 0
. "\${IPKG_INSTROOT}/lib/functions.sh"
default_postinst "$0" "$@"
`;
const PRERM = `#!/bin/sh
[ -s "\${IPKG_INSTROOT}/lib/functions.sh" ] || exit 0
. "\${IPKG_INSTROOT}/lib/functions.sh"
default_prerm "$0" "$@"
`;

// --- tar (GNU format, as `tar --format=gnu --numeric-owner --sort=name`) ------------

const BLOCK = 512;
const RECORD = 20 * BLOCK; // GNU tar pads the archive to whole records

function octal(value, width) {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

function tarHeader(name, mode, size, mtime, isDir) {
  if (Buffer.byteLength(name) > 100) throw new Error(`tar: name longer than 100 bytes: ${name}`);
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 'utf8');
  h.write(octal(mode, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii'); // uid
  h.write(octal(0, 8), 116, 'ascii'); // gid
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(mtime, 12), 136, 'ascii');
  h.fill(0x20, 148, 156); // checksum counts as blanks while summing
  h.write(isDir ? '5' : '0', 156, 'ascii');
  h.write('ustar  \0', 257, 'ascii'); // GNU magic + version; uname/gname stay empty (numeric owner)
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

/**
 * A tar of `entries` ({ path, mode, data? }; no data = directory), with the
 * leading "./" entry and the parent directories (0755) added, walked depth
 * first with each directory's names in byte order, as GNU tar --sort=name does.
 */
export function makeTar(entries, mtime) {
  const tree = { mode: 0o755, data: null, children: new Map() };
  for (const e of entries) {
    let node = tree;
    const parts = e.path.replace(/^\/+|\/+$/g, '').split('/');
    for (const [i, part] of parts.entries()) {
      if (!node.children.has(part)) node.children.set(part, { mode: 0o755, data: null, children: new Map() });
      node = node.children.get(part);
      if (i === parts.length - 1) {
        node.mode = e.mode;
        node.data = e.data ?? null;
      }
    }
  }
  const chunks = [];
  const emit = (name, node) => {
    const isDir = node.data === null;
    chunks.push(tarHeader(isDir ? `${name}/` : name, node.mode, isDir ? 0 : node.data.length, mtime, isDir));
    if (!isDir) {
      chunks.push(node.data);
      if (node.data.length % BLOCK) chunks.push(Buffer.alloc(BLOCK - (node.data.length % BLOCK)));
      return;
    }
    const names = [...node.children.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const child of names) emit(`${name}/${child}`, node.children.get(child));
  };
  emit('.', tree);
  return finishTar(chunks);
}

/** End-of-archive blocks, then padding to a whole record. */
function finishTar(chunks) {
  chunks.push(Buffer.alloc(2 * BLOCK));
  const size = chunks.reduce((n, c) => n + c.length, 0);
  if (size % RECORD) chunks.push(Buffer.alloc(RECORD - (size % RECORD)));
  return Buffer.concat(chunks);
}

/** The outer tar: ipkg-build names its three members (no "./" entry) in this order. */
function makeOuterTar(members, mtime) {
  const chunks = [];
  for (const { name, data } of members) {
    chunks.push(tarHeader(`./${name}`, 0o644, data.length, mtime, false), data);
    if (data.length % BLOCK) chunks.push(Buffer.alloc(BLOCK - (data.length % BLOCK)));
  }
  return finishTar(chunks);
}

// Node's gzip header carries no name and mtime 0, like `gzip -n`.
const gzip = (buf) => gzipSync(buf, { level: 9 });

// --- The package ---------------------------------------------------------------------

/** The shell files another part of the project writes; the package needs them. */
function openwrtFiles() {
  const files = { proto: join(root, 'openwrt/files/wgts.sh'), init: join(root, 'openwrt/files/wgts.init') };
  for (const f of Object.values(files)) if (!existsSync(f)) throw new Error(`missing ${relative(root, f)}`);
  return files;
}

/** Builds one .ipk; returns its path and sizes. */
export function buildIpk({ arch, binary, outDir, meta, epoch }) {
  const owrtArch = OPENWRT_ARCH[arch];
  const files = openwrtFiles();
  const dataTar = makeTar([
    { path: 'usr/sbin/wgts', mode: 0o755, data: readFileSync(binary) },
    { path: 'lib/netifd/proto/wgts.sh', mode: 0o755, data: readFileSync(files.proto) },
    { path: 'etc/init.d/wgts', mode: 0o755, data: readFileSync(files.init) },
  ], epoch);
  const control = controlFile(meta, owrtArch, dataTar.length, epoch);
  const controlTar = makeTar([
    { path: 'control', mode: 0o644, data: Buffer.from(control) },
    { path: 'postinst', mode: 0o755, data: Buffer.from(POSTINST) },
    { path: 'postinst-pkg', mode: 0o755, data: Buffer.from(meta.postinst) },
    { path: 'prerm', mode: 0o755, data: Buffer.from(PRERM) },
    { path: 'prerm-pkg', mode: 0o755, data: Buffer.from(meta.prerm) },
  ], epoch);
  const ipk = gzip(makeOuterTar([
    { name: 'debian-binary', data: Buffer.from('2.0\n') },
    { name: 'data.tar.gz', data: gzip(dataTar) },
    { name: 'control.tar.gz', data: gzip(controlTar) },
  ], epoch));
  const file = join(outDir, `${meta.name}_${meta.version}_${owrtArch}.ipk`);
  writeFileSync(`${file}.tmp-${process.pid}`, ipk);
  renameSync(`${file}.tmp-${process.pid}`, file);
  return { arch, owrtArch, file, ipkSize: ipk.length, installedSize: dataTar.length, control };
}

// --- The LuCI package (architecture "all") -----------------------------------------

export const LUCI_NAME = 'luci-app-wgts';

/** Every file under dir, as paths relative to it. */
function walk(dir, prefix = '') {
  const out = [];
  for (const name of readdirSync(join(dir, prefix)).sort()) {
    const rel = prefix === '' ? name : `${prefix}/${name}`;
    if (statSync(join(dir, rel)).isDirectory()) out.push(...walk(dir, rel));
    else out.push(rel);
  }
  return out;
}

/** luci.mk's layout: htdocs/ goes to /www, root/ to /; plus the built wgts/lib.js. */
export function luciFiles(appDir = LUCI_APP_DIR) {
  return [
    ...walk(join(appDir, 'htdocs')).map((f) => ({ path: `www/${f}`, source: join(appDir, 'htdocs', f) })),
    { path: `www/${LUCI_LIB_RESOURCE}`, source: LUCI_LIB_PATH },
    ...walk(join(appDir, 'root')).map((f) => ({ path: f, source: join(appDir, 'root', f) })),
  ];
}

// What luci.mk's postinst does on a live router: drop LuCI's caches so the
// new menu entry and views show, and have rpcd read the new ACL.
const LUCI_POSTINST_PKG = `[ -n "\${IPKG_INSTROOT}" ] || {
	rm -f /tmp/luci-indexcache*
	rm -rf /tmp/luci-modulecache/
	/etc/init.d/rpcd reload 2>/dev/null
}
exit 0
`;

/** luci-app-wgts_<version>_all.ipk from openwrt/luci-app-wgts. */
export function buildLuciIpk({ outDir, meta, epoch }) {
  const dataTar = makeTar(luciFiles().map((f) => ({ path: f.path, mode: 0o644, data: readFileSync(f.source) })), epoch);
  const luciMeta = {
    ...meta,
    name: LUCI_NAME,
    section: 'luci',
    depends: ['luci-base', meta.name],
    description: 'LuCI pages for wgts: the WireGuard (wgts) protocol form under Network > Interfaces,\nwith keys made in the browser and client configurations as QR codes, and Status > wgts.\n',
  };
  const control = controlFile(luciMeta, 'all', dataTar.length, epoch).replace(`Source: ${FEED_SOURCE}`, `Source: feeds/wgts/${LUCI_NAME}`);
  const controlTar = makeTar([
    { path: 'control', mode: 0o644, data: Buffer.from(control) },
    { path: 'postinst', mode: 0o755, data: Buffer.from(POSTINST) },
    { path: 'postinst-pkg', mode: 0o755, data: Buffer.from(LUCI_POSTINST_PKG) },
  ], epoch);
  const ipk = gzip(makeOuterTar([
    { name: 'debian-binary', data: Buffer.from('2.0\n') },
    { name: 'data.tar.gz', data: gzip(dataTar) },
    { name: 'control.tar.gz', data: gzip(controlTar) },
  ], epoch));
  const file = join(outDir, `${LUCI_NAME}_${meta.version}_all.ipk`);
  writeFileSync(`${file}.tmp-${process.pid}`, ipk);
  renameSync(`${file}.tmp-${process.pid}`, file);
  return { arch: 'all', owrtArch: 'all', file, ipkSize: ipk.length, installedSize: dataTar.length, control };
}

/** Packages index as OpenWrt's ipkg-make-index.sh writes it. */
function writeIndex(outDir, packages) {
  const stanzas = packages.map(({ file, control }) => {
    const ipk = readFileSync(file);
    const sha256 = createHash('sha256').update(ipk).digest('hex');
    return control.replace(/^Description:/m,
      `Filename: ${relative(outDir, file)}\nSize: ${ipk.length}\nSHA256sum: ${sha256}\nDescription:`);
  });
  const index = Buffer.from(stanzas.map((s) => `${s}\n`).join(''));
  writeFileSync(join(outDir, 'Packages'), index);
  writeFileSync(join(outDir, 'Packages.gz'), gzip(index));
}

function writeReadme(outDir, meta, built) {
  const rows = built.map((b) => `| ${b.owrtArch.padEnd(26)} | ${String(b.ipkSize).padStart(9)} | ${String(b.installedSize).padStart(14)} |`);
  writeFileSync(join(outDir, 'README'), `wgts ${meta.version} for OpenWrt (opkg; OpenWrt releases up to 24.10)

Install on the router (needs kmod-tun, which opkg pulls from the OpenWrt feeds):

    opkg update
    opkg install ./${meta.name}_${meta.version}_<arch>.ipk

For the LuCI pages (Network > Interfaces form, Status > wgts), also:

    opkg install ./luci-app-wgts_${meta.version}_all.ipk

<arch> is the router's package architecture: see 'opkg print-architecture'
or DISTRIB_ARCH in /etc/openwrt_release. Then run '/etc/init.d/network restart'
once (netifd loads protocol handlers only when it starts) and set
option proto 'wgts' on an interface configured like the kernel WireGuard.

The executables are static (no libc dependency). This directory is also an
opkg feed (Packages, Packages.gz): 'src/gz wgts file:///path/to/this/dir' in
/etc/opkg/customfeeds.conf.

| architecture               | ipk bytes | installed bytes |
|----------------------------|-----------|-----------------|
${rows.join('\n')}

OpenWrt 25.12 and later install .apk packages (apk-tools v3), which refuse
.ipk files; build wgts there with the SDK feed in dist/openwrt-feed.
`);
}

/** dist/openwrt-feed/wgts: what the SDK needs (see openwrt/Makefile). */
function assembleFeed(feedDir) {
  const tmp = `${feedDir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(join(tmp, 'files'), { recursive: true });
  cpSync(join(root, 'openwrt/Makefile'), join(tmp, 'Makefile'));
  for (const f of ['wgts.sh', 'wgts.init']) cpSync(join(root, 'openwrt/files', f), join(tmp, 'files', f));
  const native = join(tmp, 'src/native');
  mkdirSync(native, { recursive: true });
  for (const f of readdirSync(join(root, 'native'))) {
    if (/\.(c|h)$/.test(f) && !/^(runner|test_)/.test(f)) cpSync(join(root, 'native', f), join(native, f));
  }
  cpSync(join(root, 'dist/wgts.js'), join(tmp, 'src/wgts.js'));
  cpSync(join(root, '.cache/quickjs-src'), join(tmp, 'src/quickjs'), {
    recursive: true, filter: (p) => !/\/(\.obj|tests|examples|doc|debian)$|\.[oa]$/.test(p),
  });
  rmSync(feedDir, { recursive: true, force: true });
  mkdirSync(dirname(feedDir), { recursive: true });
  renameSync(tmp, feedDir);
}

/** dist/openwrt-feed/luci-app-wgts: openwrt/luci-app-wgts with the built lib.js in htdocs/. */
function assembleLuciFeed(feedDir) {
  const tmp = `${feedDir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  cpSync(LUCI_APP_DIR, tmp, { recursive: true });
  mkdirSync(dirname(join(tmp, 'htdocs', LUCI_LIB_RESOURCE)), { recursive: true });
  cpSync(LUCI_LIB_PATH, join(tmp, 'htdocs', LUCI_LIB_RESOURCE));
  rmSync(feedDir, { recursive: true, force: true });
  renameSync(tmp, feedDir);
}

function sourceDateEpoch() {
  if (process.env.SOURCE_DATE_EPOCH) return Number.parseInt(process.env.SOURCE_DATE_EPOCH, 10);
  try {
    return Number.parseInt(execFileSync('git', ['log', '-1', '--format=%ct'], { cwd: root, encoding: 'utf8' }), 10);
  } catch {
    return 0;
  }
}

function parseArgs(argv) {
  const opts = { arches: [], reuse: false, out: join(root, 'dist/ipk'), feed: join(root, 'dist/openwrt-feed') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--reuse') opts.reuse = true;
    else if (a === '--arch' && argv[i + 1] !== undefined) opts.arches.push(argv[++i]);
    else if (a === '--out' && argv[i + 1] !== undefined) opts.out = resolve(argv[++i]);
    else if (a === '--feed' && argv[i + 1] !== undefined) opts.feed = resolve(argv[++i]);
    else throw new Error(`unknown argument ${a}\nusage: node build/ipk.mjs [--arch ${Object.keys(OPENWRT_ARCH).join('|')}]... [--reuse] [--out DIR] [--feed DIR]`);
  }
  for (const a of opts.arches) if (!(a in OPENWRT_ARCH)) throw new Error(`unknown arch ${a}; known: ${Object.keys(OPENWRT_ARCH).join(', ')}`);
  if (opts.arches.length === 0) opts.arches = Object.keys(OPENWRT_ARCH);
  return opts;
}

async function main() {
  const { arches, reuse, out, feed } = parseArgs(process.argv.slice(2));
  const meta = readPackageMeta();
  const npmVersion = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
  if (meta.upstreamVersion !== npmVersion) {
    throw new Error(`openwrt/Makefile PKG_VERSION ${meta.upstreamVersion} differs from package.json version ${npmVersion}`);
  }
  openwrtFiles();
  const missing = arches.filter((a) => !existsSync(join(root, 'dist', a, 'wgts')) || !existsSync(join(root, 'dist/wgts.js')));
  const toBuild = reuse ? missing : arches;
  if (toBuild.length > 0) {
    execFileSync(process.execPath, [join(root, 'build/build.mjs'), ...toBuild.flatMap((a) => ['--arch', a])], { cwd: root, stdio: 'inherit' });
  }
  const epoch = sourceDateEpoch();
  mkdirSync(out, { recursive: true });
  // Packages of other versions would end up in the index.
  for (const f of readdirSync(out)) {
    for (const name of [meta.name, LUCI_NAME]) {
      if (f.startsWith(`${name}_`) && f.endsWith('.ipk') && !f.startsWith(`${name}_${meta.version}_`)) rmSync(join(out, f));
    }
  }
  const built = arches.map((arch) => buildIpk({ arch, binary: join(root, 'dist', arch, 'wgts'), outDir: out, meta, epoch }));
  await writeLuciLib();
  built.push(buildLuciIpk({ outDir: out, meta, epoch }));
  // Index every package of this version in the directory (other arches built earlier included).
  const inIndex = readdirSync(out).filter((f) => f.endsWith('.ipk')).sort().map((f) => {
    const b = built.find((x) => x.file === join(out, f));
    if (b) return b;
    const control = execFileSync('sh', ['-c', 'tar -xzOf "$1" ./control.tar.gz | tar -xzOf - ./control', 'sh', join(out, f)], { encoding: 'utf8' });
    return { file: join(out, f), control, owrtArch: /^Architecture: (.*)$/m.exec(control)[1],
      ipkSize: statSync(join(out, f)).size, installedSize: Number(/^Installed-Size: (\d+)$/m.exec(control)[1]) };
  });
  writeIndex(out, inIndex);
  writeReadme(out, meta, inIndex);
  assembleFeed(join(feed, 'wgts'));
  assembleLuciFeed(join(feed, LUCI_NAME));
  for (const b of built) {
    console.log(`${relative(root, b.file).padEnd(52)} ${String(b.ipkSize).padStart(9)} bytes, installed ${b.installedSize}`);
  }
  console.log(`${relative(root, join(out, 'Packages'))}, Packages.gz, README; SDK feed in ${relative(root, feed)}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(`build:ipk: ${e.message}`);
    process.exit(1);
  });
}
