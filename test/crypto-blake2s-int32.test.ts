// The int32-only BLAKE2s (src/crypto/blake2s-int32.ts) and its WireGuard
// constructions against RFC 7693 and, byte for byte, against blake2s-noble.ts
// (@noble/hashes) on random inputs around every block boundary. Pure, so it
// also runs on QuickJS (test/quickjs.test.ts, test-qemu/).
import t from 'tap';
import { blake2s } from '@noble/hashes/blake2.js';
import * as reference from '../src/crypto/blake2s-noble.js';
import { Blake2s, hash, hmac, kdf, mac } from '../src/crypto/blake2s-int32.js';
import { asciiBytes, toHex } from '../src/crypto/encoding.js';
import { prng } from './helpers/prng.js';

const rnd = prng(7693);
const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256));

t.test('RFC 7693 and WireGuard known answers', async (t) => {
  t.equal(toHex(hash(asciiBytes('abc'))), '508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982', 'RFC 7693 Appendix B');
  t.equal(toHex(hash()), '69217a3079908094e11121d042354a7c1f55b6482ca1a51e1b250dfd1ed0eef9', 'empty input');
  const ck = hash(asciiBytes('Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s'));
  t.equal(toHex(ck), '60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36', 'WireGuard Ci');
  t.equal(toHex(hash(ck, asciiBytes('WireGuard v1 zx2c4 Jason@zx2c4.com'))),
    '2211b361081ac566691243db458ad5322d9c6c662293e8b70ee19c65ba079ef3', 'WireGuard Hi');
  const range = (start: number, n: number) => Uint8Array.from({ length: n }, (_, i) => (start + i) & 255);
  t.equal(toHex(mac(range(0, 32), asciiBytes('abc'))), '61ba5f165c194692e09d12520cc4c74a', 'mac');
  t.equal(toHex(hmac(range(0, 32), asciiBytes('abc'))), '82623be5bc0a391b24dce53e67d028eff92d586de0485ac37822e597d049c74f', 'HMAC-BLAKE2s');
  t.same(kdf(3, range(0, 32), range(32, 32)).map(toHex), [
    '6a96444e20e8d4c1cee974416acae1c10b3c92886010e54ed94dafb2c3b80ea0',
    '57af120b0de7acbe7907ec149c5ae870a2dbb74232b65777ba4123f1f7f888f5',
    '0926c7caabb6e8d73beda759e6f4f0d324ce5b5000bcf8cd784b26db3049faa9',
  ], 'KDF3');
});

t.test('the same bytes as @noble/hashes on random inputs', async (t) => {
  const LENGTHS = [0, 1, 31, 32, 33, 63, 64, 65, 127, 128, 129, 191, 192, 193, 300];
  const failures: string[] = [];
  const same = (what: string, a: Uint8Array | Uint8Array[], b: Uint8Array | Uint8Array[]): void => {
    const x = Array.isArray(a) ? a.map(toHex).join() : toHex(a);
    const y = Array.isArray(b) ? b.map(toHex).join() : toHex(b);
    if (x !== y && failures.length < 10) failures.push(`${what}: ${x} want ${y}`);
  };
  const h = new Blake2s();
  for (let i = 0; i < 120; i++) {
    const len = i < LENGTHS.length ? LENGTHS[i]! : Math.floor(rnd() * 400);
    const a = bytes(len);
    const b = bytes(i % 70);
    const key = bytes(1 + (i % 32));
    same(`hash ${len}+${b.length}`, hash(a, b), reference.hash(a, b));
    same(`mac ${len}`, mac(key, a), reference.mac(key, a));
    const longKey = bytes(i % 3 === 0 ? 65 + i : 64);
    same(`hmac key ${longKey.length}`, hmac(longKey, a, b), reference.hmac(longKey, a, b));
    same(`kdf ${len}`, kdf(3, key, a), reference.kdf(3, key, a));
    // Incremental, split anywhere, other output lengths, keyed or not, into an offset.
    const outLen = 1 + (i % 32);
    const cut = Math.floor(rnd() * (len + 1));
    const out = new Uint8Array(outLen + 3);
    h.reset(outLen, i % 2 ? key : null).update(a, 0, cut).update(a, cut).digest(out, 3);
    same(`incremental ${len} cut ${cut} out ${outLen}`, out.subarray(3), blake2s(a, { dkLen: outLen, key: i % 2 ? key : undefined }));
  }
  t.same(failures, [], '120 random cases of hash, mac, hmac, kdf and incremental use');
  t.throws(() => new Blake2s().reset(33), RangeError, 'output longer than 32 bytes');
  t.throws(() => new Blake2s().reset(32, new Uint8Array(33)), RangeError, 'key longer than 32 bytes');
  t.throws(() => new Blake2s().reset().update(new Uint8Array(4), 2, 3), RangeError, 'range outside the data');
});
