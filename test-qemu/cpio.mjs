// A writer for the cpio "newc" format, the one the Linux kernel unpacks as
// an initramfs. Archives may be concatenated: the kernel unpacks them in
// order, so a cached base image and a small per-run part make one initrd.

/**
 * @typedef {{ path: string, mode: number, data?: Uint8Array, target?: string, rdev?: [number, number] }} CpioEntry
 * mode holds the file type and permissions (0o100755 a file, 0o40755 a
 * directory, 0o120777 a symlink to target, 0o20600 a character device rdev).
 */

const pad4 = (n) => (4 - (n % 4)) % 4;

function header(fields) {
  return '070701' + fields.map((v) => (v >>> 0).toString(16).padStart(8, '0')).join('');
}

/** The archive of `entries` (parents first), ending with the trailer. */
export function cpioArchive(entries) {
  const chunks = [];
  let ino = 1;
  const add = (name, mode, body, [major, minor] = [0, 0]) => {
    const nameBytes = Buffer.from(`${name}\0`, 'utf8');
    // ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor namesize check
    const head = Buffer.from(header([ino++, mode, 0, 0, (mode & 0o170000) === 0o040000 ? 2 : 1, 0,
      body.length, 0, 0, major, minor, nameBytes.length, 0]), 'ascii');
    chunks.push(head, nameBytes, Buffer.alloc(pad4(head.length + nameBytes.length)), body, Buffer.alloc(pad4(body.length)));
  };
  for (const e of entries) {
    const body = e.target !== undefined ? Buffer.from(e.target, 'utf8') : Buffer.from(e.data ?? new Uint8Array(0));
    add(e.path.replace(/^\/+/, ''), e.mode, body, e.rdev);
  }
  add('TRAILER!!!', 0, Buffer.alloc(0));
  return Buffer.concat(chunks);
}

/** Directory entries for every parent of the given paths, parents first. */
export function parentDirs(paths) {
  const dirs = new Set();
  for (const p of paths) {
    const parts = p.replace(/^\/+/, '').split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  return [...dirs].sort().map((path) => ({ path, mode: 0o040755 }));
}
