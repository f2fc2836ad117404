// DNS messages for tests, written independently of src/control/dns.ts: a
// response builder (with optional name compression) and a query decoder for
// the fake server. Pure, so test/dns.test.ts still runs on QuickJS.

export interface ResourceRecord {
  name: string;
  type: number;
  ttl?: number;
  class?: number;
  /** Raw RDATA bytes, or a name (for CNAME), or an SOA. */
  data: Uint8Array | { name: string } | { soa: { mname: string; rname: string; minimum: number } };
}

export interface ResponseSpec {
  id: number;
  question?: { name: string; type: number; class?: number } | null;
  rcode?: number;
  truncated?: boolean;
  /** Compress names with pointers to earlier occurrences. */
  compress?: boolean;
  answers?: ResourceRecord[];
  authority?: ResourceRecord[];
  additional?: ResourceRecord[];
}

class Writer {
  bytes: number[] = [];
  private readonly suffixes = new Map<string, number>();
  constructor(private readonly compress: boolean) {}

  u8(v: number): void { this.bytes.push(v & 0xff); }
  u16(v: number): void { this.u8(v >> 8); this.u8(v); }
  u32(v: number): void { this.u16(Math.floor(v / 65536)); this.u16(v % 65536); }

  name(name: string): void {
    const labels = name.replace(/\.$/, '').split('.').filter((l) => l.length > 0);
    for (let i = 0; i < labels.length; i++) {
      const suffix = labels.slice(i).join('.').toLowerCase();
      const earlier = this.suffixes.get(suffix);
      if (this.compress && earlier !== undefined) {
        this.u16(0xc000 | earlier);
        return;
      }
      if (this.bytes.length < 0x4000) this.suffixes.set(suffix, this.bytes.length);
      this.u8(labels[i]!.length);
      for (const c of labels[i]!) this.u8(c.charCodeAt(0));
    }
    this.u8(0);
  }

  record(r: ResourceRecord): void {
    this.name(r.name);
    this.u16(r.type);
    this.u16(r.class ?? 1);
    this.u32(r.ttl ?? 300);
    const lengthAt = this.bytes.length;
    this.u16(0);
    if (r.data instanceof Uint8Array) for (const b of r.data) this.u8(b);
    else if ('name' in r.data) this.name(r.data.name);
    else {
      this.name(r.data.soa.mname);
      this.name(r.data.soa.rname);
      for (const v of [2024010101, 7200, 3600, 1209600]) this.u32(v);
      this.u32(r.data.soa.minimum);
    }
    const length = this.bytes.length - lengthAt - 2;
    this.bytes[lengthAt] = length >> 8;
    this.bytes[lengthAt + 1] = length & 0xff;
  }
}

export function buildResponse(spec: ResponseSpec): Uint8Array {
  const w = new Writer(spec.compress ?? false);
  const answers = spec.answers ?? [], authority = spec.authority ?? [], additional = spec.additional ?? [];
  w.u16(spec.id);
  w.u8(0x81 | (spec.truncated ? 0x02 : 0)); // QR, RD (+TC)
  w.u8(0x80 | (spec.rcode ?? 0)); // RA
  w.u16(spec.question ? 1 : 0);
  w.u16(answers.length);
  w.u16(authority.length);
  w.u16(additional.length);
  if (spec.question) {
    w.name(spec.question.name);
    w.u16(spec.question.type);
    w.u16(spec.question.class ?? 1);
  }
  for (const r of [...answers, ...authority, ...additional]) w.record(r);
  return Uint8Array.from(w.bytes);
}

/** A query as the fake server sees it (no compression in questions). */
export function decodeQuery(msg: Uint8Array): { id: number; flags: number; name: string; type: number } | null {
  if (msg.length < 12) return null;
  const labels: string[] = [];
  let at = 12;
  while (at < msg.length && msg[at] !== 0) {
    const len = msg[at]!;
    if (len > 63 || at + 1 + len > msg.length) return null;
    labels.push(String.fromCharCode(...msg.subarray(at + 1, at + 1 + len)));
    at += 1 + len;
  }
  if (at + 5 > msg.length) return null;
  return { id: (msg[0]! << 8) | msg[1]!, flags: (msg[2]! << 8) | msg[3]!, name: labels.join('.'), type: (msg[at + 1]! << 8) | msg[at + 2]! };
}

export const ipv4 = (text: string): Uint8Array => Uint8Array.from(text.split('.').map(Number));

export function ipv6(text: string): Uint8Array {
  const [head, tail] = text.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t].map((g) => parseInt(g, 16));
  return Uint8Array.from(groups.flatMap((g) => [g >> 8, g & 0xff]));
}
