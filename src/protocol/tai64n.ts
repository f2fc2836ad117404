// TAI64N timestamps for handshake initiations (whitepaper §5.1): 8 bytes of
// big-endian seconds offset by 2^62 + 10, then 4 bytes of big-endian nanoseconds.
// Like the kernel and wireguard-go, the nanoseconds are rounded down to 2^24 ns
// so a timestamp does not leak a precise clock reading.

export const TIMESTAMP_LEN = 12;
const WHITENER_MASK = 0xffffff;

export function tai64n(wallMs: number, out: Uint8Array = new Uint8Array(TIMESTAMP_LEN)): Uint8Array {
  const seconds = Math.floor(wallMs / 1000);
  const nanos = ((wallMs - seconds * 1000) * 1_000_000) & ~WHITENER_MASK;
  // 2^62 + 10 + seconds: the high word is 0x40000000 + seconds / 2^32.
  const low = (seconds + 10) % 0x100000000;
  const high = 0x40000000 + Math.floor((seconds + 10) / 0x100000000);
  writeBE32(out, 0, high);
  writeBE32(out, 4, low);
  writeBE32(out, 8, nanos >>> 0);
  return out;
}

/** True when timestamp a is strictly later than b (byte-wise big-endian compare). */
export function timestampAfter(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < TIMESTAMP_LEN; i++) {
    if (a[i] !== b[i]) return a[i]! > b[i]!;
  }
  return false;
}

function writeBE32(buf: Uint8Array, off: number, v: number): void {
  buf[off] = v >>> 24; buf[off + 1] = v >>> 16; buf[off + 2] = v >>> 8; buf[off + 3] = v;
}
