/**
 * The one proxy decision. Sources, in order: the environment (`https_proxy`/`HTTPS_PROXY`,
 * `http_proxy`/`HTTP_PROXY`, `no_proxy`/`NO_PROXY`; lower case wins when both are set, as in curl),
 * then VS Code's `http.proxy` / `http.noProxy`. WebSocket URLs use the proxy of their HTTP scheme
 * (`wss:` -> https_proxy, `ws:` -> http_proxy; never `wss_proxy`). Loopback is always direct.
 */
import type { NetConfig } from './netConfig';
import { isLoopbackHost, matchesNoProxy, parseNoProxy, type NoProxyRule } from './noProxy';
import { errorMessage } from '../errors';

export interface ProxySettings {
  /** Proxy for https:/wss: targets. */
  https?: URL;
  /** Proxy for http:/ws: targets. */
  http?: URL;
  noProxy: NoProxyRule[];
  /** Where each value came from, for the Diagnose report (no credentials). */
  source: { https: string; http: string; noProxy: string };
}

export type ProxyDecision = { proxy: URL; reason: string } | { proxy: undefined; reason: 'loopback' | 'no_proxy' | 'no proxy configured' };

type Env = Record<string, string | undefined>;

function envValue(env: Env, name: string): { value: string; name: string } | undefined {
  const lower = env[name.toLowerCase()];
  if (lower !== undefined) return { value: lower.trim(), name: name.toLowerCase() };
  const upper = env[name.toUpperCase()];
  return upper !== undefined ? { value: upper.trim(), name: name.toUpperCase() } : undefined;
}

/** Parses a proxy URL; a bare `host:port` means http://host:port. Throws a readable error. */
export function parseProxyUrl(text: string, from: string): URL {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    throw new Error(`${from} is not a proxy URL: ${redactProxy(text)}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`${from} uses ${u.protocol}; only http:// and https:// proxies are supported`);
  return u;
}

/** A proxy URL without its credentials (`http://user:***@host:port`), for logs and errors. */
export function redactProxy(proxy: URL | string): string {
  try {
    const u = typeof proxy === 'string' ? new URL(/^[a-z]+:\/\//i.test(proxy) ? proxy : `http://${proxy}`) : proxy;
    const user = u.username ? `${decodeURIComponent(u.username)}:***@` : '';
    return `${u.protocol}//${user}${u.host}`;
  } catch {
    return '(unreadable proxy URL)';
  }
}

/** Resolves the proxy settings from the environment with VS Code's settings as fallbacks. */
export function resolveProxySettings(
  env: Env,
  config: Pick<NetConfig, 'vscodeProxy' | 'vscodeNoProxy'>,
  warn: (m: string) => void = () => undefined,
): ProxySettings {
  const pick = (scheme: 'https' | 'http'): { url?: URL; source: string } => {
    const e = envValue(env, `${scheme}_proxy`);
    const [text, from] = e ? [e.value, e.name] : [config.vscodeProxy.trim(), 'http.proxy'];
    if (!text) return { source: e ? `${e.name} (empty: direct)` : 'none' };
    try {
      return { url: parseProxyUrl(text, from), source: from };
    } catch (err) {
      warn(`${errorMessage(err)}; connecting without a proxy`);
      return { source: `${from} (invalid)` };
    }
  };
  const https = pick('https');
  const http = pick('http');
  const np = envValue(env, 'no_proxy');
  return {
    https: https.url,
    http: http.url,
    noProxy: np ? parseNoProxy(np.value) : parseNoProxy(config.vscodeNoProxy),
    source: { https: https.source, http: http.source, noProxy: np ? np.name : config.vscodeNoProxy.length ? 'http.noProxy' : 'none' },
  };
}

/** Decides how to reach `url` (http:, https:, ws:, wss:). */
export function decideProxy(settings: ProxySettings, url: URL): ProxyDecision {
  const secure = url.protocol === 'https:' || url.protocol === 'wss:';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port) || (secure ? 443 : 80);
  if (isLoopbackHost(host)) return { proxy: undefined, reason: 'loopback' };
  const proxy = secure ? settings.https : settings.http;
  if (!proxy) return { proxy: undefined, reason: 'no proxy configured' };
  if (matchesNoProxy(settings.noProxy, host, port)) return { proxy: undefined, reason: 'no_proxy' };
  return { proxy, reason: secure ? settings.source.https : settings.source.http };
}
