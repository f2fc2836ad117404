import t, { type Test } from 'tap';
import { AllowedIps } from '../src/routing/allowedips.js';
import { formatCidr, parseCidr, parseIp } from '../src/routing/ip.js';
import type { Cidr, Family } from '../src/routing/ip.js';

interface Peer {
  readonly name: string;
}
const peer = (name: string): Peer => ({ name });

function cidr(text: string): Cidr {
  // Keep host bits: the table itself must mask them.
  const slash = text.indexOf('/');
  const address = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (address === null) throw new Error(`bad test address ${text}`);
  return { address, bits: slash < 0 ? address.length * 8 : Number(text.slice(slash + 1)) };
}

function ip(text: string): Uint8Array {
  const address = parseIp(text);
  if (address === null) throw new Error(`bad test address ${text}`);
  return address;
}

function entryTexts(table: AllowedIps<Peer>, p: Peer): string[] {
  return table.entriesOf(p).map(formatCidr);
}

interface DebugNode {
  value: unknown;
  bits: number;
  w0: number;
  w1: number;
  w2: number;
  w3: number;
  left: DebugNode | null;
  right: DebugNode | null;
  parent: DebugNode | null;
}

/**
 * Walks the private trie and checks its invariants: parent links, growing
 * prefix lengths, children within their parent's prefix, no host bits, and no
 * valueless node without two children (which would be a leak after removals).
 * Returns the number of nodes.
 */
function checkStructure(table: AllowedIps<Peer>): { nodes: number; values: number; problems: string[] } {
  const internals = table as unknown as { root4: DebugNode | null; root6: DebugNode | null };
  const problems: string[] = [];
  let nodes = 0;
  let values = 0;
  const words = (n: DebugNode): number[] => [n.w0, n.w1, n.w2, n.w3];
  const stack: [DebugNode, DebugNode | null, number][] = [];
  if (internals.root4) stack.push([internals.root4, null, 32]);
  if (internals.root6) stack.push([internals.root6, null, 128]);
  while (stack.length > 0) {
    const [node, parent, maxBits] = stack.pop()!;
    nodes++;
    if (node.value !== undefined) values++;
    if (node.parent !== parent) problems.push('bad parent link');
    if (node.bits > maxBits) problems.push('prefix too long');
    const w = words(node);
    for (let i = 0; i < 4; i++) {
      const keep = Math.max(0, Math.min(32, node.bits - 32 * i));
      const mask = keep === 0 ? 0 : keep === 32 ? -1 : -1 << (32 - keep);
      if ((w[i]! & ~mask) !== 0) problems.push('host bits set');
    }
    if (parent !== null) {
      if (node.bits <= parent.bits) problems.push('child not longer than parent');
      const pw = words(parent);
      for (let i = 0; i < 4; i++) {
        const keep = Math.max(0, Math.min(32, parent.bits - 32 * i));
        const mask = keep === 0 ? 0 : keep === 32 ? -1 : -1 << (32 - keep);
        if ((w[i]! & mask) !== pw[i]) problems.push('child outside parent prefix');
      }
      const word = w[parent.bits >>> 5]!;
      const bit = (word >>> (31 - (parent.bits & 31))) & 1;
      if ((bit === 0) !== (parent.left === node)) problems.push('child on wrong side');
    }
    if (node.value === undefined && (node.left === null || node.right === null)) {
      problems.push('valueless node without two children');
    }
    if (node.left) stack.push([node.left, node, maxBits]);
    if (node.right) stack.push([node.right, node, maxBits]);
  }
  return { nodes, values, problems };
}

function assertStructure(t: Test, table: AllowedIps<Peer>, label: string): void {
  const { values, problems } = checkStructure(table);
  t.same(problems.slice(0, 5), [], `${label}: trie invariants`);
  t.equal(values, table.size, `${label}: size matches nodes with values`);
}

t.test('IPv4 nested and sibling prefixes', async (t) => {
  const table = new AllowedIps<Peer>();
  const [a, b, c, d, e, f] = ['a', 'b', 'c', 'd', 'e', 'f'].map(peer) as [Peer, Peer, Peer, Peer, Peer, Peer];
  table.insert(cidr('10.0.0.0/8'), a);
  table.insert(cidr('10.20.0.0/16'), b);
  table.insert(cidr('10.20.30.0/24'), c);
  table.insert(cidr('10.20.30.40/32'), d);
  table.insert(cidr('172.16.8.0/25'), e);
  table.insert(cidr('172.16.8.128/25'), f);
  table.insert(cidr('172.16.9.0/30'), e);
  table.insert(cidr('172.16.9.4/30'), f);
  table.insert(cidr('172.16.9.8/29'), a);
  table.insert(cidr('172.16.9.16/29'), b);
  t.equal(table.size, 10);

  t.equal(table.lookupAddress(ip('10.0.0.1')), a);
  t.equal(table.lookupAddress(ip('10.255.255.255')), a);
  t.equal(table.lookupAddress(ip('10.20.0.0')), b);
  t.equal(table.lookupAddress(ip('10.20.31.1')), b);
  t.equal(table.lookupAddress(ip('10.20.30.0')), c);
  t.equal(table.lookupAddress(ip('10.20.30.39')), c);
  t.equal(table.lookupAddress(ip('10.20.30.41')), c);
  t.equal(table.lookupAddress(ip('10.20.30.40')), d);
  t.equal(table.lookupAddress(ip('11.0.0.0')), undefined);
  t.equal(table.lookupAddress(ip('9.255.255.255')), undefined);
  t.equal(table.lookupAddress(ip('172.16.8.77')), e);
  t.equal(table.lookupAddress(ip('172.16.8.127')), e);
  t.equal(table.lookupAddress(ip('172.16.8.128')), f);
  t.equal(table.lookupAddress(ip('172.16.8.255')), f);
  t.equal(table.lookupAddress(ip('172.16.9.2')), e);
  t.equal(table.lookupAddress(ip('172.16.9.6')), f);
  t.equal(table.lookupAddress(ip('172.16.9.12')), a);
  t.equal(table.lookupAddress(ip('172.16.9.23')), b);
  t.equal(table.lookupAddress(ip('172.16.9.24')), undefined);
  t.equal(table.lookupAddress(ip('0.0.0.0')), undefined);
  t.equal(table.lookupAddress(ip('255.255.255.255')), undefined);
  t.equal(table.lookupAddress(ip('::ffff:10.0.0.1')), undefined, 'IPv4-mapped IPv6 is not IPv4');
  assertStructure(t, table, 'nested');
});

t.test('default routes, per family', async (t) => {
  const table = new AllowedIps<Peer>();
  const [a, b, c] = [peer('a'), peer('b'), peer('c')];
  table.insert(cidr('192.0.2.0/24'), a);
  t.equal(table.lookupAddress(ip('198.51.100.1')), undefined);
  table.insert(cidr('0.0.0.0/0'), b);
  t.equal(table.lookupAddress(ip('198.51.100.1')), b);
  t.equal(table.lookupAddress(ip('192.0.2.9')), a, 'more specific still wins');
  t.equal(table.lookupAddress(ip('0.0.0.0')), b);
  t.equal(table.lookupAddress(ip('255.255.255.255')), b);
  t.equal(table.lookupAddress(ip('2001:db8::1')), undefined, 'IPv4 default does not cover IPv6');
  table.insert(cidr('::/0'), c);
  t.equal(table.lookupAddress(ip('2001:db8::1')), c);
  t.equal(table.lookupAddress(ip('::')), c);
  t.equal(table.lookupAddress(ip('198.51.100.1')), b, 'IPv6 default does not cover IPv4');
  // A /0 with host bits is still the default route.
  table.insert(cidr('1.2.3.4/0'), c);
  t.equal(table.lookupAddress(ip('198.51.100.1')), c);
  t.same(entryTexts(table, c), ['::/0', '0.0.0.0/0']);
  t.same(entryTexts(table, b), []);
  t.equal(table.size, 3);
  t.ok(table.remove(cidr('0.0.0.0/0'), c));
  t.equal(table.lookupAddress(ip('198.51.100.1')), undefined);
  t.equal(table.lookupAddress(ip('192.0.2.9')), a);
  t.ok(table.remove(cidr('::/0'), c));
  t.equal(table.lookupAddress(ip('2001:db8::1')), undefined);
  t.equal(table.size, 1);
  assertStructure(t, table, 'defaults');
});

t.test('host bits are masked on insert, remove and in entries', async (t) => {
  const table = new AllowedIps<Peer>();
  const [a, b] = [peer('a'), peer('b')];
  table.insert(cidr('172.16.77.99/20'), a);
  t.same(entryTexts(table, a), ['172.16.64.0/20']);
  t.equal(table.lookupAddress(ip('172.16.64.0')), a);
  t.equal(table.lookupAddress(ip('172.16.79.255')), a);
  t.equal(table.lookupAddress(ip('172.16.80.0')), undefined);
  // The same prefix written differently is the same entry.
  table.insert(cidr('172.16.64.1/20'), b);
  t.same(entryTexts(table, a), []);
  t.same(entryTexts(table, b), ['172.16.64.0/20']);
  t.equal(table.size, 1);
  t.ok(table.remove(cidr('172.16.70.7/20'), b));
  t.equal(table.size, 0);

  table.insert(cidr('2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff/64'), a);
  table.insert(cidr('2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff/127'), b);
  table.insert(cidr('2001:db8:ffff:ffff:ffff:ffff:ffff:ffff/33'), b);
  t.same(entryTexts(table, a), ['2001:db8:aaaa:bbbb::/64']);
  t.same(entryTexts(table, b), ['2001:db8:aaaa:bbbb:cccc:dddd:eeee:fffe/127', '2001:db8:8000::/33']);
  t.equal(table.lookupAddress(ip('2001:db8:aaaa:bbbb::1')), a);
  t.equal(table.lookupAddress(ip('2001:db8:aaaa:bbbb:cccc:dddd:eeee:fffe')), b);
  t.equal(table.lookupAddress(ip('2001:db8:aaaa:bbbb:cccc:dddd:eeee:fffd')), a);
  t.equal(table.lookupAddress(ip('2001:db8:8000::1')), b);
  t.equal(table.lookupAddress(ip('2001:db8:7fff::1')), undefined);
  const entries = table.entriesOf(b);
  t.equal(entries[0]!.address.length, 16);
  t.equal(entries[0]!.bits, 127);
  assertStructure(t, table, 'masking');
});

t.test('IPv6 nested and sibling prefixes', async (t) => {
  const table = new AllowedIps<Peer>();
  const [a, b, c, d, e, g, h] = ['a', 'b', 'c', 'd', 'e', 'g', 'h'].map(peer) as Peer[] as [Peer, Peer, Peer, Peer, Peer, Peer, Peer];
  table.insert(cidr('fd00::/8'), a);
  table.insert(cidr('fd12:3456::/32'), b);
  table.insert(cidr('fd12:3456:789a:1::/64'), c);
  table.insert(cidr('fd12:3456:789a:1::9/128'), d);
  table.insert(cidr('fd12:3456:789a:1:8000::/65'), e);
  table.insert(cidr('fd12:3456:789a:1::8/125'), g);
  table.insert(cidr('2a01:4f8:c0de:beef:1234:5678:9abc:def0/98'), h);
  t.equal(table.lookupAddress(ip('fd99::1')), a);
  t.equal(table.lookupAddress(ip('fe00::1')), undefined);
  t.equal(table.lookupAddress(ip('fd12:3456:ffff::')), b);
  t.equal(table.lookupAddress(ip('fd12:3456:789a:1::1')), c);
  t.equal(table.lookupAddress(ip('fd12:3456:789a:1:7fff:ffff:ffff:ffff')), c);
  t.equal(table.lookupAddress(ip('fd12:3456:789a:1:8000::')), e);
  t.equal(table.lookupAddress(ip('fd12:3456:789a:1:ffff:ffff:ffff:ffff')), e);
  t.equal(table.lookupAddress(ip('fd12:3456:789a:1::9')), d);
  t.equal(table.lookupAddress(ip('fd12:3456:789a:1::8')), g);
  t.equal(table.lookupAddress(ip('fd12:3456:789a:1::f')), g);
  t.equal(table.lookupAddress(ip('fd12:3456:789a:1::10')), c);
  t.equal(table.lookupAddress(ip('fd12:3456:789a:2::')), b);
  t.equal(table.lookupAddress(ip('2a01:4f8:c0de:beef:1234:5678:8000:0')), h);
  t.equal(table.lookupAddress(ip('2a01:4f8:c0de:beef:1234:5678:bfff:ffff')), h);
  t.equal(table.lookupAddress(ip('2a01:4f8:c0de:beef:1234:5678:c000:0')), undefined);
  t.equal(table.lookupAddress(ip('2a01:4f8:c0de:beef:1234:5678:7fff:ffff')), undefined);
  t.equal(table.lookupAddress(ip('10.0.0.1')), undefined);
  t.equal(table.lookupAddress(new Uint8Array(5)), undefined, 'bad address length');
  assertStructure(t, table, 'v6 nested');
});

t.test('a prefix moves between peers', async (t) => {
  const table = new AllowedIps<Peer>();
  const [a, b] = [peer('a'), peer('b')];
  table.insert(cidr('10.0.0.0/24'), a);
  table.insert(cidr('10.0.1.0/24'), a);
  table.insert(cidr('10.0.0.0/16'), a);
  table.insert(cidr('fd00::/64'), a);
  t.equal(table.size, 4);
  table.insert(cidr('10.0.1.0/24'), b);
  table.insert(cidr('fd00::/64'), b);
  t.equal(table.size, 4, 'moving does not add');
  t.same(entryTexts(table, a), ['10.0.0.0/24', '10.0.0.0/16']);
  t.same(entryTexts(table, b), ['10.0.1.0/24', 'fd00::/64']);
  t.equal(table.lookupAddress(ip('10.0.1.5')), b);
  t.equal(table.lookupAddress(ip('10.0.0.5')), a);
  t.equal(table.lookupAddress(ip('10.0.2.5')), a);
  t.equal(table.lookupAddress(ip('fd00::5')), b);
  t.notOk(table.remove(cidr('10.0.1.0/24'), a), 'old owner cannot remove it');
  t.equal(table.lookupAddress(ip('10.0.1.5')), b);
  // Inserting again for the same owner changes nothing.
  table.insert(cidr('10.0.1.0/24'), b);
  t.same(entryTexts(table, b), ['10.0.1.0/24', 'fd00::/64']);
  t.equal(table.size, 4);
  // Moving back puts it at the end of the new owner's entries.
  table.insert(cidr('10.0.1.0/24'), a);
  t.same(entryTexts(table, a), ['10.0.0.0/24', '10.0.0.0/16', '10.0.1.0/24']);
  t.same(entryTexts(table, b), ['fd00::/64']);
  assertStructure(t, table, 'move');
});

t.test('remove', async (t) => {
  const table = new AllowedIps<Peer>();
  const [a, b, c] = [peer('a'), peer('b'), peer('c')];
  table.insert(cidr('10.0.0.0/8'), a);
  table.insert(cidr('10.1.0.0/16'), b);
  table.insert(cidr('10.1.1.0/24'), c);
  table.insert(cidr('10.1.2.0/24'), c);
  t.notOk(table.remove(cidr('10.1.0.0/16'), a), 'wrong owner');
  t.notOk(table.remove(cidr('10.1.0.0/17'), b), 'no such prefix');
  t.notOk(table.remove(cidr('10.1.0.0/15'), b), 'no such prefix (shorter)');
  t.notOk(table.remove(cidr('10.1.0.0/16'), peer('b')), 'owner is compared by identity');
  t.notOk(table.remove(cidr('fd00::/8'), a), 'empty family');
  t.equal(table.size, 4);
  t.ok(table.remove(cidr('10.1.77.77/16'), b), 'host bits ignored');
  t.notOk(table.remove(cidr('10.1.0.0/16'), b), 'already removed');
  t.equal(table.size, 3);
  t.equal(table.lookupAddress(ip('10.1.3.1')), a, 'falls back to the shorter prefix');
  t.equal(table.lookupAddress(ip('10.1.1.1')), c);
  t.equal(table.lookupAddress(ip('10.1.2.1')), c);
  t.ok(table.remove(cidr('10.0.0.0/8'), a));
  t.equal(table.lookupAddress(ip('10.1.3.1')), undefined);
  t.equal(table.lookupAddress(ip('10.1.1.1')), c);
  t.ok(table.remove(cidr('10.1.1.0/24'), c));
  t.ok(table.remove(cidr('10.1.2.0/24'), c));
  t.equal(table.size, 0);
  t.same(table.entriesOf(c), []);
  t.equal(checkStructure(table).nodes, 0, 'no nodes left behind');
  t.equal(table.lookupAddress(ip('10.1.1.1')), undefined);
});

t.test('removeByValue removes one peer and leaves the others', async (t) => {
  const table = new AllowedIps<Peer>();
  const [a, b, c] = [peer('a'), peer('b'), peer('c')];
  for (const first of [1, 64, 128, 192, 255]) table.insert(cidr(`${first}.0.0.0/32`), a);
  table.insert(cidr('64.0.0.0/8'), b);
  table.insert(cidr('128.0.0.0/1'), c);
  table.insert(cidr('2001:db8::/32'), a);
  table.insert(cidr('2001:db8::/48'), b);
  table.insert(cidr('2001:db8::1/128'), a);
  t.equal(table.size, 10);
  table.removeByValue(a);
  t.equal(table.size, 3);
  t.same(table.entriesOf(a), []);
  for (const first of [1, 64, 128, 192, 255]) t.not(table.lookupAddress(ip(`${first}.0.0.0`)), a);
  t.equal(table.lookupAddress(ip('1.0.0.0')), undefined);
  t.equal(table.lookupAddress(ip('64.0.0.0')), b);
  t.equal(table.lookupAddress(ip('128.0.0.0')), c);
  t.equal(table.lookupAddress(ip('255.0.0.0')), c);
  t.equal(table.lookupAddress(ip('2001:db8::1')), b);
  t.equal(table.lookupAddress(ip('2001:db8:1::1')), undefined);
  t.same(entryTexts(table, b), ['64.0.0.0/8', '2001:db8::/48']);
  t.same(entryTexts(table, c), ['128.0.0.0/1']);
  table.removeByValue(a); // a second time is harmless
  table.removeByValue(peer('nobody'));
  t.equal(table.size, 3);
  assertStructure(t, table, 'removeByValue');

  // A peer whose prefixes nest inside each other.
  const nested = new AllowedIps<Peer>();
  nested.insert(cidr('192.168.0.0/16'), a);
  nested.insert(cidr('192.168.0.0/24'), a);
  nested.removeByValue(a);
  t.equal(nested.lookupAddress(ip('192.168.0.1')), undefined);
  t.equal(nested.size, 0);
  t.equal(checkStructure(nested).nodes, 0);
});

t.test('insertion order does not matter', async (t) => {
  const prefixes: [string, string][] = [
    ['10.0.0.0/8', 'a'],
    ['10.128.0.0/9', 'b'],
    ['10.1.0.0/16', 'c'],
    ['10.1.0.0/24', 'd'],
    ['10.1.0.128/25', 'e'],
    ['10.1.0.1/32', 'f'],
    ['0.0.0.0/0', 'g'],
    ['11.0.0.0/8', 'h'],
    ['fd00::/8', 'a'],
    ['fd00::/16', 'b'],
    ['fd00:1::/32', 'c'],
    ['fd00:1::/127', 'd'],
    ['fd00:1::1/128', 'e'],
    ['::/0', 'f'],
  ];
  const probes = [
    '10.0.0.1', '10.200.0.1', '10.1.0.1', '10.1.0.2', '10.1.0.200', '10.1.1.1', '11.1.1.1', '12.0.0.0', '0.0.0.0',
    'fd00::', 'fd00::1', 'fd00:1::', 'fd00:1::1', 'fd00:1::2', 'fd00:2::', 'fd01::', 'fe00::',
  ];
  const peers = new Map<string, Peer>();
  for (const [, name] of prefixes) if (!peers.has(name)) peers.set(name, peer(name));
  const resultsFor = (order: [string, string][]): string => {
    const table = new AllowedIps<Peer>();
    for (const [text, name] of order) table.insert(cidr(text), peers.get(name)!);
    const problems = checkStructure(table).problems;
    return probes.map((p) => table.lookupAddress(ip(p))?.name ?? '-').join(',') + (problems.length ? ' broken' : '');
  };
  const expected = resultsFor(prefixes);
  t.equal(expected, 'a,b,f,d,e,c,h,g,g,b,b,d,e,c,b,a,f');
  t.equal(resultsFor([...prefixes].reverse()), expected, 'reversed');
  let seed = 7;
  let mismatches = 0;
  for (let round = 0; round < 300; round++) {
    const shuffled = [...prefixes];
    for (let i = shuffled.length - 1; i > 0; i--) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      const j = seed % (i + 1);
      [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
    }
    if (resultsFor(shuffled) !== expected) mismatches++;
  }
  t.equal(mismatches, 0, '300 shuffled orders give the same answers');
});

t.test('128 host routes that each differ from all-ones in one bit', async (t) => {
  const table = new AllowedIps<Peer>();
  const a = peer('a');
  const addresses: Uint8Array[] = [];
  for (let bit = 0; bit < 128; bit++) {
    const address = new Uint8Array(16).fill(0xff);
    address[bit >>> 3] ^= 0x80 >>> (bit & 7);
    addresses.push(address);
    table.insert({ address, bits: 128 }, a);
  }
  table.insert({ address: new Uint8Array(16).fill(0xff), bits: 128 }, peer('b'));
  t.equal(table.size, 129);
  assertStructure(t, table, 'deep');
  t.ok(addresses.every((address) => table.lookupAddress(address) === a));
  t.equal(table.lookupAddress(new Uint8Array(16).fill(0xff))?.name, 'b');
  const twoBitsOff = new Uint8Array(16).fill(0xff);
  twoBitsOff[0] = 0x3f;
  t.equal(table.lookupAddress(twoBitsOff), undefined);
  table.removeByValue(a);
  t.equal(table.size, 1);
  t.equal(checkStructure(table).nodes, 1);
  t.equal(table.lookupAddress(addresses[5]!), undefined);
});

t.test('entriesOf lists each prefix once in the order given', async (t) => {
  const table = new AllowedIps<Peer>();
  const a = peer('a');
  const texts = ['192.95.5.64/27', '2607:5300:6000:6b00::c05f:543/128', '10.1.0.16/29', '2607:5300:6d8a:6bf8:dab1:e000::/83', '2607:5000::/21'];
  table.insert(cidr('192.95.5.93/27'), a);
  table.insert(cidr('2607:5300:6000:6b00::c05f:543/128'), a);
  table.insert(cidr('10.1.0.20/29'), a);
  table.insert(cidr('2607:5300:6d8a:6bf8:dab1:f1df:c05f:1523/83'), a);
  table.insert(cidr('2607:5300:6d8a:6bf8:dab1:f1df:c05f:1523/21'), a);
  t.same(entryTexts(table, a), texts);
  t.same(table.entriesOf(peer('other')), []);
  // The returned prefixes are copies: changing them does not change the table.
  const [first] = table.entriesOf(a);
  first!.address[0] = 1;
  t.same(entryTexts(table, a), texts);
});

t.test('lookup reads addresses inside a packet', async (t) => {
  const table = new AllowedIps<Peer>();
  const [a, b] = [peer('a'), peer('b')];
  table.insert(cidr('192.0.2.0/24'), a);
  table.insert(cidr('2001:db8::/32'), b);
  const v4 = new Uint8Array(20);
  v4.set(ip('198.51.100.7'), 12);
  v4.set(ip('192.0.2.55'), 16);
  t.equal(table.lookup(v4, 16, 4), a);
  t.equal(table.lookup(v4, 12, 4), undefined);
  t.equal(table.lookup(v4, 17, 4), undefined, 'past the end');
  t.equal(table.lookup(v4, -1, 4), undefined, 'negative offset');
  t.equal(table.lookup(v4, NaN, 4), undefined, 'NaN offset');
  const v6 = new Uint8Array(40);
  v6.set(ip('2001:db8:1::1'), 8);
  v6.set(ip('fe80::1'), 24);
  t.equal(table.lookup(v6, 8, 6), b);
  t.equal(table.lookup(v6, 24, 6), undefined);
  t.equal(table.lookup(v6, 25, 6), undefined, 'past the end');
  t.equal(table.lookup(v6, 0, 5 as Family), undefined, 'unknown family');
});

t.test('malformed prefixes are refused without changing the table', async (t) => {
  const table = new AllowedIps<Peer>();
  const a = peer('a');
  table.insert(cidr('10.0.0.0/8'), a);
  t.throws(() => table.insert({ address: new Uint8Array(4), bits: 33 }, a), RangeError);
  t.throws(() => table.insert({ address: new Uint8Array(4), bits: -1 }, a), RangeError);
  t.throws(() => table.insert({ address: new Uint8Array(4), bits: 1.5 }, a), RangeError);
  t.throws(() => table.insert({ address: new Uint8Array(16), bits: 129 }, a), RangeError);
  t.throws(() => table.insert({ address: new Uint8Array(5), bits: 8 }, a), RangeError);
  t.throws(() => table.remove({ address: new Uint8Array(3), bits: 8 }, a), RangeError);
  t.equal(table.size, 1);
  t.same(entryTexts(table, a), ['10.0.0.0/8']);
});

t.test('clear and size', async (t) => {
  const table = new AllowedIps<Peer>();
  const a = peer('a');
  t.equal(table.size, 0);
  table.insert(cidr('10.0.0.0/8'), a);
  table.insert(cidr('::/0'), a);
  t.equal(table.size, 2);
  table.clear();
  t.equal(table.size, 0);
  t.same(table.entriesOf(a), []);
  t.equal(table.lookupAddress(ip('10.0.0.1')), undefined);
  t.equal(table.lookupAddress(ip('::1')), undefined);
  table.insert(cidr('10.0.0.0/8'), a);
  t.equal(table.lookupAddress(ip('10.0.0.1')), a, 'usable after clear');
});

t.test('parseCidr output goes straight in', async (t) => {
  const table = new AllowedIps<Peer>();
  const a = peer('a');
  table.insert(parseCidr('100.64.0.0/10')!, a);
  t.equal(table.lookupAddress(ip('100.127.255.255')), a);
  t.equal(table.lookupAddress(ip('100.128.0.0')), undefined);
});

// --- Randomized comparison against a linear longest-prefix scan ------------

/** xorshift32: deterministic, seeded here, no Math.random. */
function makeRandom(seed: number): { u32(): number; below(n: number): number } {
  let state = seed >>> 0 || 1;
  const u32 = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state >>> 0;
  };
  return { u32, below: (n: number) => u32() % n };
}

interface ModelEntry {
  family: Family;
  bits: number;
  words: number[]; // masked, signed 32-bit
  masks: number[];
  owner: Peer;
  key: string;
}

function prefixWords(address: Uint8Array, bits: number): { words: number[]; masks: number[] } {
  const words: number[] = [];
  const masks: number[] = [];
  for (let i = 0; i < address.length / 4; i++) {
    const keep = Math.max(0, Math.min(32, bits - 32 * i));
    const mask = keep === 0 ? 0 : keep === 32 ? -1 : -1 << (32 - keep);
    const word = (address[4 * i]! << 24) | (address[4 * i + 1]! << 16) | (address[4 * i + 2]! << 8) | address[4 * i + 3]!;
    words.push(word & mask);
    masks.push(mask);
  }
  return { words, masks };
}

interface ScanList {
  data: Int32Array; // per entry: its words, then its masks
  owners: Peer[];
}

function toScanList(sorted: ModelEntry[], family: Family): ScanList {
  const entries = sorted.filter((e) => e.family === family);
  const n = family === 4 ? 1 : 4;
  const data = new Int32Array(entries.length * 2 * n);
  entries.forEach((e, k) => {
    data.set(e.words, k * 2 * n);
    data.set(e.masks, k * 2 * n + n);
  });
  return { data, owners: entries.map((e) => e.owner) };
}

class NaiveTable {
  readonly entries = new Map<string, ModelEntry>();
  /** Per family: masked words and masks of every entry, longest prefix first; rebuilt after changes. */
  private scanOrder: { 4: ScanList; 6: ScanList } | null = null;

  insert(c: Cidr, owner: Peer): void {
    const { words, masks } = prefixWords(c.address, c.bits);
    const key = `${c.address.length}/${c.bits}/${words.join(',')}`;
    this.entries.set(key, { family: c.address.length === 4 ? 4 : 6, bits: c.bits, words, masks, owner, key });
    this.scanOrder = null;
  }

  delete(key: string): void {
    this.entries.delete(key);
    this.scanOrder = null;
  }

  find(c: Cidr): ModelEntry | undefined {
    const { words } = prefixWords(c.address, c.bits);
    return this.entries.get(`${c.address.length}/${c.bits}/${words.join(',')}`);
  }

  /** Scans every prefix of the family, longest first; the first match is the answer. */
  lookup(address: Uint8Array): Peer | undefined {
    if (this.scanOrder === null) {
      const all = [...this.entries.values()].sort((x, y) => y.bits - x.bits);
      this.scanOrder = { 4: toScanList(all, 4), 6: toScanList(all, 6) };
    }
    const { words } = prefixWords(address, address.length * 8);
    const n = words.length;
    const list = this.scanOrder[address.length === 4 ? 4 : 6];
    const data = list.data;
    for (let e = 0, at = 0; e < list.owners.length; e++, at += 2 * n) {
      let i = 0;
      while (i < n && (words[i]! & data[at + n + i]!) === data[at + i]) i++;
      if (i === n) return list.owners[e];
    }
    return undefined;
  }

  prefixesOf(owner: Peer): string[] {
    const out: string[] = [];
    for (const entry of this.entries.values()) if (entry.owner === owner) out.push(entry.key);
    return out.sort();
  }
}

function modelKeys(table: AllowedIps<Peer>, owner: Peer): string[] {
  return table
    .entriesOf(owner)
    .map((c) => `${c.address.length}/${c.bits}/${prefixWords(c.address, c.bits).words.join(',')}`)
    .sort();
}

t.test('randomized comparison with a naive longest-prefix scan', async (t) => {
  const random = makeRandom(0xc0ffee);
  const peers = Array.from({ length: 60 }, (_, i) => peer(`p${i}`));
  const table = new AllowedIps<Peer>();
  const naive = new NaiveTable();
  const inserted: Cidr[] = [];
  const insertedV4: Cidr[] = [];
  const insertedV6: Cidr[] = [];
  const remember = (c: Cidr): void => {
    inserted.push(c);
    (c.address.length === 4 ? insertedV4 : insertedV6).push(c);
  };

  const randomBytes = (length: number): Uint8Array => {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = random.u32() & 0xff;
    return out;
  };
  // Mostly prefixes near earlier ones (a few flipped bits, another length), so
  // that nesting, shared branches and exact repeats are common.
  const randomPrefix = (length: 4 | 16): Cidr => {
    const maxBits = length * 8;
    const related = length === 4 ? insertedV4 : insertedV6;
    let address: Uint8Array;
    if (related.length > 0 && random.below(4) !== 0) {
      address = Uint8Array.from(related[random.below(related.length)]!.address);
      const flips = random.below(4);
      for (let i = 0; i < flips; i++) {
        const bit = random.below(maxBits);
        address[bit >>> 3] ^= 0x80 >>> (bit & 7);
      }
    } else {
      address = randomBytes(length);
    }
    // Bias towards realistic lengths but cover every length including 0.
    const bits = random.below(8) === 0 ? random.below(maxBits + 1) : maxBits - random.below(maxBits / 2 + 1);
    return { address, bits };
  };

  const t0 = performance.now();
  for (let i = 0; i < 8000; i++) {
    const c = randomPrefix(i % 2 === 0 ? 4 : 16);
    const owner = peers[random.below(peers.length)]!;
    table.insert(c, owner);
    naive.insert(c, owner);
    remember(c);
  }
  t.equal(table.size, naive.entries.size, 'same number of prefixes');
  t.ok(naive.entries.size > 6000, `mostly distinct prefixes (${naive.entries.size})`);
  assertStructure(t, table, 'after inserts');

  // Addresses inside known prefixes (deep matches) and fully random ones.
  const probe = (): Uint8Array => {
    const length = random.below(2) === 0 ? 4 : 16;
    if (random.below(3) === 0) return randomBytes(length);
    const related = length === 4 ? insertedV4 : insertedV6;
    const base = related[random.below(related.length)]!;
    const address = randomBytes(length);
    const { words } = prefixWords(base.address, base.bits);
    for (let i = 0; i < base.bits; i++) {
      const bit = (words[i >>> 5]! >>> (31 - (i & 31))) & 1;
      address[i >>> 3] = (address[i >>> 3]! & ~(0x80 >>> (i & 7))) | (bit << (7 - (i & 7)));
    }
    return address;
  };
  const compare = (count: number, label: string): void => {
    let mismatches = 0;
    let hits = 0;
    const packet = new Uint8Array(64);
    for (let i = 0; i < count; i++) {
      const address = probe();
      const expected = naive.lookup(address);
      if (expected !== undefined) hits++;
      // Alternate between lookupAddress and lookup inside a larger buffer.
      let actual: Peer | undefined;
      if (i % 2 === 0) {
        actual = table.lookupAddress(address);
      } else {
        const offset = address.length === 4 ? 16 : 24;
        packet.set(address, offset);
        actual = table.lookup(packet, offset, address.length === 4 ? 4 : 6);
      }
      if (actual !== expected) {
        if (mismatches < 5) t.fail(`${label}: lookup of ${Array.from(address).join('.')}`, { expected: expected?.name, actual: actual?.name });
        mismatches++;
      }
    }
    t.equal(mismatches, 0, `${label}: ${count} lookups agree (${hits} matched)`);
    t.ok(hits > count / 2, `${label}: most probes match a prefix`);
  };
  compare(50_000, 'after inserts');

  const compareEntries = (label: string): void => {
    let wrong = 0;
    for (const p of peers) if (modelKeys(table, p).join(' ') !== naive.prefixesOf(p).join(' ')) wrong++;
    t.equal(wrong, 0, `${label}: entriesOf matches for every peer`);
  };
  compareEntries('after inserts');

  // Random removals: some by the wrong owner, which must not change anything.
  let removed = 0;
  let refused = 0;
  for (let i = 0; i < 6000; i++) {
    const c = inserted[random.below(inserted.length)]!;
    const entry = naive.find(c);
    const owner = random.below(5) === 0 ? peers[random.below(peers.length)]! : entry?.owner ?? peers[0]!;
    const expected = entry !== undefined && entry.owner === owner;
    const result = table.remove(c, owner);
    if (result !== expected) t.fail('remove result differs from the model');
    if (expected) {
      naive.delete(entry!.key);
      removed++;
    } else {
      refused++;
    }
  }
  t.ok(removed > 1000 && refused > 500, `removed ${removed}, refused ${refused}`);
  // Removing whole peers.
  for (let i = 0; i < 10; i++) {
    const p = peers[i * 6]!;
    table.removeByValue(p);
    for (const key of naive.prefixesOf(p)) naive.delete(key);
  }
  t.equal(table.size, naive.entries.size, 'same number of prefixes after removals');
  assertStructure(t, table, 'after removals');
  compare(20_000, 'after removals');
  compareEntries('after removals');

  // Refill on top of the thinned-out trie.
  for (let i = 0; i < 2000; i++) {
    const c = randomPrefix(i % 2 === 0 ? 4 : 16);
    const owner = peers[random.below(peers.length)]!;
    table.insert(c, owner);
    naive.insert(c, owner);
    remember(c);
  }
  t.equal(table.size, naive.entries.size, 'same number of prefixes after refill');
  assertStructure(t, table, 'after refill');
  compare(20_000, 'after refill');
  compareEntries('after refill');

  for (const p of peers) table.removeByValue(p);
  t.equal(table.size, 0);
  t.equal(checkStructure(table).nodes, 0, 'empty trie after removing every peer');
  t.comment(`randomized test took ${Math.round(performance.now() - t0)} ms`);
});

t.test('10,000 peers with 5 prefixes each', async (t) => {
  const table = new AllowedIps<Peer>();
  const peers: Peer[] = [];
  for (let i = 0; i < 10_000; i++) {
    const p = peer(`p${i}`);
    peers.push(p);
    const hi = i >>> 8;
    const lo = i & 0xff;
    table.insert(cidr(`10.${hi}.${lo}.0/24`), p);
    table.insert(cidr(`172.16.${hi}.${lo}/32`), p);
    table.insert(cidr(`fd00:${i.toString(16)}::/64`), p);
    table.insert(cidr(`fd00:${i.toString(16)}::1/128`), p);
    table.insert(cidr(`2001:db8:${i.toString(16)}::/48`), p);
  }
  t.equal(table.size, 50_000);
  let wrong = 0;
  for (let i = 0; i < 10_000; i += 7) {
    const hi = i >>> 8;
    const lo = i & 0xff;
    const p = peers[i];
    if (table.lookupAddress(ip(`10.${hi}.${lo}.9`)) !== p) wrong++;
    if (table.lookupAddress(ip(`172.16.${hi}.${lo}`)) !== p) wrong++;
    if (table.lookupAddress(ip(`fd00:${i.toString(16)}::1`)) !== p) wrong++;
    if (table.lookupAddress(ip(`2001:db8:${i.toString(16)}:1::`)) !== p) wrong++;
  }
  t.equal(wrong, 0);
  // Deleting half the peers one by one stays fast because of the per-peer index.
  const start = performance.now();
  for (let i = 0; i < 10_000; i += 2) table.removeByValue(peers[i]!);
  t.comment(`removeByValue x5000 took ${Math.round(performance.now() - start)} ms`);
  t.equal(table.size, 25_000);
  t.equal(table.lookupAddress(ip('10.0.2.1')), undefined);
  t.equal(table.lookupAddress(ip('10.0.3.1')), peers[3]);
  assertStructure(t, table, 'after deleting half the peers');
});
