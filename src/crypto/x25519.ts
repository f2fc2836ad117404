// X25519 (RFC 7748) for the handshake's DH, with WireGuard's clamping and
// the all-zero-output rejection the kernel and wireguard-go perform.
//
// Where the wgts runtime runs this (QuickJS with the native module), it sets
// the global `wgtsNativeX25519` (native/x25519.c: 1.4 M guest instructions
// per scalar multiplication on MIPS32 where @noble on QuickJS takes 42 M);
// elsewhere (Node) @noble/curves does the work and stays the reference both
// are tested against. Native X25519 never rejects: a low-order point gives
// zeros, which dh() reports as null exactly where @noble throws.
import { x25519 } from '@noble/curves/ed25519.js';

export const KEY_LEN = 32;

/** native/x25519.c's binding: out = X25519(scalar, point); 0, or -EINVAL unless all three are 32 bytes. */
export type NativeX25519 = (out: Uint8Array, scalar: Uint8Array, point: Uint8Array) => number;

function findNative(): NativeX25519 | null {
  const candidate = (globalThis as { wgtsNativeX25519?: unknown }).wgtsNativeX25519;
  return typeof candidate === 'function' ? (candidate as NativeX25519) : null;
}

let native = findNative();

/** Which implementation dh() and publicKeyOf() use now. */
export function x25519Implementation(): 'native' | 'noble' {
  return native ? 'native' : 'noble';
}

/**
 * Replaces the automatic choice: a native function, or null for @noble.
 * For tests and measurements that compare the two in one process.
 */
export function setNativeX25519(fn: NativeX25519 | null): void {
  native = fn;
}

const BASE_POINT = new Uint8Array(KEY_LEN);
BASE_POINT[0] = 9;

/** Clamp a private key in place, as wg genkey and wireguard-go do. */
export function clampPrivateKey(key: Uint8Array): Uint8Array {
  key[0] = key[0]! & 248;
  key[31] = (key[31]! & 127) | 64;
  return key;
}

function nativeMultiply(fn: NativeX25519, scalar: Uint8Array, point: Uint8Array): Uint8Array | null {
  const out = new Uint8Array(KEY_LEN);
  return fn(out, scalar, point) === 0 ? out : null;
}

export function publicKeyOf(privateKey: Uint8Array): Uint8Array {
  if (native) {
    const pub = nativeMultiply(native, privateKey, BASE_POINT);
    if (pub === null) throw new Error(`X25519 private key must be ${KEY_LEN} bytes`);
    return pub;
  }
  return x25519.getPublicKey(privateKey);
}

/** DH(private, public). Returns null for a low-order public key (all-zero result) or a key of the wrong size. */
export function dh(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array | null {
  let shared: Uint8Array | null;
  if (native) {
    shared = nativeMultiply(native, privateKey, publicKey);
  } else {
    try {
      shared = x25519.getSharedSecret(privateKey, publicKey);
    } catch {
      shared = null; // noble refuses low-order points itself
    }
  }
  if (shared === null) return null;
  let acc = 0;
  for (let i = 0; i < shared.length; i++) acc |= shared[i]!;
  return acc === 0 ? null : shared;
}
