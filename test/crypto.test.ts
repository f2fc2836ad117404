// Known-answer tests for the crypto seam. Vectors are typed from the RFCs and
// specifications named at each test; cross-checks use Node's OpenSSL, which
// shares no code with the @noble libraries under src/crypto.
import t from 'tap';
import { Buffer } from 'node:buffer';
import { createCipheriv, createHash, createHmac } from 'node:crypto';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { blake2s } from '@noble/hashes/blake2.js';
import { createJsAead, TAG_LEN, xaeadOpen, xaeadSeal } from '../src/crypto/aead.js';
import { clampPrivateKey, dh, publicKeyOf } from '../src/crypto/x25519.js';
import { hash, hmac, kdf, mac, MAC_LEN, HASH_LEN } from '../src/crypto/blake2s.js';
import { fromBase64, fromHex, keyFromBase64, toBase64, toHex } from '../src/crypto/encoding.js';
import { prng } from './helpers/prng.js';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const str = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const ascii = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));
const concat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));
const range = (start: number, n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (start + i) & 255);

function randomBytes(rnd: () => number, n: number): Uint8Array {
  return Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256));
}

// ---------------------------------------------------------------------------
// ChaCha20-Poly1305

// RFC 8439 §2.8.2 (the same inputs are reused by the XChaCha draft's A.3.1).
const SUNSCREEN = ascii("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.");
const KEY_80 = range(0x80, 32);
const AAD_8439 = hex('50515253c0c1c2c3c4c5c6c7');
const NONCE_8439 = hex('07000000 4041424344454647');
const CT_8439 = hex(`
  d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6
  3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36
  92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc
  3ff4def08e4b7a9de576d26586cec64b6116`);
const TAG_8439 = hex('1ae10b594f09e26a7e902ecbd0600691');

/** The nonce WireGuard uses, built independently of aead.ts: 4 zero bytes ‖ LE64(counter). */
function wireguardNonce(counter: number): Uint8Array {
  const nonce = new Uint8Array(12);
  new DataView(nonce.buffer).setBigUint64(4, BigInt(counter), true);
  return nonce;
}

/** ChaCha20-Poly1305 seal through OpenSSL, as ciphertext ‖ tag. */
function opensslSeal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  cipher.setAAD(aad, { plaintextLength: plaintext.length });
  return concat(cipher.update(plaintext), cipher.final(), cipher.getAuthTag());
}

t.test('ChaCha20-Poly1305: RFC 8439 §2.8.2', async (t) => {
  // The RFC's nonce starts 07 00 00 00, which WireGuard's counter-only nonce
  // (4 zero bytes ‖ LE64 counter) cannot express, so the vector runs through
  // the noble function createJsAead() wraps; the next test pins our nonce.
  const sealed = chacha20poly1305(KEY_80, NONCE_8439, AAD_8439).encrypt(SUNSCREEN);
  t.equal(str(sealed), str(concat(CT_8439, TAG_8439)), 'ciphertext ‖ tag');
  t.equal(str(chacha20poly1305(KEY_80, NONCE_8439, AAD_8439).decrypt(sealed)), str(SUNSCREEN), 'decrypts');
  t.equal(str(opensslSeal(KEY_80, NONCE_8439, AAD_8439, SUNSCREEN)), str(sealed), 'OpenSSL agrees (vector typed right)');
});

t.test('ChaCha20-Poly1305: our counter-to-nonce construction', async (t) => {
  const aead = createJsAead();
  const out = new Uint8Array(SUNSCREEN.length + TAG_LEN);
  // Counter 0x0006050403020100 gives nonce 00000000 ‖ 00 01 02 03 04 05 06 00
  // (the RFC's 07.. top byte would exceed the 2^53 counter limit).
  const literal = hex('00000000 0001020304050600');
  t.equal(str(wireguardNonce(0x0006050403020100)), str(literal), 'reference nonce builder');
  t.equal(aead.seal(KEY_80, 0x0006050403020100, AAD_8439, SUNSCREEN, 0, SUNSCREEN.length, out, 0), out.length);
  t.equal(str(out), str(chacha20poly1305(KEY_80, literal, AAD_8439).encrypt(SUNSCREEN)), 'matches the literal nonce');

  const counters = [0, 1, 255, 256, 0x01020304, 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000,
    0x123456789ab, 2 ** 53 - 2];
  for (const counter of counters) {
    aead.seal(KEY_80, counter, AAD_8439, SUNSCREEN, 0, SUNSCREEN.length, out, 0);
    t.equal(str(out), str(opensslSeal(KEY_80, wireguardNonce(counter), AAD_8439, SUNSCREEN)),
      `counter ${counter.toString(16)} matches OpenSSL`);
  }
  // A null AAD is the empty AAD.
  aead.seal(KEY_80, 5, null, SUNSCREEN, 0, SUNSCREEN.length, out, 0);
  t.equal(str(out), str(opensslSeal(KEY_80, wireguardNonce(5), new Uint8Array(0), SUNSCREEN)), 'null aad');
});

t.test('ChaCha20-Poly1305: offsets, in place, empty, tamper, short', async (t) => {
  const aead = createJsAead();
  const key = range(1, 32);
  const counter = 77;
  const len = 100;
  const plain = range(9, len);
  const expected = opensslSeal(key, wireguardNonce(counter), new Uint8Array(0), plain);

  // In place, behind a 16-byte header (how the data path uses it).
  const buf = new Uint8Array(16 + len + TAG_LEN + 7).fill(0xee);
  buf.set(plain, 16);
  t.equal(aead.seal(key, counter, null, buf, 16, len, buf, 16), len + TAG_LEN);
  t.equal(str(buf.subarray(16, 16 + len + TAG_LEN)), str(expected), 'in-place seal');
  t.ok(buf.subarray(0, 16).every((b) => b === 0xee) && buf.subarray(16 + len + TAG_LEN).every((b) => b === 0xee),
    'bytes outside the output are untouched');
  t.equal(aead.open(key, counter, null, buf, 16, len + TAG_LEN, buf, 16), len);
  t.equal(str(buf.subarray(16, 16 + len)), str(plain), 'in-place open');

  // Out of place, at offsets.
  const src = concat(new Uint8Array(3), expected);
  const dst = new Uint8Array(5 + len);
  t.equal(aead.open(key, counter, null, src, 3, expected.length, dst, 5), len);
  t.equal(str(dst.subarray(5)), str(plain), 'open at offsets');

  // Keepalive: empty plaintext is just a tag.
  const keepalive = new Uint8Array(TAG_LEN);
  t.equal(aead.seal(key, 1, null, new Uint8Array(0), 0, 0, keepalive, 0), TAG_LEN);
  t.equal(aead.open(key, 1, null, keepalive, 0, TAG_LEN, new Uint8Array(0), 0), 0, 'empty plaintext opens');

  // Every single-bit flip of ciphertext or tag fails.
  let accepted = 0;
  for (let i = 0; i < expected.length * 8; i += 7) {
    const bad = expected.slice();
    bad[i >> 3]! ^= 1 << (i & 7);
    if (aead.open(key, counter, null, bad, 0, bad.length, new Uint8Array(len), 0) !== -1) accepted++;
  }
  t.equal(accepted, 0, 'bit-flipped ciphertexts are refused');
  t.equal(aead.open(key, counter + 1, null, expected, 0, expected.length, new Uint8Array(len), 0), -1, 'wrong counter');
  t.equal(aead.open(key, counter, Uint8Array.of(1), expected, 0, expected.length, new Uint8Array(len), 0), -1, 'wrong aad');
  t.equal(aead.open(range(2, 32), counter, null, expected, 0, expected.length, new Uint8Array(len), 0), -1, 'wrong key');
  t.equal(aead.open(key, counter, null, expected, 0, expected.length - 1, new Uint8Array(len), 0), -1, 'truncated');

  for (const short of [0, 1, 15]) {
    t.equal(aead.open(key, counter, null, expected, 0, short, new Uint8Array(len), 0), -1, `len ${short} < 16`);
  }
});

// ---------------------------------------------------------------------------
// X25519 (RFC 7748)

t.test('X25519: RFC 7748 §5.2 vectors', async (t) => {
  const vectors = [
    ['a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4',
      'e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c',
      'c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552'],
    // u has its top bit set, which must be ignored.
    ['4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d',
      'e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493',
      '95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957'],
  ] as const;
  for (const [scalar, u, out] of vectors) {
    const shared = dh(hex(scalar), hex(u));
    t.equal(shared && str(shared), out);
  }
});

t.test('X25519: RFC 7748 §5.2 iterated, 1 and 1,000 times', async (t) => {
  let k = hex('0900000000000000000000000000000000000000000000000000000000000000');
  let u = k;
  for (let i = 1; i <= 1000; i++) {
    const next = dh(k, u);
    if (next === null) break;
    u = k;
    k = next;
    if (i === 1) t.equal(str(k), '422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079', 'after 1');
  }
  t.equal(str(k), '684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51', 'after 1,000');
});

t.test('X25519: RFC 7748 §6.1 Diffie-Hellman', async (t) => {
  const alicePriv = hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
  const alicePub = '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a';
  const bobPriv = hex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb');
  const bobPub = 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f';
  const shared = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742';
  t.equal(str(publicKeyOf(alicePriv)), alicePub);
  t.equal(str(publicKeyOf(bobPriv)), bobPub);
  t.equal(str(dh(alicePriv, hex(bobPub))!), shared);
  t.equal(str(dh(bobPriv, hex(alicePub))!), shared);

  // Clamping changes no result: X25519 clamps the scalar itself.
  const clamped = clampPrivateKey(alicePriv.slice());
  t.equal(clamped[0]! & 7, 0);
  t.equal(clamped[31]! & 0xc0, 0x40);
  t.equal(str(publicKeyOf(clamped)), alicePub);
  t.equal(str(dh(clamped, hex(bobPub))!), shared);
});

t.test('X25519: low-order public keys give null', async (t) => {
  const priv = hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
  const lowOrder = [
    '0000000000000000000000000000000000000000000000000000000000000000', // 0
    '0100000000000000000000000000000000000000000000000000000000000000', // 1
    'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800', // order 8
    '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157', // order 8
    'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // p - 1
    'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // p (= 0)
    'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // p + 1 (= 1)
  ];
  for (const point of lowOrder) t.equal(dh(priv, hex(point)), null, point.slice(0, 8));
});

// ---------------------------------------------------------------------------
// BLAKE2s

t.test('BLAKE2s: RFC 7693 Appendix B and the empty input', async (t) => {
  t.equal(str(hash(ascii('abc'))), '508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982');
  t.equal(str(hash(new Uint8Array(0))), '69217a3079908094e11121d042354a7c1f55b6482ca1a51e1b250dfd1ed0eef9');
  t.equal(str(hash(ascii('a'), ascii(''), ascii('bc'))), str(hash(ascii('abc'))), 'parts are concatenated');
  t.equal(hash(ascii('abc')).length, HASH_LEN);
});

t.test('BLAKE2s: reference keyed KAT (key 00..1f)', async (t) => {
  // blake2s-kat.txt, keyed section, first entries. The 32-byte keyed output is
  // not one of our functions; this pins the keyed primitive under mac().
  const key = range(0, 32);
  const expected = [
    '48a8997da407876b3d79c0d92325ad3b89cbb754d86ab71aee047ad345fd2c49',
    '40d15fee7c328830166ac3f918650f807e7e01e177258cdc0a39b11f598066f1',
    '6bb71300644cd3991b26ccd4d274acd1adeab8b1d7914546c1198bbe9fc9d803',
  ];
  expected.forEach((out, n) => t.equal(str(blake2s(range(0, n), { key })), out, `input 00..${n}`));
});

/** RFC 7693 Appendix E's Fibonacci-style generator for the self-test inputs. */
function selftestSequence(len: number, seed: number): Uint8Array {
  const out = new Uint8Array(len);
  let a = Math.imul(0xdead4bad, seed) >>> 0;
  let b = 1;
  for (let i = 0; i < len; i++) {
    const next = (a + b) >>> 0;
    a = b;
    b = next;
    out[i] = next >>> 24;
  }
  return out;
}

t.test('BLAKE2s: RFC 7693 Appendix E self-test (covers 16-byte keyed output)', async (t) => {
  // Hash of 48 hashes: output lengths 16/20/28/32, unkeyed and keyed. Our
  // functions compute the entries they can: mac() the keyed 16-byte ones
  // (key length 16 here), hash() the unkeyed 32-byte ones.
  const grand = blake2s.create({ dkLen: 32 });
  for (const outLen of [16, 20, 28, 32]) {
    for (const inLen of [0, 3, 64, 65, 255, 1024]) {
      const input = selftestSequence(inLen, inLen);
      grand.update(outLen === 32 ? hash(input) : blake2s(input, { dkLen: outLen }));
      const key = selftestSequence(outLen, outLen);
      grand.update(outLen === MAC_LEN ? mac(key, input) : blake2s(input, { key, dkLen: outLen }));
    }
  }
  t.equal(str(grand.digest()), '6a411f08ce25adcdfb02aba641451cec53c598b24f4fc787fbdc88797f4c1dfe');
});

t.test('BLAKE2s: mac is keyed BLAKE2s with a 16-byte output, not a truncation', async (t) => {
  const rnd = prng(7);
  for (let i = 0; i < 20; i++) {
    const key = randomBytes(rnd, 32);
    const input = randomBytes(rnd, Math.floor(rnd() * 200));
    const m = mac(key, input);
    t.equal(m.length, MAC_LEN);
    t.equal(str(m), str(blake2s(input, { key, dkLen: 16 })), `input length ${input.length}`);
    // The output length is in BLAKE2's parameter block, so it changes every byte.
    t.not(str(m), str(blake2s(input, { key, dkLen: 32 }).subarray(0, 16)), 'differs from a truncated 32-byte MAC');
  }
});

t.test('BLAKE2s: hash agrees with OpenSSL on many lengths', async (t) => {
  const rnd = prng(11);
  let mismatches = 0;
  for (let len = 0; len <= 300; len++) {
    const input = randomBytes(rnd, len);
    if (str(hash(input)) !== createHash('blake2s256').update(input).digest('hex')) mismatches++;
  }
  t.equal(mismatches, 0);
});

// ---------------------------------------------------------------------------
// WireGuard's HASH, HMAC and KDF

t.test('WireGuard initial chaining key and hash', async (t) => {
  const ck = hash(ascii('Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s'));
  t.equal(str(ck), '60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36', 'Ci');
  t.equal(str(hash(ck, ascii('WireGuard v1 zx2c4 Jason@zx2c4.com'))),
    '2211b361081ac566691243db458ad5322d9c6c662293e8b70ee19c65ba079ef3', 'Hi');
});

/** RFC 2104 HMAC written out over OpenSSL's BLAKE2s-256 (64-byte block). */
function referenceHmac(key: Uint8Array, message: Uint8Array): Uint8Array {
  const BLOCK = 64;
  let k = key.length > BLOCK ? new Uint8Array(createHash('blake2s256').update(key).digest()) : key;
  const padded = new Uint8Array(BLOCK);
  padded.set(k);
  k = padded;
  const inner = createHash('blake2s256').update(k.map((b) => b ^ 0x36)).update(message).digest();
  return new Uint8Array(createHash('blake2s256').update(k.map((b) => b ^ 0x5c)).update(inner).digest());
}

t.test('HMAC-BLAKE2s against RFC 2104 written out', async (t) => {
  const rnd = prng(3);
  for (const keyLen of [0, 1, 16, 32, 63, 64, 65, 100]) {
    const key = randomBytes(rnd, keyLen);
    const message = randomBytes(rnd, Math.floor(rnd() * 150));
    const ours = str(hmac(key, message));
    t.equal(ours, str(referenceHmac(key, message)), `key length ${keyLen}`);
    t.equal(ours, createHmac('blake2s256', key).update(message).digest('hex'), `key length ${keyLen}, OpenSSL HMAC`);
  }
  const key = range(0, 32);
  t.equal(str(hmac(key, ascii('ab'), ascii('c'))), str(hmac(key, ascii('abc'))), 'parts are concatenated');
  t.not(str(hmac(key, ascii('abc'))), str(blake2s(ascii('abc'), { key })), 'HMAC is not keyed BLAKE2s');
});

t.test('KDF1..3 against the whitepaper definition', async (t) => {
  const rnd = prng(5);
  for (let i = 0; i < 5; i++) {
    const key = randomBytes(rnd, 32);
    const input = randomBytes(rnd, i === 0 ? 0 : 32 * i);
    const keyCopy = key.slice();
    const inputCopy = input.slice();
    // τ0 = HMAC(key, input); τ1 = HMAC(τ0, 0x1); τi = HMAC(τ0, τ(i-1) ‖ i).
    const t0 = referenceHmac(key, input);
    const t1 = referenceHmac(t0, Uint8Array.of(1));
    const t2 = referenceHmac(t0, concat(t1, Uint8Array.of(2)));
    const t3 = referenceHmac(t0, concat(t2, Uint8Array.of(3)));
    t.same(kdf(1, key, input).map(str), [t1].map(str), `KDF1 #${i}`);
    t.same(kdf(2, key, input).map(str), [t1, t2].map(str), `KDF2 #${i}`);
    t.same(kdf(3, key, input).map(str), [t1, t2, t3].map(str), `KDF3 #${i}`);
    t.equal(str(key) + str(input), str(keyCopy) + str(inputCopy), 'inputs untouched');
  }
});

// ---------------------------------------------------------------------------
// XChaCha20-Poly1305 (cookie replies)

t.test('XChaCha20-Poly1305: draft-irtf-cfrg-xchacha-03 A.3.1', async (t) => {
  const nonce = range(0x40, 24);
  const expected = hex(`
    bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb
    731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452
    2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9
    21f9664c97637da9768812f615c68b13b52e
    c0875924c1c7987947deafd8780acf49`);
  const sealed = xaeadSeal(KEY_80, nonce, SUNSCREEN, AAD_8439);
  t.equal(str(sealed), str(expected), 'ciphertext ‖ tag');
  t.equal(str(xaeadOpen(KEY_80, nonce, sealed, AAD_8439)!), str(SUNSCREEN), 'opens');

  for (const index of [0, 57, sealed.length - 16, sealed.length - 1]) {
    const bad = sealed.slice();
    bad[index]! ^= 0x80;
    t.equal(xaeadOpen(KEY_80, nonce, bad, AAD_8439), null, `flipped byte ${index}`);
  }
  t.equal(xaeadOpen(KEY_80, nonce, sealed, AAD_8439.subarray(1)), null, 'other aad');
  const otherNonce = nonce.slice();
  otherNonce[23]! ^= 1;
  t.equal(xaeadOpen(KEY_80, otherNonce, sealed, AAD_8439), null, 'other nonce');
  t.equal(xaeadOpen(KEY_80, nonce, sealed.subarray(0, 15), AAD_8439), null, 'shorter than a tag');
});

// ---------------------------------------------------------------------------
// Encodings

t.test('base64 round trip against Buffer', async (t) => {
  const rnd = prng(13);
  const failures: number[] = [];
  for (let round = 0; round < 3; round++) {
    for (let len = 0; len <= 100; len++) {
      const bytes = randomBytes(rnd, len);
      const text = toBase64(bytes);
      const back = fromBase64(text);
      if (text !== Buffer.from(bytes).toString('base64') || back === null || str(back) !== str(bytes)) failures.push(len);
    }
  }
  t.same(failures, [], 'lengths 0..100');
});

t.test('base64 strict rejection', async (t) => {
  const bad = [
    'A', 'AA', 'AAA', 'AAAAA', // length not a multiple of 4
    'AA=', 'A===', '====', '=AAA', 'A=AA', 'AA=A', // padding in the wrong place
    'AA==AAAA', 'AAA=AAAA', // padding before the end
    'AA!A', 'AA A', ' AAA', 'AAA\n', 'AA-_', 'AA\u00e9A', 'AA\u0141A', // characters outside the alphabet
  ];
  for (const text of bad) t.equal(fromBase64(text), null, JSON.stringify(text));
  t.same(fromBase64(''), new Uint8Array(0), 'empty is empty');
});

t.test('keyFromBase64', async (t) => {
  const key = range(200, 32);
  const text = Buffer.from(key).toString('base64');
  t.equal(text.length, 44);
  t.equal(str(keyFromBase64(text)!), str(key), 'a real key');
  t.equal(toBase64(key), text);

  t.equal(keyFromBase64(text.slice(0, 43)), null, '43 characters');
  t.equal(keyFromBase64(text + 'A'), null, '45 characters');
  t.equal(keyFromBase64(Buffer.from(range(0, 31)).toString('base64') + 'A'), null, '31 bytes padded to 44 chars');
  t.equal(keyFromBase64(Buffer.from(range(0, 33)).toString('base64')), null, '33 bytes (44 chars, no padding)');
  t.equal(keyFromBase64(text.slice(0, 42) + '=='), null, 'two padding characters');
  t.equal(keyFromBase64(text.slice(0, 10) + '*' + text.slice(11)), null, 'bad character');
  t.equal(keyFromBase64(''), null, 'empty');
  // The last character carries 2 bits that padding discards: `wg` refuses them set, and so do we.
  const last = text.charCodeAt(42);
  t.equal(keyFromBase64(text.slice(0, 42) + String.fromCharCode(last + 1) + '='), null, 'leftover bits set');
  t.same(fromBase64('YQ=='), Uint8Array.of(97));
  t.equal(fromBase64('YR=='), null, 'leftover bits under two padding characters');
  t.same(fromBase64('YWI='), Uint8Array.of(97, 98));
  t.equal(fromBase64('YWJ='), null, 'leftover bits under one padding character');
});

t.test('hex round trip and rejection', async (t) => {
  const rnd = prng(17);
  for (const len of [0, 1, 16, 32, 77]) {
    const bytes = randomBytes(rnd, len);
    const text = toHex(bytes);
    t.equal(text, Buffer.from(bytes).toString('hex'), `toHex ${len}`);
    t.equal(str(fromHex(text, len)!), text, `fromHex ${len}`);
    t.equal(str(fromHex(text.toUpperCase(), len)!), text, `uppercase ${len}`);
  }
  t.equal(fromHex('abc', 2), null, 'odd length');
  t.equal(fromHex('abcd', 1), null, 'too long for the length');
  t.equal(fromHex('ab', 2), null, 'too short for the length');
  for (const bad of ['0g', 'g0', ' 0', '0 ', '+1', '-1', '0x', '\u0660\u0661']) {
    t.equal(fromHex(bad, 1), null, JSON.stringify(bad));
  }
});
