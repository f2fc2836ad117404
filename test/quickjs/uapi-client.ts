// A minimal `wg` stand-in for QuickJS guests without wireguard-tools: talks
// the cross-platform UAPI on /var/run/wireguard/IFNAME.sock through wgts_native.
// Bundled by test-qemu/ and run by wgts-js:
//   uapi-client.mjs IFNAME set < CONFIG      (UAPI set lines; prints errno=N, exits N)
//   uapi-client.mjs IFNAME get               (prints the get response)
//   uapi-client.mjs IFNAME wait-handshake S  (polls get until a peer has a handshake, at most S seconds)
import * as os from 'os';
import * as std from 'std';
import * as native from 'wgts_native';

function fail(message: string): never {
  std.err.puts(`uapi-client: ${message}\n`);
  std.exit(100);
}

function ascii(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) & 0xff;
  return bytes;
}

/** Sends one request and calls back with the response up to its blank line. */
function request(ifname: string, text: string, done: (response: string) => void): void {
  const fd = native.unixConnect(`/var/run/wireguard/${ifname}.sock`);
  if (fd < 0) fail(`connect: ${native.strerror(-fd)}`);
  const out = ascii(text);
  let sent = 0;
  const writeMore = (): void => {
    while (sent < out.length) {
      const n = native.sockWrite(fd, out, sent, out.length - sent);
      if (n === -native.errno.EAGAIN) return;
      if (n < 0) fail(`write: ${native.strerror(-n)}`);
      sent += n;
    }
    os.setWriteHandler(fd, null);
  };
  os.setWriteHandler(fd, writeMore);
  const buf = new Uint8Array(4096);
  let response = '';
  os.setReadHandler(fd, () => {
    const n = native.sockRead(fd, buf, 0, buf.length);
    if (n === -native.errno.EAGAIN) return;
    if (n > 0) for (let i = 0; i < n; i++) response += String.fromCharCode(buf[i]!);
    const end = response.indexOf('\n\n');
    if (n <= 0 || end >= 0) {
      os.setReadHandler(fd, null);
      os.setWriteHandler(fd, null);
      os.close(fd);
      if (end < 0) fail(`connection closed before the end of the response: ${JSON.stringify(response)}`);
      done(response.slice(0, end + 1));
    }
  });
}

function errnoOf(response: string): number {
  const m = /^errno=(-?\d+)$/m.exec(response);
  return m ? Number(m[1]) : -1;
}

function main(args: string[]): void {
  const [ifname, cmd, arg] = args;
  if (!ifname) fail('usage: uapi-client IFNAME set|get|wait-handshake [SECONDS]');
  if (cmd === 'set') {
    const lines = std.in.readAsString().split('\n').map((l) => l.trim()).filter((l) => l !== '');
    request(ifname, `set=1\n${lines.join('\n')}\n\n`, (r) => {
      const errno = errnoOf(r);
      std.out.puts(`errno=${errno}\n`);
      std.exit(errno === 0 ? 0 : 1);
    });
  } else if (cmd === 'get') {
    request(ifname, 'get=1\n\n', (r) => {
      std.out.puts(r);
      std.exit(errnoOf(r) === 0 ? 0 : 1);
    });
  } else if (cmd === 'wait-handshake') {
    const start = os.now();
    const limitMs = Number(arg ?? 30) * 1000;
    const poll = (): void => request(ifname, 'get=1\n\n', (r) => {
      const secs = /^last_handshake_time_sec=(\d+)$/m.exec(r);
      if (secs && secs[1] !== '0') {
        std.out.puts(`handshake after ${Math.round(os.now() - start)} ms\n`);
        std.exit(0);
      }
      if (os.now() - start > limitMs) {
        std.out.puts(`no handshake within ${limitMs} ms\n`);
        std.exit(1);
      }
      os.setTimeout(poll, 50);
    });
    poll();
  } else {
    fail(`unknown command ${cmd}`);
  }
}

main(scriptArgs.slice(1));
