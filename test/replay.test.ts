import t from 'tap';
import { ReplayWindow, REPLAY_WINDOW_SIZE as W } from '../src/protocol/replay.js';
import { REJECT_AFTER_MESSAGES as REJ } from '../src/protocol/constants.js';
import { prng } from './helpers/prng.js';

const LIM = W + 1;

/**
 * Runs (counter, expected) steps through accept(), checking that check()
 * predicts the same answer first. Returns a description of each wrong step.
 */
function run(win: ReplayWindow, steps: [number, boolean][]): string[] {
  const failures: string[] = [];
  steps.forEach(([counter, expected], i) => {
    const predicted = win.check(counter);
    const got = win.accept(counter);
    if (got !== expected || predicted !== expected) {
      failures.push(`step ${i}: counter ${counter} accept=${got} check=${predicted} expected ${expected}`);
    }
  });
  return failures;
}

t.test('window is at least as wide as the kernel (8128)', async (t) => {
  t.ok(W >= 8128);
});

t.test('in-order, duplicates, reordering and window edges', async (t) => {
  const win = new ReplayWindow();
  t.same(run(win, [
    [0, true], [1, true], [1, false], [9, true], [8, true], [7, true], [7, false],
    [LIM, true], [LIM - 1, true], [LIM - 1, false], [LIM - 2, true],
    [2, true], // exactly W behind LIM
    [2, false],
    [LIM + 16, true],
    [3, false], // now more than W behind
    [LIM + 16, false],
  ]), [], 'first sequence');
});

t.test('big jumps forward', async (t) => {
  const win = new ReplayWindow();
  t.same(run(win, [
    [LIM * 4, true],
    [LIM * 4 - (LIM - 1), true], // exactly W behind
    [10, false],
    [LIM * 4 - LIM, false], // W + 1 behind
    [LIM * 4 - (LIM + 1), false],
    [LIM * 4 - (LIM - 2), true],
    [LIM * 4 + 1 - LIM, false], // already seen
    [0, false],
  ]), [], 'jump sequence');
});

t.test('REJECT_AFTER_MESSAGES limit', async (t) => {
  const win = new ReplayWindow();
  t.same(run(win, [
    [REJ, false], [REJ - 1, true], [REJ, false], [REJ - 1, false], [REJ - 2, true],
    [REJ + 1, false], [REJ + 2, false], [REJ - 2, false], [REJ - 3, true], [0, false],
  ]), [], 'limit sequence');
});

t.test('fill the window ascending, then the oldest acceptable counter', async (t) => {
  const win = new ReplayWindow();
  const steps: [number, boolean][] = [];
  for (let i = 1; i <= W; i++) steps.push([i, true]);
  steps.push([0, true], [0, false]);
  t.same(run(win, steps), [], '1..W then 0');

  win.reset();
  steps.length = 0;
  for (let i = 2; i <= W + 1; i++) steps.push([i, true]);
  steps.push([1, true], [0, false]);
  t.same(run(win, steps), [], '2..W+1 then 1, 0 is out');
});

t.test('fill the window descending', async (t) => {
  const win = new ReplayWindow();
  const steps: [number, boolean][] = [];
  for (let i = W; i >= 0; i--) steps.push([i, true]);
  t.same(run(win, steps), [], 'W..0');

  win.reset();
  steps.length = 0;
  for (let i = W + 1; i >= 1; i--) steps.push([i, true]);
  steps.push([0, false]);
  t.same(run(win, steps), [], 'W+1..1 then 0 is out');

  win.reset();
  steps.length = 0;
  for (let i = W; i >= 1; i--) steps.push([i, true]);
  steps.push([W + 1, true], [0, false]);
  t.same(run(win, steps), [], 'W..1, W+1, then 0 is out');

  win.reset();
  steps.length = 0;
  for (let i = W; i >= 1; i--) steps.push([i, true]);
  steps.push([0, true], [W + 1, true]);
  t.same(run(win, steps), [], 'W..1, 0, then W+1');
});

t.test('the ring wraps many times without stale bits', async (t) => {
  const win = new ReplayWindow();
  const failures: number[] = [];
  // Advance in steps that are not a multiple of the word size, so every ring
  // slot is reused at many bit offsets; each new counter must be fresh.
  for (let c = 0; c < 40 * 8192; c += 37) {
    if (!win.accept(c)) failures.push(c);
    if (win.accept(c)) failures.push(-c - 1);
  }
  t.same(failures, [], 'every fresh counter accepted exactly once');

  // A jump of exactly one ring length lands on a slot with old bits set.
  win.reset();
  for (let c = 0; c < 64; c++) win.accept(c);
  t.ok(win.accept(8192 + 5), 'counter one ring length ahead');
  t.ok(win.accept(8192 + 4), 'its neighbour in the reused word');
  t.notOk(win.accept(5), 'the old counter is now out of the window');
});

t.test('zero, negatives, NaN and huge counters', async (t) => {
  const win = new ReplayWindow();
  t.notOk(win.check(-1));
  t.notOk(win.accept(-1));
  t.notOk(win.accept(Number.NaN));
  t.notOk(win.accept(Infinity));
  t.ok(win.accept(0), '0 is a valid first counter');
  t.notOk(win.accept(0));
  win.reset();
  t.ok(win.accept(0), 'reset forgets');
});

t.test('counters above 2^31 (slow path) behave the same', async (t) => {
  for (const base of [2 ** 31 - 40, 2 ** 32 - 3, 2 ** 40 + 12345, REJ - 8192 * 4]) {
    const win = new ReplayWindow();
    t.same(run(win, [
      [base, true], [base, false], [base + 1, true], [base + 40, true], [base + 39, true],
      [base + 40 - W, true], [base + 39 - W, false], [base + 2, true], [base + 2, false],
      [base + 40 + 8192 * 3, true], [base + 40, false], [base + 40 + 8192 * 3 - W, true],
    ]), [], `base ${base}`);
  }
});

/** Naive model with the same semantics: a set of every accepted counter. */
class ModelWindow {
  private seen = new Set<number>();
  private highest = -1;
  check(c: number): boolean {
    if (c < 0 || c >= REJ) return false;
    if (c > this.highest) return true;
    if (this.highest - c > W) return false;
    return !this.seen.has(c);
  }
  accept(c: number): boolean {
    if (!this.check(c)) return false;
    this.seen.add(c);
    if (c > this.highest) this.highest = c;
    return true;
  }
}


t.test('randomized comparison against a naive model', async (t) => {
  for (const [seed, start] of [[1, 0], [2, 0], [3, 2 ** 31 - 5000], [4, 2 ** 45]] as const) {
    const rnd = prng(seed);
    const win = new ReplayWindow();
    const model = new ModelWindow();
    let top = start;
    let mismatch = '';
    for (let i = 0; i < 40_000 && !mismatch; i++) {
      const r = rnd();
      let c: number;
      if (r < 0.45) c = top + Math.floor(rnd() * 4); // mostly in order
      else if (r < 0.8) c = top - Math.floor(rnd() * (W + 200)); // reordered, some too old
      else if (r < 0.95) c = top - Math.floor(rnd() * 64); // near duplicates
      else c = top + Math.floor(rnd() * 20_000); // jumps, some beyond a ring length
      if (c < 0) c = Math.floor(rnd() * 10);
      const expectCheck = model.check(c);
      if (win.check(c) !== expectCheck) mismatch = `check(${c}) at step ${i}`;
      const expectAccept = model.accept(c);
      if (win.accept(c) !== expectAccept) mismatch = `accept(${c}) at step ${i}`;
      if (c > top) top = c;
    }
    t.equal(mismatch, '', `seed ${seed} from ${start}`);
  }
});

t.test('check never mutates', async (t) => {
  const rnd = prng(99);
  const probed = new ReplayWindow();
  const plain = new ReplayWindow();
  let top = 0;
  let mismatch = '';
  for (let i = 0; i < 20_000 && !mismatch; i++) {
    // Probe many counters (ahead, behind, far ahead) on one window only.
    for (let k = 0; k < 4; k++) probed.check(top + Math.floor((rnd() - 0.5) * 3 * W));
    probed.check(top + 100_000);
    probed.check(REJ - 1);
    const c = Math.max(0, top + Math.floor((rnd() - 0.7) * W));
    if (probed.accept(c) !== plain.accept(c)) mismatch = `accept(${c}) at step ${i}`;
    if (c > top) top = c;
  }
  t.equal(mismatch, '', 'a window probed with check() behaves exactly like one that was not');
});
