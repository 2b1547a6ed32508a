/**
 * MCP over HTTP through NetService: an SDK-built Streamable HTTP server in this process, reached
 * through a real tinyproxy (the proxy path and the ledger entry with purpose `mcp`), the HTTP+SSE
 * fallback, and a server that wants authorization (a header from a secret).
 */
import assert from 'node:assert/strict';
import { mcpSecretKey } from '../../../../src/gateway/mcp/mcpConfig';
import { NetService } from '../../../../src/gateway/net/net';
import { MemoryLogger } from '../../../support/logger';
import { startMcpHttpServer, type McpHttpServer } from '../../../fixtures/mcp/httpServer';
import { hasTinyproxy, PROXY_SOURCE, startTinyproxy, testLookup, type Tinyproxy } from '../net/helpers';
import { harness, type Harness } from './helpers';

describe('mcp: HTTP servers', function () {
  this.timeout(60_000);
  const open: Harness[] = [];
  const servers: McpHttpServer[] = [];
  afterEach(async () => {
    for (const h of open.splice(0)) await h.dispose();
    for (const s of servers.splice(0)) await s.close();
  });
  const serve = async (o: Parameters<typeof startMcpHttpServer>[0] = {}): Promise<McpHttpServer> => {
    const s = await startMcpHttpServer(o);
    servers.push(s);
    return s;
  };

  describe('through tinyproxy', () => {
    let proxy: Tinyproxy;
    before(async function () {
      if (!hasTinyproxy) this.skip();
      proxy = await startTinyproxy();
    });
    after(async () => proxy?.stop());

    it('speaks Streamable HTTP through the proxy, recorded in the ledger as an MCP server connection', async () => {
      // corp.example.test is 127.0.0.3 for the test DNS hook and inside tinyproxy's namespace.
      const server = await serve({ host: '127.0.0.3' });
      const net = new NetService({ env: { http_proxy: proxy.url }, lookup: testLookup(), logger: new MemoryLogger() });
      const h = await harness([{ name: 'remote', enabled: true, transport: 'http', url: `http://corp.example.test:${server.port}/mcp` }], { net });
      open.push(h);
      try {
        const s = await h.manager.start('remote');
        assert.deepEqual(s, { status: 'running', tools: 8, transport: 'streamable-http' });
        const r = await h.manager.call('remote__echo', { text: 'via the proxy' });
        assert.equal(r.isError, false, r.content);
        assert.match(r.content, /via the proxy/);
        assert.ok(server.requests.length >= 3, server.requests.join('\n'));
        assert.ok(
          server.requests.every((l) => l.endsWith(PROXY_SOURCE)),
          `every request came from the proxy (${PROXY_SOURCE}):\n${server.requests.join('\n')}`,
        );
        const entries = net.ledger.list().filter((e) => e.purpose === 'mcp');
        assert.ok(entries.length >= 1);
        assert.ok(entries.every((e) => e.host === 'corp.example.test' && e.port === server.port && e.proxied === `127.0.0.1:${proxy.port}`));
        assert.deepEqual(
          net.ledger.list().filter((e) => e.purpose !== 'mcp'),
          [],
        );
      } finally {
        await h.manager.shutdown();
        net.dispose();
      }
    });
  });

  it('falls back to HTTP+SSE when the server refuses the Streamable HTTP POST', async () => {
    const server = await serve({ sseOnly: true });
    const h = await harness([{ name: 'legacy', enabled: true, transport: 'http', url: server.url }]);
    open.push(h);
    const s = await h.manager.start('legacy');
    assert.deepEqual(s, { status: 'running', tools: 8, transport: 'sse' });
    assert.match((await h.manager.call('legacy__add', { a: 40, b: 2 })).content, /\n42$/);
    assert.ok(h.logger.lines.some((l) => /Streamable HTTP was refused \(HTTP 405\); trying the HTTP\+SSE transport/.test(l)));
    assert.ok(h.net.ledger.list().every((e) => e.purpose === 'mcp' && e.host === '127.0.0.1'));
  });

  it('sends headers from secrets (redacted) and explains a 401', async () => {
    const server = await serve({ authorization: 'Bearer mcp-secret-token-123' });
    const h = await harness([{ name: 'auth', enabled: true, transport: 'http', url: server.url, headers: { Authorization: 'Bearer ${secret:MCP_TOKEN}' } }]);
    open.push(h);
    await h.secrets.store(mcpSecretKey('MCP_TOKEN'), 'wrong-token-456');
    const refused = await h.manager.start('auth');
    assert.equal(refused.status, 'error');
    assert.match(refused.status === 'error' ? refused.reason : '', /refused the connection \(HTTP 401\): the server needs authorization/);
    await h.secrets.store(mcpSecretKey('MCP_TOKEN'), 'mcp-secret-token-123');
    assert.equal((await h.manager.start('auth')).status, 'running');
    assert.equal(h.logger.redactor.redact('x mcp-secret-token-123 y'), 'x [REDACTED] y');
  });
});
