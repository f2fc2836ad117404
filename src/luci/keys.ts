// Key pairs for the form, made in the browser with the daemon's own X25519
// (src/crypto/keys.ts, @noble/curves): the private key goes only into the
// form field, never over the network except when the form is saved.
import { keyFromBase64, toBase64 } from '../crypto/encoding.js';
import { generatePresharedKey, generatePrivateKey, publicKeyFromPrivate } from '../crypto/keys.js';
import type { RandomSource } from '../platform/platform.js';

export interface KeyPair {
  privateKey: string;
  publicKey: string;
}

export function generateKeyPair(random: RandomSource): KeyPair {
  const secret = generatePrivateKey(random);
  const pair = { privateKey: toBase64(secret), publicKey: toBase64(publicKeyFromPrivate(secret)) };
  secret.fill(0);
  return pair;
}

export function generatePsk(random: RandomSource): string {
  const psk = generatePresharedKey(random);
  const text = toBase64(psk);
  psk.fill(0);
  return text;
}

/** The public key of a base64 private key, or null if it is not one. */
export function publicKeyOf(privateKey: string): string | null {
  const secret = keyFromBase64(privateKey);
  if (secret === null) return null;
  const pub = toBase64(publicKeyFromPrivate(secret));
  secret.fill(0);
  return pub;
}
