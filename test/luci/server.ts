// The web server the LuCI tests point Chromium at, on 127.0.0.1: the real
// view files from openwrt/luci-app-wgts/htdocs under /luci-static/resources
// (and wgts/lib.js as build/luci.mjs makes it for the package),
// the harness (a stand-in for LuCI's own client code) under /harness, and a
// stand-in for uhttpd's /ubus/ JSON-RPC endpoint that answers from fixtures:
// `uci` get/add/set/delete on an in-memory /etc/config/network, and
// `wgts.<ifname>` `status`. Every call is checked against the package's
// rpcd ACL (object names matched as rpcd does, with fnmatch patterns) and
// recorded, so a test sees exactly what the page asked of the router.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error build/luci.mjs is plain JavaScript without types
import { buildLuciLib, LUCI_LIB_RESOURCE } from '../../build/luci.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const LUCI_APP = join(root, 'openwrt/luci-app-wgts');
const RESOURCES = join(LUCI_APP, 'htdocs/luci-static/resources');
const HARNESS = join(root, 'test/luci/harness');

/** A section as rpcd's `uci get` returns it. */
export type UciValues = Record<string, string | string[] | boolean | number>;
export type UciConfig = Record<string, UciValues>;

export interface RpcCall {
  object: string;
  method: string;
  args: Record<string, unknown>;
}

export interface FixtureServer {
  url: string;
  /** Every JSON-RPC call, in arrival order (denied ones too, with denied set). */
  calls: Array<RpcCall & { denied?: boolean }>;
  /** The current /etc/config/network, changed by uci add/set/delete. */
  network: UciConfig;
  /** What `wgts.<ifname>` `status` returns; absent = the object does not exist (daemon down). */
  status: Map<string, unknown>;
  close(): Promise<void>;
}

interface Acl {
  ubus: Array<[RegExp, RegExp]>;
  uciRead: Set<string>;
  uciWrite: Set<string>;
}

/** fnmatch(3) without FNM_* flags, for ACL object and method patterns. */
function globToRegExp(glob: string): RegExp {
  let re = '';
  for (const c of glob) re += c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${re}$`);
}

function readAcl(): Acl {
  const file = JSON.parse(readFileSync(join(LUCI_APP, 'root/usr/share/rpcd/acl.d/luci-app-wgts.json'), 'utf8')) as Record<string, {
    read?: { ubus?: Record<string, string[]>; uci?: string[] };
    write?: { ubus?: Record<string, string[]>; uci?: string[] };
  }>;
  const acl: Acl = { ubus: [], uciRead: new Set(), uciWrite: new Set() };
  for (const group of Object.values(file)) {
    for (const scope of [group.read, group.write]) {
      for (const [object, methods] of Object.entries(scope?.ubus ?? {})) {
        for (const m of methods) acl.ubus.push([globToRegExp(object), globToRegExp(m)]);
      }
    }
    for (const c of group.read?.uci ?? []) acl.uciRead.add(c);
    for (const c of group.write?.uci ?? []) {
      acl.uciWrite.add(c);
      acl.uciRead.add(c);
    }
  }
  return acl;
}

// luci-base's own ACL gives every logged-in user these `uci` methods; rpcd's
// uci plugin then checks the session's uci read/write grant for the config.
const UCI_METHODS = new Set(['get', 'add', 'set', 'delete', 'changes']);

const MIME: Record<string, string> = { '.js': 'application/javascript', '.html': 'text/html', '.css': 'text/css', '.json': 'application/json' };

function serveFile(base: string, rel: string): { type: string; body: Buffer } | null {
  const path = resolve(base, `.${sep}${rel}`);
  if (!path.startsWith(base + sep)) return null;
  try {
    return { type: MIME[extname(path)] ?? 'application/octet-stream', body: readFileSync(path) };
  } catch {
    return null;
  }
}

export async function startFixtureServer(opts: { network: UciConfig; status: Record<string, unknown> }): Promise<FixtureServer> {
  const acl = readAcl();
  const lib = Buffer.from((await buildLuciLib()) as string);
  const network: UciConfig = structuredClone(opts.network);
  const status = new Map(Object.entries(opts.status));
  const calls: FixtureServer['calls'] = [];
  let created = 0;

  function uciCall(method: string, args: Record<string, unknown>): [number, unknown?] {
    const config = String(args.config ?? '');
    const write = method !== 'get' && method !== 'changes';
    if (!(write ? acl.uciWrite : acl.uciRead).has(config)) return [6];
    if (config !== 'network') return [4];
    if (method === 'get') return [0, { values: structuredClone(network) }];
    if (method === 'changes') return [0, { changes: {} }];
    if (method === 'add') {
      const name = typeof args.name === 'string' ? args.name : `cfg0${(0xa000 + created++).toString(16)}`;
      const index = Object.keys(network).length;
      network[name] = { '.anonymous': typeof args.name !== 'string', '.type': String(args.type), '.name': name, '.index': index };
      Object.assign(network[name]!, args.values ?? {});
      return [0, { section: name }];
    }
    const section = network[String(args.section)];
    if (!section) return [4];
    if (method === 'set') {
      Object.assign(section, args.values ?? {});
      return [0];
    }
    if (method === 'delete') {
      const options = Array.isArray(args.options) ? args.options : typeof args.option === 'string' ? [args.option] : null;
      if (options === null) delete network[String(args.section)];
      else for (const o of options) delete section[String(o)];
      return [0];
    }
    return [3];
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method === 'POST' && url.pathname === '/ubus/') {
      let body = '';
      req.on('data', (c: Buffer) => { body += c.toString(); });
      req.on('end', () => {
        let reply: unknown;
        try {
          const msg = JSON.parse(body) as { id: number; method: string; params: [string, string, string, Record<string, unknown>] };
          const [, object, method, args] = msg.params;
          const call: FixtureServer['calls'][number] = { object, method, args: args ?? {} };
          calls.push(call);
          const allowed = object === 'uci' ? UCI_METHODS.has(method) : acl.ubus.some(([o, m]) => o.test(object) && m.test(method));
          if (msg.method !== 'call' || !allowed) {
            call.denied = true;
            reply = { jsonrpc: '2.0', id: msg.id, error: { code: -32002, message: 'Access denied' } };
          } else if (object === 'uci') {
            reply = { jsonrpc: '2.0', id: msg.id, result: uciCall(method, call.args) };
          } else {
            const ifname = object.startsWith('wgts.') ? object.slice(5) : '';
            const table = status.get(ifname);
            reply = table === undefined || method !== 'status'
              ? { jsonrpc: '2.0', id: msg.id, error: { code: -32000, message: 'Object not found' } }
              : { jsonrpc: '2.0', id: msg.id, result: [0, structuredClone(table)] };
          }
        } catch (e) {
          reply = { jsonrpc: '2.0', id: null, error: { code: -32700, message: `Parse error: ${(e as Error).message}` } };
        }
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(reply));
      });
      return;
    }
    let file: { type: string; body: Buffer } | null = null;
    if (url.pathname === `/${LUCI_LIB_RESOURCE}`) file = { type: MIME['.js']!, body: lib };
    else if (url.pathname.startsWith('/luci-static/resources/')) file = serveFile(RESOURCES, url.pathname.slice('/luci-static/resources/'.length));
    else if (url.pathname.startsWith('/harness/')) file = serveFile(HARNESS, url.pathname.slice('/harness/'.length));
    if (file === null) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found');
      return;
    }
    res.writeHead(200, { 'Content-Type': file.type, 'Cache-Control': 'no-store' });
    res.end(file.body);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    network,
    status,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}

/** The config as /etc/config/network text (for the daemon's own UCI reader). */
export function uciText(config: UciConfig): string {
  const quote = (v: string): string => `'${v.replace(/'/g, "'\\''")}'`;
  const sections = Object.values(config).sort((a, b) => Number(a['.index']) - Number(b['.index']));
  return sections.map((s) => {
    const head = s['.anonymous'] ? `config ${s['.type']}` : `config ${s['.type']} ${quote(String(s['.name']))}`;
    const lines = Object.entries(s).filter(([k]) => !k.startsWith('.')).map(([k, v]) =>
      Array.isArray(v) ? v.map((item) => `\tlist ${k} ${quote(item)}`).join('\n') : `\toption ${k} ${quote(String(v))}`);
    return [head, ...lines].join('\n');
  }).join('\n\n') + '\n';
}
