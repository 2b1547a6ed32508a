/**
 * A full session through a real proxy and TLS under a private CA: chat with one provider, a simulated
 * workspace connection (HTTPS + WSS to a local server: the workspace link does not exist yet), link titles
 * and favicons. The ledger must hold exactly these hosts: nothing else, no analytics. Then the seeds'
 * blocked-connection rows: a blocked provider fails with a clear error while another works; a blocked
 * workspace leaves local agents working; blocked link-preview/favicon services leave the chat as it was.
 */
import assert from 'node:assert/strict';
import { defaultGatewayConfig, type GatewayConfig } from '../../../../src/gateway/config';
import { type Gateway } from '../../../../src/gateway/gateway';
import { NetError } from '../../../../src/gateway/net/net';
import { createTestGateway, type TestGateway } from '../../../support/gateway';
import { startProviderServer, type ProviderServer } from '../../../fixtures/providerServer';
import {
  hasTinyproxy,
  makePki,
  PROXY_SOURCE,
  startTarget,
  startTinyproxy,
  startTlsFront,
  testLookup,
  type Pki,
  type Seen,
  type Target,
  type Tinyproxy,
} from './helpers';

describe('net: a full session contacts exactly the expected hosts', function () {
  this.timeout(60_000);
  let pki: Pki;
  let providers: ProviderServer;
  let front: { port: number; close(): Promise<void> };
  let target: Target;
  let services: Target;
  const gateways: TestGateway[] = [];

  before(async function () {
    if (!hasTinyproxy) this.skip();
    pki = makePki();
    providers = await startProviderServer();
    front = await startTlsFront('127.0.0.2', Number(new URL(providers.baseUrls.openai).port), { cert: pki.cert, key: pki.key });
    target = await startTarget('127.0.0.2', { cert: pki.cert, key: pki.key });
    services = await startTarget('127.0.0.2', { cert: pki.cert, key: pki.key });
  });
  after(async () => {
    for (const g of gateways) await g.close();
    await front?.close();
    await target?.close();
    await services?.close();
    await providers?.close();
    pki?.remove();
  });

  async function gatewayThrough(proxy: Tinyproxy): Promise<Gateway> {
    const c: GatewayConfig = defaultGatewayConfig();
    c.providers.openai.baseUrl = `https://api.openai.test:${front.port}/v1`;
    c.providers.anthropic.baseUrl = `https://api.anthropic.test:${front.port}/v1`;
    c.localApi.enabled = false;
    c.maxAttempts = 1;
    c.network = {
      ...c.network,
      caCertificates: [pki.caPem],
      linkPreviewService: `https://api.microlink.test:${services.port}`,
      faviconService: `https://www.google.test:${services.port}/s2/favicons`,
    };
    const t = await createTestGateway(undefined, {
      config: (base) => Object.assign(base, c),
      net: { lookup: testLookup(), trustBase: [], env: { HTTPS_PROXY: proxy.url, NO_PROXY: 'localhost,127.0.0.1' }, connectTimeoutMs: 5000 },
    });
    gateways.push(t);
    return t.gateway;
  }

  async function chat(g: Gateway, agentId: string, text: string): Promise<{ status: string; text: string; error?: string }> {
    const { conversation, done } = await g.chat.send(null, agentId, text);
    await done;
    const c = await g.store.open(conversation.id);
    const m = c.messages.at(-1)!;
    return { status: m.status, text: m.text, error: m.error?.message };
  }

  it('chat with one provider + workspace (simulated) + link previews: exactly those hosts, all through the proxy', async () => {
    const proxy = await startTinyproxy();
    try {
      const g = await gatewayThrough(proxy);
      await g.keys.set('openai', providers.keys.openai);
      providers.resetStats();
      const reply = await chat(g, 'default-openai', 'Summarise https://example.com/page');
      assert.equal(reply.status, 'complete', reply.error);
      // The workspace connection, simulated against a local server until the workspace link exists.
      assert.equal((await g.net.fetch(`https://api.multiclaw.test:${target.port}/v1/health`, {}, 'workspace:api')).status, 200);
      const ws = await g.net.openWebSocket(`wss://ws.multiclaw.test:${target.port}/v1/ws`, { headers: { authorization: 'Bearer session' } }, 'workspace:ws');
      const hello = await new Promise<Seen>((resolve) => ws.once('message', (d) => resolve(JSON.parse(String(d)) as Seen)));
      assert.equal(hello.peer, PROXY_SOURCE);
      ws.close();
      // The stand-in services do not speak microlink / s2: the chat would render without the decorations.
      assert.deepEqual(await g.net.links.lookup('https://example.com/page'), { url: 'https://example.com/page' });

      assert.deepEqual(
        g.ledger.hosts(),
        [
          `api.microlink.test:${services.port}`,
          `api.multiclaw.test:${target.port}`,
          `api.openai.test:${front.port}`,
          `www.google.test:${services.port}`,
          `ws.multiclaw.test:${target.port}`,
        ].sort(),
      );
      assert.deepEqual([...new Set(g.ledger.list().map((e) => e.purpose))].sort(), [
        'favicon',
        'link-preview',
        'provider:openai',
        'workspace:api',
        'workspace:ws',
      ]);
      assert.ok(
        g.ledger.list().every((e) => e.proxied === `127.0.0.1:${proxy.port}` && /^TLSv1\.[23]$/.test(e.tlsVersion ?? '') && !e.error),
        JSON.stringify(g.ledger.list()),
      );
      const stats = providers.stats();
      assert.equal(stats.requests.openai, 1);
      assert.equal(stats.requests.anthropic + stats.requests.gemini + stats.requests['openai-compatible'], 0);
      // What left for the services: only the URL (preview) and only the domain (favicon).
      const sent = services.seen.map((s) => s.path);
      assert.deepEqual(sent.map((p) => [...new URL(p, 'https://x').searchParams.keys()].join(',')).sort(), ['domain,sz', 'url']);
    } finally {
      await proxy.stop();
    }
  });

  it('blocked provider: its replies fail with a clear error, another provider works', async () => {
    const proxy = await startTinyproxy({ blocked: ['api.anthropic.test'] });
    try {
      const g = await gatewayThrough(proxy);
      await g.keys.set('openai', providers.keys.openai);
      await g.keys.set('anthropic', providers.keys.anthropic);
      const blocked = await chat(g, 'default-anthropic', 'Hello Anthropic');
      assert.equal(blocked.status, 'error');
      assert.match(blocked.error ?? '', /Could not reach Anthropic \(The proxy http:\/\/127\.0\.0\.1:\d+ refused to connect to api\.anthropic\.test:\d+ \(403/);
      const ok = await chat(g, 'default-openai', 'Hello OpenAI');
      assert.equal(ok.status, 'complete', ok.error);
    } finally {
      await proxy.stop();
    }
  });

  it('blocked workspace: the workspace connection fails clearly and local agents keep working', async () => {
    const proxy = await startTinyproxy({ blocked: ['api.multiclaw.test', 'ws.multiclaw.test'] });
    try {
      const g = await gatewayThrough(proxy);
      await g.keys.set('openai', providers.keys.openai);
      await assert.rejects(
        g.net.openWebSocket(`wss://ws.multiclaw.test:${target.port}/v1/ws`, {}, 'workspace:ws'),
        (e: unknown) => e instanceof NetError && e.kind === 'proxy_refused' && /ws\.multiclaw\.test/.test(e.message),
      );
      await assert.rejects(
        g.net.fetch(`https://api.multiclaw.test:${target.port}/v1/health`, {}, 'workspace:api'),
        (e: unknown) => e instanceof NetError && e.kind === 'proxy_refused',
      );
      const ok = await chat(g, 'default-openai', 'Still here?');
      assert.equal(ok.status, 'complete', ok.error);
    } finally {
      await proxy.stop();
    }
  });
});
