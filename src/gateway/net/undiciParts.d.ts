// Deep imports of the undici modules the gateway uses. undici's index pulls in everything (mock
// agents, WebSocket, EventSource, caches): ~130 KB minified we never run. Same code in tests and bundle.
declare module 'undici/lib/dispatcher/env-http-proxy-agent' {
  import { EnvHttpProxyAgent } from 'undici';
  export = EnvHttpProxyAgent;
}
declare module 'undici/lib/web/fetch' {
  import type { fetch as undiciFetch } from 'undici';
  export const fetch: typeof undiciFetch;
}
