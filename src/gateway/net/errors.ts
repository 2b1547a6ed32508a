/**
 * Typed connection failures with short messages that say what is wrong and what to do. The message
 * is the whole story (no `cause` chain, so callers that show the innermost message show this one);
 * the original error is kept in `original` for logs.
 */
import type { PeerCertificate } from 'node:tls';
import { errorMessage } from '../errors';

export type NetErrorKind =
  | 'dns'
  | 'refused'
  | 'timeout'
  | 'reset'
  | 'unreachable'
  | 'proxy_unreachable'
  | 'proxy_auth'
  | 'proxy_refused'
  | 'tls_untrusted'
  | 'tls_hostname'
  | 'tls_expired'
  | 'tls_version'
  | 'tls_other'
  | 'websocket'
  | 'other';

export interface NetErrorInit {
  kind: NetErrorKind;
  host: string;
  port: number;
  message: string;
  /** Longer guidance for the Diagnose report and logs. */
  advice?: string;
  /** The proxy in use, without credentials. */
  proxy?: string;
  /** Issuer of the certificate that was presented (TLS failures). */
  issuer?: string;
  status?: number;
  code?: string;
  original?: unknown;
}

export class NetError extends Error {
  override readonly name = 'NetError';
  readonly kind: NetErrorKind;
  readonly host: string;
  readonly port: number;
  readonly advice?: string;
  readonly proxy?: string;
  readonly issuer?: string;
  readonly status?: number;
  readonly code?: string;
  readonly original?: unknown;

  constructor(init: NetErrorInit) {
    super(init.message);
    this.kind = init.kind;
    this.host = init.host;
    this.port = init.port;
    this.advice = init.advice;
    this.proxy = init.proxy;
    this.issuer = init.issuer;
    this.status = init.status;
    this.code = init.code;
    this.original = init.original;
  }
}

/** The seeds' DPI guidance, for one host. */
export function dpiAdvice(host: string): string {
  return (
    `Your network may intercept and re-sign TLS traffic (deep packet inspection). Ask your IT team to exclude ${host} ` +
    '(and *.multiclaw.io, turn.multiclaw.io for the workspace) from TLS inspection, or add their CA certificate to ' +
    '`multiclaw.network.caCertificates` (or NODE_EXTRA_CA_CERTS). Do not turn off `multiclaw.network.strictSSL`.'
  );
}

const UNTRUSTED = new Set([
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_REJECTED',
  'INVALID_CA',
]);

function name(fields: Record<string, string | string[] | undefined> | undefined): string {
  if (!fields) return 'an unknown issuer';
  const pick = (k: string): string | undefined => {
    const v = fields[k];
    return Array.isArray(v) ? v[0] : v;
  };
  const cn = pick('CN');
  const o = pick('O');
  return cn && o && !cn.includes(o) ? `"${cn}" (${o})` : `"${cn ?? o ?? 'unnamed'}"`;
}

/** The issuer of the presented leaf certificate, and the root of the presented chain when different. */
export function describeIssuer(cert: PeerCertificate | undefined): string {
  if (!cert || !cert.issuer) return 'an unknown issuer';
  const issuer = name(cert.issuer as unknown as Record<string, string>);
  let top = cert as PeerCertificate & { issuerCertificate?: PeerCertificate };
  for (let i = 0; i < 8 && top.issuerCertificate && top.issuerCertificate.fingerprint256 !== top.fingerprint256; i++) top = top.issuerCertificate;
  const root = top !== cert ? name(top.issuer as unknown as Record<string, string>) : issuer;
  return root !== issuer ? `${issuer}, chained to ${root}` : issuer;
}

/** The error for a certificate that failed verification (authorizationError from Node's TLS). */
export function certificateError(host: string, port: number, code: string, cert: PeerCertificate | undefined, proxy?: string): NetError {
  const issuer = describeIssuer(cert);
  if (UNTRUSTED.has(code)) {
    return new NetError({
      kind: 'tls_untrusted',
      host,
      port,
      proxy,
      issuer,
      code,
      message: `Untrusted certificate for ${host}, issued by ${issuer}: likely TLS inspection (DPI). Ask IT to exclude ${host}, or add their CA to multiclaw.network.caCertificates.`,
      advice: dpiAdvice(host),
    });
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return new NetError({
      kind: 'tls_expired',
      host,
      port,
      proxy,
      issuer,
      code,
      message: `The certificate of ${host} (issued by ${issuer}) is ${code === 'CERT_HAS_EXPIRED' ? `expired (valid to ${cert?.valid_to ?? '?'})` : 'not valid yet'}. Check the system clock.`,
      advice: 'Check the system date and time. If they are right, the server (or a TLS-inspecting proxy) presents a stale certificate: tell IT.',
    });
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || /altname|hostname/i.test(code)) {
    const names = cert?.subjectaltname ? cert.subjectaltname.replace(/DNS:|IP Address:/g, '') : (cert?.subject?.CN ?? '?');
    return new NetError({
      kind: 'tls_hostname',
      host,
      port,
      proxy,
      issuer,
      code,
      message: `The certificate presented for ${host} is for ${String(names).slice(0, 80)} (issued by ${issuer}). Check the URL; otherwise the network intercepts TLS.`,
      advice: dpiAdvice(host),
    });
  }
  return new NetError({
    kind: 'tls_other',
    host,
    port,
    proxy,
    issuer,
    code,
    message: `TLS verification of ${host} failed (${code}), certificate issued by ${issuer}.`,
    advice: dpiAdvice(host),
  });
}

/** Maps a socket-level error to a NetError (already-NetErrors pass through). */
export function socketError(err: unknown, host: string, port: number, viaProxy?: string): NetError {
  if (err instanceof NetError) return err;
  const e = err as NodeJS.ErrnoException;
  const code = typeof e?.code === 'string' ? e.code : '';
  const text = errorMessage(err);
  const where = viaProxy ? `the proxy ${viaProxy}` : `${host}:${port}`;
  const base = { host, port, proxy: viaProxy, code, original: err };
  if (/PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL|NO_PROTOCOLS_AVAILABLE|VERSION_TOO_LOW/i.test(code + text)) {
    return new NetError({
      ...base,
      kind: 'tls_version',
      message: `${host}:${port} does not offer TLS 1.2 or newer; MultiClaw refuses older TLS.`,
      advice: 'The server (or an intercepting proxy) only speaks TLS 1.0/1.1. Ask its operator to enable TLS 1.2+.',
    });
  }
  if (/WRONG_VERSION_NUMBER|packet length too long|http request/i.test(code + text)) {
    return new NetError({
      ...base,
      kind: 'tls_other',
      message: `${host}:${port} did not answer with TLS (a plain HTTP port?). Check the URL's scheme and port.`,
    });
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_FAIL' || code === 'EAI_NONAME') {
    const target = viaProxy ?? host;
    return new NetError({
      ...base,
      kind: viaProxy ? 'proxy_unreachable' : 'dns',
      message: `Cannot resolve ${target} (${code}). Check the host name${viaProxy ? ' of the proxy' : ''} and your DNS.`,
    });
  }
  if (code === 'ECONNREFUSED') {
    return viaProxy
      ? new NetError({
          ...base,
          kind: 'proxy_unreachable',
          message: `The proxy ${viaProxy} is not reachable (connection refused). Check HTTPS_PROXY / http.proxy, or start the proxy.`,
        })
      : new NetError({ ...base, kind: 'refused', message: `${where} refused the connection (ECONNREFUSED). Check the URL and that the server runs.` });
  }
  if (code === 'ETIMEDOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') {
    return new NetError({
      ...base,
      kind: viaProxy ? 'proxy_unreachable' : 'timeout',
      message: `Connecting to ${where} timed out. A firewall may be dropping the connection.`,
    });
  }
  if (code === 'ECONNRESET' || code === 'EPIPE') {
    return new NetError({ ...base, kind: 'reset', message: `${where} closed the connection (${code}). A firewall or proxy may block ${host}.` });
  }
  if (code === 'ENETUNREACH' || code === 'EHOSTUNREACH') {
    return new NetError({ ...base, kind: 'unreachable', message: `${where} is unreachable (${code}). Check your network.` });
  }
  return new NetError({ ...base, kind: 'other', message: `Connecting to ${where} failed: ${text}${code && !text.includes(code) ? ` (${code})` : ''}` });
}

/** The error for a CONNECT that the proxy answered with a status other than 200. */
export function proxyStatusError(status: number, statusText: string, host: string, port: number, proxy: string): NetError {
  if (status === 407 || status === 401) {
    return new NetError({
      kind: 'proxy_auth',
      host,
      port,
      proxy,
      status,
      message: `The proxy ${proxy} requires authentication (${status}) and rejected the credentials. Put user:password in the proxy URL (http://user:pass@host:port).`,
      advice: "Set the proxy URL with credentials in HTTPS_PROXY / https_proxy or VS Code's http.proxy (percent-encode special characters).",
    });
  }
  return new NetError({
    kind: 'proxy_refused',
    host,
    port,
    proxy,
    status,
    message: `The proxy ${proxy} refused to connect to ${host}:${port} (${status}${statusText ? ` ${statusText}` : ''}). Ask IT to allow ${host}, or list it in NO_PROXY.`,
    advice: `Your proxy blocks ${host}:${port}. Share MultiClaw's allowlist (README, "Network") with your IT team.`,
  });
}
