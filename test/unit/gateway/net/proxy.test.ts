/**
 * HTTPS, HTTP and WSS through a real tinyproxy (with and without auth), NO_PROXY, proxy failures,
 * all under the private test CA and on loopback.
 */
import assert from 'node:assert/strict';
import { NetError, NetService } from '../../../../src/gateway/net/net';
import { defaultNetConfig, type NetConfig } from '../../../../src/gateway/net/netConfig';
import { freePort } from '../../../support/net';
import {
  hasTinyproxy,
  json,
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

describe('net: proxy (tinyproxy)', function () {
  this.timeout(30_000);
  let pki: Pki;
  let target: Target;
  let plain: Target;
  let proxy: Tinyproxy;
  let authProxy: Tinyproxy;
  const services: NetService[] = [];

  before(async function () {
    if (!hasTinyproxy) this.skip();
    pki = makePki();
    target = await startTarget('127.0.0.2', { cert: pki.cert, key: pki.key });
    plain = await startTarget('127.0.0.2');
    proxy = await startTinyproxy();
    authProxy = await startTinyproxy({ auth: { user: 'proxyuser', pass: 'pr0xyPass' } });
  });

  after(async () => {
    for (const s of services) s.dispose();
    await target?.close();
    await plain?.close();
    await proxy?.stop();
    await authProxy?.stop();
    pki?.remove();
  });

  function service(env: Record<string, string>, config: Partial<NetConfig> = {}): NetService {
    const s = new NetService({
      env,
      lookup: testLookup(),
      trustBase: [],
      config: { ...defaultNetConfig(), caCertificates: [pki.caPem], ...config },
      connectTimeoutMs: 5000,
    });
    services.push(s);
    return s;
  }
  const url = (host: string, t = target, scheme = 'https'): string => `${scheme}://${host}:${t.port}/hello`;

  it('sends HTTPS through the proxy with CONNECT and records it in the ledger', async () => {
    const net = service({ HTTPS_PROXY: proxy.url });
    const res = await net.fetch(url('api.openai.test'), {}, 'provider:openai');
    const seen = await json<Seen>(res);
    assert.equal(seen.peer, PROXY_SOURCE, 'the target saw the proxy');
    assert.equal(seen.host, `api.openai.test:${target.port}`);
    const [e] = net.ledger.list();
    assert.equal(e!.host, 'api.openai.test');
    assert.equal(e!.port, target.port);
    assert.equal(e!.purpose, 'provider:openai');
    assert.equal(e!.proxied, `127.0.0.1:${proxy.port}`);
    assert.match(e!.tlsVersion ?? '', /^TLSv1\.[23]$/);
    assert.equal(e!.verified, true);
    assert.match(proxy.log(), /CONNECT api\.openai\.test/);
  });

  it('tunnels plain http:// targets through the HTTP proxy too', async () => {
    const net = service({ http_proxy: proxy.url });
    const seen = await json<Seen>(await net.fetch(url('api.openai.test', plain, 'http'), {}, 'provider:openai-compatible'));
    assert.equal(seen.peer, PROXY_SOURCE);
    assert.equal(net.ledger.list()[0]!.tlsVersion, undefined);
  });

  it('goes direct for NO_PROXY hosts, suffixes and host:port, and always for loopback', async () => {
    const net = service({ HTTPS_PROXY: proxy.url, NO_PROXY: `.anthropic.test, api.multiclaw.test:${target.port}` });
    assert.notEqual((await json<Seen>(await net.fetch(url('api.anthropic.test'), {}, 'provider:anthropic'))).peer, PROXY_SOURCE);
    assert.notEqual((await json<Seen>(await net.fetch(url('api.multiclaw.test'), {}, 'workspace:api'))).peer, PROXY_SOURCE);
    assert.equal((await json<Seen>(await net.fetch(url('api.openai.test'), {}, 'provider:openai'))).peer, PROXY_SOURCE, 'others still use the proxy');
    assert.notEqual((await json<Seen>(await net.fetch(url('127.0.0.2'), {}, 'diagnostics'))).peer, PROXY_SOURCE, 'loopback is direct');
    const byHost = new Map(net.ledger.list().map((e) => [e.host, e.proxied]));
    assert.equal(byHost.get('api.anthropic.test'), null);
    assert.equal(byHost.get('api.openai.test'), `127.0.0.1:${proxy.port}`);
  });

  it('uses VS Code http.proxy when no proxy variable is set', async () => {
    const net = service({}, { vscodeProxy: `127.0.0.1:${proxy.port}` });
    assert.equal((await json<Seen>(await net.fetch(url('api.openai.test'), {}, 'provider:openai'))).peer, PROXY_SOURCE);
  });

  it('authenticates to the proxy with the credentials in its URL', async () => {
    const net = service({ https_proxy: authProxy.url.replace('pr0xyPass', encodeURIComponent('pr0xyPass')) });
    const seen = await json<Seen>(await net.fetch(url('api.openai.test'), {}, 'provider:openai'));
    assert.equal(seen.peer, PROXY_SOURCE);
  });

  it('fails with a clear error naming the proxy when it rejects the credentials (401/407)', async () => {
    for (const cred of ['proxyuser:wrong@', '']) {
      const bad = `http://${cred}127.0.0.1:${authProxy.port}`;
      const net = service({ HTTPS_PROXY: bad });
      const err = await net.fetch(url('api.openai.test'), {}, 'provider:openai').then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err instanceof NetError, String(err));
      assert.equal(err.kind, 'proxy_auth');
      assert.ok([401, 407].includes(err.status ?? 0), String(err.status));
      assert.match(err.message, new RegExp(`proxy http://(proxyuser:\\*\\*\\*@)?127\\.0\\.0\\.1:${authProxy.port} requires authentication`));
      assert.ok(!err.message.includes('wrong'), 'no password in the message');
      assert.match(net.ledger.list()[0]!.error ?? '', /requires authentication/);
    }
  });

  it('fails with a clear error when the proxy is down, without trying direct', async () => {
    const port = await freePort();
    const net = service({ HTTPS_PROXY: `http://127.0.0.1:${port}` });
    const before = target.seen.length;
    const err = await net.fetch(url('api.openai.test'), {}, 'provider:openai').then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof NetError);
    assert.equal(err.kind, 'proxy_unreachable');
    assert.match(err.message, new RegExp(`proxy http://127\\.0\\.0\\.1:${port} is not reachable`));
    assert.equal(target.seen.length, before, 'no direct fallback');
  });

  it('reports a host the proxy refuses (403) as blocked by the proxy', async () => {
    const blocking = await startTinyproxy({ blocked: ['api.anthropic.test'] });
    try {
      const net = service({ HTTPS_PROXY: blocking.url });
      const err = await net.fetch(url('api.anthropic.test'), {}, 'provider:anthropic').then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err instanceof NetError);
      assert.equal(err.kind, 'proxy_refused');
      assert.equal(err.status, 403);
      assert.match(err.message, /refused to connect to api\.anthropic\.test/);
      assert.equal((await json<Seen>(await net.fetch(url('api.openai.test'), {}, 'provider:openai'))).peer, PROXY_SOURCE, 'other hosts pass');
    } finally {
      await blocking.stop();
    }
  });

  it('reaches an https:// proxy over TLS verified under the same policy', async () => {
    const front = await startTlsFront('127.0.0.1', proxy.port, { cert: pki.cert, key: pki.key });
    try {
      const net = service({ HTTPS_PROXY: `https://127.0.0.1:${front.port}` });
      assert.equal((await json<Seen>(await net.fetch(url('api.openai.test'), {}, 'provider:openai'))).peer, PROXY_SOURCE);
      const untrusted = service({ HTTPS_PROXY: `https://127.0.0.1:${front.port}` }, { caCertificates: [pki.dpiCaPem] });
      const err = await untrusted.fetch(url('api.openai.test'), {}, 'provider:openai').then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err instanceof NetError && err.kind === 'tls_untrusted', String(err));
      assert.match(err.message, /Untrusted certificate for 127\.0\.0\.1/);
    } finally {
      await front.close();
    }
  });

  it('opens WSS through the proxy (CONNECT), with headers, and records it', async () => {
    const net = service({ HTTPS_PROXY: proxy.url, wss_proxy: 'http://127.0.0.1:1' });
    const ws = await net.openWebSocket(`wss://ws.multiclaw.test:${target.port}/v1/ws`, { headers: { authorization: 'Bearer t0k' } }, 'workspace:ws');
    const first = await new Promise<Seen>((resolve) => ws.once('message', (d) => resolve(JSON.parse(String(d)) as Seen)));
    assert.equal(first.peer, PROXY_SOURCE);
    assert.equal(first.authorization, 'Bearer t0k');
    ws.send('ping');
    assert.equal(String(await new Promise((resolve) => ws.once('message', resolve))), 'echo:ping');
    const closed = new Promise((resolve) => ws.once('close', resolve));
    ws.close();
    await closed;
    const e = net.ledger.list().find((x) => x.purpose === 'workspace:ws')!;
    assert.equal(e.scheme, 'wss');
    assert.equal(e.proxied, `127.0.0.1:${proxy.port}`);
    assert.match(e.tlsVersion ?? '', /^TLSv1\.[23]$/);
  });

  it('opens WSS directly for NO_PROXY hosts and fails clearly through a dead proxy', async () => {
    const direct = service({ HTTPS_PROXY: proxy.url, no_proxy: 'ws.multiclaw.test' });
    const ws = await direct.openWebSocket(`wss://ws.multiclaw.test:${target.port}/v1/ws`, {}, 'workspace:ws');
    const first = await new Promise<Seen>((resolve) => ws.once('message', (d) => resolve(JSON.parse(String(d)) as Seen)));
    assert.notEqual(first.peer, PROXY_SOURCE);
    ws.terminate();
    const dead = service({ HTTPS_PROXY: `http://127.0.0.1:${await freePort()}` });
    await assert.rejects(
      dead.openWebSocket(`wss://ws.multiclaw.test:${target.port}/v1/ws`, {}, 'workspace:ws'),
      (e: unknown) => e instanceof NetError && e.kind === 'proxy_unreachable',
    );
  });
});
