// The native module linked into the wgts executable (QuickJS C module
// "wgts_native"). It holds only what QuickJS cannot do, plus measured hot
// loops. Conventions: every function validates its arguments and returns a
// negative errno on failure instead of throwing (a TypeError is thrown only
// for arguments of the wrong JS type); buffers are Uint8Array views and the
// native code works on (view, offset, length) without copying; nothing here
// allocates a JS object per packet. File descriptors are non-blocking and
// close-on-exec. Close them with os.close.
declare module 'wgts_native' {
  // ---------- TUN ----------
  /** Opens /dev/net/tun as IFF_TUN | IFF_NO_PI with exactly this name (≤ 15 chars). fd or -errno (-EBUSY when the name is taken). */
  export function tunOpen(name: string): number;
  /** Sets the MTU of a network interface (SIOCSIFMTU). 0 or -errno. */
  export function setMtu(name: string, mtu: number): number;
  /** The interface's MTU, or -errno. */
  export function getMtu(name: string): number;
  /** if_nametoindex: the interface index, or -ENODEV when it no longer exists. */
  export function ifIndex(name: string): number;
  /** Reads one packet from the TUN into buf[off, off+len). Bytes read, or -errno (-EAGAIN when empty). */
  export function tunRead(fd: number, buf: Uint8Array, off: number, len: number): number;
  /** Writes one packet. Bytes written or -errno. */
  export function tunWrite(fd: number, buf: Uint8Array, off: number, len: number): number;

  // ---------- UDP ----------
  /**
   * Binds a UDP socket: family 4 (AF_INET) or 6 (AF_INET6 with IPV6_V6ONLY=1),
   * port 0 = kernel's choice. Enables IP_PKTINFO / IPV6_RECVPKTINFO so receives
   * report the local address, sets SO_MARK when fwmark ≠ 0. fd or -errno.
   */
  export function udpBind(family: 4 | 6, port: number, fwmark: number): number;
  /** The bound local port of a socket, or -errno. */
  export function localPort(fd: number): number;
  /** Sets SO_MARK (0 clears). 0 or -errno. */
  export function setFwmark(fd: number, mark: number): number;
  /**
   * Receives up to `count` datagrams with one recvmmsg. Datagram i lands in
   * buf at i * slotSize + headroom (headroom leaves space the caller needs
   * in front of the data; slotSize - headroom bytes max per datagram) and
   * meta[i * META_STRIDE ...] gets its description (layout below).
   * Returns the number received (0 when none are waiting) or -errno. At most
   * 64 per call. A datagram longer than slotSize - headroom is cut to that
   * size ([0] reports the bytes stored).
   */
  export function udpRecv(fd: number, buf: Uint8Array, slotSize: number, headroom: number, count: number, meta: Int32Array): number;
  /**
   * Sends one datagram buf[off, off+len) to the endpoint described by
   * meta[at ...] (same layout; the local address/ifindex fields, when set,
   * choose the source address with IP_PKTINFO / IPV6_PKTINFO). Bytes sent or
   * -errno. On -EINVAL with a local address set, the caller should clear the
   * local address (it is no longer ours) and retry. (The kernel says
   * ENETUNREACH for such an IPv4 source; the module reports -EINVAL.)
   */
  export function udpSend(fd: number, buf: Uint8Array, off: number, len: number, meta: Int32Array, at: number): number;
  /**
   * sendmmsg of `count` datagrams: datagram i is buf[offs[i], offs[i]+lens[i]) to
   * meta[metaAt[i] ...]. Returns how many were sent (may be fewer; at most 64
   * per call) or -errno for the first. An entry outside its view or with a
   * bad endpoint refuses the whole batch with -EINVAL before anything is sent.
   */
  export function udpSendBatch(fd: number, buf: Uint8Array, offs: Int32Array, lens: Int32Array, meta: Int32Array, metaAt: Int32Array, count: number): number;

  /**
   * Endpoint description layout in an Int32Array, META_STRIDE (= 12) int32 per entry:
   *  [0] length (receive: datagram length; send: ignored)
   *  [1] family 4 or 6
   *  [2] port (host order)
   *  [3..6] remote address: 16 bytes as stored in memory (IPv4 uses the first 4 bytes, rest 0)
   *  [7] local ifindex (IPv6 pktinfo; 0 = unset)
   *  [8..11] local address (the datagram's destination on receive; the source to use on send; all 0 = unset)
   */
  export const META_STRIDE: number;

  // ---------- unix stream sockets ----------
  /**
   * Creates a listening unix stream socket at path with mode 0600 (umask 077
   * around bind, then chmod). A stale socket file (connect refused) is
   * replaced; a live one gives -EADDRINUSE. fd or -errno.
   */
  export function unixListen(path: string): number;
  /** accept4 non-blocking. fd, -EAGAIN when none pending, or -errno. */
  export function unixAccept(fd: number): number;
  /** Connects to a unix stream socket (non-blocking after connect). fd or -errno. */
  export function unixConnect(path: string): number;
  /** SO_PEERCRED uid of the connected peer, or -errno. */
  export function peerUid(fd: number): number;
  /** recv into buf: bytes, 0 at EOF, -EAGAIN, or -errno. */
  export function sockRead(fd: number, buf: Uint8Array, off: number, len: number): number;
  /** send (MSG_NOSIGNAL): bytes or -errno. */
  export function sockWrite(fd: number, buf: Uint8Array, off: number, len: number): number;

  // ---------- process ----------
  /** fork(): child gets 0, parent the child's pid, or -errno. */
  export function fork(): number;
  /** setsid(): the new session id or -errno. */
  export function setsid(): number;
  /** Fills buf[off, off+len) from getrandom(2) (blocking until the pool is ready). 0 or -errno. */
  export function getrandom(buf: Uint8Array, off: number, len: number): number;
  /** Real-time clock in milliseconds (CLOCK_REALTIME). */
  export function wallMs(): number;
  /** Sets the calling process's umask; returns the old one. */
  export function umask(mask: number): number;
  /** strerror(errno) for positive errno values. */
  export function strerror(errno: number): string;
  /**
   * This platform's errno values, to compare results with (`rc === -errno.EADDRINUSE`).
   * They are not the same everywhere: EADDRINUSE is 98 on x86 and ARM but 125 on
   * MIPS, ENAMETOOLONG 36 vs 78, ECONNREFUSED 111 vs 146. Only 1..34 (EPERM..ERANGE) agree.
   */
  export const errno: {
    readonly EPERM: number; readonly ENOENT: number; readonly EINTR: number; readonly EIO: number;
    readonly EBADF: number; readonly EAGAIN: number; readonly ENOMEM: number; readonly EACCES: number;
    readonly EBUSY: number; readonly EEXIST: number; readonly ENODEV: number; readonly EINVAL: number;
    readonly EMFILE: number; readonly EPIPE: number; readonly ENAMETOOLONG: number; readonly ENOSYS: number;
    readonly ENOTSOCK: number; readonly EMSGSIZE: number; readonly ENOPROTOOPT: number;
    readonly EAFNOSUPPORT: number; readonly EADDRINUSE: number; readonly EADDRNOTAVAIL: number;
    readonly ENETDOWN: number; readonly ENETUNREACH: number; readonly ECONNRESET: number;
    readonly ENOBUFS: number; readonly ENOTCONN: number; readonly ECONNREFUSED: number;
    readonly EHOSTUNREACH: number; readonly EBADFD: number;
  };

  // ---------- X25519, the handshake's Diffie-Hellman ----------
  /**
   * out = X25519(scalar, point) (RFC 7748, native/x25519.c), each a 32-byte
   * view; out may be either input. The scalar is clamped, the point's top bit
   * ignored, nothing rejected: a low-order point gives 32 zero bytes.
   * 0, or -EINVAL when a view is not 32 bytes. The runtime also sets this
   * function as the global `wgtsNativeX25519`, which src/crypto/x25519.ts uses.
   */
  export function x25519(out: Uint8Array, scalar: Uint8Array, point: Uint8Array): number;

  // ---------- crypto hot loops (pure TypeScript twins in src/crypto) ----------
  /**
   * ChaCha20-Poly1305 (RFC 8439) with WireGuard's nonce (4 zero bytes ‖ LE64
   * counter given as two uint32 halves), no AAD or with aad (may be null).
   * Seals buf[off, off+len) in place and appends the 16-byte tag; returns len+16.
   */
  export function aeadSeal(key: Uint8Array, counterLo: number, counterHi: number, aad: Uint8Array | null, buf: Uint8Array, off: number, len: number): number;
  /** Opens buf[off, off+len) (ciphertext ‖ tag) in place; returns the plaintext length or -1 if the tag is wrong (buf then unchanged). */
  export function aeadOpen(key: Uint8Array, counterLo: number, counterHi: number, aad: Uint8Array | null, buf: Uint8Array, off: number, len: number): number;
  /**
   * Seals (open = 0) or opens (open = 1) `count` packets of buf in place, no
   * AAD, spread over cryptoThreads() threads; packet order is untouched.
   * Job i is jobs[i * AEAD_JOB_STRIDE ...] = off, len, counterLo, counterHi,
   * result, with its key at keys[32 * i, 32 * i + 32). Seal: len is the
   * plaintext, result len + 16 (the tag is written after it). Open: len
   * includes the tag, result is the plaintext length or -1 (bytes then
   * unchanged). Every job is checked before any runs: -EINVAL changes
   * nothing. Returns count. Twin: BatchAead in src/crypto/batch-aead.ts.
   */
  export function aeadBatch(open: number, buf: Uint8Array, jobs: Int32Array, keys: Uint8Array, count: number): number;
  export const AEAD_JOB_STRIDE: number;
  /** Sets the threads aeadBatch uses, the caller included (1 = no threads; at most 8); ≤ 0 only reads it. */
  export function cryptoThreads(wanted: number): number;
  /** Online CPUs. */
  export function cpuCount(): number;
}
