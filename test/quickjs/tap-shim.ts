// A small stand-in for `tap` so the pure protocol test files run unchanged on
// QuickJS (which cannot load tap). It implements only the assertions our
// tests use, prints TAP-like lines, and exits non-zero on any failure. The
// real tap remains the runner on Node; this shim exists only for QuickJS.

type Fn = (t: Test) => unknown;

let failures = 0;
let total = 0;

function format(v: unknown): string {
  if (v instanceof Uint8Array) return `Uint8Array[${Array.from(v).join(',')}]`;
  try { return JSON.stringify(v, (_k, x) => (x instanceof Uint8Array ? Array.from(x) : typeof x === 'bigint' ? `${x}n` : x)); } catch { return String(v); }
}

function deepEqual(a: unknown, b: unknown, strict: boolean): boolean {
  if (strict ? Object.is(a, b) : a == b || Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) {
    const x = a as unknown as ArrayLike<unknown>, y = b as unknown as ArrayLike<unknown>;
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!deepEqual(x[i], y[i], strict)) return false;
    return true;
  }
  if (a instanceof Map && b instanceof Map) {
    if (a.size !== b.size) return false;
    for (const [k, v] of a) if (!b.has(k) || !deepEqual(v, b.get(k), strict)) return false;
    return true;
  }
  if (a instanceof Set && b instanceof Set) {
    if (a.size !== b.size) return false;
    for (const v of a) if (!b.has(v)) return false;
    return true;
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a as object), kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  for (const k of ka) if (!deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], strict)) return false;
  return true;
}

/** tap's `match`: strings/regexps match by pattern, objects match by the pattern's own fields. */
function matches(v: unknown, pattern: unknown): boolean {
  if (pattern instanceof RegExp) return typeof v === 'string' && pattern.test(v);
  if (typeof pattern === 'string') return typeof v === 'string' && v.includes(pattern);
  if (typeof pattern === 'function') return v instanceof (pattern as new () => unknown) || typeof v === (pattern as { name: string }).name.toLowerCase();
  if (pattern && typeof pattern === 'object') {
    if (!v || typeof v !== 'object') return false;
    for (const k of Object.keys(pattern)) if (!matches((v as Record<string, unknown>)[k], (pattern as Record<string, unknown>)[k])) return false;
    return true;
  }
  return v === pattern;
}

class Test {
  private children: { name: string; fn: Fn }[] = [];
  private teardowns: (() => unknown)[] = [];
  constructor(readonly name: string, private readonly depth: number) {}

  private report(ok: boolean, message: string, detail?: string): boolean {
    total++;
    if (!ok) failures++;
    const pad = '    '.repeat(this.depth);
    console.log(`${pad}${ok ? 'ok' : 'not ok'} - ${message}`);
    if (!ok && detail) console.log(`${pad}  # ${detail}`);
    return ok;
  }

  ok(v: unknown, m = 'should be truthy') { return this.report(!!v, m); }
  notOk(v: unknown, m = 'should be falsy') { return this.report(!v, m); }
  equal(a: unknown, b: unknown, m = 'should be equal') { return this.report(Object.is(a, b), m, `found ${format(a)}, wanted ${format(b)}`); }
  not(a: unknown, b: unknown, m = 'should not be equal') { return this.report(!Object.is(a, b), m, `both ${format(a)}`); }
  same(a: unknown, b: unknown, m = 'should be equivalent') { return this.report(deepEqual(a, b, false), m, `found ${format(a)}, wanted ${format(b)}`); }
  strictSame(a: unknown, b: unknown, m = 'should be equivalent strictly') { return this.report(deepEqual(a, b, true), m, `found ${format(a)}, wanted ${format(b)}`); }
  notSame(a: unknown, b: unknown, m = 'should not be equivalent') { return this.report(!deepEqual(a, b, false), m); }
  match(v: unknown, p: unknown, m = 'should match pattern') { return this.report(matches(v, p), m, `found ${format(v)}, pattern ${String(p)}`); }
  notMatch(v: unknown, p: unknown, m = 'should not match pattern') { return this.report(!matches(v, p), m); }
  pass(m = 'pass') { return this.report(true, m); }
  fail(m = 'fail') { return this.report(false, m); }
  comment(...args: unknown[]) { console.log(`${'    '.repeat(this.depth)}# ${args.join(' ')}`); }
  throws(fn: () => unknown, expected?: unknown, m?: string) {
    if (typeof expected === 'string' && m === undefined) { m = expected; expected = undefined; }
    try { fn(); } catch (e) { return this.report(expected === undefined || matches(e, expected), m ?? 'expected to throw', `threw ${String(e)}`); }
    return this.report(false, m ?? 'expected to throw', 'did not throw');
  }
  doesNotThrow(fn: () => unknown, m = 'expected not to throw') {
    try { fn(); return this.report(true, m); } catch (e) { return this.report(false, m, String(e)); }
  }
  teardown(fn: () => unknown) { this.teardowns.push(fn); }
  plan(_n: number) {}
  end() {}
  test(name: string, fnOrOpts: Fn | object, maybeFn?: Fn) {
    const fn = typeof fnOrOpts === 'function' ? fnOrOpts as Fn : maybeFn!;
    this.children.push({ name, fn });
    return Promise.resolve();
  }

  async run(fn: Fn): Promise<void> {
    try {
      await fn(this);
      for (const c of this.children) {
        console.log(`${'    '.repeat(this.depth)}# Subtest: ${c.name}`);
        const child = new Test(c.name, this.depth + 1);
        await child.run(c.fn);
      }
    } catch (e) {
      this.report(false, `${this.name} threw`, `${String(e)}\n${(e as Error)?.stack ?? ''}`);
    }
    for (const td of this.teardowns) await td();
  }
}

const root = new Test('root', 0);
const rootRunner = async () => {
  // Let the test file register its top-level tests first.
  await Promise.resolve();
  await root.run(() => undefined);
  console.log(`# { total: ${total}, pass: ${total - failures} }`);
  if (failures > 0) throw new Error(`${failures} assertion(s) failed`);
};
// eslint-disable-next-line @typescript-eslint/no-floating-promises
const done = rootRunner();
(globalThis as unknown as { __tapShimDone: Promise<void> }).__tapShimDone = done;

export default root;
