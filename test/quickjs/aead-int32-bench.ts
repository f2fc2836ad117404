// The pure TypeScript ChaCha20-Poly1305s on QuickJS, for the numbers that
// chose createJsAead()'s implementation (src/crypto/aead.ts):
//   wgts-js aead-int32-bench.mjs count int32|noble N    seal N 1420-byte packets in place (for insncount)
//   wgts-js aead-int32-bench.mjs bench                  MB/s sealing and opening 1420-byte packets
import * as os from 'os';
import type { Aead } from '../../src/crypto/aead.js';
import { createNobleAead } from '../../src/crypto/aead.js';
import { createInt32Aead } from '../../src/crypto/chacha20poly1305-int32.js';

declare const scriptArgs: string[];
declare function print(...args: unknown[]): void;

const PACKET = 1420;

function pick(name: string | undefined): Aead {
  if (name === 'int32') return createInt32Aead();
  if (name === 'noble') return createNobleAead();
  throw new Error(`want int32 or noble, not ${name}`);
}

function sealMany(aead: Aead, n: number): number {
  const key = new Uint8Array(32).fill(7);
  const buf = new Uint8Array(16 + PACKET + 16);
  for (let i = 0; i < n; i++) aead.seal(key, i, null, buf, 16, PACKET, buf, 16);
  return buf[16 + PACKET]!;
}

function bench(): void {
  const key = new Uint8Array(32).fill(3);
  const rate = (op: (i: number) => void): number => {
    for (let i = 0; i < 5; i++) op(i);
    let packets = 0;
    const start = os.now();
    let now = start;
    while (now - start < 1500) {
      for (let i = 0; i < 5; i++) op(packets++);
      now = os.now();
    }
    return (packets * PACKET) / 1000 / (now - start);
  };
  const result: Record<string, number> = {};
  for (const name of ['int32', 'noble']) {
    const aead = pick(name);
    const buf = new Uint8Array(16 + PACKET + 16);
    result[`${name}SealMBps`] = rate((i) => aead.seal(key, i, null, buf, 16, PACKET, buf, 16));
    aead.seal(key, 1, null, buf, 16, PACKET, buf, 16);
    const sealed = buf.slice();
    result[`${name}OpenMBps`] = rate(() => {
      buf.set(sealed);
      if (aead.open(key, 1, null, buf, 16, PACKET + 16, buf, 16) !== PACKET) throw new Error('open failed');
    });
  }
  print(JSON.stringify(result));
}

if (scriptArgs[1] === 'count') print(sealMany(pick(scriptArgs[2]), Number(scriptArgs[3] ?? 1)));
else bench();
