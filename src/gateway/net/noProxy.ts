/**
 * NO_PROXY matching, as curl does it and more: `*` (never proxy), host names (a name also covers its
 * subdomains; `.example.com` and `*.example.com` cover only the subdomains and the name itself),
 * `host:port`, IP literals (v4 and v6, `[::1]:8080` too) and CIDR ranges (`10.0.0.0/8`, `fd00::/8`).
 * CIDR and IP entries match IP-literal targets only: the decision is made before any DNS lookup.
 * Loopback targets (localhost, *.localhost, 127.0.0.0/8, ::1) are always direct.
 */
import { isIP } from 'node:net';

export type NoProxyRule = { kind: 'all' } | { kind: 'host'; host: string; port?: number } | { kind: 'ip'; bytes: Uint8Array; prefix: number; port?: number };

/** Parses an IPv4 or IPv6 literal to bytes (16 for v6, 4 for v4); undefined when it is not one. */
export function ipBytes(text: string): Uint8Array | undefined {
  const s = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const family = isIP(s);
  if (family === 4) return Uint8Array.from(s.split('.').map(Number));
  if (family !== 6) return undefined;
  const zone = s.indexOf('%');
  let v6 = zone >= 0 ? s.slice(0, zone) : s;
  const tail: number[] = [];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(v6);
  if (v4) {
    tail.push(...v4[1]!.split('.').map(Number));
    v6 = v6.slice(0, -v4[1]!.length) + '0:0';
  }
  const [head, rest] = v6.split('::') as [string, string | undefined];
  const words = (p: string): number[] => (p ? p.split(':').map((w) => parseInt(w, 16)) : []);
  const h = words(head);
  const r = rest === undefined ? [] : words(rest);
  const all = rest === undefined ? h : [...h, ...new Array<number>(8 - h.length - r.length).fill(0), ...r];
  const out = new Uint8Array(16);
  all.forEach((w, i) => {
    out[i * 2] = w >> 8;
    out[i * 2 + 1] = w & 0xff;
  });
  if (tail.length) out.set(tail, 12);
  return out;
}

/** An IPv4-mapped IPv6 address (::ffff:a.b.c.d) compares as its IPv4 address. */
function normalise(bytes: Uint8Array): Uint8Array {
  if (bytes.length === 16 && bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return bytes.slice(12);
  return bytes;
}

function inRange(addr: Uint8Array, net: Uint8Array, prefix: number): boolean {
  if (addr.length !== net.length) return false;
  for (let bit = 0; bit < prefix; bit += 8) {
    const i = bit >> 3;
    const bits = Math.min(8, prefix - bit);
    const mask = (0xff << (8 - bits)) & 0xff;
    if ((addr[i]! & mask) !== (net[i]! & mask)) return false;
  }
  return true;
}

/** Splits `host:port` / `[v6]:port` / a bare v6 literal. */
function splitPort(entry: string): { host: string; port?: number } {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (v6) return { host: v6[1]!, port: v6[2] ? Number(v6[2]) : undefined };
  if (isIP(entry.split('/')[0]!) === 6) return { host: entry };
  const m = /^(.*):(\d+)$/.exec(entry);
  return m ? { host: m[1]!, port: Number(m[2]) } : { host: entry };
}

/** Parses a NO_PROXY value (comma- or space-separated). Unreadable entries are skipped. */
export function parseNoProxy(value: string | readonly string[] | undefined): NoProxyRule[] {
  const text: string = typeof value === 'string' ? value : (value ?? []).join(',');
  const items = text
    .split(/[\s,]+/)
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const rules: NoProxyRule[] = [];
  for (const item of items) {
    if (item === '*') {
      rules.push({ kind: 'all' });
      continue;
    }
    const { host, port } = splitPort(item);
    const [addr, bits] = host.split('/') as [string, string | undefined];
    const bytes = ipBytes(addr);
    if (bytes) {
      const n = normalise(bytes);
      const max = n.length * 8;
      const shift = bytes.length !== n.length ? 96 : 0; // ::ffff:10.0.0.0/104 -> 10.0.0.0/8
      const prefix = bits === undefined ? max : Number(bits) - shift;
      if (Number.isInteger(prefix) && prefix >= 0 && prefix <= max) rules.push({ kind: 'ip', bytes: n, prefix, port });
      continue;
    }
    if (bits !== undefined) continue;
    const name = host.replace(/^\*?\.+/, '').replace(/\.$/, '');
    if (name && /^[a-z0-9_.-]+$/.test(name)) rules.push({ kind: 'host', host: name, port });
  }
  return rules;
}

/** True for targets that never go through a proxy: localhost, *.localhost, 127.0.0.0/8, ::1. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/\.$/, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  const b = ipBytes(h);
  if (!b) return false;
  const n = normalise(b);
  return n.length === 4 ? n[0] === 127 : n.every((x, i) => x === (i === 15 ? 1 : 0));
}

/** True when `hostname:port` matches a rule (the target goes direct). */
export function matchesNoProxy(rules: readonly NoProxyRule[], hostname: string, port: number): boolean {
  const h = hostname.toLowerCase().replace(/\.$/, '');
  const bytes = ipBytes(h);
  const addr = bytes ? normalise(bytes) : undefined;
  for (const r of rules) {
    if (r.kind === 'all') return true;
    if (r.port !== undefined && r.port !== port) continue;
    if (r.kind === 'ip') {
      if (addr && inRange(addr, r.bytes, r.prefix)) return true;
    } else if (!addr && (h === r.host || h.endsWith(`.${r.host}`))) {
      return true;
    }
  }
  return false;
}
