// The native module's fuzzing, from npm test:
//  1. native/chacha20poly1305.c against its TypeScript twin createJsAead():
//     fuzz/aead_replay.c (built with gcc) seals seeded random inputs of every
//     length 0..1600 at every key/counter/aad shape, plus every input the
//     libFuzzer corpus holds (.cache/fuzz-corpus/aead), and each sealed
//     message must equal the TypeScript one byte for byte and open back;
//  2. a short bounded run of the libFuzzer harnesses (fuzz/run.sh: AEAD
//     properties and OpenSSL comparison, udp.c control messages and
//     endpoints, TUN names and socket paths) under ASan and UBSan, after
//     replaying fuzz/regressions/. Skipped, with the reason, when clang's
//     libFuzzer is not installed.
// WGTS_FUZZ_RUNS scales part 1; FUZZ_SECONDS part 2 (see fuzz/run.sh).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createJsAead } from '../src/crypto/aead.js';
import { fromHex, toHex } from '../src/crypto/encoding.js';
import { envRuns, envSeed, Rng } from './helpers/fuzz.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, '.cache/fuzz-bin');
const replay = join(outDir, 'aead_replay');

function have(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v "${command}"`], { stdio: 'ignore' }).status === 0;
}

function bytesOf(hex: string): Uint8Array {
  return hex === '-' ? new Uint8Array(0) : fromHex(hex, hex.length / 2)!;
}

t.test('native AEAD equals the TypeScript twin on fuzz inputs', { skip: have('gcc') ? false : 'gcc not installed' }, async (t) => {
  mkdirSync(outDir, { recursive: true });
  const build = spawnSync('gcc', ['-O2', '-std=c99', '-Wall', '-Wextra', '-Werror', '-o', replay,
    join(root, 'fuzz/aead_replay.c'), join(root, 'native/chacha20poly1305.c')], { encoding: 'utf8' });
  t.equal(build.status, 0, `fuzz/aead_replay.c builds${build.status ? `: ${build.stderr}` : ''}`);
  if (build.status !== 0) return;

  const rng = new Rng(envSeed(0xaead));
  const lines: string[] = [];
  const count = envRuns(3000);
  for (let i = 0; i < count; i++) {
    // key[32] counter[8] aad_len offset flip[2] then aad||plaintext (see fuzz/aead_input.h)
    const header = rng.bytes(44);
    if (rng.chance(0.1)) header.fill(0, 32, 40); // counter 0
    if (rng.chance(0.1)) header.fill(0xff, 32, 40); // counter at its limit (cut to 2^53-1)
    header[40] = rng.chance(0.5) ? 0 : rng.int(65);
    const len = rng.chance(0.7) ? rng.int(129) : rng.int(1601);
    lines.push(toHex(header) + toHex(rng.bytes(len + header[40]!)));
  }
  const corpusDir = join(root, '.cache/fuzz-corpus/aead');
  const corpus = existsSync(corpusDir) ? readdirSync(corpusDir).slice(0, envRuns(3000)) : [];
  for (const f of corpus) lines.push(`@${join(corpusDir, f)}`);

  const r = spawnSync(replay, [], { input: `${lines.join('\n')}\n`, encoding: 'utf8', maxBuffer: 256 << 20 });
  t.equal(r.status, 0, 'the replay tool ran');
  const out = r.stdout.trim().split('\n');
  t.equal(out.length, lines.length, 'one result per input');
  const js = createJsAead();
  const problems: string[] = [];
  for (const [i, line] of out.entries()) {
    const [keyHex, counterText, aadHex, ptHex, sealedHex] = line.split(' ');
    const key = bytesOf(keyHex!);
    const counter = Number(counterText);
    const aad = bytesOf(aadHex!);
    const pt = bytesOf(ptHex!);
    const sealed = new Uint8Array(pt.length + 16);
    js.seal(key, counter, aad.length ? aad : null, pt, 0, pt.length, sealed, 0);
    if (toHex(sealed) !== sealedHex) { problems.push(`input ${i} (${pt.length} bytes, counter ${counter}): sealed bytes differ`); continue; }
    const opened = new Uint8Array(pt.length);
    const n = js.open(key, counter, aad.length ? aad : null, bytesOf(sealedHex), 0, sealed.length, opened, 0);
    if (n !== pt.length || toHex(opened) !== toHex(pt)) problems.push(`input ${i}: the TypeScript twin cannot open the native seal`);
  }
  t.same(problems.slice(0, 10), [], `${out.length} inputs (${count} seeded, ${corpus.length} from the libFuzzer corpus): native == TypeScript (${problems.length} differ)`);
});

function libFuzzerWorks(): string | false {
  if (!have('clang')) return 'clang not installed (apt-get install clang libclang-rt-14-dev)';
  mkdirSync(outDir, { recursive: true });
  const probe = spawnSync('sh', ['-c',
    `printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }\\n' > "${outDir}/probe.c" && `
    + `clang -fsanitize=fuzzer,address,undefined -o "${outDir}/probe" "${outDir}/probe.c" && "${outDir}/probe" -runs=1`], { encoding: 'utf8' });
  return probe.status === 0 ? false : 'clang cannot build libFuzzer harnesses here (apt-get install libclang-rt-14-dev)';
}

const noFuzzer = libFuzzerWorks();
t.test('libFuzzer harnesses of native/ (short bounded run)', { skip: noFuzzer }, async (t) => {
  const r = spawnSync('sh', [join(root, 'fuzz/run.sh')], {
    cwd: root, encoding: 'utf8', timeout: 240_000,
    env: { ...process.env, FUZZ_SECONDS: process.env.FUZZ_SECONDS ?? '5', FUZZ_RUNS: process.env.FUZZ_RUNS ?? '200000' },
  });
  const results = r.stdout.split('\n').filter((l) => l.startsWith('fuzz '));
  for (const name of ['aead', 'udp', 'names']) {
    const line = results.find((l) => l.startsWith(`fuzz ${name} `)) ?? '';
    t.match(line, /result=ok/, `${name}: ${line || 'no result'}`);
    const runs = Number(/runs=(\d+)/.exec(line)?.[1] ?? 0);
    t.ok(runs > 1000, `${name} ran ${runs} inputs`);
  }
  if (r.status !== 0) t.comment(r.stderr.slice(-3000));
  t.equal(r.status, 0, 'fuzz/run.sh exit status');
});
