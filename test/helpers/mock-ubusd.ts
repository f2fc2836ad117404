// Stands in for OpenWrt's ubusd, which no registry ships. A Node unix-socket
// server speaking the same wire protocol (OPENWRT-FACTS.md §4; behaviour read
// from openwrt/ubus ubusd_proto.c and ubusd_event.c): HELLO, PING, LOOKUP,
// ADD_OBJECT / REMOVE_OBJECT, INVOKE routed between clients (replies routed
// back by peer id), the event object (register / send), SUBSCRIBE and NOTIFY.
// No ACLs, no monitor, no fd passing. Object and client ids are above 2^31
// on purpose, as real ubusd's random ids often are, to catch signed-int bugs.
// Also here: a stand-in for netifd's `network.interface` object, and a Node
// transport for UbusConnection.
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { existsSync, unlinkSync } from 'node:fs';
import { decodeBlobmsgTable, encodeBlobmsgTable, typed, type BlobmsgTable, type BlobmsgTypeName } from '../../src/control/blobmsg.js';
import {
  encodeUbusMessage, parseUbusMessage, ubusFrameLength, UbusMsg, UbusStatus,
  UBUS_SYSTEM_OBJECT_EVENT, type UbusAttrs, type UbusMessage,
} from '../../src/control/ubusmsg.js';
import { UbusConnection } from '../../src/control/ubus.js';
import type { Clock } from '../../src/platform/platform.js';

/** What a built-in object's handler returns; 'no-reply' leaves the caller waiting. */
export type BuiltinResult = { status: number; data?: BlobmsgTable } | 'no-reply';

export interface BuiltinCall {
  method: string;
  /** Decoded with exact types ({ $type, value }) so tests can check wire types. */
  typed: BlobmsgTable | null;
  data: BlobmsgTable | null;
  caller: number;
}

interface MockObject {
  id: number;
  path: string | null;
  typeId: number;
  signature: Uint8Array | null;
  client: MockClient | null;
  builtin: ((call: BuiltinCall) => BuiltinResult) | null;
  subscribers: Set<MockObject>;
  targets: Set<MockObject>;
}

class MockClient {
  rx = Buffer.alloc(0);
  readonly objects = new Set<MockObject>();
  constructor(readonly id: number, readonly socket: Socket) {}
}

interface EventPattern {
  object: MockObject;
  prefix: string;
  partial: boolean;
}

export class MockUbusd {
  /** Every message clients sent, in arrival order. */
  readonly received: { client: number; msg: UbusMessage }[] = [];
  readonly clients = new Map<number, MockClient>();
  private readonly objects = new Map<number, MockObject>();
  private readonly patterns: EventPattern[] = [];
  private nextId = 0x8a3f0000;
  private eventSeq = 0;

  private constructor(readonly path: string, private readonly server: Server) {
    server.on('connection', (s) => this.accept(s));
  }

  static start(path: string): Promise<MockUbusd> {
    if (existsSync(path)) unlinkSync(path);
    const server = createServer();
    const mock = new MockUbusd(path, server);
    mock.objects.set(UBUS_SYSTEM_OBJECT_EVENT, {
      id: UBUS_SYSTEM_OBJECT_EVENT, path: null, typeId: 0, signature: null, client: null, builtin: null,
      subscribers: new Set(), targets: new Set(),
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve(mock));
    });
  }

  private allocId(): number {
    this.nextId = (this.nextId + 0x1011) >>> 0;
    return this.nextId;
  }

  /** Stops like a killed ubusd: every client connection is cut. */
  close(): Promise<void> {
    for (const c of this.clients.values()) c.socket.destroy();
    this.clients.clear();
    return new Promise((resolve) => this.server.close(() => {
      if (existsSync(this.path)) unlinkSync(this.path);
      resolve();
    }));
  }

  /** An object served by the mock itself (as netifd would serve network.interface). */
  addBuiltinObject(path: string, methods: Record<string, Record<string, BlobmsgTypeName>>, handler: (call: BuiltinCall) => BuiltinResult): number {
    const sig: BlobmsgTable = {};
    for (const m of Object.keys(methods)) {
      const args: BlobmsgTable = {};
      for (const a of Object.keys(methods[m]!)) args[a] = typed('int32', TYPES[methods[m]![a]!]);
      sig[m] = args;
    }
    const obj: MockObject = {
      id: this.allocId(), path, typeId: this.allocId(), signature: encodeBlobmsgTable(sig), client: null,
      builtin: handler, subscribers: new Set(), targets: new Set(),
    };
    this.objects.set(obj.id, obj);
    return obj.id;
  }

  objectByPath(path: string): { id: number; client: number } | null {
    for (const o of this.objects.values()) if (o.path === path) return { id: o.id, client: o.client?.id ?? 0 };
    return null;
  }

  private accept(socket: Socket): void {
    const client = new MockClient(this.allocId(), socket);
    this.clients.set(client.id, client);
    socket.on('data', (chunk) => this.receive(client, chunk));
    socket.on('close', () => this.disconnect(client));
    socket.on('error', () => socket.destroy());
    this.send(client, UbusMsg.HELLO, 0, client.id, {});
  }

  private send(client: MockClient, type: number, seq: number, peer: number, attrs: UbusAttrs): void {
    if (!client.socket.destroyed) client.socket.write(encodeUbusMessage(type, seq, peer, attrs));
  }

  private receive(client: MockClient, chunk: Buffer): void {
    client.rx = Buffer.concat([client.rx, chunk]);
    for (;;) {
      const bytes = new Uint8Array(client.rx.buffer, client.rx.byteOffset, client.rx.length);
      const n = ubusFrameLength(bytes, 0, bytes.length);
      if (n < 0) {
        client.socket.destroy();
        return;
      }
      if (n === 0 || bytes.length < n) return;
      const msg = parseUbusMessage(bytes, 0, n);
      client.rx = client.rx.subarray(n);
      if (!msg) continue; // ubusd drops what it cannot parse
      this.received.push({ client: client.id, msg });
      this.handle(client, msg);
    }
  }

  private handle(client: MockClient, msg: UbusMessage): void {
    const status = (s: number) => this.send(client, UbusMsg.STATUS, msg.seq, msg.peer, { status: s });
    const a = msg.attrs;
    switch (msg.type) {
      case UbusMsg.PING:
        return this.send(client, UbusMsg.DATA, msg.seq, msg.peer, a);
      case UbusMsg.LOOKUP:
        return status(this.lookup(client, msg));
      case UbusMsg.ADD_OBJECT:
        return status(this.addObject(client, msg));
      case UbusMsg.REMOVE_OBJECT: {
        const obj = a.objid === undefined ? undefined : this.objects.get(a.objid);
        if (!obj) return status(a.objid === undefined ? UbusStatus.INVALID_ARGUMENT : UbusStatus.NOT_FOUND);
        if (obj.client !== client) return status(UbusStatus.PERMISSION_DENIED);
        this.send(client, UbusMsg.DATA, msg.seq, msg.peer, { objid: obj.id });
        this.removeObject(obj);
        return status(UbusStatus.OK);
      }
      case UbusMsg.INVOKE: {
        const r = this.invoke(client, msg);
        if (r >= 0) status(r);
        return;
      }
      case UbusMsg.STATUS:
      case UbusMsg.DATA:
        return this.response(client, msg);
      case UbusMsg.SUBSCRIBE:
      case UbusMsg.UNSUBSCRIBE:
        return status(this.watch(client, msg));
      case UbusMsg.NOTIFY:
        return this.notify(client, msg);
      default:
        return status(UbusStatus.INVALID_COMMAND);
    }
  }

  private sendObject(client: MockClient, msg: UbusMessage, obj: MockObject): void {
    this.send(client, UbusMsg.DATA, msg.seq, msg.peer, {
      objpath: obj.path!, objid: obj.id, objtype: obj.typeId, signature: obj.signature ?? new Uint8Array(0),
    });
  }

  private lookup(client: MockClient, msg: UbusMessage): number {
    const named = [...this.objects.values()].filter((o) => o.path !== null).sort((x, y) => (x.path! < y.path! ? -1 : 1));
    const path = msg.attrs.objpath;
    if (path === undefined) {
      for (const o of named) this.sendObject(client, msg, o);
      return UbusStatus.OK;
    }
    if (path === '') return UbusStatus.INVALID_ARGUMENT;
    const matches = path.endsWith('*') ? named.filter((o) => o.path!.startsWith(path.slice(0, -1))) : named.filter((o) => o.path === path);
    for (const o of matches) this.sendObject(client, msg, o);
    return matches.length > 0 ? UbusStatus.OK : UbusStatus.NOT_FOUND;
  }

  private addObject(client: MockClient, msg: UbusMessage): number {
    const a = msg.attrs;
    let obj: MockObject;
    if (a.objpath !== undefined) {
      if (a.signature === undefined) return UbusStatus.INVALID_ARGUMENT; // no shared types here
      if (this.objectByPath(a.objpath)) return UbusStatus.INVALID_ARGUMENT;
      if (decodeBlobmsgTable(a.signature) === null) return UbusStatus.INVALID_ARGUMENT;
      obj = { id: this.allocId(), path: a.objpath, typeId: this.allocId(), signature: a.signature, client, builtin: null, subscribers: new Set(), targets: new Set() };
    } else {
      obj = { id: this.allocId(), path: null, typeId: 0, signature: null, client, builtin: null, subscribers: new Set(), targets: new Set() };
    }
    this.objects.set(obj.id, obj);
    client.objects.add(obj);
    this.send(client, UbusMsg.DATA, msg.seq, msg.peer, obj.path !== null ? { objid: obj.id, objtype: obj.typeId } : { objid: obj.id });
    if (obj.path !== null) this.emitEvent(null, 'ubus.object.add', encodeBlobmsgTable({ id: typed('int32', obj.id), path: obj.path }));
    return UbusStatus.OK;
  }

  private removeObject(obj: MockObject): void {
    this.objects.delete(obj.id);
    obj.client?.objects.delete(obj);
    for (let i = this.patterns.length - 1; i >= 0; i--) if (this.patterns[i]!.object === obj) this.patterns.splice(i, 1);
    for (const s of obj.subscribers) {
      s.targets.delete(obj);
      if (s.client) this.send(s.client, UbusMsg.UNSUBSCRIBE, 0, 0, { objid: s.id, target: obj.id });
    }
    for (const t of obj.targets) this.unsubscribe(obj, t);
    if (obj.path !== null) this.emitEvent(null, 'ubus.object.remove', encodeBlobmsgTable({ id: typed('int32', obj.id), path: obj.path }));
  }

  private disconnect(client: MockClient): void {
    if (this.clients.get(client.id) !== client) return;
    this.clients.delete(client.id);
    for (const obj of [...client.objects]) this.removeObject(obj);
  }

  /** Returns a status to send, or -1 when the call was forwarded. */
  private invoke(client: MockClient, msg: UbusMessage): number {
    const a = msg.attrs;
    if (a.method === undefined || a.objid === undefined) return UbusStatus.INVALID_ARGUMENT;
    const obj = this.objects.get(a.objid);
    if (!obj) return UbusStatus.NOT_FOUND;
    if (obj.id === UBUS_SYSTEM_OBJECT_EVENT) return this.eventCall(client, a.method, a.data);
    if (obj.builtin) {
      const data = a.data ? decodeBlobmsgTable(a.data) : null;
      const result = obj.builtin({ method: a.method, data, typed: a.data ? decodeBlobmsgTable(a.data, 0, a.data.length, { typed: true }) : null, caller: client.id });
      if (result === 'no-reply') return -1;
      if (result.data) this.send(client, UbusMsg.DATA, msg.seq, obj.id, { objid: obj.id, data: encodeBlobmsgTable(result.data) });
      this.send(client, UbusMsg.STATUS, msg.seq, obj.id, { status: result.status, objid: obj.id });
      return -1;
    }
    const attrs: UbusAttrs = { objid: obj.id, method: a.method };
    if (a.data !== undefined) attrs.data = a.data;
    this.send(obj.client!, UbusMsg.INVOKE, msg.seq, client.id, attrs);
    return -1;
  }

  private response(client: MockClient, msg: UbusMessage): void {
    const a = msg.attrs;
    if (a.objid === undefined) return;
    if (msg.type === UbusMsg.STATUS && a.status === undefined) return;
    if (msg.type === UbusMsg.DATA && a.data === undefined) return;
    const obj = this.objects.get(a.objid);
    if (!obj || obj.client !== client) return;
    const caller = this.clients.get(msg.peer);
    if (!caller) return;
    this.send(caller, msg.type, msg.seq, a.objid, a);
  }

  private eventCall(client: MockClient, method: string, data: Uint8Array | undefined): number {
    const args = data ? decodeBlobmsgTable(data, 0, data.length, { typed: true }) : null;
    if (!args) return UbusStatus.INVALID_ARGUMENT;
    const scalar = (name: string, type: string): unknown => {
      const v = args[name] as { $type?: string; value?: unknown } | undefined;
      return v && v.$type === type ? v.value : undefined;
    };
    if (method === 'register') {
      const id = scalar('object', 'int32') as number | undefined;
      const pattern = scalar('pattern', 'string') as string | undefined;
      if (id === undefined || pattern === undefined) return UbusStatus.INVALID_ARGUMENT;
      const obj = this.objects.get(id >>> 0);
      if (!obj) return UbusStatus.NOT_FOUND;
      if (obj.client !== client) return UbusStatus.PERMISSION_DENIED;
      const partial = pattern.endsWith('*');
      this.patterns.push({ object: obj, prefix: partial ? pattern.slice(0, -1) : pattern, partial });
      return UbusStatus.OK;
    }
    if (method === 'send') {
      const id = scalar('id', 'string') as string | undefined;
      if (id === undefined || !data) return UbusStatus.INVALID_ARGUMENT;
      const table = decodeBlobmsgTable(data);
      if (!table || typeof table.data !== 'object' || table.data === null || Array.isArray(table.data)) return UbusStatus.INVALID_ARGUMENT;
      if (id.startsWith('ubus.')) return UbusStatus.PERMISSION_DENIED;
      this.emitEvent(client, id, encodeBlobmsgTable(table.data as BlobmsgTable));
      return UbusStatus.OK;
    }
    return UbusStatus.INVALID_COMMAND;
  }

  private emitEvent(from: MockClient | null, id: string, data: Uint8Array): void {
    const seen = new Set<MockObject>();
    for (const p of this.patterns) {
      if (!(p.partial ? id.startsWith(p.prefix) : id === p.prefix)) continue;
      // Not back to the sender, and once per object.
      if (p.object.client === from || seen.has(p.object) || !p.object.client) continue;
      seen.add(p.object);
      this.send(p.object.client, UbusMsg.INVOKE, ++this.eventSeq & 0xffff, 0, { objid: p.object.id, method: id, data });
    }
  }

  private watch(client: MockClient, msg: UbusMessage): number {
    const a = msg.attrs;
    if (a.objid === undefined || a.target === undefined) return UbusStatus.INVALID_ARGUMENT;
    const obj = this.objects.get(a.objid);
    if (!obj) return UbusStatus.NOT_FOUND;
    if (obj.client !== client) return UbusStatus.INVALID_ARGUMENT;
    const target = this.objects.get(a.target);
    if (msg.type === UbusMsg.UNSUBSCRIBE) {
      if (!target || !obj.targets.has(target)) return UbusStatus.NOT_FOUND;
      this.unsubscribe(obj, target);
      return UbusStatus.OK;
    }
    if (!target || !target.client) return UbusStatus.NOT_FOUND;
    if (target.client === client) return UbusStatus.INVALID_ARGUMENT;
    const first = target.subscribers.size === 0;
    target.subscribers.add(obj);
    obj.targets.add(target);
    if (first) this.send(target.client, UbusMsg.NOTIFY, 0, 0, { objid: target.id, active: true });
    return UbusStatus.OK;
  }

  private unsubscribe(subscriber: MockObject, target: MockObject): void {
    subscriber.targets.delete(target);
    if (!target.subscribers.delete(subscriber)) return;
    if (target.subscribers.size === 0 && target.client) this.send(target.client, UbusMsg.NOTIFY, 0, 0, { objid: target.id, active: false });
  }

  private notify(client: MockClient, msg: UbusMessage): void {
    const a = msg.attrs;
    const fail = (s: number) => this.send(client, UbusMsg.STATUS, msg.seq, msg.peer, { status: s });
    if (a.method === undefined || a.objid === undefined) return fail(UbusStatus.INVALID_ARGUMENT);
    const obj = this.objects.get(a.objid);
    if (!obj) return fail(UbusStatus.NOT_FOUND);
    if (obj.client !== client) return fail(UbusStatus.PERMISSION_DENIED);
    if (!a.noReply) {
      this.send(client, UbusMsg.STATUS, msg.seq, msg.peer, { objid: obj.id, subscribers: [...obj.subscribers].map((s) => s.id), status: 0 });
    }
    for (const s of obj.subscribers) {
      const attrs: UbusAttrs = { objid: s.id, method: a.method };
      if (a.noReply) attrs.noReply = true;
      if (a.data !== undefined) attrs.data = a.data;
      this.send(s.client!, UbusMsg.INVOKE, msg.seq, client.id, attrs);
    }
  }
}

const TYPES: Record<BlobmsgTypeName, number> = { unspec: 0, array: 1, table: 2, string: 3, int64: 4, int32: 5, int16: 6, int8: 7, bool: 7, double: 8 };

function scalarOf(t: BlobmsgTable | null, name: string, type: string): unknown {
  const v = t?.[name] as { $type?: string; value?: unknown } | undefined;
  return v && typeof v === 'object' && v.$type === type ? v.value : undefined;
}

export interface NetifdCall {
  interface: string;
  action: number;
  /** With exact wire types. */
  typed: BlobmsgTable;
  data: BlobmsgTable;
}

/**
 * A stand-in for netifd's `network.interface` object: notify_proto with
 * netifd's own checks (action INT32; the interface must exist; action 0
 * needs a BOOL link-up and, when up, a STRING ifname). Calls are recorded.
 */
export function addMockNetifd(mock: MockUbusd, interfaces: string[]): NetifdCall[] {
  const calls: NetifdCall[] = [];
  mock.addBuiltinObject('network.interface', { notify_proto: { action: 'int32', interface: 'string' }, status: { interface: 'string' } }, (call) => {
    if (call.method !== 'notify_proto') return { status: UbusStatus.METHOD_NOT_FOUND };
    const name = scalarOf(call.typed, 'interface', 'string');
    if (typeof name !== 'string') return { status: UbusStatus.INVALID_ARGUMENT };
    if (!interfaces.includes(name)) return { status: UbusStatus.NOT_FOUND };
    const action = scalarOf(call.typed, 'action', 'int32');
    if (typeof action !== 'number') return { status: UbusStatus.INVALID_ARGUMENT };
    if (action === 0) {
      const up = scalarOf(call.typed, 'link-up', 'int8');
      if (up === undefined) return { status: UbusStatus.INVALID_ARGUMENT };
      if (up && scalarOf(call.typed, 'ifname', 'string') === undefined) return { status: UbusStatus.INVALID_ARGUMENT };
    }
    calls.push({ interface: name, action, typed: call.typed!, data: call.data! });
    return { status: UbusStatus.OK };
  });
  return calls;
}

/** UbusConnection over a Node unix socket, for tests. */
export class NodeUbusClient {
  readonly conn: UbusConnection;
  private socket: Socket | null = null;
  /** Raw bytes this client wrote, per message. */
  readonly written: Uint8Array[] = [];

  constructor(readonly path: string, clock: Clock, timeoutMs?: number) {
    const options = { clock, write: (b: Uint8Array) => this.write(b) };
    this.conn = new UbusConnection(timeoutMs === undefined ? options : { ...options, timeoutMs });
  }

  private write(bytes: Uint8Array): void {
    this.written.push(bytes);
    if (this.socket && !this.socket.destroyed) this.socket.write(bytes);
  }

  /** Connects and resolves with the client id from HELLO. */
  connect(): Promise<number> {
    return new Promise((resolve, reject) => {
      const socket = createConnection(this.path);
      this.socket = socket;
      this.conn.onConnect = (id) => resolve(id);
      socket.on('error', reject);
      socket.on('data', (chunk) => {
        if (!this.conn.feed(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length))) socket.destroy();
      });
      socket.on('close', () => {
        if (this.socket === socket) {
          this.socket = null;
          this.conn.connectionLost();
        }
      });
    });
  }

  /** Resolves once the socket has closed (e.g. after the mock ubusd stopped). */
  closed(): Promise<void> {
    const s = this.socket;
    if (!s) return Promise.resolve();
    return new Promise((resolve) => s.once('close', () => resolve()));
  }

  close(): void {
    const s = this.socket;
    this.socket = null;
    s?.destroy();
    this.conn.close();
  }
}

/** Parses the messages a client wrote. */
export function parseWritten(chunks: Uint8Array[]): UbusMessage[] {
  return chunks.map((c) => parseUbusMessage(c, 0, c.length)).filter((m): m is UbusMessage => m !== null);
}
