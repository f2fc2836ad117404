// Stand-in entry for build/build.mjs while src/cli/main.ts cannot be
// bundled: proves the wgts executable runs a bundle with std, os and
// wgts_native linked in. `wgts-placeholder ARGS...` prints its arguments.
import * as std from 'std';
import * as native from 'wgts_native';

declare const scriptArgs: string[];

const random = new Uint8Array(8);
native.getrandom(random, 0, random.length);
std.out.puts(`wgts placeholder: args=${JSON.stringify(scriptArgs.slice(1))} stride=${native.META_STRIDE} random=${Array.from(random).join(',')}\n`);
void Promise.resolve().then(() => std.exit(scriptArgs.includes("--fail") ? 3 : 0));
