// Deep imports of the undici modules the gateway uses. undici's index pulls in everything (mock
// agents, WebSocket, EventSource, caches, proxy agents): ~130 KB minified we never run. Same code in
// tests and bundle. Sockets come from our own connector (connector.ts), so no ProxyAgent is needed.
declare module 'undici/lib/dispatcher/agent' {
  import { Agent } from 'undici';
  export = Agent;
}
declare module 'undici/lib/web/fetch' {
  import type { fetch as undiciFetch } from 'undici';
  export const fetch: typeof undiciFetch;
}
