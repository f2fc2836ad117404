// Roaming: a peer's endpoint follows the source address of its latest
// authenticated packet (transport or handshake), and of nothing else.
import t from 'tap';
import { MESSAGE_COOKIE_REPLY, MESSAGE_INITIATION, MESSAGE_RESPONSE, MESSAGE_TRANSPORT } from '../src/protocol/constants.js';
import type { Endpoint } from '../src/platform/platform.js';
import { flipBit, inject, takeOnly, withValidMac1 } from './helpers/forge.js';
import { ipv4Packet, messageTypes, type Node, seededRandom, VirtualClock, VirtualNetwork } from './helpers/virtual.js';

const NEW_HOME: Endpoint = { address: '198.51.100.7', port: 40000 };

function world(seed: number, opts: { endpoints?: boolean; bThreshold?: number } = {}) {
  const clock = new VirtualClock();
  const net = new VirtualNetwork(clock, seededRandom(seed));
  const a = net.addNode('a', '192.0.2.1', 51820);
  const b = net.addNode('b', '192.0.2.2', 51820, opts.bThreshold !== undefined ? { underLoadThreshold: opts.bThreshold } : {});
  net.pair(a, ['10.0.0.1/32'], b, ['10.0.0.2/32'], opts.endpoints === false ? { endpoints: false } : {});
  return { clock, net, a, b };
}
type World = ReturnType<typeof world>;

/** Moves a node behind a new address (a NAT rebinding): its datagrams now come from `to`, and only `to` reaches it. */
function move(w: World, node: Node, to: Endpoint): void {
  w.net.nodes.delete(`${node.endpoint.address}:${node.endpoint.port}`);
  w.net.nodes.set(`${to.address}:${to.port}`, node);
  const old = node.endpoint;
  const previous = w.net.filter;
  w.net.filter = (d) => {
    if (d.from === old) d.from = to;
    return previous ? previous(d) : true;
  };
}

function send(from: Node, src: string, dst: string, payload = 8): Uint8Array {
  const p = ipv4Packet(src, dst, payload);
  from.device.sendPacket(p, 0, p.length);
  return p;
}

function endpointOf(holder: Node, peer: Node): Endpoint | null {
  const ep = holder.device.peerByKey(peer.publicKey)!.endpoint;
  return ep ? { address: ep.address, port: ep.port } : null;
}

function established(seed: number): World {
  const w = world(seed);
  send(w.a, '10.0.0.1', '10.0.0.2');
  w.net.deliver();
  // Later handshakes need a newer TAI64N timestamp and must clear the per-peer flood limit.
  w.clock.advance(1000);
  w.net.deliver();
  return w;
}

t.test('a data packet from a new address moves the endpoint, and replies go there', async (t) => {
  const w = established(1);
  move(w, w.a, NEW_HOME);
  send(w.b, '10.0.0.2', '10.0.0.1');
  w.net.deliver();
  t.same(w.a.delivered, [], 'before A speaks, B still sends to the old address and the packet is lost');

  const up = send(w.a, '10.0.0.1', '10.0.0.2');
  w.net.deliver();
  t.same(w.b.delivered.at(-1), up, 'A\'s packet from the new address arrives');
  t.same(endpointOf(w.b, w.a), NEW_HOME, 'B now knows A\'s new address');
  t.same(w.b.device.status().peers[0]!.endpoint, NEW_HOME, 'status shows it');

  const down = send(w.b, '10.0.0.2', '10.0.0.1');
  w.net.deliver();
  t.same(w.net.log.at(-1)!.to, NEW_HOME, 'B\'s reply goes to the new address');
  t.same(w.a.delivered, [down], 'and arrives');
});

t.test('a keepalive from a new port is enough', async (t) => {
  const w = established(2);
  const newPort = { address: w.a.endpoint.address, port: 1024 };
  move(w, w.a, newPort);
  w.a.device.peerByKey(w.b.publicKey)!.sendKeepalive();
  w.net.deliver();
  t.same(endpointOf(w.b, w.a), newPort);
});

t.test('a handshake initiation from a new address moves the endpoint; the response goes there', async (t) => {
  const w = established(3);
  move(w, w.a, NEW_HOME);
  w.net.log.length = 0;
  w.a.device.forceRekey(w.b.publicKey);
  w.net.deliver();
  t.same(messageTypes(w.net.log), [MESSAGE_INITIATION, MESSAGE_RESPONSE, MESSAGE_TRANSPORT], 'a new handshake completes');
  t.same(w.net.log[1]!.to, NEW_HOME, 'the response went to the initiation\'s source');
  t.same(endpointOf(w.b, w.a), NEW_HOME);
});

t.test('a handshake response from a new address moves the initiator\'s endpoint', async (t) => {
  const w = established(4);
  move(w, w.b, NEW_HOME);
  // A still sends its initiation to B's old address: let B hear it there too.
  w.net.nodes.set(`${w.b.endpoint.address}:${w.b.endpoint.port}`, w.b);
  w.net.log.length = 0;
  w.a.device.forceRekey(w.b.publicKey);
  w.net.deliver();
  t.same(messageTypes(w.net.log), [MESSAGE_INITIATION, MESSAGE_RESPONSE, MESSAGE_TRANSPORT]);
  t.same(w.net.log[0]!.to, w.b.endpoint, 'initiation to the configured address');
  t.same(w.net.log[2]!.to, NEW_HOME, 'the confirming keepalive goes to where the response came from');
  t.same(endpointOf(w.a, w.b), NEW_HOME);
});

t.test('unauthenticated packets from a new address do not move the endpoint', async (t) => {
  const w = established(5);
  const home = endpointOf(w.b, w.a);
  // A data packet B has not seen yet, and one it has.
  send(w.a, '10.0.0.1', '10.0.0.2');
  const fresh = takeOnly(w.net, MESSAGE_TRANSPORT).data;
  send(w.a, '10.0.0.1', '10.0.0.2');
  const seen = takeOnly(w.net, MESSAGE_TRANSPORT).data;
  inject(w.net, w.b, seen, w.a.endpoint);

  const attempts: [string, Uint8Array][] = [
    ['a bit-flipped transport packet', flipBit(fresh, 8 * 20)],
    ['a transport packet with a flipped counter', flipBit(fresh, 8 * 8)],
    ['a replayed transport packet', seen],
  ];
  for (const [name, data] of attempts) {
    const r = inject(w.net, w.b, data, NEW_HOME);
    t.same([r.sent, r.delivered], [[], []], `${name}: no answer, no delivery`);
    t.same(endpointOf(w.b, w.a), home, `${name}: endpoint unchanged`);
  }
  inject(w.net, w.b, fresh, NEW_HOME);
  t.same(endpointOf(w.b, w.a), NEW_HOME, 'the same packet unmodified does move it (control)');
});

t.test('unauthenticated handshakes from a new address do not move the endpoint', async (t) => {
  const w = world(6);
  send(w.a, '10.0.0.1', '10.0.0.2');
  const init = takeOnly(w.net, MESSAGE_INITIATION).data;
  inject(w.net, w.b, init, w.a.endpoint);
  const response = takeOnly(w.net, MESSAGE_RESPONSE).data;
  const bHome = endpointOf(w.b, w.a);
  const aHome = endpointOf(w.a, w.b);

  w.clock.advance(1000); // past the flood limit: only the timestamp refuses the replay
  w.net.queue.length = 0;
  const toB: [string, Uint8Array][] = [
    ['a replayed initiation', init],
    ['an initiation with a broken mac1', flipBit(init, 8 * 120)],
    ['an initiation with a tampered timestamp and a valid mac1', withValidMac1(flipBit(init, 8 * 90), w.b.publicKey)],
  ];
  for (const [name, data] of toB) {
    t.same(inject(w.net, w.b, data, NEW_HOME).sent, [], `${name}: no answer`);
    t.same(endpointOf(w.b, w.a), bHome, `${name}: endpoint unchanged`);
  }
  const toA: [string, Uint8Array][] = [
    ['a response with a tampered ephemeral and a valid mac1', withValidMac1(flipBit(response, 8 * 20), w.a.publicKey)],
    ['a response with a broken mac1', flipBit(response, 8 * 65)],
  ];
  for (const [name, data] of toA) {
    t.same(inject(w.net, w.a, data, NEW_HOME).sent, [], `${name}: no answer`);
    t.same(endpointOf(w.a, w.b), aHome, `${name}: endpoint unchanged`);
  }
  t.same(messageTypes(inject(w.net, w.a, response, NEW_HOME).sent), [MESSAGE_TRANSPORT], 'the real response is taken');
  t.same(endpointOf(w.a, w.b), NEW_HOME, 'and moves the endpoint (control)');
});

t.test('a cookie reply, even a valid one, does not move the endpoint', async (t) => {
  const w = world(7, { bThreshold: 0 });
  send(w.a, '10.0.0.1', '10.0.0.2');
  inject(w.net, w.b, takeOnly(w.net, MESSAGE_INITIATION).data, w.a.endpoint);
  const reply = takeOnly(w.net, MESSAGE_COOKIE_REPLY).data;
  const home = endpointOf(w.a, w.b);
  inject(w.net, w.a, reply, NEW_HOME);
  w.clock.advance(6000);
  const retry = takeOnly(w.net, MESSAGE_INITIATION);
  t.same(endpointOf(w.a, w.b), home, 'endpoint unchanged');
  t.same(retry.to, home, 'the retransmission still goes to the configured address');
});

t.test('a peer without a configured endpoint learns it from its first authenticated initiation', async (t) => {
  const w = world(8, { endpoints: false });
  t.equal(endpointOf(w.b, w.a), null);
  const fromB = send(w.b, '10.0.0.2', '10.0.0.1');
  t.same(w.net.queue, [], 'without an endpoint B cannot start a handshake');

  // A stranger's or a forged initiation must not teach B anything.
  w.a.device.applyChange({ replacePeers: false, peers: [{
    publicKey: w.b.publicKey, remove: false, updateOnly: true, endpoint: w.b.endpoint, replaceAllowedIps: false, allowedIps: [],
  }] });
  const fromA = send(w.a, '10.0.0.1', '10.0.0.2');
  const init = takeOnly(w.net, MESSAGE_INITIATION).data;
  t.same(inject(w.net, w.b, withValidMac1(flipBit(init, 8 * 50), w.b.publicKey), NEW_HOME).sent, [], 'a forged initiation gets nothing');
  t.equal(endpointOf(w.b, w.a), null, 'and teaches nothing');

  inject(w.net, w.b, init, w.a.endpoint);
  t.same(endpointOf(w.b, w.a), w.a.endpoint, 'the authenticated initiation sets the endpoint');
  t.same(w.net.queue[0]!.to, w.a.endpoint, 'the response goes there');
  w.net.deliver();
  t.same(w.b.delivered, [fromA], 'A\'s staged packet arrives');
  t.same(w.a.delivered, [fromB], 'and B\'s staged packet, waiting for an endpoint, follows');
});
