// Key generation as `wg genkey` / `wg pubkey` / `wg genpsk` do it.
import type { RandomSource } from '../platform/platform.js';
import { clampPrivateKey, publicKeyOf } from './x25519.js';

export function generatePrivateKey(random: RandomSource): Uint8Array {
  const key = new Uint8Array(32);
  random(key);
  return clampPrivateKey(key);
}

export function generatePresharedKey(random: RandomSource): Uint8Array {
  const key = new Uint8Array(32);
  random(key);
  return key;
}

export function publicKeyFromPrivate(privateKey: Uint8Array): Uint8Array {
  return publicKeyOf(privateKey);
}
