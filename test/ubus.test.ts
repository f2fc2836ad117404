// UbusConnection against a mock ubusd over a real unix socket. The mock
// (test/helpers/mock-ubusd.ts) stands in for OpenWrt's ubusd, which no
// registry ships, and hosts a stand-in for netifd's network.interface.
// Timers run on a virtual clock: a timeout happens only when the test
// advances it.
import t, { type Test } from 'tap';
import { createConnection } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { typed, type BlobmsgTable } from '../src/control/blobmsg.js';
import { encodeUbusMessage, parseUbusMessage, UbusMsg, UbusStatus } from '../src/control/ubusmsg.js';
import type { UbusMethodResult, UbusRequest } from '../src/control/ubus.js';
import {
  errorMessage, hostDependencyMessage, linkUpdateMessage, notifyProto, setupFailedMessage,
} from '../src/control/netifd.js';
import { hostStatusObject, statusTable, wgtsObjectPath } from '../src/control/ubus-status.js';
import { keyFromBase64, toBase64, toHex } from '../src/crypto/encoding.js';
import { publicKeyFromPrivate } from '../src/crypto/keys.js';
import type { DeviceStatus } from '../src/control/config.js';
import { addMockNetifd, MockUbusd, NodeUbusClient, parseWritten } from './helpers/mock-ubusd.js';
import { VirtualClock } from './helpers/virtual.js';

const dir = mkdtempSync(join(tmpdir(), 'wgts-ubus-'));
const socketPath = join(dir, 'ubus.sock');
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

interface World {
  mock: MockUbusd;
  clock: VirtualClock;
  clients: NodeUbusClient[];
  client(): Promise<NodeUbusClient>;
}

/** A fresh mock ubusd and clients for one subtest. */
async function world(t: Test): Promise<World> {
  const mock = await MockUbusd.start(socketPath);
  const clock = new VirtualClock();
  const w: World = {
    mock, clock, clients: [],
    async client() {
      const c = new NodeUbusClient(socketPath, clock);
      w.clients.push(c);
      await c.connect();
      return c;
    },
  };
  t.teardown(async () => {
    for (const c of w.clients) c.close();
    await w.mock.close();
  });
  return w;
}

function echoObject(mock: MockUbusd): void {
  mock.addBuiltinObject('test.echo', { echo: { text: 'string' } }, (call) => {
    if (call.method === 'fail') return { status: UbusStatus.NOT_FOUND };
    return { status: 0, data: { got: call.data ?? {} } };
  });
}

t.test('hello: the client learns its id', async (t) => {
  const w = await world(t);
  const a = await w.client();
  const b = await w.client();
  t.ok(a.conn.connected, 'connected after HELLO');
  t.ok(a.conn.clientId > 0x80000000, 'the id is the u32 from the header');
  t.ok(w.mock.clients.has(a.conn.clientId), 'the id ubusd gave');
  t.not(a.conn.clientId, b.conn.clientId, 'each client its own');
});

t.test('lookup', async (t) => {
  const w = await world(t);
  addMockNetifd(w.mock, ['vpn']);
  echoObject(w.mock);
  const a = await w.client();
  const r = await a.conn.lookup('network.interface');
  t.equal(r.status, 0, 'found');
  t.equal(r.objects.length, 1);
  t.equal(r.objects[0]!.id, w.mock.objectByPath('network.interface')!.id, 'its id');
  t.same(r.objects[0]!.signature, { notify_proto: { action: 5, interface: 3 }, status: { interface: 3 } }, 'signature: INT32 = 5, STRING = 3');
  // The first request on the wire is the worked LOOKUP of OPENWRT-FACTS §4.6.
  const objpath = toHex(new TextEncoder().encode('network.interface'));
  t.equal(toHex(a.written[0]!), `0004 0001 00000000 0000001c 02000016 ${objpath} 00 0000`.replace(/ /g, ''), 'LOOKUP bytes as worked by hand');
  const missing = await a.conn.lookup('no.such');
  t.same(missing, { status: UbusStatus.NOT_FOUND, objects: [] }, 'unknown path: NOT_FOUND');
  const prefix = await a.conn.lookup('test.*');
  t.same(prefix.objects.map((o) => o.path), ['test.echo'], 'prefix lookup');
  const all = await a.conn.lookup();
  t.same(all.objects.map((o) => o.path), ['network.interface', 'test.echo'], 'all objects, sorted');
  t.same(await a.conn.lookupId('test.echo'), { status: 0, id: w.mock.objectByPath('test.echo')!.id }, 'lookupId');
});

t.test('invoke with data and status', async (t) => {
  const w = await world(t);
  echoObject(w.mock);
  const a = await w.client();
  const sent: BlobmsgTable = { text: 'hi', n: -5, big: 2 ** 40, on: true, list: [1, 'x', { y: null }], nested: { d: 0.5 } };
  const r = await a.conn.invoke('test.echo', 'echo', sent);
  t.equal(r.status, 0, 'status 0');
  t.same(r.data, { got: sent }, 'data came back through blobmsg both ways');
  t.equal(r.allData.length, 1);
  const fail = await a.conn.invoke('test.echo', 'fail');
  t.same(fail, { status: UbusStatus.NOT_FOUND, data: null, allData: [] }, 'a status without data');
  t.equal((await a.conn.invoke('no.such', 'x')).status, UbusStatus.NOT_FOUND, 'unknown path');
  t.equal((await a.conn.invoke(0x7777, 'x')).status, UbusStatus.NOT_FOUND, 'unknown id: ubusd answers NOT_FOUND');
  const wire = parseWritten(a.written).filter((m) => m.type === UbusMsg.INVOKE);
  t.equal(wire[0]!.peer, w.mock.objectByPath('test.echo')!.id, 'INVOKE peer is the object id');
  t.ok(wire.every((m, i) => i === 0 || m.seq !== wire[i - 1]!.seq), 'each request has its own seq');
  await t.rejects(a.conn.invoke('test.echo', 'echo', { f: (() => 0) as unknown as BlobmsgTable }), TypeError, 'unencodable data rejects');
});

t.test('hosting an object called by a second client', async (t) => {
  const w = await world(t);
  const host = await w.client();
  const caller = await w.client();
  const seen: UbusRequest[] = [];
  const obj = host.conn.addObject('wgts.test', { status: {}, set: { value: 'int32', name: 'string' }, boom: {}, later: {} }, async (req): Promise<UbusMethodResult> => {
    seen.push(req);
    switch (req.method) {
      case 'status': return { data: { up: true, peers: [{ key: 'k', rx: 2 ** 33 }] } };
      case 'set': return typeof req.data.value === 'number' ? { data: { doubled: (req.data.value as number) * 2 } } : UbusStatus.INVALID_ARGUMENT;
      case 'boom': throw new Error('handler failed');
      default: return await new Promise<number>((resolve) => setImmediate(() => resolve(UbusStatus.NO_DATA)));
    }
  });
  t.equal(obj.id, 0, 'no id before ubusd answers');
  t.equal(await obj.registered, 0, 'registered');
  t.ok(obj.id > 0x80000000, 'id from ubusd (above 2^31)');
  t.equal(w.mock.objectByPath('wgts.test')?.id, obj.id, 'ubusd knows it');

  const found = await caller.conn.lookup('wgts.test');
  t.same(found.objects[0]?.signature, { status: {}, set: { value: 5, name: 3 }, boom: {}, later: {} }, 'signature as registered');
  const status = await caller.conn.invoke('wgts.test', 'status');
  t.same(status, { status: 0, data: { up: true, peers: [{ key: 'k', rx: 2 ** 33 }] }, allData: [{ up: true, peers: [{ key: 'k', rx: 2 ** 33 }] }] }, 'reply data and status');
  t.same((await caller.conn.invoke(obj.id, 'set', { value: 21 })).data, { doubled: 42 }, 'arguments reach the handler');
  t.equal(seen[seen.length - 1]!.peer, caller.conn.clientId, 'the handler sees the caller id');
  t.equal(seen[seen.length - 1]!.object, obj, 'and its object');
  t.equal((await caller.conn.invoke(obj.id, 'set', { value: 'x' })).status, UbusStatus.INVALID_ARGUMENT, 'a status from the handler');
  const before = seen.length;
  t.same(await caller.conn.invoke(obj.id, 'nope'), { status: UbusStatus.METHOD_NOT_FOUND, data: null, allData: [] }, 'unknown method: status 3');
  t.equal(seen.length, before, 'the handler is not called for it');
  t.equal((await caller.conn.invoke(obj.id, 'boom')).status, UbusStatus.UNKNOWN_ERROR, 'a throwing handler: status 9');
  t.equal((await caller.conn.invoke(obj.id, 'later')).status, UbusStatus.NO_DATA, 'an async handler answers later');

  // What the host wrote for the status call: DATA then STATUS, same seq, peer = caller.
  const replies = parseWritten(host.written).filter((m) => m.type === UbusMsg.DATA || m.type === UbusMsg.STATUS);
  const statusReply = replies.filter((m) => m.attrs.objid === obj.id).slice(0, 2);
  t.same(statusReply.map((m) => m.type), [UbusMsg.DATA, UbusMsg.STATUS], 'DATA then STATUS');
  t.same(statusReply.map((m) => m.peer), [caller.conn.clientId, caller.conn.clientId], 'addressed to the caller');
  t.equal(statusReply[0]!.seq, statusReply[1]!.seq, 'with the call\'s seq');

  t.equal(await obj.remove(), 0, 'removed');
  t.equal((await caller.conn.lookup('wgts.test')).status, UbusStatus.NOT_FOUND, 'gone from ubusd');
  t.equal((await caller.conn.invoke(found.objects[0]!.id, 'status')).status, UbusStatus.NOT_FOUND, 'calls fail');
});

t.test('a call without DATA gets INVALID_ARGUMENT', async (t) => {
  const w = await world(t);
  const host = await w.client();
  const obj = host.conn.addObject('wgts.nodata', { status: {} }, () => ({ data: {} }));
  await obj.registered;
  // A raw client, as libubus would call with a NULL message.
  const socket = createConnection(socketPath);
  const got: number[] = [];
  await new Promise<void>((resolve) => {
    let rx = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      rx = Buffer.concat([rx, chunk]);
      while (rx.length >= 12) {
        const n = 8 + rx.readUInt32BE(8);
        if (rx.length < n) break;
        const m = parseUbusMessage(new Uint8Array(rx.subarray(0, n)), 0, n);
        rx = rx.subarray(n);
        if (m?.type === UbusMsg.HELLO) socket.write(encodeUbusMessage(UbusMsg.INVOKE, 9, obj.id, { objid: obj.id, method: 'status' }));
        if (m?.type === UbusMsg.STATUS) {
          got.push(m.attrs.status!, m.seq, m.peer);
          resolve();
        }
      }
    });
  });
  socket.destroy();
  t.same(got, [UbusStatus.INVALID_ARGUMENT, 9, obj.id], 'status 2 for seq 9 from the object');
});

t.test('notify_proto reaches netifd with netifd\'s types', async (t) => {
  const w = await world(t);
  const calls = addMockNetifd(w.mock, ['vpn']);
  const a = await w.client();
  const update = linkUpdateMessage('vpn', {
    ifname: 'wgts-vpn', up: true,
    ipaddr: [{ ipaddr: '10.9.0.2', mask: 24 }],
    ip6addr: [{ ipaddr: 'fd00::2', mask: 64 }],
    routes: [{ target: '10.8.0.0', netmask: 16, metric: 10 }],
    routes6: [{ target: 'fd01::', netmask: 48 }],
    dns: ['10.9.0.1'],
  });
  t.equal(await notifyProto(a.conn, update), 0, 'action 0 accepted');
  t.equal(calls.length, 1, 'recorded by network.interface');
  const c = calls[0]!;
  t.equal(c.action, 0);
  t.equal(c.interface, 'vpn');
  t.same(c.typed.action, typed('int32', 0), 'action is INT32');
  t.same(c.typed['link-up'], typed('int8', 1), 'link-up is BOOL');
  t.same(c.typed.ifname, typed('string', 'wgts-vpn'), 'ifname is STRING');
  t.same(c.data.ipaddr, [{ ipaddr: '10.9.0.2', mask: '24' }], 'IPv4 address, mask as a string like netifd-proto.sh');
  t.same(c.data.ip6addr, [{ ipaddr: 'fd00::2', mask: '64' }], 'IPv6 address');
  t.same(c.data.routes, [{ target: '10.8.0.0', netmask: '16', metric: 10 }], 'route with an INT32 metric');
  t.same((c.typed.routes as BlobmsgTable[])[0]!.metric, typed('int32', 10));
  t.same(c.data.routes6, [{ target: 'fd01::', netmask: '48' }], 'IPv6 route');
  t.same(c.data.dns, ['10.9.0.1'], 'dns');

  t.equal(await notifyProto(a.conn, linkUpdateMessage('vpn', { ifname: 'wgts-vpn', up: false })), 0, 'link lost');
  t.same(calls[1]!.typed['link-up'], typed('int8', 0));
  t.equal(await notifyProto(a.conn, hostDependencyMessage('vpn', '192.0.2.7')), 0, 'host dependency');
  t.same([calls[2]!.action, calls[2]!.data.host], [6, '192.0.2.7']);
  t.equal(await notifyProto(a.conn, errorMessage('vpn', ['NO_KEY'])), 0, 'error');
  t.same([calls[3]!.action, calls[3]!.data.error], [3, ['NO_KEY']]);
  t.equal(await notifyProto(a.conn, setupFailedMessage('vpn')), 0, 'setup failed');
  t.equal(calls[4]!.action, 7);
  t.equal(await notifyProto(a.conn, linkUpdateMessage('nope', { ifname: 'x', up: true })), UbusStatus.NOT_FOUND, 'unknown interface');
  t.equal(await notifyProto(a.conn, { action: 0, interface: 'vpn', 'link-up': 1 }), UbusStatus.INVALID_ARGUMENT, 'link-up as INT32 is not netifd\'s BOOL');
  t.equal(calls.length, 5, 'refused calls are not recorded');
});

t.test('the wgts status object', async (t) => {
  const w = await world(t);
  const daemon = await w.client();
  const luci = await w.client();
  const privateKey = keyFromBase64('YAnvHQsmPc4uFkoXjHbuiBLjlaaxbxYoyb8D8P1JKl4=')!;
  const peerKey = keyFromBase64('xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=')!;
  const status = (): DeviceStatus => ({
    privateKey: privateKey.slice(), listenPort: 51820, fwmark: 0,
    peers: [{
      publicKey: peerKey, presharedKey: null, endpoint: { address: '2001:db8::1', port: 51821 },
      lastHandshakeWallMs: 1_750_000_123_456, rxBytes: 5_000_000_000, txBytes: 1234, persistentKeepalive: 25,
      allowedIps: [{ address: Uint8Array.of(10, 9, 0, 0), bits: 24 }],
    }],
  });
  const obj = hostStatusObject(daemon.conn, {
    ifname: 'wg0', status, descriptions: () => new Map([[toBase64(peerKey), 'laptop']]),
  });
  t.equal(await obj.registered, 0);
  t.equal(obj.path, wgtsObjectPath('wg0'));
  t.equal(obj.path, 'wgts.wg0');
  const r = await luci.conn.invoke('wgts.wg0', 'status');
  t.equal(r.status, 0);
  t.same(r.data, {
    interfaces: {
      wg0: {
        name: 'wg0', public_key: toBase64(publicKeyFromPrivate(privateKey)), listen_port: 51820, fwmark: 0,
        peers: [{
          public_key: toBase64(peerKey), description: 'laptop', endpoint: '[2001:db8::1]:51821',
          allowed_ips: ['10.9.0.0/24'], latest_handshake: 1_750_000_123, transfer_rx: 5_000_000_000, transfer_tx: 1234,
          persistent_keepalive: 25, preshared_key: false,
        }],
      },
    },
  }, 'the device as a table');
  t.notMatch(JSON.stringify(r.data), toBase64(privateKey), 'never the private key');
  t.same(statusTable('wg1', { privateKey: null, listenPort: 0, fwmark: 0, peers: [] }, null), {
    interfaces: { wg1: { name: 'wg1', public_key: '', listen_port: 0, fwmark: 0, peers: [] } },
  }, 'an unconfigured device');
});

t.test('events', async (t) => {
  const w = await world(t);
  const a = await w.client();
  const b = await w.client();
  const events: [string, BlobmsgTable][] = [];
  let heard: () => void = () => {};
  const listener = b.conn.listen('wgts.*', (name, data) => { events.push([name, data]); heard(); });
  t.equal(await listener.registered, 0, 'listener object registered');
  // A round trip on b's socket: ubusd has handled the pattern registration sent before it.
  await b.conn.lookup();
  const got = new Promise<void>((resolve) => { heard = resolve; });
  t.equal(await a.conn.sendEvent('wgts.peer', { key: 'k', up: true }), 0, 'sent');
  await got;
  t.same(events, [['wgts.peer', { key: 'k', up: true }]], 'received by the listener');
  t.equal(await a.conn.sendEvent('ubus.object.add', {}), UbusStatus.PERMISSION_DENIED, 'ubus.* names are refused');
  t.equal(await a.conn.sendEvent('other.thing', {}), 0, 'a non-matching event');
  await b.conn.lookup();
  t.equal(events.length, 1, 'is not delivered');
});

t.test('subscribers and notify', async (t) => {
  const w = await world(t);
  const host = await w.client();
  const watcher = await w.client();
  let active: (v: boolean) => void = () => {};
  const activeChanged = new Promise<boolean>((resolve) => { active = resolve; });
  const obj = host.conn.addObject('wgts.wg0', { status: {} }, () => {}, { onSubscribers: (v) => active(v) });
  await obj.registered;
  t.notOk(obj.hasSubscribers, 'nobody yet');
  t.equal(obj.notify('peer.up', { key: 'k' }), true, 'a notification without subscribers goes out anyway');
  let notified: (v: [string, BlobmsgTable]) => void = () => {};
  const notification = new Promise<[string, BlobmsgTable]>((resolve) => { notified = resolve; });
  const sub = watcher.conn.subscribe('wgts.wg0', (type, data) => notified([type, data]));
  await sub.registered;
  t.equal(await activeChanged, true, 'the host hears that it has a subscriber');
  t.ok(obj.hasSubscribers);
  obj.notify('peer.up', { key: 'k', endpoint: '192.0.2.1:51820' });
  t.same(await notification, ['peer.up', { key: 'k', endpoint: '192.0.2.1:51820' }], 'the subscriber gets it');
  const wire = parseWritten(host.written).filter((m) => m.type === UbusMsg.NOTIFY);
  t.ok(wire.length === 2 && wire.every((m) => m.attrs.noReply === true && m.peer === obj.id), 'NOTIFY with NO_REPLY, peer = object');
});

t.test('timeouts come from the injected clock', async (t) => {
  const w = await world(t);
  w.mock.addBuiltinObject('test.silent', { wait: {} }, () => 'no-reply');
  const a = new NodeUbusClient(socketPath, w.clock, 5000);
  w.clients.push(a);
  await a.connect();
  const { id } = await a.conn.lookupId('test.silent');
  const pending = a.conn.invoke(id, 'wait');
  let done = false;
  void pending.then(() => { done = true; });
  w.clock.advance(4999);
  await new Promise((r) => setImmediate(r));
  t.notOk(done, 'still waiting just before the timeout');
  w.clock.advance(1);
  t.same(await pending, { status: UbusStatus.TIMEOUT, data: null, allData: [] }, 'TIMEOUT at 5 s of virtual time');
  t.equal(w.clock.pendingCount, 0, 'no timer left behind');
});

t.test('requests wait for HELLO; ubusd restarts', async (t) => {
  const w = await world(t);
  echoObject(w.mock);
  const a = new NodeUbusClient(socketPath, w.clock);
  w.clients.push(a);
  const early = a.conn.invoke('test.echo', 'echo', { early: 1 });
  await a.connect();
  t.same((await early).data, { got: { early: 1 } }, 'a request made before connecting went out after HELLO');

  const obj = a.conn.addObject('wgts.wg0', { status: {} }, () => ({ data: { ok: true } }));
  await obj.registered;
  const firstId = obj.id;
  w.mock.addBuiltinObject('test.silent', { wait: {} }, () => 'no-reply');
  const silent = await a.conn.lookupId('test.silent');
  const inflight = a.conn.invoke(silent.id, 'wait');
  await a.conn.lookup(); // the invoke has reached ubusd

  const closed = a.closed();
  await w.mock.close();
  await closed;
  t.notOk(a.conn.connected, 'disconnected');
  t.equal(obj.id, 0, 'the object id is forgotten');
  t.equal((await inflight).status, UbusStatus.CONNECTION_FAILED, 'the request in flight fails');
  const queued = a.conn.invoke('wgts.wg0', 'status');

  // ubusd comes back (procd restarts it) and the client reconnects.
  w.mock = await MockUbusd.start(socketPath);
  const b = await w.client();
  await a.connect();
  t.same((await queued).data, { ok: true }, 'the request made while disconnected completed, against the re-registered object');
  t.ok(obj.id !== 0 && obj.id !== firstId, `registered again with a new id (${obj.id.toString(16)})`);
  t.same((await b.conn.invoke('wgts.wg0', 'status')).data, { ok: true }, 'other clients reach it');
});
