// Small C test programs built with Debian's host and cross compilers and run
// natively or under qemu-user: the targets and the two shell helpers that
// test/native-aead.test.ts and test/x25519-native.test.ts share.
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface CrossTarget {
  name: string;
  cc: string;
  flags: string[];
  qemu: string | null; // null: runs natively
  packages: string;
}

export const CROSS_TARGETS: CrossTarget[] = [
  { name: 'x86_64', cc: 'gcc', flags: [], qemu: null, packages: 'gcc' },
  { name: 'mips', cc: 'mips-linux-gnu-gcc', flags: ['-march=24kc', '-static'], qemu: 'qemu-mips-static', packages: 'gcc-mips-linux-gnu qemu-user-static' },
  { name: 'mipsel', cc: 'mipsel-linux-gnu-gcc', flags: ['-march=24kc', '-static'], qemu: 'qemu-mipsel-static', packages: 'gcc-mipsel-linux-gnu qemu-user-static' },
  { name: 'armel', cc: 'arm-linux-gnueabi-gcc', flags: ['-march=armv5te', '-marm', '-static'], qemu: 'qemu-arm-static', packages: 'gcc-arm-linux-gnueabi qemu-user-static' },
  { name: 'armhf', cc: 'arm-linux-gnueabihf-gcc', flags: ['-static'], qemu: 'qemu-arm-static', packages: 'gcc-arm-linux-gnueabihf qemu-user-static' },
  { name: 'aarch64', cc: 'aarch64-linux-gnu-gcc', flags: ['-static'], qemu: 'qemu-aarch64-static', packages: 'gcc-aarch64-linux-gnu qemu-user-static' },
];

export function crossTarget(name: string): CrossTarget {
  const target = CROSS_TARGETS.find((x) => x.name === name);
  if (!target) throw new Error(`no cross target ${name}`);
  return target;
}

export function have(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v "${command}"`], { stdio: 'ignore' }).status === 0;
}

/** Runs a command in the project root to completion: exit status and stdout + stderr. */
export function run(cmd: string, args: string[], timeout = 300_000): { status: number | null; out: string } {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', timeout, maxBuffer: 64 << 20 });
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? r.error.message : ''}` };
}
