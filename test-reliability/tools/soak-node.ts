// The soak on Node, in a process of its own (started with --expose-gc by
// soak.test.ts) so that the heap measured holds the devices and nothing of
// the test runner's. Prints the result as one JSON line.
import { runSoak } from './soak-core.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const heapAfterGc = () => { gc(); gc(); return process.memoryUsage().heapUsed; };
const hours = Number(process.argv[2] ?? '24');
process.stdout.write(`SOAK ${JSON.stringify(runSoak(hours, heapAfterGc, 1))}\n`);
