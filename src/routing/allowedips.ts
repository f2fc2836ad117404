// Cryptokey routing table: longest-prefix match from an IP address to the peer
// that owns it. One path-compressed binary trie per family, modelled on the
// kernel's allowedips.c. Keys are kept as four signed 32-bit words (w0 is the
// most significant; IPv4 uses w0 only) so lookups compare whole words and
// never allocate.
//
// Invariants: every node without a value has exactly two children; a node's
// words are zero past its `bits`; a child's `bits` is greater than its parent's.
//
// Memory (measured on Node 20 with 50,000 prefixes, 40% IPv4 and 60% IPv6, 5
// per peer): about 290 bytes per prefix, counting branch nodes and the
// per-peer index.

import type { Cidr, Family } from './ip.js';

class TrieNode<T> {
  value: T | undefined;
  left: TrieNode<T> | null = null;
  right: TrieNode<T> | null = null;
  parent: TrieNode<T> | null = null;

  constructor(
    readonly family: Family,
    readonly w0: number,
    readonly w1: number,
    readonly w2: number,
    readonly w3: number,
    readonly bits: number,
    value: T | undefined,
  ) {
    this.value = value;
  }
}

function wordMask(bits: number): number {
  return bits <= 0 ? 0 : bits >= 32 ? -1 : -1 << (32 - bits);
}

/** Number of leading bits the node's key shares with (a0..a3), 0..128. */
function commonBits(node: TrieNode<unknown>, a0: number, a1: number, a2: number, a3: number): number {
  let x = node.w0 ^ a0;
  if (x !== 0) return Math.clz32(x);
  x = node.w1 ^ a1;
  if (x !== 0) return 32 + Math.clz32(x);
  x = node.w2 ^ a2;
  if (x !== 0) return 64 + Math.clz32(x);
  x = node.w3 ^ a3;
  if (x !== 0) return 96 + Math.clz32(x);
  return 128;
}

/** Bit number `index` (0 = most significant of w0) of the key. */
function keyBit(index: number, a0: number, a1: number, a2: number, a3: number): number {
  const word = index >>> 5;
  const w = word === 0 ? a0 : word === 1 ? a1 : word === 2 ? a2 : a3;
  return (w >>> (31 - (index & 31))) & 1;
}

function readWord(bytes: Uint8Array, at: number): number {
  return (bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!;
}

export class AllowedIps<T extends object> {
  private root4: TrieNode<T> | null = null;
  private root6: TrieNode<T> | null = null;
  /** Each value's nodes, in insertion order. */
  private readonly byValue = new Map<T, Set<TrieNode<T>>>();
  private count = 0;

  /** Number of prefixes in the table. */
  get size(): number {
    return this.count;
  }

  /**
   * Maps the prefix to `value`. A prefix belongs to at most one value, so an
   * existing identical prefix moves to `value`. Host bits are ignored.
   * Throws RangeError for a malformed Cidr.
   */
  insert(cidr: Cidr, value: T): void {
    const family = checkCidr(cidr);
    const bits = cidr.bits;
    const addr = cidr.address;
    const a0 = readWord(addr, 0) & wordMask(bits);
    const a1 = family === 6 ? readWord(addr, 4) & wordMask(bits - 32) : 0;
    const a2 = family === 6 ? readWord(addr, 8) & wordMask(bits - 64) : 0;
    const a3 = family === 6 ? readWord(addr, 12) & wordMask(bits - 96) : 0;

    const root = family === 4 ? this.root4 : this.root6;
    if (root === null) {
      this.setRoot(family, this.newNode(family, a0, a1, a2, a3, bits, value));
      return;
    }
    let node = root;
    for (;;) {
      const shared = Math.min(commonBits(node, a0, a1, a2, a3), bits, node.bits);
      if (shared < node.bits) {
        // The new prefix diverges from `node` above it: splice a node in.
        const added = this.newNode(family, a0, a1, a2, a3, bits, value);
        if (shared === bits) {
          this.replaceChild(node, added);
          this.attach(added, node, keyBit(bits, node.w0, node.w1, node.w2, node.w3));
        } else {
          const branch = new TrieNode<T>(
            family,
            a0 & wordMask(shared),
            a1 & wordMask(shared - 32),
            a2 & wordMask(shared - 64),
            a3 & wordMask(shared - 96),
            shared,
            undefined,
          );
          this.replaceChild(node, branch);
          const side = keyBit(shared, a0, a1, a2, a3);
          this.attach(branch, added, side);
          this.attach(branch, node, side ^ 1);
        }
        return;
      }
      if (node.bits === bits) {
        this.assign(node, value);
        return;
      }
      const side = keyBit(node.bits, a0, a1, a2, a3);
      const child: TrieNode<T> | null = side === 0 ? node.left : node.right;
      if (child === null) {
        this.attach(node, this.newNode(family, a0, a1, a2, a3, bits, value), side);
        return;
      }
      node = child;
    }
  }

  /** Removes exactly this prefix if it belongs to `value`. Throws RangeError for a malformed Cidr. */
  remove(cidr: Cidr, value: T): boolean {
    const node = this.findExact(cidr);
    if (node === null || node.value !== value) return false;
    this.unassign(node);
    return true;
  }

  /** Removes every prefix of `value`. */
  removeByValue(value: T): void {
    const nodes = this.byValue.get(value);
    if (nodes === undefined) return;
    for (const node of Array.from(nodes)) this.unassign(node);
  }

  /**
   * Longest-prefix match on the 4 or 16 address bytes at packet[offset].
   * Per-packet hot path: allocation-free. Undefined if nothing matches or the
   * bytes are out of range.
   */
  lookup(packet: Uint8Array, offset: number, family: Family): T | undefined {
    if (family === 4) {
      if (!(offset >= 0 && offset + 4 <= packet.length)) return undefined;
      const a0 = (packet[offset]! << 24) | (packet[offset + 1]! << 16) | (packet[offset + 2]! << 8) | packet[offset + 3]!;
      return lookupIn(this.root4, 32, a0, 0, 0, 0);
    }
    if (family === 6) {
      if (!(offset >= 0 && offset + 16 <= packet.length)) return undefined;
      return lookupIn(
        this.root6,
        128,
        readWord(packet, offset),
        readWord(packet, offset + 4),
        readWord(packet, offset + 8),
        readWord(packet, offset + 12),
      );
    }
    return undefined;
  }

  /** Lookup of a 4- or 16-byte address; undefined for any other length. */
  lookupAddress(addr: Uint8Array): T | undefined {
    if (addr.length === 4) return this.lookup(addr, 0, 4);
    if (addr.length === 16) return this.lookup(addr, 0, 6);
    return undefined;
  }

  /** The prefixes of `value`, oldest first (a prefix that moved to it counts from the move). */
  entriesOf(value: T): Cidr[] {
    const nodes = this.byValue.get(value);
    if (nodes === undefined) return [];
    const result: Cidr[] = [];
    for (const node of nodes) result.push(nodeCidr(node));
    return result;
  }

  clear(): void {
    this.root4 = null;
    this.root6 = null;
    this.byValue.clear();
    this.count = 0;
  }

  private newNode(family: Family, a0: number, a1: number, a2: number, a3: number, bits: number, value: T): TrieNode<T> {
    const node = new TrieNode<T>(family, a0, a1, a2, a3, bits, undefined);
    this.assign(node, value);
    return node;
  }

  private setRoot(family: Family, node: TrieNode<T> | null): void {
    if (family === 4) this.root4 = node;
    else this.root6 = node;
    if (node !== null) node.parent = null;
  }

  private attach(parent: TrieNode<T>, child: TrieNode<T>, side: number): void {
    if (side === 0) parent.left = child;
    else parent.right = child;
    child.parent = parent;
  }

  /** Puts `replacement` where `node` hangs in the trie. */
  private replaceChild(node: TrieNode<T>, replacement: TrieNode<T> | null): void {
    const parent = node.parent;
    if (parent === null) {
      this.setRoot(node.family, replacement);
    } else {
      if (parent.left === node) parent.left = replacement;
      else parent.right = replacement;
      if (replacement !== null) replacement.parent = parent;
    }
    node.parent = null;
  }

  private assign(node: TrieNode<T>, value: T): void {
    const previous = node.value;
    if (previous === value) return;
    if (previous === undefined) this.count++;
    else this.dropFromIndex(node, previous);
    node.value = value;
    let nodes = this.byValue.get(value);
    if (nodes === undefined) {
      nodes = new Set();
      this.byValue.set(value, nodes);
    }
    nodes.add(node);
  }

  private dropFromIndex(node: TrieNode<T>, value: T): void {
    const nodes = this.byValue.get(value);
    if (nodes === undefined) return;
    nodes.delete(node);
    if (nodes.size === 0) this.byValue.delete(value);
  }

  /** Clears the node's value and removes nodes that no longer carry a value or a branch. */
  private unassign(node: TrieNode<T>): void {
    const value = node.value;
    if (value === undefined) return;
    this.dropFromIndex(node, value);
    node.value = undefined;
    this.count--;

    if (node.left !== null && node.right !== null) return; // still a branch point
    const only = node.left ?? node.right;
    const parent = node.parent;
    this.replaceChild(node, only);
    node.left = node.right = null;
    // A valueless parent left with one child is no longer a branch point.
    if (only === null && parent !== null && parent.value === undefined) {
      const remaining = parent.left ?? parent.right;
      parent.left = parent.right = null;
      this.replaceChild(parent, remaining);
    }
  }

  private findExact(cidr: Cidr): TrieNode<T> | null {
    const family = checkCidr(cidr);
    const bits = cidr.bits;
    const addr = cidr.address;
    const a0 = readWord(addr, 0) & wordMask(bits);
    const a1 = family === 6 ? readWord(addr, 4) & wordMask(bits - 32) : 0;
    const a2 = family === 6 ? readWord(addr, 8) & wordMask(bits - 64) : 0;
    const a3 = family === 6 ? readWord(addr, 12) & wordMask(bits - 96) : 0;
    let node = family === 4 ? this.root4 : this.root6;
    while (node !== null && node.bits <= bits && commonBits(node, a0, a1, a2, a3) >= node.bits) {
      if (node.bits === bits) return node;
      node = keyBit(node.bits, a0, a1, a2, a3) === 0 ? node.left : node.right;
    }
    return null;
  }
}

/**
 * Longest-prefix match. Per packet on QuickJS, where each call costs hundreds
 * of instructions: the prefix test and the branch bit are inline int32
 * arithmetic (commonBits/keyBit/Math.clz32 would be calls). A node covers the
 * address when the address's first `bits` bits equal the node's words, which
 * are zero past `bits`.
 */
function lookupIn<T>(
  root: TrieNode<T> | null,
  maxBits: number,
  a0: number,
  a1: number,
  a2: number,
  a3: number,
): T | undefined {
  let found: T | undefined;
  let node = root;
  while (node !== null) {
    const bits = node.bits;
    if (((node.w0 ^ a0) & (bits >= 32 ? -1 : bits === 0 ? 0 : -1 << (32 - bits))) !== 0) break;
    if (bits > 32) {
      if (((node.w1 ^ a1) & (bits >= 64 ? -1 : -1 << (64 - bits))) !== 0) break;
      if (bits > 64) {
        if (((node.w2 ^ a2) & (bits >= 96 ? -1 : -1 << (96 - bits))) !== 0) break;
        if (bits > 96 && ((node.w3 ^ a3) & (bits >= 128 ? -1 : -1 << (128 - bits))) !== 0) break;
      }
    }
    if (node.value !== undefined) found = node.value;
    if (bits === maxBits) break;
    const word = bits >>> 5;
    const w = word === 0 ? a0 : word === 1 ? a1 : word === 2 ? a2 : a3;
    node = ((w >>> (31 - (bits & 31))) & 1) === 0 ? node.left : node.right;
  }
  return found;
}

function checkCidr(cidr: Cidr): Family {
  const length = cidr.address.length;
  if (length !== 4 && length !== 16) throw new RangeError(`prefix address must be 4 or 16 bytes, got ${length}`);
  const bits = cidr.bits;
  if (!Number.isInteger(bits) || bits < 0 || bits > length * 8) {
    throw new RangeError(`prefix length ${bits} out of range for a ${length}-byte address`);
  }
  return length === 4 ? 4 : 6;
}

function nodeCidr(node: TrieNode<unknown>): Cidr {
  const address = new Uint8Array(node.family === 4 ? 4 : 16);
  const words = [node.w0, node.w1, node.w2, node.w3];
  for (let i = 0; i < address.length; i++) address[i] = words[i >>> 2]! >>> (24 - 8 * (i & 3));
  return { address, bits: node.bits };
}
