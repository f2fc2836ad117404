// Cryptokey routing at the device level: allowed IPs pick the peer for an
// outgoing packet (longest prefix across all peers) and vet the inner
// source of an incoming one.
import t from 'tap';
import { formatCidr, parseCidr, parseIp } from '../src/routing/ip.js';
import { ipv4Packet, ipv6Packet, type Node, seededRandom, VirtualClock, VirtualNetwork } from './helpers/virtual.js';

const HUB_V4 = '10.255.0.1';
const HUB_V6 = 'fd00:ffff::1';

/** A hub with three spokes whose allowed IPs nest: b ⊃ c ⊃ d. */
function world(seed: number) {
  const clock = new VirtualClock();
  const net = new VirtualNetwork(clock, seededRandom(seed));
  const hub = net.addNode('hub', '192.0.2.1', 51820);
  const b = net.addNode('b', '192.0.2.2', 51820);
  const c = net.addNode('c', '192.0.2.3', 51820);
  const d = net.addNode('d', '192.0.2.4', 51820);
  const everything = ['0.0.0.0/0', '::/0'];
  net.pair(hub, everything, b, ['10.0.0.0/8', 'fd00::/16']);
  net.pair(hub, everything, c, ['10.1.0.0/16', 'fd00:1::/32']);
  net.pair(hub, everything, d, ['10.1.2.0/24', 'fd00:1:2::/48']);
  return { clock, net, hub, b, c, d, spokes: [b, c, d] };
}
type World = ReturnType<typeof world>;

function packet(src: string, dst: string): Uint8Array {
  return src.includes(':') ? ipv6Packet(parseIp(src)!, parseIp(dst)!) : ipv4Packet(src, dst);
}

/** Sends from `from` and returns the names of the nodes that received it. */
function route(w: World, from: Node, src: string, dst: string): string[] {
  const p = packet(src, dst);
  const before = [...w.net.nodes.values()].map((n) => n.delivered.length);
  if (!from.device.sendPacket(p, 0, p.length)) return ['(no route)'];
  w.net.deliver();
  return [...w.net.nodes.values()].filter((n, i) => n.delivered.length > before[i]!).map((n) => n.name);
}

t.test('outgoing packets go to the peer with the longest matching prefix', async (t) => {
  const w = world(1);
  const cases: [string, string][] = [
    ['10.1.2.5', 'd'], ['10.1.2.255', 'd'], ['10.1.3.5', 'c'], ['10.1.255.255', 'c'],
    ['10.2.0.1', 'b'], ['10.0.0.0', 'b'], ['11.0.0.1', '(no route)'], ['9.255.255.255', '(no route)'],
    ['fd00:1:2::5', 'd'], ['fd00:1:3::5', 'c'], ['fd00:2::5', 'b'], ['fd01::1', '(no route)'], ['fe80::1', '(no route)'],
  ];
  for (const [dst, expected] of cases) {
    const src = dst.includes(':') ? HUB_V6 : HUB_V4;
    t.same(route(w, w.hub, src, dst), [expected], `${dst} → ${expected}`);
  }
  t.equal(w.hub.device.stats.noRoute, cases.filter(([, e]) => e === '(no route)').length, 'unroutable packets counted');
});

t.test('an authenticated packet whose inner source is not the sender\'s is dropped', async (t) => {
  const w = world(2);
  for (const spoke of w.spokes) route(w, w.hub, HUB_V4, spoke === w.b ? '10.9.0.1' : spoke === w.c ? '10.1.9.1' : '10.1.2.9');
  const cases: [Node, string, boolean][] = [
    [w.b, '10.9.0.1', true], [w.b, '10.1.9.1', false], [w.b, '10.1.2.9', false], [w.b, '11.0.0.1', false],
    [w.c, '10.1.9.1', true], [w.c, '10.1.2.9', false], [w.c, '10.9.0.1', false],
    [w.d, '10.1.2.9', true], [w.d, '10.1.9.1', false],
    [w.b, 'fd00:2::1', true], [w.b, 'fd00:1::1', false], [w.c, 'fd00:1::1', true], [w.c, 'fd00:1:2::1', false],
    [w.d, 'fd00:1:2::1', true], [w.d, 'fe80::1', false],
  ];
  for (const [spoke, src, allowed] of cases) {
    const invalid = w.hub.device.stats.invalid;
    const got = route(w, spoke, src, src.includes(':') ? HUB_V6 : HUB_V4);
    t.same(got, allowed ? ['hub'] : [], `${spoke.name} sending from ${src}: ${allowed ? 'delivered' : 'dropped'}`);
    t.equal(w.hub.device.stats.invalid, invalid + (allowed ? 0 : 1));
  }
});

t.test('a prefix moved to another peer switches both directions', async (t) => {
  const w = world(3);
  t.same(route(w, w.hub, HUB_V4, '10.1.2.5'), ['d'], 'before: the /24 is d\'s');
  t.same(route(w, w.d, '10.1.2.5', HUB_V4), ['hub']);
  t.same(route(w, w.c, '10.1.2.6', HUB_V4), [], 'c may not use it');

  w.hub.device.applyChange({ replacePeers: false, peers: [{
    publicKey: w.c.publicKey, remove: false, updateOnly: true, replaceAllowedIps: false,
    allowedIps: [{ cidr: parseCidr('10.1.2.0/24')!, remove: false }],
  }] });
  const allowed = Object.fromEntries(w.hub.device.status().peers.map((p) => [
    w.spokes.find((s) => s.publicKey.join() === p.publicKey.join())!.name, p.allowedIps.map(formatCidr),
  ]));
  t.same(allowed, { b: ['10.0.0.0/8', 'fd00::/16'], c: ['10.1.0.0/16', 'fd00:1::/32', '10.1.2.0/24'], d: ['fd00:1:2::/48'] },
    'the prefix left d');
  t.same(route(w, w.hub, HUB_V4, '10.1.2.5'), ['c'], 'after: outgoing goes to c');
  t.same(route(w, w.c, '10.1.2.6', HUB_V4), ['hub'], 'c may use it now');
  t.same(route(w, w.d, '10.1.2.5', HUB_V4), [], 'd may not any more');
  t.same(route(w, w.d, 'fd00:1:2::1', HUB_V6), ['hub'], 'd keeps its other prefix');

  // Removing a prefix a peer does not hold changes nothing.
  w.hub.device.applyChange({ replacePeers: false, peers: [{
    publicKey: w.d.publicKey, remove: false, updateOnly: true, replaceAllowedIps: false,
    allowedIps: [{ cidr: parseCidr('10.1.2.0/24')!, remove: true }],
  }] });
  t.same(route(w, w.hub, HUB_V4, '10.1.2.5'), ['c'], 'd removing c\'s prefix does not take it from c');
});
