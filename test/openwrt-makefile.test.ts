// openwrt/Makefile without an OpenWrt SDK: the feed that build/ipk.mjs
// assembles is built with stand-ins for the SDK's rules.mk and package.mk
// that define the variables and BuildPackage the Makefile relies on, with
// the host's gcc as both HOSTCC and TARGET_CC. This runs the Makefile's own
// Build/Prepare, Build/Compile and Package/wgts/install for real; what it
// cannot show is that the SDK's musl cross toolchain accepts the same commands.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const missing = ['make', 'gcc', 'tar'].filter((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0);
if (process.platform !== 'linux' || missing.length > 0) {
  t.plan(0, `needs Linux and ${missing.join(', ')}`);
  process.exit(0);
}
// QuickJS is compiled twice (host qjsc, "target" library).
t.setTimeout(30 * 60_000);

const work = mkdtempSync(join(tmpdir(), 'wgts-sdk-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

function run(cmd: string, args: string[], cwd: string, timeout = 30 * 60_000): { status: number | null; out: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout, maxBuffer: 64 << 20 });
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

// Stand-in for the SDK's include files: only what openwrt/Makefile uses,
// defined as OpenWrt's rules.mk defines it.
const sdk = join(work, 'sdk');
mkdirSync(join(sdk, 'include'), { recursive: true });
writeFileSync(join(sdk, 'rules.mk'), `# stand-in for the OpenWrt SDK's rules.mk
INCLUDE_DIR:=$(TOPDIR)/include
BUILD_DIR:=$(TOPDIR)/build_dir
HOSTCC:=gcc
TARGET_CROSS:=
TARGET_CC:=gcc
TARGET_CFLAGS:=-O2 -pipe
TARGET_CPPFLAGS:=
TARGET_LDFLAGS:=
CP:=cp -fpR
INSTALL_DIR:=install -d -m0755
INSTALL_BIN:=install -m0755
`);
writeFileSync(join(sdk, 'include/package.mk'), `# stand-in for the OpenWrt SDK's package.mk
PKG_BUILD_DIR:=$(BUILD_DIR)/$(PKG_NAME)-$(PKG_VERSION)
PKG_INSTALL_ROOT:=$(TOPDIR)/ipkg-root
define BuildPackage
$(eval $(Package/$(1)))
.PHONY: prepare compile install
prepare:
	$$(call Build/Prepare)
compile: prepare
	$$(call Build/Compile)
install: compile
	mkdir -p $(PKG_INSTALL_ROOT)
	$$(call Package/$(1)/install,$(PKG_INSTALL_ROOT))
endef
`);

t.test('the SDK feed builds and installs wgts', (t) => {
  const feedRoot = join(work, 'feed');
  const assembled = run(process.execPath, [join(root, 'build/ipk.mjs'), '--reuse', '--arch', 'x86_64', '--out', join(work, 'ipk'), '--feed', feedRoot], root);
  if (!t.equal(assembled.status, 0, `build/ipk.mjs assembles the feed${assembled.status === 0 ? '' : `\n${assembled.out.slice(-2000)}`}`)) return t.end();
  const made = run('make', [`TOPDIR=${sdk}`, 'install'], join(feedRoot, 'wgts'));
  if (!t.equal(made.status, 0, `make install${made.status === 0 ? '' : `\n${made.out.slice(-3000)}`}`)) return t.end();
  const inst = join(sdk, 'ipkg-root');
  for (const f of ['usr/sbin/wgts', 'lib/netifd/proto/wgts.sh', 'etc/init.d/wgts']) {
    t.equal(statSync(join(inst, f)).mode & 0o777, 0o755, `${f} installed 0755`);
  }
  t.equal(readFileSync(join(inst, 'lib/netifd/proto/wgts.sh'), 'utf8'), readFileSync(join(root, 'openwrt/files/wgts.sh'), 'utf8'), 'proto handler from files/');
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  const v = run(join(inst, 'usr/sbin/wgts'), ['--version'], work, 10_000);
  t.equal(v.out, `wgts v${version}\n`, 'the built wgts runs and reports the version');
  const key = run(join(inst, 'usr/sbin/wgts'), ['genkey'], work, 10_000);
  t.match(key.out, /^[A-Za-z0-9+/]{43}=\n$/, 'and runs the bundled TypeScript (genkey)');
  t.end();
});

t.test('a big-endian target is refused with a clear message, not built broken', (t) => {
  const feedRoot = join(work, 'feed-be');
  const assembled = run(process.execPath, [join(root, 'build/ipk.mjs'), '--reuse', '--arch', 'x86_64', '--out', join(work, 'ipk-be'), '--feed', feedRoot], root);
  if (!t.equal(assembled.status, 0, 'build/ipk.mjs assembles the feed')) return t.end();
  const made = run('make', [`TOPDIR=${sdk}`, 'CONFIG_BIG_ENDIAN=y', 'compile'], join(feedRoot, 'wgts'), 60_000);
  t.not(made.status, 0, 'make compile fails');
  t.match(made.out, /big-endian targets need bytecode from a qjsc built for the target/, 'and says why');
  t.end();
});
