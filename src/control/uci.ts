// OpenWrt UCI: the /etc/config file syntax as libuci reads it, and the
// translation of a `proto 'wgts'` interface (the same options as the kernel
// `wireguard` proto, peers in `wireguard_<ifname>` sections) into the
// device's configuration, netifd's link update and host dependencies.
//
// Only committed configuration is read; uncommitted changes (`uci set`
// without `uci commit`) live elsewhere and are not applied, as with netifd.

import { keyFromBase64, toHex } from '../crypto/encoding.js';
import { equalConstantTime, isZero } from '../crypto/equal.js';
import type { Cidr } from '../routing/ip.js';
import { formatCidr, formatIp, parseCidr, parseIp } from '../routing/ip.js';
import type { DeviceChange, DeviceStatus, PeerChange } from './config.js';

// ---------------------------------------------------------------- parsing --

export interface UciOption {
  /** A string for `option`, an array for `list`. */
  value: string | string[];
  /** Line of the `option` statement, or of the list's first item. */
  line: number;
  /** One line per value: [line] for a string, one per item for a list. */
  itemLines: number[];
}

export interface UciSection {
  type: string;
  /** The section's name, or `@type[index]` for an anonymous one (as `uci show` prints it). */
  name: string;
  anonymous: boolean;
  /** Position among the sections of its type (named ones count too, as in `@type[index]`). */
  index: number;
  /** Line of the (first) `config` statement. */
  line: number;
  options: Map<string, UciOption>;
}

export interface UciParseError {
  line: number;
  message: string;
}

const TAB = 9;
const LF = 10;
const CR = 13;
const SPACE = 32;
const DOUBLE_QUOTE = 34;
const HASH = 35;
const SINGLE_QUOTE = 39;
const SEMICOLON = 59;
const BACKSLASH = 92;

/** C's isspace() in the C locale. */
function isSpace(c: number): boolean {
  return c === SPACE || (c >= TAB && c <= CR);
}

function isAlnumOrUnderscore(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

/** Section and option names: letters, digits and '_' (shell variable safe); package names may also use '-'. */
function isValidName(text: string, allowDash = false): boolean {
  if (text === '') return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (!isAlnumOrUnderscore(c) && !(allowDash && c === 45)) return false;
  }
  return true;
}

/** Section types: any printable ASCII except space. */
function isValidType(text: string): boolean {
  if (text === '') return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 33 || c > 126) return false;
  }
  return true;
}

class UciSyntaxError {
  constructor(readonly message: string) {}
}

/**
 * libuci parses a line buffer in place: unescaped text is written back over
 * the characters it came from, and a quote or trailing backslash pulls the
 * next line into the same buffer. This cursor does the same over an array
 * of char codes, so the corner cases (a ';' right after an unquoted word
 * ends the line, '#' inside an unquoted word starts a comment) come out as
 * uci has them. 0 ends a string, as in C.
 */
class LineBuffer {
  private readonly lines: string[];
  private nextLine = 0;
  buf: number[] = [];
  pos = 0;
  /** Number of the physical line read last (1-based). */
  line = 0;

  constructor(text: string) {
    // Physical lines, each keeping its '\n' as fgets does.
    this.lines = [];
    let start = 0;
    while (start < text.length) {
      const newline = text.indexOf('\n', start);
      const end = newline < 0 ? text.length : newline + 1;
      this.lines.push(text.slice(start, end));
      start = end;
    }
  }

  get atEnd(): boolean {
    return this.nextLine >= this.lines.length;
  }

  /** Replaces everything from `offset` on with the next physical line (nothing at the end of the text). */
  fetch(offset: number): void {
    this.buf.length = offset;
    if (this.nextLine >= this.lines.length) return;
    const text = this.lines[this.nextLine++]!;
    this.line++;
    for (let i = 0; i < text.length; i++) this.buf.push(text.charCodeAt(i));
  }

  at(i: number): number {
    return i < this.buf.length ? this.buf[i]! : 0;
  }

  cur(): number {
    return this.at(this.pos);
  }

  set(i: number, c: number): void {
    if (i < this.buf.length) this.buf[i] = c;
  }

  /** The 0-terminated string starting at `from`. */
  stringAt(from: number): string {
    let end = from;
    while (end < this.buf.length && this.buf[end] !== 0) end++;
    return this.text(from, end);
  }

  text(from: number, to: number): string {
    let out = '';
    // In chunks: spreading a huge array into one call could overflow the stack.
    for (let i = from; i < to; i += 4096) out += String.fromCharCode(...this.buf.slice(i, Math.min(to, i + 4096)));
    return out;
  }
}

interface OptionDraft {
  list: boolean;
  items: string[];
  line: number;
  itemLines: number[];
}

interface SectionDraft {
  type: string;
  /** null for an anonymous section. */
  name: string | null;
  line: number;
  options: Map<string, OptionDraft>;
}

class UciParser {
  readonly errors: UciParseError[] = [];
  readonly sections: SectionDraft[] = [];
  private readonly named = new Map<string, SectionDraft>();
  private section: SectionDraft | null = null;
  private readonly b: LineBuffer;

  constructor(text: string) {
    this.b = new LineBuffer(text);
  }

  run(): void {
    const b = this.b;
    while (!b.atEnd) {
      b.pos = 0;
      b.fetch(0);
      try {
        if (b.buf.indexOf(0) >= 0) throw new UciSyntaxError('NUL character in the line');
        if (b.buf.length > 0) this.parseLine();
      } catch (e) {
        if (!(e instanceof UciSyntaxError)) throw e;
        this.errors.push({ line: b.line, message: e.message });
      }
    }
  }

  private fail(message: string): never {
    throw new UciSyntaxError(message);
  }

  private skipWhitespace(): void {
    const b = this.b;
    while (b.cur() !== 0 && isSpace(b.cur())) b.pos++;
  }

  /** Commands separated by ';'; the command word ends at a space or tab (as strtok splits it). */
  private parseLine(): void {
    const b = this.b;
    this.skipWhitespace();
    for (;;) {
      let start = b.pos;
      while (b.at(start) === SPACE || b.at(start) === TAB) start++;
      if (b.at(start) === 0) return;
      let end = start;
      while (b.at(end) !== 0 && b.at(end) !== SPACE && b.at(end) !== TAB) end++;
      const word = b.text(start, end);
      b.set(end, 0);
      const line = b.line;
      if (word[0] === '#') return;
      const skipWord = (what: string): void => {
        // The argument starts after the character that ended the word; the word must not end the buffer.
        if (end + 1 > b.buf.length) this.fail(`${what} without name`);
        b.pos = end + 1;
      };
      if (word === 'p' || word === 'package') {
        skipWord('package');
        this.nextArg(true, 'package');
        this.assertEndOfCommand();
      } else if (word === 'c' || word === 'config') {
        skipWord('config');
        this.parseConfig(line);
      } else if (word === 'o' || word === 'option' || word === 'l' || word === 'list') {
        if (this.section === null) this.fail('option/list command found before the first section');
        skipWord('option');
        this.parseOption(word[0] === 'l', line);
      } else {
        const trimmed = word.replace(/\s+$/, '');
        // "config\n" is one word to uci: a command with nothing after it on the line.
        if (/^(p|package|c|config|o|option|l|list)$/.test(trimmed)) this.fail(`'${trimmed}' without arguments`);
        this.fail(`invalid command '${printable(trimmed)}'`);
      }
    }
  }

  private parseConfig(line: number): void {
    const type = this.nextArg(true, 'none');
    if (!isValidType(type)) this.fail(`invalid character in type field '${printable(type)}'`);
    const name = this.nextArg(false, 'name');
    this.assertEndOfCommand();
    if (name === '') {
      this.section = { type, name: null, line, options: new Map() };
      this.sections.push(this.section);
      return;
    }
    const existing = this.named.get(name);
    if (existing) {
      // A repeated name continues the same section: its options merge.
      if (existing.type !== type) this.fail(`section of different type overwrites prior section with same name '${name}'`);
      this.section = existing;
      return;
    }
    this.section = { type, name, line, options: new Map() };
    this.named.set(name, this.section);
    this.sections.push(this.section);
  }

  private parseOption(list: boolean, line: number): void {
    const name = this.nextArg(true, 'name');
    const value = this.nextArg(false, 'none');
    this.assertEndOfCommand();
    const options = this.section!.options;
    const existing = options.get(name);
    if (!list) {
      // An empty value sets nothing (uci_set of '' on an option it has not looked up).
      if (value === '') return;
      if (existing && !existing.list && existing.items[0] === value) return;
      options.delete(name);
      options.set(name, { list: false, items: [value], line, itemLines: [line] });
      return;
    }
    if (existing && existing.list) {
      existing.items.push(value);
      existing.itemLines.push(line);
      return;
    }
    // A list after an option keeps the option's value as its first item.
    options.delete(name);
    options.set(name, existing
      ? { list: true, items: [existing.items[0]!, value], line: existing.line, itemLines: [existing.line, line] }
      : { list: true, items: [value], line, itemLines: [line] });
  }

  /** Anything but a comment after the last argument is an error. */
  private assertEndOfCommand(): void {
    this.skipWhitespace();
    if (this.nextArg(false, 'none') !== '') this.fail('too many arguments');
  }

  /** The next argument, unquoted and unescaped; '' if there is none. */
  private nextArg(required: boolean, check: 'none' | 'name' | 'package'): string {
    const b = this.b;
    this.skipWhitespace();
    const start = b.pos;
    if (b.cur() === SEMICOLON) {
      b.set(b.pos, 0);
      b.pos++;
    } else {
      this.parseString(start);
    }
    const text = b.stringAt(start);
    if (text === '') {
      if (required) this.fail('insufficient arguments');
      return '';
    }
    if (check !== 'none' && !isValidName(text, check === 'package')) this.fail(`invalid character in name field '${printable(text)}'`);
    return text;
  }

  /** Quoted and unquoted parts until whitespace concatenate, like shell words. */
  private parseString(target: number): void {
    const b = this.b;
    const out = { at: target };
    let consumeTerminator = true;
    do {
      const c = b.cur();
      if (c === SINGLE_QUOTE) this.parseSingleQuoted(out);
      else if (c === DOUBLE_QUOTE) this.parseDoubleQuoted(out);
      else if (c === HASH) {
        b.set(b.pos, 0);
        break;
      } else if (c === 0) break;
      else if (c === SEMICOLON) {
        consumeTerminator = false;
        break;
      } else if (c === BACKSLASH) {
        if (!this.parseBackslash()) continue;
        this.copyChar(out);
      } else this.copyChar(out);
    } while (b.cur() !== 0 && !isSpace(b.cur()));
    if (b.cur() !== 0 && consumeTerminator) b.pos++;
    b.set(out.at, 0);
  }

  private copyChar(out: { at: number }): void {
    const b = this.b;
    b.set(out.at++, b.buf[b.pos++]!);
  }

  /** Skips a backslash. At the end of a line it joins the next line and returns false; otherwise the next character is taken literally. */
  private parseBackslash(): boolean {
    const b = this.b;
    b.pos++;
    const c = b.cur();
    if (c === 0 || c === LF || (c === CR && b.at(b.pos + 1) === LF && b.at(b.pos + 2) === 0)) {
      b.fetch(b.pos);
      return false;
    }
    return true;
  }

  /** Backslash escapes apply; a newline inside the quotes is part of the value. */
  private parseDoubleQuoted(out: { at: number }): void {
    const b = this.b;
    const opened = b.line;
    b.pos++;
    for (;;) {
      const c = b.cur();
      if (c === DOUBLE_QUOTE) {
        b.pos++;
        return;
      }
      if (c === 0) {
        b.fetch(b.pos);
        if (b.cur() === 0) this.fail(`EOF with unterminated " (opened on line ${opened})`);
        continue;
      }
      if (c === BACKSLASH && !this.parseBackslash()) continue;
      this.copyChar(out);
    }
  }

  /** No escapes at all between single quotes. */
  private parseSingleQuoted(out: { at: number }): void {
    const b = this.b;
    const opened = b.line;
    b.pos++;
    for (;;) {
      const c = b.cur();
      if (c === SINGLE_QUOTE) {
        b.pos++;
        return;
      }
      if (c === 0) {
        b.fetch(b.pos);
        if (b.cur() === 0) this.fail(`EOF with unterminated ' (opened on line ${opened})`);
        continue;
      }
      this.copyChar(out);
    }
  }
}

/**
 * Parses a UCI config file (e.g. /etc/config/network) as libuci does in its
 * default strict mode: any syntax error fails the whole file. Every error is
 * reported, each with its line.
 */
export function parseUci(text: string): { sections: UciSection[] } | { errors: UciParseError[] } {
  const parser = new UciParser(text);
  parser.run();
  if (parser.errors.length > 0) return { errors: parser.errors };
  const perType = new Map<string, number>();
  const sections = parser.sections.map((draft): UciSection => {
    const index = perType.get(draft.type) ?? 0;
    perType.set(draft.type, index + 1);
    const options = new Map<string, UciOption>();
    for (const [name, o] of draft.options) {
      options.set(name, { value: o.list ? o.items.slice() : o.items[0]!, line: o.line, itemLines: o.itemLines.slice() });
    }
    return {
      type: draft.type,
      name: draft.name ?? `@${draft.type}[${index}]`,
      anonymous: draft.name === null,
      index,
      line: draft.line,
      options,
    };
  });
  return { sections };
}

// ------------------------------------------------------------ translation --

/** An interface address: host bits are kept (10.0.0.1/24 is not 10.0.0.0/24). */
export interface InterfaceAddress {
  readonly address: Uint8Array;
  readonly bits: number;
}

export interface WgtsPeerConfig {
  publicKey: Uint8Array;
  presharedKey: Uint8Array | null;
  allowedIps: Cidr[];
  routeAllowedIps: boolean;
  /** A canonical numeric IP, or a host name still to resolve. */
  endpointHost: string | null;
  endpointPort: number;
  persistentKeepalive: number;
  description: string | null;
  /** The section as `uci show` names it: `peer_name` or `@wireguard_wg0[1]`. */
  section: string;
}

export interface WgtsInterfaceConfig {
  /** The UCI section name; also the network device's name, as with the kernel proto. */
  ifname: string;
  privateKey: Uint8Array;
  /** null = not set (a random port). */
  listenPort: number | null;
  addresses: InterfaceAddress[];
  /** null = not set (or 0, which LuCI allows and the kernel proto leaves alone). */
  mtu: number | null;
  /** null = not set. */
  fwmark: number | null;
  /** Delegated IPv6 prefixes, masked. */
  ip6prefix: Cidr[];
  nohostroute: boolean;
  tunlink: string | null;
  /** The interface's `metric`, given to the routes of route_allowed_ips. */
  metric: number | null;
  peers: WgtsPeerConfig[];
}

export interface UciError {
  /** e.g. `network.wg0.private_key` or `network.@wireguard_wg0[1].allowed_ips`. */
  option: string;
  /** 0 when the problem has no line (a missing section). */
  line: number;
  message: string;
}

export type WgtsTranslation =
  | { config: WgtsInterfaceConfig; warnings: UciError[] }
  | { errors: UciError[]; warnings: UciError[] };

/** The UCI package the interfaces live in. */
const PACKAGE = 'network';
export const DEFAULT_ENDPOINT_PORT = 51820;
/** IPv4's minimum datagram size every host must take. */
export const MTU_MIN = 576;
/** Linux drops IPv6 from an interface whose MTU is below this. */
export const MTU_MIN_IPV6 = 1280;
/** LuCI's upper bound (a 9000-byte jumbo frame less 60 bytes of outer headers). */
export const MTU_MAX = 8940;
/** Linux interface names are at most 15 characters (IFNAMSIZ 16 with the NUL). */
const IFNAME_MAX = 15;

const TRUE_WORDS = new Set(['1', 'on', 'true', 'yes', 'enabled']);
const FALSE_WORDS = new Set(['0', 'off', 'false', 'no', 'disabled']);

/** Printable, bounded quoting of a user value for a message (never used for keys). */
function printable(text: string): string {
  // A key pasted into the wrong option must not reach the log: long base64 runs are hidden.
  const hidden = text.replace(/[A-Za-z0-9+/]{40,}=*/g, '<hidden>');
  const clipped = hidden.length > 64 ? `${hidden.slice(0, 64)}...` : hidden;
  return clipped.replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Reads the options of one section, collecting errors with their option paths. */
class SectionReader {
  constructor(
    private readonly section: UciSection,
    private readonly errors: UciError[],
  ) {}

  path(option: string): string {
    return `${PACKAGE}.${this.section.name}.${option}`;
  }

  error(option: string, message: string, line?: number): void {
    const o = this.section.options.get(option);
    this.errors.push({ option: this.path(option), line: line ?? o?.line ?? this.section.line, message });
  }

  has(option: string): boolean {
    return this.section.options.has(option);
  }

  /** A single value; a list is an error (undefined then, as for an absent option). */
  single(option: string): string | undefined {
    const o = this.section.options.get(option);
    if (!o) return undefined;
    if (Array.isArray(o.value)) {
      this.error(option, "must be a single value ('option'), not a list");
      return undefined;
    }
    return o.value;
  }

  /** Every item of a list or of a string, split at whitespace (and commas, if allowed), each with its line. */
  items(option: string, commas: boolean): { text: string; line: number }[] {
    const o = this.section.options.get(option);
    if (!o) return [];
    const values = Array.isArray(o.value) ? o.value : [o.value];
    const out: { text: string; line: number }[] = [];
    values.forEach((value, i) => {
      for (const text of value.split(commas ? /[\s,]+/ : /\s+/)) {
        if (text !== '') out.push({ text, line: o.itemLines[i] ?? o.line });
      }
    });
    return out;
  }

  bool(option: string, fallback: boolean): boolean {
    const value = this.single(option);
    if (value === undefined) return fallback;
    if (TRUE_WORDS.has(value)) return true;
    if (FALSE_WORDS.has(value)) return false;
    this.error(option, `'${printable(value)}' is not a boolean (use 1/0, yes/no, on/off, true/false or enabled/disabled)`);
    return fallback;
  }

  /** Decimal (leading zeros allowed) in [min, max]; `off` if allowed means 0. */
  integer(option: string, min: number, max: number, what: string, allowOff = false): number | null {
    const value = this.single(option);
    if (value === undefined) return null;
    if (allowOff && value === 'off') return 0;
    const n = /^[0-9]{1,10}$/.test(value) ? Number(value) : NaN;
    if (!(n >= min && n <= max)) {
      this.error(option, `'${printable(value)}' is not ${what} (${min}..${max}${allowOff ? " or 'off'" : ''})`);
      return null;
    }
    return n;
  }

  /** A base64 32-byte key. The message never shows the value. */
  key(option: string, what: string): Uint8Array | null {
    const value = this.single(option);
    if (value === undefined) return null;
    const key = keyFromBase64(value);
    if (key === null) this.error(option, `is not a valid ${what}: expected 32 bytes in base64 (44 characters ending in '=')`);
    return key;
  }
}

function parseInterfaceAddress(text: string): InterfaceAddress | null {
  const slash = text.indexOf('/');
  const address = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (address === null) return null;
  const max = address.length * 8;
  if (slash < 0) return { address, bits: max };
  const bitsText = text.slice(slash + 1);
  const bits = /^[0-9]{1,3}$/.test(bitsText) ? Number(bitsText) : -1;
  return bits >= 0 && bits <= max ? { address, bits } : null;
}

/** u32 as `wg` takes a fwmark: decimal, 0x hex, or `off`. */
function parseFwmark(text: string): number | null {
  if (text === 'off') return 0;
  let n = NaN;
  if (/^0[xX][0-9a-fA-F]{1,8}$/.test(text)) n = parseInt(text.slice(2), 16);
  else if (/^[0-9]{1,10}$/.test(text)) n = Number(text);
  return n >= 0 && n <= 0xffffffff ? n : null;
}

/** Letters, digits, '-' and '_' in dot-separated labels of up to 63, 253 in all; one trailing dot allowed. */
function isHostName(text: string): boolean {
  const name = text.endsWith('.') ? text.slice(0, -1) : text;
  if (name === '' || name.length > 253) return false;
  return name.split('.').every((label) => label.length > 0 && label.length <= 63 && /^[A-Za-z0-9_-]+$/.test(label));
}

/** A canonical numeric IP for an IP literal (IPv6 with or without brackets), the name itself for a host name, or null. */
function parseEndpointHost(text: string): string | null {
  const bracketed = text.startsWith('[') && text.endsWith(']');
  const address = parseIp(bracketed ? text.slice(1, -1) : text);
  if (address !== null) return bracketed && address.length !== 16 ? null : formatIp(address);
  return !bracketed && isHostName(text) ? text : null;
}

function translateInterfaceSection(r: SectionReader, ifname: string, errors: UciError[]): Omit<WgtsInterfaceConfig, 'peers'> | null {
  const before = errors.length;
  const proto = r.single('proto');
  if (proto !== 'wgts') {
    r.error('proto', proto === undefined ? "is not set; this daemon serves proto 'wgts'" : `is '${printable(proto)}'; this daemon serves proto 'wgts'`);
  }
  if (ifname.length > IFNAME_MAX) {
    errors.push({ option: `${PACKAGE}.${ifname}`, line: 0, message: `interface name is ${ifname.length} characters; Linux allows at most ${IFNAME_MAX}` });
  }

  let privateKey: Uint8Array | null = null;
  const privateText = r.single('private_key');
  if (privateText === undefined || privateText === 'generate') {
    // The kernel proto's newer versions generate and commit a key here; wgts does not write the config.
    const what = privateText === undefined ? 'is not set' : "is 'generate'";
    r.error('private_key', `${what}: wgts does not generate keys; run 'wg genkey' and set ${r.path('private_key')} to its output`);
  } else {
    privateKey = r.key('private_key', 'private key');
  }

  const listenPort = r.integer('listen_port', 0, 65535, 'a UDP port');

  const addresses: InterfaceAddress[] = [];
  for (const item of r.items('addresses', true)) {
    const address = parseInterfaceAddress(item.text);
    if (address) addresses.push(address);
    else r.error('addresses', `'${printable(item.text)}' is not an IPv4 or IPv6 address with an optional /prefix length`, item.line);
  }

  const ip6prefix: Cidr[] = [];
  for (const item of r.items('ip6prefix', false)) {
    const slash = item.text.indexOf('/');
    const prefix = slash > 0 ? parseCidr(item.text) : null;
    // netifd takes delegated prefixes of length 1..64 only.
    if (prefix && prefix.address.length === 16 && prefix.bits >= 1 && prefix.bits <= 64) ip6prefix.push(prefix);
    else r.error('ip6prefix', `'${printable(item.text)}' is not an IPv6 prefix with a length of 1..64 (e.g. 2001:db8:1::/48)`, item.line);
  }

  const usesIpv6 = ip6prefix.length > 0 || addresses.some((a) => a.address.length === 16);
  const mtuMin = usesIpv6 ? MTU_MIN_IPV6 : MTU_MIN;
  let mtu = r.integer('mtu', 0, MTU_MAX, 'an MTU');
  if (mtu === 0) mtu = null;
  else if (mtu !== null && mtu < mtuMin) {
    r.error('mtu', `${mtu} is too small: at least ${mtuMin}${usesIpv6 ? ' when the interface has IPv6 addresses or prefixes' : ''}`);
    mtu = null;
  }

  let fwmark: number | null = null;
  const fwmarkText = r.single('fwmark');
  if (fwmarkText !== undefined) {
    fwmark = parseFwmark(fwmarkText);
    if (fwmark === null) r.error('fwmark', `'${printable(fwmarkText)}' is not a firewall mark (decimal or 0x hex, at most 0xffffffff, or 'off')`);
  }

  const nohostroute = r.bool('nohostroute', false);
  let tunlink: string | null = null;
  const tunlinkText = r.single('tunlink');
  if (tunlinkText !== undefined) {
    if (isValidName(tunlinkText)) tunlink = tunlinkText;
    else r.error('tunlink', `'${printable(tunlinkText)}' is not an interface name (letters, digits and '_')`);
  }
  const metric = r.integer('metric', 0, 0x7fffffff, 'a route metric');

  if (errors.length > before || privateKey === null) return null;
  return { ifname, privateKey, listenPort, addresses, mtu, fwmark, ip6prefix, nohostroute, tunlink, metric };
}

function translatePeerSection(r: SectionReader, section: UciSection, warnings: UciError[], errors: UciError[]): WgtsPeerConfig | null {
  // A disabled peer is not read any further, so a half-edited one does not block the interface.
  const beforeDisabled = errors.length;
  if (r.bool('disabled', false) || errors.length > beforeDisabled) return null;
  if (!r.has('public_key')) {
    warnings.push({ option: r.path('public_key'), line: section.line, message: 'is not set; this peer is skipped (as the kernel proto does)' });
    return null;
  }

  const before = errors.length;
  const publicKey = r.key('public_key', 'public key');
  const presharedKey = r.key('preshared_key', 'preshared key');

  const allowedIps: Cidr[] = [];
  for (const item of r.items('allowed_ips', true)) {
    const cidr = parseCidr(item.text);
    if (cidr) allowedIps.push(cidr);
    else r.error('allowed_ips', `'${printable(item.text)}' is not an IPv4 or IPv6 address with an optional /prefix length`, item.line);
  }
  const routeAllowedIps = r.bool('route_allowed_ips', false);

  let endpointHost: string | null = null;
  const hostText = r.single('endpoint_host');
  if (hostText !== undefined) {
    endpointHost = parseEndpointHost(hostText);
    if (endpointHost === null) r.error('endpoint_host', `'${printable(hostText)}' is neither an IP address nor a host name`);
  }
  const endpointPort = r.integer('endpoint_port', 1, 65535, 'a UDP port') ?? DEFAULT_ENDPOINT_PORT;
  const persistentKeepalive = r.integer('persistent_keepalive', 0, 65535, 'a keepalive interval in seconds', true) ?? 0;
  const description = r.single('description') ?? null;

  if (errors.length > before || publicKey === null) return null;
  return {
    publicKey,
    presharedKey,
    allowedIps,
    routeAllowedIps,
    endpointHost,
    endpointPort,
    persistentKeepalive,
    description,
    section: section.name,
  };
}

/**
 * Reads interface `ifname` (`config interface '<ifname>'` with `proto 'wgts'`)
 * and its peers (`config wireguard_<ifname>` sections, in file order).
 * Any error means no config at all: the interface must not come up half
 * configured. Messages name the option and never show a key.
 */
export function translateWgtsInterface(sections: readonly UciSection[], ifname: string): WgtsTranslation {
  const errors: UciError[] = [];
  const warnings: UciError[] = [];
  const iface = sections.find((s) => !s.anonymous && s.name === ifname);
  if (!iface || iface.type !== 'interface') {
    errors.push({
      option: `${PACKAGE}.${ifname}`,
      line: iface?.line ?? 0,
      message: iface ? `is a '${printable(iface.type)}' section, not 'interface'` : `there is no "config interface '${ifname}'" section`,
    });
    return { errors, warnings };
  }
  const base = translateInterfaceSection(new SectionReader(iface, errors), ifname, errors);

  const peers: WgtsPeerConfig[] = [];
  const peerType = `wireguard_${ifname}`;
  const seen = new Map<string, { section: string; line: number }>();
  for (const section of sections) {
    if (section.type !== peerType) continue;
    const r = new SectionReader(section, errors);
    const peer = translatePeerSection(r, section, warnings, errors);
    if (!peer) continue;
    const id = toHex(peer.publicKey);
    const first = seen.get(id);
    if (first) {
      r.error('public_key', `is the same key as the peer in ${PACKAGE}.${first.section} (line ${first.line}); each peer needs its own key`);
      continue;
    }
    seen.set(id, { section: section.name, line: section.options.get('public_key')!.line });
    peers.push(peer);
  }

  if (errors.length > 0 || base === null) return { errors: errors.sort((a, b) => a.line - b.line), warnings };
  return { config: { ...base, peers }, warnings };
}

// ---------------------------------------------------- applying the config --

/** The peer's endpoint as a numeric address, if it is an IP literal or was resolved. */
function endpointOf(peer: WgtsPeerConfig, resolved: ReadonlyMap<string, string>): { address: string; port: number } | null {
  if (peer.endpointHost === null) return null;
  const literal = parseIp(peer.endpointHost);
  const address = literal ?? parseIp(resolved.get(peer.endpointHost) ?? '');
  return address ? { address: formatIp(address), port: peer.endpointPort } : null;
}

/** Endpoint host names (not IP literals) that must be resolved before `toDeviceChange`. */
export function hostsToResolve(config: WgtsInterfaceConfig): string[] {
  const names = new Set<string>();
  for (const peer of config.peers) if (peer.endpointHost !== null && parseIp(peer.endpointHost) === null) names.add(peer.endpointHost);
  return [...names];
}

/**
 * The whole configuration as `wg setconf` would set it: every peer replaced,
 * each with exactly its allowed IPs. A host name missing from `resolved`
 * leaves that peer without an endpoint: it can still connect when the peer
 * initiates, and the caller may resolve again later.
 */
export function toDeviceChange(config: WgtsInterfaceConfig, resolved: ReadonlyMap<string, string>): DeviceChange {
  const peers = config.peers.map((peer): PeerChange => {
    const change: PeerChange = {
      publicKey: peer.publicKey,
      remove: false,
      updateOnly: false,
      presharedKey: peer.presharedKey,
      persistentKeepalive: peer.persistentKeepalive,
      replaceAllowedIps: true,
      allowedIps: peer.allowedIps.map((cidr) => ({ cidr, remove: false })),
    };
    const endpoint = endpointOf(peer, resolved);
    if (endpoint) change.endpoint = endpoint;
    return change;
  });
  return {
    privateKey: config.privateKey,
    listenPort: config.listenPort ?? 0,
    fwmark: config.fwmark ?? 0,
    replacePeers: true,
    peers,
  };
}

interface PeerState {
  publicKey: Uint8Array;
  presharedKey: Uint8Array | null;
  endpoint: { address: string; port: number } | null;
  persistentKeepalive: number;
}

/** Peers and who holds each allowed IP: what the device would report, as plain data. */
class DeviceState {
  /** By public key (hex), in the order the device lists them. */
  readonly peers = new Map<string, PeerState>();
  /** Allowed IP (canonical text) → owner key (hex). */
  private readonly owners = new Map<string, string>();
  private readonly owned = new Map<string, Set<string>>();
  /** Canonical text → prefix, for every allowed IP seen. */
  readonly prefixes = new Map<string, Cidr>();

  static of(status: DeviceStatus): DeviceState {
    const state = new DeviceState();
    for (const p of status.peers) {
      const key = toHex(p.publicKey);
      state.peers.set(key, {
        publicKey: p.publicKey,
        presharedKey: p.presharedKey && !isZero(p.presharedKey) ? p.presharedKey : null,
        endpoint: p.endpoint,
        persistentKeepalive: p.persistentKeepalive,
      });
      for (const cidr of p.allowedIps) state.claim(cidr, key);
    }
    return state;
  }

  copy(withPeers: boolean): DeviceState {
    const state = new DeviceState();
    for (const [text, cidr] of this.prefixes) state.prefixes.set(text, cidr);
    if (!withPeers) return state;
    for (const [key, peer] of this.peers) state.peers.set(key, peer);
    for (const [text, owner] of this.owners) state.claim(this.prefixes.get(text)!, owner);
    return state;
  }

  claim(cidr: Cidr, key: string): void {
    const text = formatCidr(cidr);
    this.prefixes.set(text, cidr);
    const old = this.owners.get(text);
    if (old !== undefined) this.owned.get(old)!.delete(text);
    this.owners.set(text, key);
    let set = this.owned.get(key);
    if (!set) this.owned.set(key, (set = new Set()));
    set.add(text);
  }

  release(cidr: Cidr, key: string): void {
    const text = formatCidr(cidr);
    if (this.owners.get(text) !== key) return;
    this.owners.delete(text);
    this.owned.get(key)!.delete(text);
  }

  releaseAll(key: string): void {
    const set = this.owned.get(key);
    if (!set) return;
    for (const text of set) this.owners.delete(text);
    set.clear();
  }

  /** The allowed IPs `key` holds, sorted canonical text. */
  allowedOf(key: string): string[] {
    return [...(this.owned.get(key) ?? [])].sort();
  }

  /** What a device in this state holds after `change`, by the rules of Device.applyChange (endpoints are never cleared). */
  after(change: DeviceChange): DeviceState {
    const state = this.copy(!change.replacePeers);
    for (const pc of change.peers) {
      const key = toHex(pc.publicKey);
      const existing = state.peers.get(key);
      if (pc.remove) {
        if (existing) {
          state.peers.delete(key);
          state.releaseAll(key);
        }
        continue;
      }
      if (!existing && pc.updateOnly) continue;
      const peer: PeerState = existing
        ? { ...existing }
        : { publicKey: pc.publicKey, presharedKey: null, endpoint: null, persistentKeepalive: 0 };
      state.peers.set(key, peer);
      if (pc.presharedKey !== undefined) peer.presharedKey = pc.presharedKey && !isZero(pc.presharedKey) ? pc.presharedKey : null;
      if (pc.endpoint) peer.endpoint = { address: pc.endpoint.address, port: pc.endpoint.port };
      if (pc.persistentKeepalive !== undefined) peer.persistentKeepalive = pc.persistentKeepalive;
      if (pc.replaceAllowedIps) state.releaseAll(key);
      for (const a of pc.allowedIps) {
        if (a.remove) state.release(a.cidr, key);
        else state.claim(a.cidr, key);
      }
    }
    return state;
  }
}

function sameKey(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  return equalConstantTime(a, b);
}

function sameEndpoint(a: { address: string; port: number } | null, b: { address: string; port: number } | null): boolean {
  if (a === null || b === null) return a === b;
  return a.address === b.address && a.port === b.port;
}

/**
 * The live-reload change, like `wg syncconf`: applied to a device whose
 * status is `running`, it gives the configuration `next` describes, while
 * touching only peers that were removed, added or changed. Unchanged peers
 * are not mentioned, so their sessions stay up. The private key, port and
 * fwmark are set only if they differ; a `next` port of 0 (random) keeps the
 * port already bound.
 *
 * Endpoints are never cleared (as with syncconf): a peer that `next` gives
 * no endpoint keeps the one it has. Pass the change applied last as
 * `previous` to also keep endpoints that peers roamed to: a configured
 * endpoint that did not change between `previous` and `next` is then not
 * set again.
 */
export function diffForReload(running: DeviceStatus, next: DeviceChange, previous?: DeviceChange): DeviceChange {
  const now = DeviceState.of(running);
  const target = now.after(next);
  const configuredBefore = previous ? new DeviceState().after(previous) : null;
  const diff: DeviceChange = { replacePeers: false, peers: [] };

  if (next.privateKey !== undefined) {
    const wanted = next.privateKey && !isZero(next.privateKey) ? next.privateKey : null;
    if (!sameKey(running.privateKey, wanted)) diff.privateKey = next.privateKey;
  }
  if (next.listenPort !== undefined && next.listenPort !== 0 && next.listenPort !== running.listenPort) diff.listenPort = next.listenPort;
  if (next.fwmark !== undefined && next.fwmark !== running.fwmark) diff.fwmark = next.fwmark;

  for (const [key, peer] of now.peers) {
    if (!target.peers.has(key)) {
      diff.peers.push({ publicKey: peer.publicKey, remove: true, updateOnly: false, replaceAllowedIps: false, allowedIps: [] });
    }
  }
  for (const [key, wanted] of target.peers) {
    const current = now.peers.get(key);
    const allowed = target.allowedOf(key);
    let endpoint = wanted.endpoint;
    if (current && endpoint && !sameEndpoint(current.endpoint, endpoint)) {
      // The running endpoint differs although the configured one did not change: the peer roamed there.
      const before = configuredBefore?.peers.get(key);
      if (before && sameEndpoint(before.endpoint, endpoint)) endpoint = null;
    }
    const changed = !current
      || !sameKey(current.presharedKey, wanted.presharedKey)
      || current.persistentKeepalive !== wanted.persistentKeepalive
      || (endpoint !== null && !sameEndpoint(current.endpoint, endpoint))
      || allowed.join(' ') !== now.allowedOf(key).join(' ');
    if (!changed) continue;
    const change: PeerChange = {
      publicKey: wanted.publicKey,
      remove: false,
      updateOnly: false,
      presharedKey: wanted.presharedKey,
      persistentKeepalive: wanted.persistentKeepalive,
      replaceAllowedIps: true,
      allowedIps: allowed.map((text) => ({ cidr: target.prefixes.get(text)!, remove: false })),
    };
    if (endpoint !== null && !sameEndpoint(current?.endpoint ?? null, endpoint)) change.endpoint = endpoint;
    diff.peers.push(change);
  }
  return diff;
}

// ---------------------------------------------------------------- netifd --

export interface NetifdAddress {
  ipaddr: string;
  /** Prefix length as a string: netifd's blobmsg policy wants a string. */
  mask: string;
}

export interface NetifdRoute {
  target: string;
  netmask: string;
  metric?: number;
}

/** ubus `network.interface notify_proto`, action 0 (what proto_send_update sends). */
export interface NetifdLinkUpdate {
  action: 0;
  interface: string;
  'link-up': true;
  ifname: string;
  keep: false;
  ipaddr?: NetifdAddress[];
  ip6addr?: NetifdAddress[];
  routes?: NetifdRoute[];
  routes6?: NetifdRoute[];
  ip6prefix?: string[];
}

/** ubus `network.interface notify_proto`, action 6 (what proto_add_host_dependency sends). */
export interface NetifdHostDependency {
  action: 6;
  interface: string;
  /** A numeric IP: netifd refuses host names here. */
  host: string;
  /** The logical interface (tunlink) the route to the host must use. */
  ifname?: string;
}

/**
 * The link-up update for netifd: the interface's addresses and prefixes,
 * and a route for each allowed IP of the peers with route_allowed_ips
 * (with the interface's metric, if set). Empty arrays are left out, as the
 * shell helpers do. `device` is the network device's name (default: the
 * interface's).
 */
export function netifdUpdate(config: WgtsInterfaceConfig, device: string = config.ifname): NetifdLinkUpdate {
  const update: NetifdLinkUpdate = { action: 0, interface: config.ifname, 'link-up': true, ifname: device, keep: false };
  const v4: NetifdAddress[] = [];
  const v6: NetifdAddress[] = [];
  for (const a of config.addresses) (a.address.length === 4 ? v4 : v6).push({ ipaddr: formatIp(a.address), mask: String(a.bits) });

  const routes: NetifdRoute[] = [];
  const routes6: NetifdRoute[] = [];
  const seen = new Set<string>();
  for (const peer of config.peers) {
    if (!peer.routeAllowedIps) continue;
    for (const cidr of peer.allowedIps) {
      const text = formatCidr(cidr);
      if (seen.has(text)) continue;
      seen.add(text);
      const route: NetifdRoute = { target: formatIp(cidr.address), netmask: String(cidr.bits) };
      if (config.metric !== null && config.metric > 0) route.metric = config.metric;
      (cidr.address.length === 4 ? routes : routes6).push(route);
    }
  }
  if (v4.length > 0) update.ipaddr = v4;
  if (v6.length > 0) update.ip6addr = v6;
  if (routes.length > 0) update.routes = routes;
  if (routes6.length > 0) update.routes6 = routes6;
  if (config.ip6prefix.length > 0) update.ip6prefix = config.ip6prefix.map(formatCidr);
  return update;
}

/**
 * One host dependency per distinct endpoint address (IP literals, and host
 * names found in `resolved`), so netifd keeps a route to each endpoint
 * outside the tunnel (through `tunlink` if set). None with nohostroute.
 */
export function hostDependencies(config: WgtsInterfaceConfig, resolved: ReadonlyMap<string, string> = new Map()): NetifdHostDependency[] {
  if (config.nohostroute) return [];
  const out: NetifdHostDependency[] = [];
  const seen = new Set<string>();
  for (const peer of config.peers) {
    const endpoint = endpointOf(peer, resolved);
    if (!endpoint || seen.has(endpoint.address)) continue;
    seen.add(endpoint.address);
    const dep: NetifdHostDependency = { action: 6, interface: config.ifname, host: endpoint.address };
    if (config.tunlink !== null) dep.ifname = config.tunlink;
    out.push(dep);
  }
  return out;
}
