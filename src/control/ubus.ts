// A ubus client as a pure state machine (OPENWRT-FACTS.md §4.5): the runtime
// feeds it the bytes it reads from ubusd's socket and gives it a function
// that writes; timers come from the injected Clock. It looks objects up,
// invokes methods, hosts objects, sends events and notifications, and
// survives ubusd restarts: after connectionLost() and the next HELLO it
// registers its objects again (ids change) and sends the requests that were
// waiting.
import type { Clock, Logger, TimerHandle } from '../platform/platform.js';
import { silentLogger } from '../platform/platform.js';
import {
  blobmsgTypeNumber, decodeBlobmsgTable, encodeBlobmsgTable, typed,
  type BlobmsgTable, type BlobmsgTypeName,
} from './blobmsg.js';
import {
  encodeUbusMessage, parseUbusMessage, ubusFrameLength, UbusMsg, UbusStatus, ubusStatusText,
  UBUS_SYSTEM_OBJECT_EVENT, type UbusAttrs, type UbusMessage,
} from './ubusmsg.js';

/** `ubus call`'s default timeout. */
export const UBUS_DEFAULT_TIMEOUT_MS = 30_000;

export interface UbusReply {
  status: number;
  /** The first DATA reply, or null when there was none. */
  data: BlobmsgTable | null;
  /** Every DATA reply, in order (an object may send several). */
  allData: BlobmsgTable[];
}

/** Method name → argument name → blobmsg type number. */
export type UbusSignature = Record<string, Record<string, number>>;

export interface UbusObjectInfo {
  id: number;
  path: string;
  typeId: number;
  signature: UbusSignature | null;
}

export interface UbusLookupResult {
  status: number;
  objects: UbusObjectInfo[];
}

/** Method name → argument name → type, as `ubus -v list` shows it. */
export type UbusMethodSpec = Record<string, Record<string, BlobmsgTypeName>>;

export interface UbusRequest {
  object: UbusObjectHandle;
  method: string;
  data: BlobmsgTable;
  /** The caller's client id. */
  peer: number;
  user?: string;
  group?: string;
}

/** What a method handler returns: nothing (status 0), a status, or a reply table with an optional status. */
export type UbusMethodResult = void | number | { status?: number; data?: BlobmsgTable };
export type UbusHandler = (request: UbusRequest) => UbusMethodResult | Promise<UbusMethodResult>;

export interface UbusObjectHandle {
  /** null for anonymous objects (event listeners, subscribers). */
  readonly path: string | null;
  /** The id ubusd gave the object; 0 while it is not registered. Changes when ubusd restarts. */
  readonly id: number;
  /** Whether anybody is subscribed to this object's notifications. */
  readonly hasSubscribers: boolean;
  /** Status of the first registration (0 = registered). */
  readonly registered: Promise<number>;
  /** Unregisters the object for good. */
  remove(): Promise<number>;
  /** Sends a notification to the object's subscribers without waiting for replies; false when not registered. */
  notify(type: string, data?: BlobmsgTable): boolean;
}

export interface UbusConnectionOptions {
  /** Writes bytes to ubusd (the runtime queues what the socket cannot take yet). */
  write: (bytes: Uint8Array) => void;
  clock: Clock;
  logger?: Logger;
  /** Per request; default 30 s. */
  timeoutMs?: number;
}

interface PendingRequest {
  type: number;
  peer: number;
  attrs: UbusAttrs;
  seq: number;
  onData: ((msg: UbusMessage) => void) | null;
  finish: (status: number) => void;
  timer: TimerHandle | null;
}

class HostedObject implements UbusObjectHandle {
  id = 0;
  typeId = 0;
  hasSubscribers = false;
  removed = false;
  readonly registered: Promise<number>;
  private settle: ((status: number) => void) | null = null;

  constructor(
    private readonly conn: UbusConnection,
    readonly path: string | null,
    /** null: every method goes to the handler (event listeners, subscribers). */
    readonly methods: UbusMethodSpec | null,
    readonly handler: UbusHandler,
    /** Runs after each successful registration (listeners register their pattern again). */
    readonly afterRegister: ((obj: HostedObject) => void) | null,
    readonly onSubscribers: ((active: boolean) => void) | null,
  ) {
    this.registered = new Promise((resolve) => { this.settle = resolve; });
  }

  registrationDone(status: number): void {
    if (this.settle) {
      this.settle(status);
      this.settle = null;
    }
  }

  remove(): Promise<number> {
    return this.conn.removeObject(this);
  }

  notify(type: string, data: BlobmsgTable = {}): boolean {
    return this.conn.notifyObject(this, type, data);
  }
}

function signatureOf(methods: UbusMethodSpec): Uint8Array {
  const table: BlobmsgTable = {};
  for (const name of Object.keys(methods)) {
    const args: BlobmsgTable = {};
    const spec = methods[name]!;
    for (const arg of Object.keys(spec)) args[arg] = typed('int32', blobmsgTypeNumber(spec[arg]!));
    table[name] = args;
  }
  return encodeBlobmsgTable(table);
}

/** A SIGNATURE payload as method → argument → type number, or null when malformed. */
export function decodeSignature(bytes: Uint8Array): UbusSignature | null {
  const table = decodeBlobmsgTable(bytes);
  if (table === null) return null;
  const out: UbusSignature = {};
  for (const method of Object.keys(table)) {
    const args = table[method];
    if (typeof args !== 'object' || args === null || Array.isArray(args) || args instanceof Uint8Array) return null;
    const spec: Record<string, number> = {};
    for (const arg of Object.keys(args)) {
      const type = (args as BlobmsgTable)[arg];
      if (typeof type !== 'number') return null;
      spec[arg] = type;
    }
    out[method] = spec;
  }
  return out;
}

function isTable(v: unknown): v is BlobmsgTable {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

export class UbusConnection {
  /** Our client id from ubusd's HELLO; 0 while not connected. */
  clientId = 0;
  /** Called after each HELLO (first connection and every reconnection). */
  onConnect: ((clientId: number) => void) | null = null;

  private readonly write: (bytes: Uint8Array) => void;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly timeoutMs: number;
  private rx = new Uint8Array(4096);
  private rxLength = 0;
  private broken = false;
  private closed = false;
  private lastSeq = 0;
  /** Bumped on every connection loss, so late replies of async handlers go nowhere. */
  private generation = 0;
  private readonly waiting: PendingRequest[] = [];
  private readonly inflight = new Map<number, PendingRequest>();
  private readonly hosted = new Set<HostedObject>();
  private readonly hostedById = new Map<number, HostedObject>();

  constructor(options: UbusConnectionOptions) {
    this.write = options.write;
    this.clock = options.clock;
    this.logger = options.logger ?? silentLogger;
    this.timeoutMs = options.timeoutMs ?? UBUS_DEFAULT_TIMEOUT_MS;
  }

  /** True between a HELLO and the next connection loss. */
  get connected(): boolean {
    return this.clientId !== 0;
  }

  // ---------- bytes in ----------

  /**
   * Takes bytes read from the socket. Returns false when the stream is
   * corrupt (bad header); the runtime should then drop the connection and
   * call connectionLost().
   */
  feed(bytes: Uint8Array, off = 0, len = bytes.length - off): boolean {
    if (this.broken || this.closed) return false;
    if (this.rxLength + len > this.rx.length) {
      let size = this.rx.length * 2;
      while (size < this.rxLength + len) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.rx.subarray(0, this.rxLength));
      this.rx = grown;
    }
    this.rx.set(bytes.subarray(off, off + len), this.rxLength);
    this.rxLength += len;

    const messages: UbusMessage[] = [];
    let pos = 0;
    for (;;) {
      const n = ubusFrameLength(this.rx, pos, this.rxLength - pos);
      if (n < 0) {
        this.broken = true;
        this.logger.error('ubus: corrupt message header from ubusd');
        break;
      }
      if (n === 0 || this.rxLength - pos < n) break;
      const msg = parseUbusMessage(this.rx, pos, n);
      if (msg) messages.push(msg);
      else this.logger.error('ubus: ignoring a malformed message');
      pos += n;
    }
    this.rx.copyWithin(0, pos, this.rxLength);
    this.rxLength -= pos;
    // Shrink again after a large message.
    if (this.rx.length > 65536 && this.rxLength < 4096) this.rx = this.rx.slice(0, 4096);
    // Messages are copies, so handlers may re-enter feed() or write().
    for (const msg of messages) this.dispatch(msg);
    return !this.broken;
  }

  /** The socket is gone: fails the requests in flight and forgets object ids; objects return after the next HELLO. */
  connectionLost(): void {
    this.resetSession();
    this.rxLength = 0;
    this.broken = false;
  }

  /** Stops for good: every request fails with CONNECTION_FAILED, timers are cleared. */
  close(): void {
    this.closed = true;
    this.resetSession();
    for (const req of this.waiting.splice(0)) this.complete(req, UbusStatus.CONNECTION_FAILED);
    for (const obj of this.hosted) obj.registrationDone(UbusStatus.CONNECTION_FAILED);
    this.hosted.clear();
  }

  private resetSession(): void {
    this.generation++;
    this.clientId = 0;
    for (const req of [...this.inflight.values()]) this.complete(req, UbusStatus.CONNECTION_FAILED);
    this.hostedById.clear();
    for (const obj of this.hosted) {
      obj.id = 0;
      obj.typeId = 0;
      obj.hasSubscribers = false;
    }
  }

  private dispatch(msg: UbusMessage): void {
    switch (msg.type) {
      case UbusMsg.HELLO:
        return this.hello(msg);
      case UbusMsg.STATUS:
      case UbusMsg.DATA: {
        const req = this.inflight.get(msg.seq);
        if (!req || req.peer !== msg.peer) return;
        if (msg.type === UbusMsg.DATA) {
          req.onData?.(msg);
          return;
        }
        this.complete(req, msg.attrs.status ?? UbusStatus.INVALID_ARGUMENT);
        return;
      }
      case UbusMsg.INVOKE:
        return this.invoked(msg);
      case UbusMsg.NOTIFY: {
        const obj = msg.attrs.objid === undefined ? undefined : this.hostedById.get(msg.attrs.objid);
        if (obj && msg.attrs.active !== undefined) {
          obj.hasSubscribers = msg.attrs.active;
          obj.onSubscribers?.(msg.attrs.active);
        }
        return;
      }
      default:
        return;
    }
  }

  private hello(msg: UbusMessage): void {
    if (msg.peer === 0) {
      this.logger.error('ubus: HELLO without a client id');
      return;
    }
    if (this.connected) this.resetSession();
    this.clientId = msg.peer;
    for (const obj of this.hosted) this.register(obj);
    for (const req of this.waiting.splice(0)) this.send(req);
    this.onConnect?.(this.clientId);
  }

  // ---------- requests ----------

  private request(type: number, peer: number, attrs: UbusAttrs, onData: ((msg: UbusMessage) => void) | null, timeoutMs?: number): Promise<number> {
    return new Promise((resolve) => {
      const req: PendingRequest = { type, peer, attrs, seq: -1, onData, finish: resolve, timer: null };
      if (this.closed) {
        resolve(UbusStatus.CONNECTION_FAILED);
        return;
      }
      req.timer = this.clock.setTimer(() => {
        req.timer = null;
        this.complete(req, UbusStatus.TIMEOUT);
      }, timeoutMs ?? this.timeoutMs);
      if (this.connected) this.send(req);
      else this.waiting.push(req);
    });
  }

  private nextSeq(): number {
    for (;;) {
      this.lastSeq = (this.lastSeq + 1) & 0xffff;
      if (!this.inflight.has(this.lastSeq)) return this.lastSeq;
    }
  }

  private send(req: PendingRequest): void {
    req.seq = this.nextSeq();
    this.inflight.set(req.seq, req);
    this.write(encodeUbusMessage(req.type, req.seq, req.peer, req.attrs));
  }

  private complete(req: PendingRequest, status: number): void {
    if (req.timer !== null) {
      this.clock.clearTimer(req.timer);
      req.timer = null;
    }
    if (req.seq >= 0 && this.inflight.get(req.seq) === req) this.inflight.delete(req.seq);
    const i = this.waiting.indexOf(req);
    if (i >= 0) this.waiting.splice(i, 1);
    const finish = req.finish;
    req.finish = () => {};
    finish(status);
  }

  /** Looks objects up: an exact path, a prefix ending in `*`, or every object when path is omitted. */
  async lookup(path?: string, timeoutMs?: number): Promise<UbusLookupResult> {
    const objects: UbusObjectInfo[] = [];
    const attrs: UbusAttrs = path === undefined ? {} : { objpath: path };
    const status = await this.request(UbusMsg.LOOKUP, 0, attrs, (m) => {
      const a = m.attrs;
      if (a.objid === undefined || a.objpath === undefined || a.objtype === undefined) return;
      objects.push({ id: a.objid, path: a.objpath, typeId: a.objtype, signature: a.signature ? decodeSignature(a.signature) : null });
    }, timeoutMs);
    return { status, objects };
  }

  /** The id of the object at `path`; status NOT_FOUND when there is none. */
  async lookupId(path: string, timeoutMs?: number): Promise<{ status: number; id: number }> {
    const r = await this.lookup(path, timeoutMs);
    if (r.status !== UbusStatus.OK) return { status: r.status, id: 0 };
    const found = r.objects.find((o) => o.path === path);
    return found ? { status: UbusStatus.OK, id: found.id } : { status: UbusStatus.NOT_FOUND, id: 0 };
  }

  /**
   * Calls a method, like `ubus call`. A path is looked up first. Throws
   * (rejects) only when `data` holds something blobmsg cannot encode. A DATA
   * reply that does not decode turns a status 0 into PARSE_ERROR.
   */
  async invoke(target: number | string, method: string, data: BlobmsgTable = {}, timeoutMs?: number): Promise<UbusReply> {
    const payload = encodeBlobmsgTable(data);
    let id: number;
    if (typeof target === 'string') {
      const found = await this.lookupId(target, timeoutMs);
      if (found.status !== UbusStatus.OK) return { status: found.status, data: null, allData: [] };
      id = found.id;
    } else id = target >>> 0;
    const allData: BlobmsgTable[] = [];
    let malformed = false;
    let status = await this.request(UbusMsg.INVOKE, id, { objid: id, method, data: payload }, (m) => {
      if (!m.attrs.data) return;
      const table = decodeBlobmsgTable(m.attrs.data);
      if (table) allData.push(table);
      else malformed = true;
    }, timeoutMs);
    if (status === UbusStatus.OK && malformed) status = UbusStatus.PARSE_ERROR;
    return { status, data: allData[0] ?? null, allData };
  }

  /** Broadcasts an event, like `ubus send`. Names starting with "ubus." are refused by ubusd. */
  async sendEvent(id: string, data: BlobmsgTable = {}, timeoutMs?: number): Promise<number> {
    const r = await this.invoke(UBUS_SYSTEM_OBJECT_EVENT, 'send', { id, data }, timeoutMs);
    return r.status;
  }

  // ---------- hosting objects ----------

  /**
   * Hosts an object at `path` with these methods. Calls of a method not in
   * `methods` get status 3 (METHOD_NOT_FOUND), calls without DATA status 2,
   * a handler that throws status 9 (UNKNOWN_ERROR). The object is
   * registered now or at the next HELLO, and again after every reconnection.
   */
  addObject(path: string, methods: UbusMethodSpec, handler: UbusHandler, options?: { onSubscribers?: (active: boolean) => void }): UbusObjectHandle {
    return this.host(new HostedObject(this, path, methods, handler, null, options?.onSubscribers ?? null));
  }

  /** Receives events whose name matches `pattern` (exact, or a prefix ending in `*`), like `ubus listen`. */
  listen(pattern: string, handler: (event: string, data: BlobmsgTable) => void): UbusObjectHandle {
    return this.host(new HostedObject(this, null, null, (req) => { handler(req.method, req.data); }, (obj) => {
      void this.invoke(UBUS_SYSTEM_OBJECT_EVENT, 'register', { object: typed('int32', obj.id), pattern }).then((r) => {
        if (r.status !== UbusStatus.OK) this.logger.error(`ubus: listening for "${pattern}" failed: ${ubusStatusText(r.status)}`);
      });
    }, null));
  }

  /** Receives the notifications of the object at `target`, like `ubus subscribe`. */
  subscribe(target: string | number, handler: (type: string, data: BlobmsgTable) => void): UbusObjectHandle {
    return this.host(new HostedObject(this, null, null, (req) => { handler(req.method, req.data); }, (obj) => {
      void (async () => {
        const found = typeof target === 'number' ? { status: 0, id: target } : await this.lookupId(target);
        const status = found.status === UbusStatus.OK
          ? await this.request(UbusMsg.SUBSCRIBE, 0, { objid: obj.id, target: found.id }, null)
          : found.status;
        if (status !== UbusStatus.OK) this.logger.error(`ubus: subscribing to ${target} failed: ${ubusStatusText(status)}`);
      })();
    }, null));
  }

  private host(obj: HostedObject): UbusObjectHandle {
    if (this.closed) {
      obj.registrationDone(UbusStatus.CONNECTION_FAILED);
      return obj;
    }
    this.hosted.add(obj);
    if (this.connected) this.register(obj);
    return obj;
  }

  private register(obj: HostedObject): void {
    const attrs: UbusAttrs = {};
    if (obj.path !== null) {
      attrs.objpath = obj.path;
      attrs.signature = signatureOf(obj.methods ?? {});
    }
    const generation = this.generation;
    void this.request(UbusMsg.ADD_OBJECT, 0, attrs, (m) => {
      if (m.attrs.objid !== undefined) obj.id = m.attrs.objid;
      if (m.attrs.objtype !== undefined) obj.typeId = m.attrs.objtype;
    }).then((status) => {
      if (generation !== this.generation) return;
      if (status === UbusStatus.OK && obj.id === 0) status = UbusStatus.NO_DATA;
      if (status !== UbusStatus.OK) {
        this.logger.error(`ubus: registering ${obj.path ?? 'an anonymous object'} failed: ${ubusStatusText(status)}`);
        obj.id = 0;
        obj.registrationDone(status);
        return;
      }
      if (obj.removed) {
        void this.request(UbusMsg.REMOVE_OBJECT, 0, { objid: obj.id }, null);
        obj.id = 0;
        return;
      }
      this.hostedById.set(obj.id, obj);
      obj.registrationDone(status);
      obj.afterRegister?.(obj);
    });
  }

  /** @internal HostedObject.remove */
  async removeObject(obj: HostedObject): Promise<number> {
    if (obj.removed) return UbusStatus.NOT_FOUND;
    obj.removed = true;
    this.hosted.delete(obj);
    obj.registrationDone(UbusStatus.NOT_FOUND);
    if (obj.id === 0) return UbusStatus.OK;
    const id = obj.id;
    this.hostedById.delete(id);
    obj.id = 0;
    return this.request(UbusMsg.REMOVE_OBJECT, 0, { objid: id }, null);
  }

  /** @internal HostedObject.notify */
  notifyObject(obj: HostedObject, type: string, data: BlobmsgTable): boolean {
    if (obj.id === 0 || !this.connected) return false;
    // No reply wanted, so ubusd sends none and no request is kept.
    this.write(encodeUbusMessage(UbusMsg.NOTIFY, this.nextSeq(), obj.id, { objid: obj.id, method: type, noReply: true, data: encodeBlobmsgTable(data) }));
    return true;
  }

  private reply(msg: UbusMessage, objid: number, status: number, data: BlobmsgTable | null, generation: number): void {
    if (generation !== this.generation || this.closed) return;
    let payload: Uint8Array | null = null;
    if (data !== null) {
      try {
        payload = encodeBlobmsgTable(data);
      } catch (e) {
        this.logger.error(`ubus: reply of ${msg.attrs.method ?? '?'} cannot be encoded: ${e instanceof Error ? e.message : String(e)}`);
        status = UbusStatus.UNKNOWN_ERROR;
      }
    }
    if (payload !== null) this.write(encodeUbusMessage(UbusMsg.DATA, msg.seq, msg.peer, { objid, data: payload }));
    this.write(encodeUbusMessage(UbusMsg.STATUS, msg.seq, msg.peer, { status, objid }));
  }

  private invoked(msg: UbusMessage): void {
    const a = msg.attrs;
    if (a.objid === undefined) return;
    const generation = this.generation;
    const obj = this.hostedById.get(a.objid);
    if (!obj) return this.reply(msg, a.objid, UbusStatus.NOT_FOUND, null, generation);
    if (a.method === undefined) return this.reply(msg, a.objid, UbusStatus.INVALID_ARGUMENT, null, generation);
    const noReply = a.noReply === true;
    const answer = (status: number, data: BlobmsgTable | null) => {
      if (!noReply) this.reply(msg, obj.id, status, data, generation);
    };
    if (obj.methods !== null && !Object.prototype.hasOwnProperty.call(obj.methods, a.method)) return answer(UbusStatus.METHOD_NOT_FOUND, null);
    const data = a.data ? decodeBlobmsgTable(a.data) : null;
    if (data === null) return answer(UbusStatus.INVALID_ARGUMENT, null);
    const request: UbusRequest = { object: obj, method: a.method, data, peer: msg.peer };
    if (a.user !== undefined) request.user = a.user;
    if (a.group !== undefined) request.group = a.group;
    const failed = (e: unknown) => {
      this.logger.error(`ubus: ${obj.path ?? 'object'} ${a.method}: ${e instanceof Error ? e.message : String(e)}`);
      answer(UbusStatus.UNKNOWN_ERROR, null);
    };
    const settle = (result: UbusMethodResult) => {
      if (result === undefined) return answer(UbusStatus.OK, null);
      if (typeof result === 'number') return answer(result, null);
      if (!isTable(result)) return failed(new TypeError('handler returned neither a status nor { status, data }'));
      return answer(result.status ?? UbusStatus.OK, result.data ?? null);
    };
    let result: UbusMethodResult | Promise<UbusMethodResult>;
    try {
      result = obj.handler(request);
    } catch (e) {
      return failed(e);
    }
    if (result instanceof Promise) result.then(settle, failed);
    else settle(result);
  }
}
