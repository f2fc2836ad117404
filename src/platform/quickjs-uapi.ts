// The UAPI control socket (/var/run/wireguard/<ifname>.sock) on QuickJS: a
// unix stream listener whose connections each get a UapiSession. Only root
// (or our own uid) may talk to it; the socket file is mode 0600 anyway.
import * as os from 'os';
import * as native from 'wgts_native';
import { asciiBytes } from '../crypto/encoding.js';
import type { ConfigTarget } from '../control/config.js';
import { UapiSession } from '../control/uapi.js';
import type { Logger } from './platform.js';
import { safely } from './quickjs.js';

const { EAGAIN } = native.errno;
const READ_CHUNK = 16384;

export const UAPI_SOCKET_DIR = '/var/run/wireguard';

export function uapiSocketPath(ifname: string): string {
  return `${UAPI_SOCKET_DIR}/${ifname}.sock`;
}

class Connection {
  private readonly session: UapiSession;
  private pending: Uint8Array | null = null;
  private closed = false;

  constructor(private readonly fd: number, target: ConfigTarget, logger: Logger,
    private readonly buf: Uint8Array, private readonly onClose: (c: Connection) => void) {
    this.session = new UapiSession(target, (m) => logger.verbose(`UAPI: ${m}`), { strerror: native.strerror });
    os.setReadHandler(fd, safely(() => this.readable()));
  }

  private readable(): void {
    for (;;) {
      const n = native.sockRead(this.fd, this.buf, 0, this.buf.length);
      if (n === -EAGAIN) return;
      if (n <= 0) { this.close(); return; }
      let text = '';
      for (let i = 0; i < n; i += 4096) {
        text += String.fromCharCode.apply(null, Array.from(this.buf.subarray(i, Math.min(n, i + 4096))));
      }
      for (const response of this.session.feed(text)) this.queue(asciiBytes(response));
      if (this.session.closed) {
        this.flush();
        this.close();
        return;
      }
    }
  }

  private queue(bytes: Uint8Array): void {
    if (this.pending) {
      const joined = new Uint8Array(this.pending.length + bytes.length);
      joined.set(this.pending);
      joined.set(bytes, this.pending.length);
      this.pending = joined;
    } else {
      this.pending = bytes;
    }
    this.flush();
  }

  private flush(): void {
    while (this.pending && !this.closed) {
      const n = native.sockWrite(this.fd, this.pending, 0, this.pending.length);
      if (n === -EAGAIN) {
        os.setWriteHandler(this.fd, safely(() => this.flush()));
        return;
      }
      if (n < 0) { this.close(); return; }
      this.pending = n === this.pending.length ? null : this.pending.subarray(n);
    }
    if (!this.closed) os.setWriteHandler(this.fd, null);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    os.setReadHandler(this.fd, null);
    os.setWriteHandler(this.fd, null);
    os.close(this.fd);
    this.onClose(this);
  }
}

export class UapiServer {
  private readonly connections = new Set<Connection>();
  private readonly buf = new Uint8Array(READ_CHUNK);
  private readonly uid: number;

  private constructor(readonly path: string, private readonly fd: number, private readonly target: ConfigTarget,
    private readonly logger: Logger) {
    this.uid = ownUid();
    os.setReadHandler(fd, safely(() => this.accept()));
  }

  /** Creates the socket (mode 0600). Returns the server or -errno. */
  static listen(ifname: string, target: ConfigTarget, logger: Logger): UapiServer | number {
    os.mkdir(UAPI_SOCKET_DIR, 0o755);
    const path = uapiSocketPath(ifname);
    const fd = native.unixListen(path);
    if (fd < 0) return fd;
    return new UapiServer(path, fd, target, logger);
  }

  private accept(): void {
    for (;;) {
      const fd = native.unixAccept(this.fd);
      if (fd < 0) {
        if (fd !== -EAGAIN) this.logger.error(`UAPI accept failed: ${native.strerror(-fd)}`);
        return;
      }
      const uid = native.peerUid(fd);
      if (uid !== 0 && uid !== this.uid) {
        this.logger.error(`UAPI: refused a connection from uid ${uid}`);
        os.close(fd);
        continue;
      }
      this.connections.add(new Connection(fd, this.target, this.logger, this.buf, (c) => this.connections.delete(c)));
    }
  }

  /** True while the socket file still exists (deleting it is a documented way to stop the daemon). */
  socketExists(): boolean {
    const [st] = os.stat(this.path);
    return st !== null && (st.mode & os.S_IFMT) === os.S_IFSOCK;
  }

  close(removeFile: boolean): void {
    for (const c of [...this.connections]) c.close();
    os.setReadHandler(this.fd, null);
    os.close(this.fd);
    if (removeFile) os.remove(this.path);
  }
}

function ownUid(): number {
  const [st] = os.stat('/proc/self');
  return st ? st.uid : 0;
}
