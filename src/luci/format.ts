// Human-readable figures for the status page.

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** 0 B, 1023 B, 1.0 KiB, 12.3 MiB ... (binary units, one decimal above bytes). */
export function formatBytes(bytes: number): string {
  if (!(bytes >= 0) || !Number.isFinite(bytes)) return '-';
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

/** How long ago a Unix time was: "12 s ago", "3 min ago", "2 h 5 min ago", "4 d ago"; "never" for 0. */
export function formatAgo(unixSeconds: number, nowSeconds: number): string {
  if (!(unixSeconds > 0)) return 'never';
  const age = Math.max(0, Math.floor(nowSeconds - unixSeconds));
  if (age < 60) return `${age} s ago`;
  if (age < 3600) return `${Math.floor(age / 60)} min ago`;
  if (age < 86400) {
    const minutes = Math.floor(age / 60) % 60;
    return minutes > 0 ? `${Math.floor(age / 3600)} h ${minutes} min ago` : `${Math.floor(age / 3600)} h ago`;
  }
  return `${Math.floor(age / 86400)} d ago`;
}

/** A rate in bytes per second, as "1.2 KiB/s". */
export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(Math.round(bytesPerSecond))}/s`;
}
