// The host end of a guest's bulk transfers, run inside the row's network
// namespace (ip netns exec NS node host-peer.mjs TUNNEL-ADDRESS GUEST-ADDRESS).
// Port 5001 is a sink: each connection's byte count and MD5 are printed as
// a JSON line. The command "send N PORT" on stdin sends N random bytes to the
// guest's PORT and prints their MD5 once the guest has closed.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, connect } from 'node:net';
import { createInterface } from 'node:readline';

const [listenAddress, guestAddress] = process.argv.slice(2);
const report = (event) => process.stdout.write(`${JSON.stringify(event)}\n`);

const sink = createServer((socket) => {
  const md5 = createHash('md5');
  let bytes = 0;
  socket.on('data', (chunk) => { bytes += chunk.length; md5.update(chunk); });
  socket.on('end', () => { report({ event: 'received', bytes, md5: md5.digest('hex') }); socket.end(); });
  socket.on('error', (e) => report({ event: 'error', where: 'sink', message: e.message }));
});
sink.listen(5001, listenAddress, () => report({ event: 'listening' }));

createInterface({ input: process.stdin }).on('line', (line) => {
  const [cmd, n, port] = line.trim().split(/\s+/);
  if (cmd !== 'send') return;
  const data = randomBytes(Number(n));
  const md5 = createHash('md5').update(data).digest('hex');
  const started = Date.now();
  const socket = connect({ host: guestAddress, port: Number(port) }, () => socket.end(data));
  socket.on('close', (hadError) => report({ event: 'sent', bytes: data.length, md5, ms: Date.now() - started, hadError }));
  socket.on('error', (e) => report({ event: 'error', where: 'send', message: e.message }));
}).on('close', () => process.exit(0));
