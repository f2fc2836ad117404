// Inputs that once broke a fuzz target, replayed through the same checks:
// test/fixtures/fuzz-regressions/<target>/<file> (text targets as UTF-8,
// byte targets raw). Add a file there for every crash or leak the fuzzers
// find (their failing inputs land in .cache/fuzz-failures/<target>/).
import t from 'tap';
import { PARSER_TARGETS, regressionInputs } from './helpers/fuzz-targets.js';

let total = 0;
for (const target of PARSER_TARGETS) {
  const inputs = regressionInputs(target);
  if (inputs.length === 0) continue;
  total += inputs.length;
  t.test(target.name, async (t) => {
    for (const [file, input] of inputs) {
      let problem: string | null = null;
      try { await target.check(input); } catch (e) { problem = (e as Error).message; }
      t.equal(problem, null, file);
    }
  });
}

t.test('there are regression inputs to replay', async (t) => {
  t.ok(total > 0, `${total} stored inputs`);
});
