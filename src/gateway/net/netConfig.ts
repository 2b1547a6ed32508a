/**
 * The network settings the gateway receives in `GatewayConfig.network` (types and defaults only: this
 * file is imported on the activation path, so it imports nothing).
 */
export interface NetConfig {
  /** VS Code `http.proxy`: used for a scheme that has no proxy environment variable. Empty = none. */
  vscodeProxy: string;
  /** VS Code `http.noProxy`: used when neither no_proxy nor NO_PROXY is set. */
  vscodeNoProxy: string[];
  /**
   * Verify TLS certificates (`multiclaw.network.strictSSL`, else VS Code `http.proxyStrictSSL`).
   * false is honoured with a visible warning; it is never turned off silently.
   */
  strictSSL: boolean;
  /** `multiclaw.network.caCertificates`: PEM file paths or PEM text, trusted in addition to the system store. */
  caCertificates: string[];
  /** `multiclaw.chat.linkPreviews`: fetch page titles for URLs in messages (the URL goes to the service). */
  linkPreviews: boolean;
  /** `multiclaw.chat.favicons`: fetch favicons for links (only the domain goes to the service). */
  favicons: boolean;
  /** Link-preview service (microlink API format): `GET <service>/?url=<url>`. */
  linkPreviewService: string;
  /** Favicon service (Google s2 format): `GET <service>?domain=<domain>&sz=32`. */
  faviconService: string;
}

export const DEFAULT_LINK_PREVIEW_SERVICE = 'https://api.microlink.io';
export const DEFAULT_FAVICON_SERVICE = 'https://www.google.com/s2/favicons';

export function defaultNetConfig(): NetConfig {
  return {
    vscodeProxy: '',
    vscodeNoProxy: [],
    strictSSL: true,
    caCertificates: [],
    linkPreviews: true,
    favicons: true,
    linkPreviewService: DEFAULT_LINK_PREVIEW_SERVICE,
    faviconService: DEFAULT_FAVICON_SERVICE,
  };
}
