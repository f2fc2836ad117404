import t from 'tap';
import { ipv4Packet, messageTypes, seededRandom, VirtualClock, VirtualNetwork } from './helpers/virtual.js';

function setup(seed = 1) {
  const clock = new VirtualClock();
  const net = new VirtualNetwork(clock, seededRandom(seed));
  const a = net.addNode('a', '192.0.2.1', 51820);
  const b = net.addNode('b', '192.0.2.2', 51820);
  net.pair(a, ['10.0.0.1/32'], b, ['10.0.0.2/32']);
  return { clock, net, a, b };
}

t.test('first packet triggers a handshake, is staged, and arrives once the session exists', async (t) => {
  const { net, a, b } = setup();
  const packet = ipv4Packet('10.0.0.1', '10.0.0.2', 100);
  t.ok(a.device.sendPacket(packet, 0, packet.length));
  t.same(messageTypes(net.queue), [1], 'only an initiation goes out');
  net.deliver();
  t.same(messageTypes(net.log), [1, 2, 4], 'initiation, response, then the staged data');
  t.equal(b.delivered.length, 1);
  t.same(b.delivered[0], packet, 'delivered bytes equal the sent packet (padding trimmed)');
  const pa = a.device.peerByKey(b.publicKey)!;
  const pb = b.device.peerByKey(a.publicKey)!;
  t.ok(pa.keypairs.current, 'initiator has a current session');
  t.equal(pb.keypairs.next, null, 'responder promoted next to current on the first data packet');
  t.ok(pb.keypairs.current);
  t.same(pa.keypairs.current!.sendKey, pb.keypairs.current!.receiveKey, 'keys match across peers');
  t.same(pa.keypairs.current!.receiveKey, pb.keypairs.current!.sendKey);
  t.not(pa.lastHandshakeWallMs, 0);
  t.not(pb.lastHandshakeWallMs, 0);
});

t.test('replies flow back over the same session', async (t) => {
  const { net, a, b } = setup(2);
  const p1 = ipv4Packet('10.0.0.1', '10.0.0.2');
  a.device.sendPacket(p1, 0, p1.length);
  net.deliver();
  const p2 = ipv4Packet('10.0.0.2', '10.0.0.1', 1300);
  b.device.sendPacket(p2, 0, p2.length);
  net.deliver();
  t.same(a.delivered, [p2]);
  t.same(messageTypes(net.log), [1, 2, 4, 4]);
});
