// The soak on QuickJS (bundled and run by wgts-js from soak.test.ts): prints
// the result as one JSON line, with the process's RSS after a full
// collection at every virtual hour.
import * as std from 'std';
import { runSoak } from './soak-core.js';

// Parts of QuickJS's std that src/platform/quickjs-modules.d.ts does not declare (wgts itself needs neither).
const stdMore = std as unknown as {
  gc(): void;
  open(path: string, mode: string): { readAsString(): string; close(): void } | null;
};

function rssBytes(): number {
  stdMore.gc();
  // std.loadFile sizes the file first, and /proc files report size 0: read it as a stream.
  const f = stdMore.open('/proc/self/status', 'r');
  const text = f ? f.readAsString() : '';
  f?.close();
  const m = /VmRSS:\s+(\d+) kB/.exec(text);
  return m ? Number(m[1]) * 1024 : NaN;
}

const hours = Number(scriptArgs[1] ?? '6');
const result = runSoak(hours, rssBytes, 2);
std.out.puts(`SOAK ${JSON.stringify(result)}\n`);
