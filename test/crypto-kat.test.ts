// Crypto known answers that run anywhere wgts runs: pure (no Node APIs), so
// test/quickjs.test.ts and test-qemu/ run this file on QuickJS, on every
// router CPU under QEMU. The AEAD answers go through createJsAead() (the
// int32 TypeScript implementation), createNobleAead() and, on wgts-js where
// the wgts_native module exists, createNativeAead(); the X25519 answers
// through dh(), which is the native X25519 there.
// Expected values: RFC 7748 / RFC 7693 / the XChaCha draft as published; the
// ChaCha20-Poly1305 answers with WireGuard's nonce (which the RFC vectors'
// nonces cannot be expressed as) were computed with OpenSSL, and the chain
// digest agrees with native/test_aead.c and test/native-aead.test.ts.
import t from 'tap';
import type { Test } from 'tap';
import type { Aead } from '../src/crypto/aead.js';
import { createJsAead, createNobleAead, TAG_LEN, xaeadOpen, xaeadSeal } from '../src/crypto/aead.js';
import { createNativeAead } from '../src/crypto/native-aead.js';
import type { NativeAeadFunctions } from '../src/crypto/native-aead.js';
import { hash, hmac, kdf, mac } from '../src/crypto/blake2s.js';
import { asciiBytes, fromHex, toHex } from '../src/crypto/encoding.js';
import { dh, publicKeyOf } from '../src/crypto/x25519.js';

const hex = (s: string): Uint8Array => {
  const clean = s.replace(/\s+/g, '');
  const bytes = fromHex(clean, clean.length / 2);
  if (bytes === null) throw new Error(`bad hex in a vector: ${clean.slice(0, 16)}`);
  return bytes;
};
const range = (start: number, n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (start + i) & 255);

// RFC 8439 §2.8.2's key, AAD and plaintext.
const SUNSCREEN = asciiBytes("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.");
const KEY_80 = range(0x80, 32);
const AAD_8439 = hex('50515253c0c1c2c3c4c5c6c7');

/** Counter 0x0006050403020100 = nonce 00000000 ‖ 00 01 02 03 04 05 06 00. */
const SEALED_SUNSCREEN = hex(`
  88bc023fba268a923488900ce93dedd5bcd14709b628af450e2d867f80aa99ba
  c2e9d7f51a8fde266ea232462a0ffeb955f68eb801125382997e67cfdebb34e1
  fb4442c6cab7981f03da9ab03ea007cd0ea2de93812faa962f6a61d6bf0bec61
  10b8359a3db7adc9435ef8842b0f8c315676a1780cfad5cfd532852758693435
  9c06`);

/** [counter, aad, plaintext, tag]: every counter width a 32-bit CPU splits differently. */
const TAGS: [number, Uint8Array | null, Uint8Array, string][] = [
  [0, AAD_8439, SUNSCREEN, '5c21ea189f9450ff121509fd8142befc'],
  [1, AAD_8439, SUNSCREEN, '09473dbdcf154e6e253e747918368410'],
  [0x7fffffff, AAD_8439, SUNSCREEN, '58a53926ae5332c12ccb285cb56d29b4'],
  [0x80000000, AAD_8439, SUNSCREEN, 'e2e67dabc16baa59490b8080687a5959'],
  [0xffffffff, AAD_8439, SUNSCREEN, '0d88b4757a7188739c6c699f9ed1c774'],
  [0x100000000, AAD_8439, SUNSCREEN, 'd9e8a3fbd87c44534f15fcb3784cc2c4'],
  [2 ** 53 - 2, AAD_8439, SUNSCREEN, 'c9027c65cb36f2e02a16ad0c7d77d92d'],
  [5, null, SUNSCREEN, 'd80485c82f6006b4f2ea71d8ece4688b'],
  [7, AAD_8439, new Uint8Array(0), '0fc011d6d63c9566c9a007749ef35732'],
  [0x12345678, null, Uint8Array.from({ length: 1420 }, (_, i) => (i * 7) & 255), 'c4f4fe5478f14c5dd68f1bca875f173a'],
];

/** 1501 chained seals (lengths 0..1500), as in native/test_aead.c. */
const CHAIN_DIGEST = '7cc3d1d31c3d4f19b000b017ea150e48578e95f84bba2331c850c07690ea8684';

function chainDigest(aead: Aead): string {
  let state = 1;
  const nextWord = (): number => (state = (Math.imul(state, 1103515245) + 12345) >>> 0);
  const nextByte = (): number => (nextWord() >>> 16) & 0xff;
  const key = new Uint8Array(32);
  const aad = new Uint8Array(16);
  const buf = new Uint8Array(1500 + TAG_LEN);
  for (let len = 0; len <= 1500; len++) {
    const aadLen = len % 17;
    const lo = nextWord();
    const hi = nextWord() & 0x1fffff;
    for (let i = 0; i < aadLen; i++) aad[i] = nextByte();
    for (let i = 0; i < len; i++) buf[i] = nextByte();
    aead.seal(key, hi * 0x100000000 + lo, aadLen > 0 ? aad.subarray(0, aadLen) : null, buf, 0, len, buf, 0);
    key.set(buf.subarray(len, len + 16));
    key.fill(0, 16);
    for (let i = 0; i < len; i++) key[16 + (i % 16)] ^= buf[i]!;
  }
  return toHex(key);
}

function aeadAnswers(t: Test, aead: Aead): void {
  const out = new Uint8Array(SUNSCREEN.length + TAG_LEN);
  t.equal(aead.seal(KEY_80, 0x0006050403020100, AAD_8439, SUNSCREEN, 0, SUNSCREEN.length, out, 0), out.length, 'seal length');
  t.equal(toHex(out), toHex(SEALED_SUNSCREEN), 'RFC 8439 inputs: ciphertext ‖ tag');
  const opened = new Uint8Array(SUNSCREEN.length);
  t.equal(aead.open(KEY_80, 0x0006050403020100, AAD_8439, SEALED_SUNSCREEN, 0, SEALED_SUNSCREEN.length, opened, 0), SUNSCREEN.length);
  t.equal(toHex(opened), toHex(SUNSCREEN), 'opens to the plaintext');
  const bad = SEALED_SUNSCREEN.slice();
  bad[bad.length - 1]! ^= 1;
  t.equal(aead.open(KEY_80, 0x0006050403020100, AAD_8439, bad, 0, bad.length, opened, 0), -1, 'a flipped tag bit is rejected');

  for (const [counter, aad, plain, tag] of TAGS) {
    const buf = new Uint8Array(plain.length + TAG_LEN);
    buf.set(plain);
    aead.seal(KEY_80, counter, aad, buf, 0, plain.length, buf, 0);
    t.equal(toHex(buf.subarray(plain.length)), tag, `tag: counter 0x${counter.toString(16)}, ${plain.length} bytes, aad ${aad ? aad.length : 'null'}`);
    t.equal(aead.open(KEY_80, counter, aad, buf, 0, buf.length, buf, 0), plain.length, 'opens in place');
    t.equal(toHex(buf.subarray(0, plain.length)), toHex(plain), 'to the plaintext');
  }
  t.equal(chainDigest(aead), CHAIN_DIGEST, '1501 chained seals of lengths 0..1500');
}

t.test('ChaCha20-Poly1305 known answers: createJsAead (the int32 TypeScript one)', async (t) => {
  aeadAnswers(t, createJsAead());
});

t.test('ChaCha20-Poly1305 known answers: createNobleAead (@noble/ciphers, the reference)', async (t) => {
  aeadAnswers(t, createNobleAead());
});

t.test('ChaCha20-Poly1305 known answers: createNativeAead (on wgts-js only)', async (t) => {
  const name = 'wgts_native'; // a variable, so that bundlers and Node leave the import to run time
  let native: NativeAeadFunctions | null = null;
  try {
    native = (await import(name)) as NativeAeadFunctions;
  } catch {
    native = null;
  }
  if (native === null || typeof native.aeadSeal !== 'function') {
    t.comment('no wgts_native module here (Node): the native AEAD runs on wgts-js');
    t.pass('skipped');
    return;
  }
  aeadAnswers(t, createNativeAead(native));
});

t.test('XChaCha20-Poly1305: draft-irtf-cfrg-xchacha-03 A.3.1', async (t) => {
  const nonce = range(0x40, 24);
  const expected = `bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb
    731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452
    2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9
    21f9664c97637da9768812f615c68b13b52e c0875924c1c7987947deafd8780acf49`.replace(/\s+/g, '');
  const sealed = xaeadSeal(KEY_80, nonce, SUNSCREEN, AAD_8439);
  t.equal(toHex(sealed), expected);
  t.equal(toHex(xaeadOpen(KEY_80, nonce, sealed, AAD_8439) ?? new Uint8Array(0)), toHex(SUNSCREEN));
});

t.test('X25519: RFC 7748 §5.2 and §6.1', async (t) => {
  const vectors = [
    ['a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4',
      'e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c',
      'c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552'],
    ['4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d',
      'e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493',
      '95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957'],
  ] as const;
  for (const [scalar, u, out] of vectors) t.equal(toHex(dh(hex(scalar), hex(u)) ?? new Uint8Array(0)), out, `§5.2 ${scalar.slice(0, 8)}`);

  const nine = hex('0900000000000000000000000000000000000000000000000000000000000000');
  t.equal(toHex(dh(nine, nine) ?? new Uint8Array(0)), '422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079', '§5.2 iterated once');

  const alicePriv = hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
  const bobPriv = hex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb');
  const alicePub = '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a';
  const bobPub = 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f';
  const shared = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742';
  t.equal(toHex(publicKeyOf(alicePriv)), alicePub, '§6.1 Alice public');
  t.equal(toHex(publicKeyOf(bobPriv)), bobPub, '§6.1 Bob public');
  t.equal(toHex(dh(alicePriv, hex(bobPub)) ?? new Uint8Array(0)), shared, '§6.1 shared (Alice)');
  t.equal(toHex(dh(bobPriv, hex(alicePub)) ?? new Uint8Array(0)), shared, '§6.1 shared (Bob)');
  t.equal(dh(alicePriv, new Uint8Array(32)), null, 'the zero point gives null');
});

t.test('BLAKE2s: RFC 7693, WireGuard construction, HMAC and KDF', async (t) => {
  t.equal(toHex(hash(asciiBytes('abc'))), '508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982', 'RFC 7693 Appendix B');
  t.equal(toHex(hash(new Uint8Array(0))), '69217a3079908094e11121d042354a7c1f55b6482ca1a51e1b250dfd1ed0eef9', 'empty input');
  // 64 and 65 bytes cross BLAKE2s's block boundary, where a word-order bug shows.
  t.equal(toHex(hash(range(0, 64))), toHex(hash(range(0, 32), range(32, 32))), 'parts are concatenated');
  const ck = hash(asciiBytes('Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s'));
  t.equal(toHex(ck), '60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36', 'WireGuard Ci');
  t.equal(toHex(hash(ck, asciiBytes('WireGuard v1 zx2c4 Jason@zx2c4.com'))),
    '2211b361081ac566691243db458ad5322d9c6c662293e8b70ee19c65ba079ef3', 'WireGuard Hi');
  // mac, HMAC and KDF answers computed with Python's hashlib (BLAKE2 reference code) and hmac.
  t.equal(toHex(mac(range(0, 32), asciiBytes('abc'))), '61ba5f165c194692e09d12520cc4c74a', 'mac (keyed, 16-byte output)');
  t.equal(toHex(hmac(range(0, 32), asciiBytes('abc'))),
    '82623be5bc0a391b24dce53e67d028eff92d586de0485ac37822e597d049c74f', 'HMAC-BLAKE2s');
  t.same(kdf(3, range(0, 32), range(32, 32)).map(toHex), [
    '6a96444e20e8d4c1cee974416acae1c10b3c92886010e54ed94dafb2c3b80ea0',
    '57af120b0de7acbe7907ec149c5ae870a2dbb74232b65777ba4123f1f7f888f5',
    '0926c7caabb6e8d73beda759e6f4f0d324ce5b5000bcf8cd784b26db3049faa9',
  ], 'KDF3');
});

