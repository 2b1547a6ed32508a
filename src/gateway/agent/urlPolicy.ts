/**
 * The web_fetch half of the policy engine: which URLs may be fetched. Pure: no DNS, no I/O (a name that
 * resolves to a private address is NetService's concern when it connects).
 */

/** 4 or 6 for an address literal as the URL parser normalises it (dotted IPv4; IPv6 without brackets), else 0. */
function ipVersion(host: string): 0 | 4 | 6 {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(host)) return 4;
  return host.includes(':') && /^[0-9a-f:.]+$/i.test(host) ? 6 : 0;
}

export type UrlCheck = { ok: true; host: string } | { ok: false; reason: string };

/** Parses and screens a URL: http(s) only, no user name or password, no private or local address literal. */
export function checkUrl(raw: string): UrlCheck {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return { ok: false, reason: 'not a valid URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, reason: `the ${url.protocol} scheme is not fetched (http and https only)` };
  if (url.username || url.password) return { ok: false, reason: 'the URL carries a user name or password' };
  const host = url.hostname.toLowerCase().replace(/\.$/, '');
  if (!host) return { ok: false, reason: 'the URL has no host' };
  if (host === 'localhost' || host.endsWith('.localhost')) return { ok: false, reason: 'a local address' };
  const bare = host.startsWith('[') ? host.slice(1, -1) : host;
  if (ipVersion(bare) !== 0 && isPrivateIp(bare)) return { ok: false, reason: `a private or local address (${bare})` };
  return { ok: true, host };
}

/** Loopback, private, link-local, CGNAT, unspecified, multicast/reserved, unique-local; IPv4-mapped IPv6 included. */
export function isPrivateIp(ip: string): boolean {
  if (ipVersion(ip) === 4) {
    const [a, b] = ip.split('.').map(Number);
    return (
      a === 0 ||
      a === 10 ||
      a === 127 ||
      (a === 100 && b >= 64 && b <= 127) ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      a >= 224
    );
  }
  const v6 = ip.toLowerCase();
  const mapped = /^(?:0*:)*:?ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(v6) ?? /^::(\d+\.\d+\.\d+\.\d+)$/.exec(v6);
  if (mapped) return isPrivateIp(mapped[1]);
  const hexMapped = /^(?:0*:)*:?ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(v6);
  if (hexMapped) {
    const hi = parseInt(hexMapped[1], 16);
    const lo = parseInt(hexMapped[2], 16);
    return isPrivateIp(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`);
  }
  if (v6 === '::' || v6 === '::1') return true;
  const first = parseInt(v6.split(':')[0] || '0', 16);
  return (first & 0xfe00) === 0xfc00 || (first & 0xffc0) === 0xfe80 || (first & 0xff00) === 0xff00;
}

/** `example.com` matches only itself; `*.example.com` matches its sub-domains; `*` matches every host. Entries may be URLs. */
export function hostMatches(entry: string, host: string): boolean {
  let e = entry.trim().toLowerCase();
  if (e.includes('://')) {
    try {
      e = new URL(e).hostname;
    } catch {
      return false;
    }
  }
  e = e.replace(/\.$/, '');
  if (e === '*') return true;
  if (e.startsWith('*.')) return host.endsWith(e.slice(1)) && host.length > e.length - 1;
  return e === host;
}

export const hostListed = (list: readonly string[] | undefined, host: string): boolean => (list ?? []).some((e) => hostMatches(e, host));
