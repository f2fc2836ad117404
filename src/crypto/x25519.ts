// X25519 (RFC 7748) for the handshake's DH, with WireGuard's clamping and
// the all-zero-output rejection the kernel and wireguard-go perform.
import { x25519 } from '@noble/curves/ed25519.js';

export const KEY_LEN = 32;

/** Clamp a private key in place, as wg genkey and wireguard-go do. */
export function clampPrivateKey(key: Uint8Array): Uint8Array {
  key[0] = key[0]! & 248;
  key[31] = (key[31]! & 127) | 64;
  return key;
}

export function publicKeyOf(privateKey: Uint8Array): Uint8Array {
  return x25519.getPublicKey(privateKey);
}

/** DH(private, public). Returns null for a low-order public key (all-zero result). */
export function dh(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array | null {
  let shared: Uint8Array;
  try {
    shared = x25519.getSharedSecret(privateKey, publicKey);
  } catch {
    return null; // noble refuses low-order points itself
  }
  let acc = 0;
  for (let i = 0; i < shared.length; i++) acc |= shared[i]!;
  return acc === 0 ? null : shared;
}
