// Secrets: private keys and preshared keys never reach wgts's log or output
// (at any LOG_LEVEL, through every UAPI path that carries them, malformed
// requests included) except where asked for (`wg showconf`, UAPI get), and
// session keys are zeroed when a session expires, rotates out, or its peer
// goes. The UAPI socket's mode and refusal of other users are tested in
// test/e2e/cli.test.ts; privilege dropping is discussed in docs/SECURITY.md.
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REJECT_AFTER_TIME } from '../../src/protocol/constants.js';
import type { Keypair } from '../../src/protocol/keypair.js';
import { generateKeyPair, generatePresharedKey } from '../../test/helpers/keys.js';
import { establish, makePair, runUntil, send } from '../../test/helpers/lifecycle.js';
import { createNetnsPair, requireInterop, startWgts, startWireguardGo, uniqueIfname, WG_SOCKET_DIR } from '../../test/helpers/netns.js';
import { keyForms, ping } from '../../test/helpers/tunnel.js';
import { wgtsBinary } from '../../test/helpers/wgts-binary.js';

/** Full key forms and 16-character slices of them: a partial key in a log is a leak too. */
function leakProbes(base64Keys: string[]): string[] {
  const out: string[] = [];
  for (const k of base64Keys) {
    for (const form of keyForms(k)) {
      for (let i = 0; i + 16 <= form.length; i += 8) out.push(form.slice(i, i + 16).toLowerCase());
    }
  }
  return out;
}

function leaked(text: string, probes: string[]): string[] {
  const lower = text.toLowerCase();
  return probes.filter((p) => lower.includes(p));
}

/** One UAPI exchange on the daemon's socket; resolves with the reply text. */
function uapi(ifname: string, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(join(WG_SOCKET_DIR, `${ifname}.sock`));
    let reply = '';
    const timer = setTimeout(() => { sock.destroy(); reject(new Error('UAPI timeout')); }, 5_000);
    sock.on('data', (c) => {
      reply += c.toString();
      if (reply.endsWith('\n\n')) { clearTimeout(timer); sock.end(); resolve(reply); }
    });
    sock.on('error', (e) => { clearTimeout(timer); reject(e); });
    sock.write(request);
  });
}

function runWgts(binary: string, args: string[], input: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = execFile(binary, args, { timeout: 10_000, encoding: 'utf8' }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, out: stdout + stderr }));
    child.stdin!.end(input);
  });
}

function isZero(b: Uint8Array): boolean {
  return b.every((x) => x === 0);
}

if (requireInterop(t)) {
  const binary = await wgtsBinary();

  for (const level of ['verbose', 'error', 'silent'] as const) {
    t.test(`LOG_LEVEL=${level}: no key material in wgts's output`, async (t) => {
      const pair = await createNetnsPair({ purpose: `secret${level.slice(0, 1)}` });
      const dir = mkdtempSync(join(tmpdir(), 'wgts-secrets-'));
      const stops: (() => Promise<void>)[] = [];
      t.teardown(async () => {
        for (const s of stops.reverse()) await s();
        await pair.destroy();
        rmSync(dir, { recursive: true, force: true });
      });
      const wgtsKeys = generateKeyPair();
      const goKeys = generateKeyPair();
      const nextKeys = generateKeyPair();
      const psk = generatePresharedKey();
      const [wv4, gv4] = pair.tunnel.v4;
      const wgts = await startWgts(pair.a.ns, uniqueIfname('s'), {
        privateKey: wgtsKeys.privateKey, listenPort: 51820, logLevel: level,
        peers: [{ publicKey: goKeys.publicKey, presharedKey: psk.base64, allowedIps: [`${gv4}/32`], endpoint: `${pair.b.v4}:51821` }],
        addresses: [`${wv4}/24`],
      });
      stops.push(() => wgts.stop());
      const go = await startWireguardGo(pair.b.ns, uniqueIfname('g'), {
        privateKey: goKeys.privateKey, listenPort: 51821,
        peers: [{ publicKey: wgtsKeys.publicKey, presharedKey: psk.base64, allowedIps: [`${wv4}/32`], endpoint: `${pair.a.v4}:51820` }],
        addresses: [`${gv4}/24`],
      });
      stops.push(() => go.stop());
      const side = { exec: pair.a.exec };
      t.equal((await ping(side, gv4, { count: 2 })).received, 2, 'handshake and traffic');

      // Where the keys are asked for, they are given.
      const conf = (await wgts.wg(['showconf', wgts.ifname])).stdout;
      t.match(conf, wgtsKeys.privateKey, 'wg showconf gives root the private key');
      t.match(await uapi(wgts.ifname, 'get=1\n\n'), `private_key=${wgtsKeys.privateHex}`, 'UAPI get carries it');

      // Every path that carries keys in: syncconf, set (a new private key, and back), PSK change, peer removal.
      writeFileSync(join(dir, 'wg.conf'), conf, { mode: 0o600 });
      writeFileSync(join(dir, 'next'), nextKeys.privateKey, { mode: 0o600 });
      writeFileSync(join(dir, 'own'), wgtsKeys.privateKey, { mode: 0o600 });
      writeFileSync(join(dir, 'psk'), psk.base64, { mode: 0o600 });
      await wgts.wg(['syncconf', wgts.ifname, join(dir, 'wg.conf')]);
      await wgts.wg(['set', wgts.ifname, 'private-key', join(dir, 'next')]);
      await wgts.wg(['set', wgts.ifname, 'private-key', join(dir, 'own'), 'peer', goKeys.publicKey, 'preshared-key', join(dir, 'psk')]);
      // Malformed requests that carry keys: rejected, and the rejection must not quote them.
      const bad = [
        `set=1\nprivate_key=${wgtsKeys.privateHex}\nlisten_port=notaport\n\n`,
        `set=1\nprivate_key=${nextKeys.privateHex.slice(0, 63)}\n\n`,
        `set=1\npublic_key=${goKeys.publicHex}\npreshared_key=${psk.hex}x\n\n`,
        `set=1\npublic_key=${goKeys.publicHex}\npreshared_key=${psk.hex}\nendpoint=nowhere\n\n`,
      ];
      for (const req of bad) t.match(await uapi(wgts.ifname, req), /^errno=-\d+\n\n$/, 'malformed set rejected');
      await wgts.wg(['setconf', wgts.ifname, join(dir, 'wg.conf')]);
      await wgts.wg(['set', wgts.ifname, 'peer', goKeys.publicKey, 'remove']);
      await wgts.wg(['setconf', wgts.ifname, join(dir, 'wg.conf')]);
      t.equal((await ping(side, gv4, { count: 1, waitS: 5 })).received, 1, 'traffic after all that');
      await wgts.stop();

      const out = wgts.output();
      const probes = leakProbes([wgtsKeys.privateKey, nextKeys.privateKey, goKeys.privateKey, psk.base64]);
      t.same(leaked(out, probes), [], 'no private key or PSK, whole or any 16-character slice, base64 or hex',
        { log: out.slice(-3000) });
      if (level === 'silent') t.equal(out, '', 'silent logs nothing');
      else if (level === 'error') t.notMatch(out, /DEBUG/, 'error level has no debug lines');
      else t.match(out, /UAPI set rejected/, 'the rejections were logged (without the keys)');
    });
  }

  t.test('the command line: only genkey/genpsk/pubkey print keys, and only the asked one', async (t) => {
    const k = generateKeyPair();
    const pub = await runWgts(binary, ['pubkey'], `${k.privateKey}\n`);
    t.equal(pub.out.trim(), k.publicKey, 'pubkey prints the public key only');
    const bad = await runWgts(binary, ['pubkey'], `${k.privateKey.slice(0, 40)}\n`);
    t.not(bad.code, 0, 'a malformed private key is refused');
    t.same(leaked(bad.out, leakProbes([k.privateKey])), [], 'without quoting it', { out: bad.out });
    const help = await runWgts(binary, ['--help'], '');
    t.notMatch(help.out, /[A-Za-z0-9+/]{43}=/, 'help contains no key');
  });
}

t.test('session keys are zeroed when they leave service', async (t) => {
  const pair = makePair(21);
  establish(pair);
  const first = pair.pa.keypairs.current!;
  const firstKeys = [first.sendKey, first.receiveKey];
  t.notOk(firstKeys.some(isZero), 'a live session has keys');
  t.ok(isZero(pair.pa.handshake.ephemeralPrivate) && isZero(pair.pb.handshake.ephemeralPrivate),
    'the handshake\'s ephemeral private keys are wiped once the session is derived');

  // Rotation: traffic past REKEY_AFTER_TIME makes new sessions; a session two generations old is dropped.
  const seen: Keypair[] = [first];
  for (let s = 1; s <= 400; s++) {
    send(pair, 'a', s);
    send(pair, 'b', s);
    runUntil(pair, s * 1000);
    const cur = pair.pa.keypairs.current;
    if (cur && !seen.includes(cur)) seen.push(cur);
  }
  t.ok(seen.length >= 3, `sessions rotated (${seen.length} generations)`);
  const kept = new Set([pair.pa.keypairs.previous, pair.pa.keypairs.current, pair.pa.keypairs.next]);
  const retired = seen.filter((kp) => !kept.has(kp));
  t.ok(retired.length >= 1, `${retired.length} session(s) rotated out`);
  t.ok(retired.every((kp) => isZero(kp.sendKey) && isZero(kp.receiveKey)), 'every rotated-out session\'s keys are zero');
  t.ok(firstKeys.every(isZero), 'including the first one');

  // Expiry: no traffic for 3 x REJECT_AFTER_TIME, and every session is wiped.
  const live = [pair.pa.keypairs.previous, pair.pa.keypairs.current, pair.pb.keypairs.previous, pair.pb.keypairs.current]
    .filter((kp): kp is Keypair => kp !== null);
  t.ok(live.length >= 2 && live.every((kp) => !isZero(kp.sendKey)), 'live sessions before the silence');
  runUntil(pair, pair.clock.now() + 3 * REJECT_AFTER_TIME + 1000);
  t.equal(pair.pa.keypairs.current, null, 'a dropped its sessions');
  t.equal(pair.pb.keypairs.current, null, 'b dropped its sessions');
  t.ok(live.every((kp) => isZero(kp.sendKey) && isZero(kp.receiveKey)), 'their key material is zero');
  t.ok(pair.logs.some((l) => /Removing all keys/.test(l.message)), 'and the log says so');

  // Peer removal wipes too.
  establish(pair);
  const last = pair.pa.keypairs.current!;
  pair.a.device.applyChange({ replacePeers: true, peers: [] });
  t.ok(isZero(last.sendKey) && isZero(last.receiveKey), 'removing the peer zeroes its session keys');
  t.ok(isZero(pair.pa.handshake.presharedKey), 'and its preshared key slot');
});
