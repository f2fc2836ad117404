// The reference for src/crypto/blake2s.ts: WireGuard's HASH, MAC, HMAC and
// KDF on @noble/hashes. The data path and the handshake use the int32
// implementation (blake2s-int32.ts), which is about ten times cheaper on
// QuickJS; tests hold the two to the same bytes.
import { blake2s } from '@noble/hashes/blake2.js';
import { hmac as nobleHmac } from '@noble/hashes/hmac.js';
import { HASH_LEN, MAC_LEN, wipe } from './blake2s.js';

export function hash(...parts: Uint8Array[]): Uint8Array {
  const h = blake2s.create({ dkLen: HASH_LEN });
  for (const p of parts) h.update(p);
  return h.digest();
}

export function mac(key: Uint8Array, input: Uint8Array): Uint8Array {
  return blake2s(input, { key, dkLen: MAC_LEN });
}

export function hmac(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const h = nobleHmac.create(blake2s, key);
  for (const p of parts) h.update(p);
  return h.digest();
}

export function kdf(n: 1 | 2 | 3, key: Uint8Array, input: Uint8Array): Uint8Array[] {
  const prk = hmac(key, input);
  const t1 = hmac(prk, Uint8Array.of(1));
  const out = [t1];
  if (n >= 2) out.push(hmac(prk, t1, Uint8Array.of(2)));
  if (n === 3) out.push(hmac(prk, out[1]!, Uint8Array.of(3)));
  wipe(prk);
  return out;
}
