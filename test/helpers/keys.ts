// WireGuard keys for tests, made with Node's own X25519 so the oracle does
// not depend on the crypto code under test.
import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';

export interface TestKeyPair {
  /** base64, as `wg` and config files want it */
  privateKey: string;
  publicKey: string;
  /** lowercase hex, as the UAPI wants it */
  privateHex: string;
  publicHex: string;
}

const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

/** The base64 public key belonging to a base64 private key. */
export function publicKeyOf(privateKeyBase64: string): string {
  const raw = Buffer.from(privateKeyBase64, 'base64');
  if (raw.length !== 32) throw new Error('a WireGuard private key is 32 bytes');
  const priv = createPrivateKey({ key: Buffer.concat([PKCS8_X25519_PREFIX, raw]), format: 'der', type: 'pkcs8' });
  const x = createPublicKey(priv).export({ format: 'jwk' }).x;
  if (!x) throw new Error('X25519 public key export failed');
  return Buffer.from(x, 'base64url').toString('base64');
}

export function generateKeyPair(): TestKeyPair {
  const raw = randomBytes(32);
  // Clamped like `wg genkey`, so the stored key is the one every implementation uses.
  raw[0]! &= 248;
  raw[31] = (raw[31]! & 127) | 64;
  const privateKey = raw.toString('base64');
  const publicKey = publicKeyOf(privateKey);
  return { privateKey, publicKey, privateHex: base64ToHex(privateKey), publicHex: base64ToHex(publicKey) };
}

export function generatePresharedKey(): { base64: string; hex: string } {
  const raw = randomBytes(32);
  return { base64: raw.toString('base64'), hex: raw.toString('hex') };
}

export function base64ToHex(b64: string): string {
  return Buffer.from(b64, 'base64').toString('hex');
}
