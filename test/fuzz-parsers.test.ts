// Seeded mutation fuzzing of every parser and codec that takes outside
// input (targets in helpers/fuzz-targets.ts): UAPI requests and whole UAPI
// connections, wg config files, UCI files and their translation, blobmsg
// and ubus messages, a ubus client fed a hostile ubusd stream, DNS replies, resolv.conf, IP/CIDR/endpoint text and IP
// headers. Each corpus entry must pass the check first (so the checks accept
// valid input), then thousands of mutations of it must too. Scaled by
// WGTS_FUZZ_RUNS / WGTS_FUZZ_SECONDS / WGTS_FUZZ_SEED (see helpers/fuzz.ts).
import t from 'tap';
import { failureLines, fuzz } from './helpers/fuzz.js';
import { PARSER_TARGETS, ubusStreamProblems, ubusStreamReach } from './helpers/fuzz-targets.js';

const only = process.env.WGTS_FUZZ_TARGET;

for (const [i, target] of PARSER_TARGETS.entries()) {
  if (only && !only.split(',').includes(target.name)) continue;
  t.test(target.name, async (t) => {
    const corpus = target.corpus();
    const corpusProblems: string[] = [];
    for (const [j, input] of corpus.entries()) {
      try { await target.check(input); } catch (e) { corpusProblems.push(`corpus ${j}: ${(e as Error).message}`); }
    }
    t.same(corpusProblems, [], `the ${corpus.length} corpus inputs pass`);
    const r = await fuzz({
      target: target.name,
      runs: target.runs,
      seed: 0xf022 + i,
      generate: (rng) => {
        let input = rng.pick(corpus);
        // Sometimes mutate a mutant further: reaches deeper than one step from valid.
        for (let k = rng.chance(0.3) ? 3 : 1; k > 0; k--) input = target.mutate(rng, input, corpus);
        return input;
      },
      check: target.check,
      serialize: (input) => input,
    });
    t.same(failureLines(r), [], `${r.runs} mutated inputs (seed ${r.seed}, ${r.ms} ms, slowest ${r.slowestMs} ms): no failure`);
    if (target.name === 'ubus-stream') {
      await new Promise((resolve) => setTimeout(resolve, 10)); // replies that async handlers write late
      t.same(ubusStreamProblems().slice(0, 5), [], 'everything the client wrote back was a well-formed ubus message');
      t.ok(ubusStreamReach.invocations > 0, `the stream reached the hosted object's handler (${ubusStreamReach.invocations} calls)`);
    }
  });
}
