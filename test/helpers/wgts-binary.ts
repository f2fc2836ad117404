// The host build of the wgts executable for end-to-end tests: built by
// build/build.mjs when missing or older than its sources. Test files run in
// parallel, so the build happens under a lock file, and only one process
// (re)links the binary while the others wait for it.
import { execFile } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const WGTS_BINARY = join(ROOT, 'dist', 'x86_64', 'wgts');
const LOCK = '/run/wgts-test/build.lock';
// Long: a build waits for the build lock while another test file builds every arch from empty caches.
const BUILD_TIMEOUT_MS = 840_000;

function newestSource(dir: string, pattern: RegExp): number {
  let newest = 0;
  if (!existsSync(dir)) return 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path, pattern));
    else if (pattern.test(entry.name)) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** Why the binary must be (re)built, or null when it is up to date. */
function staleReason(): string | null {
  if (!existsSync(WGTS_BINARY)) return 'missing';
  const built = statSync(WGTS_BINARY).mtimeMs;
  const sources = Math.max(
    newestSource(join(ROOT, 'src'), /\.ts$/),
    newestSource(join(ROOT, 'native'), /\.[ch]$/),
    statSync(join(ROOT, 'build', 'build.mjs')).mtimeMs,
  );
  return sources > built ? 'older than its sources' : null;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function tryLock(): boolean {
  try {
    const fd = openSync(LOCK, 'wx');
    writeFileSync(fd, String(process.pid));
    closeSync(fd);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    let holder = NaN;
    try {
      holder = Number(readFileSync(LOCK, 'utf8'));
    } catch {
      return false; // released meanwhile
    }
    if (holder > 0 && !pidAlive(holder)) {
      try {
        unlinkSync(LOCK); // left by a dead process
      } catch {
        /* someone else cleared it */
      }
    }
    return false;
  }
}

function build(): Promise<void> {
  return new Promise((res, rej) => {
    execFile(process.execPath, [join(ROOT, 'build', 'build.mjs')], { cwd: ROOT, timeout: BUILD_TIMEOUT_MS, encoding: 'utf8' },
      (err, stdout, stderr) => (err ? rej(new Error(`node build/build.mjs failed:\n${stderr}${stdout}`)) : res()));
  });
}

/** The path of dist/x86_64/wgts, built first when it is missing or stale. */
export async function wgtsBinary(): Promise<string> {
  if (!staleReason()) return WGTS_BINARY;
  mkdirSync(dirname(LOCK), { recursive: true });
  const deadline = Date.now() + BUILD_TIMEOUT_MS;
  while (!tryLock()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for the build lock ${LOCK}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  try {
    if (staleReason()) await build(); // another process may have built it while we waited
  } finally {
    unlinkSync(LOCK);
  }
  const still = staleReason();
  if (still === 'missing') throw new Error(`node build/build.mjs did not produce ${WGTS_BINARY}`);
  return WGTS_BINARY;
}
