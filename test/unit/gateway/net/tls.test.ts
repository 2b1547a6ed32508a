/**
 * The TLS policy against real servers under a private CA: trust sources, DPI detection that names
 * the presented issuer, TLS 1.1 refused, hostname mismatch, strictSSL off (visible), and a provider
 * reply that fails with the clear error.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { MemorySink, RedactingLogger } from '../../../../src/gateway/log/logger';
import { Redactor } from '../../../../src/gateway/log/redact';
import { NetError, NetService, type NetOptions } from '../../../../src/gateway/net/net';
import { defaultNetConfig, type NetConfig } from '../../../../src/gateway/net/netConfig';
import { buildTrust, systemCertificates } from '../../../../src/gateway/net/tlsPolicy';
import { ProviderError } from '../../../../src/gateway/providers/errors';
import { createProviderClient } from '../../../../src/gateway/providers/index';
import { hasTinyproxy, json, makePki, PROXY_SOURCE, startTarget, startTinyproxy, testLookup, type Pki, type Seen, type Target } from './helpers';

describe('net: TLS policy', function () {
  this.timeout(30_000);
  let pki: Pki;
  let good: Target;
  let dpi: Target;
  let old: Target;
  const services: NetService[] = [];

  before(async () => {
    pki = makePki();
    good = await startTarget('127.0.0.2', { cert: pki.cert, key: pki.key });
    dpi = await startTarget('127.0.0.3', { cert: pki.dpiCert, key: pki.dpiKey });
    old = await startTarget('127.0.0.4', { cert: pki.cert, key: pki.key, minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' });
  });
  after(async () => {
    for (const s of services) s.dispose();
    await good?.close();
    await dpi?.close();
    await old?.close();
    pki?.remove();
  });

  function service(config: Partial<NetConfig> = {}, options: NetOptions = {}): NetService {
    const s = new NetService({
      env: {},
      lookup: testLookup(),
      trustBase: [],
      connectTimeoutMs: 5000,
      ...options,
      config: { ...defaultNetConfig(), caCertificates: [pki.caPem], ...config },
    });
    services.push(s);
    return s;
  }
  const failure = (p: Promise<unknown>): Promise<NetError> =>
    p.then(
      () => assert.fail('expected a failure'),
      (e: unknown) => {
        assert.ok(e instanceof NetError, String(e));
        return e;
      },
    );

  it('trusts the configured CA (PEM text or file) and prefers TLS 1.3', async () => {
    const file = path.join(pki.dir, 'ca.pem');
    for (const ca of [pki.caPem, file]) {
      const net = service({ caCertificates: [ca] });
      const res = await net.fetch(`https://api.openai.test:${good.port}/x`, {}, 'provider:openai');
      assert.equal(res.status, 200);
      await res.arrayBuffer();
      const [e] = net.ledger.list();
      assert.equal(e!.tlsVersion, 'TLSv1.3');
      assert.ok(e!.bytesReceived > 0 && e!.bytesSent > 0, `bytes ${e!.bytesSent}/${e!.bytesReceived}`);
    }
  });

  it('trusts NODE_EXTRA_CA_CERTS, and reports an unreadable CA file without failing', async () => {
    const sink = new MemorySink();
    const logger = new RedactingLogger(sink, new Redactor());
    const net = service({ caCertificates: ['/nonexistent/corp-ca.pem'] }, { env: { NODE_EXTRA_CA_CERTS: path.join(pki.dir, 'ca.pem') }, logger });
    assert.equal((await net.fetch(`https://api.openai.test:${good.port}/x`, {}, 'provider:openai')).status, 200);
    assert.equal(net.trust.sources.extra, 1);
    assert.match(sink.lines.join('\n'), /corp-ca\.pem could not be read/);
  });

  it('uses the OS trust store where the runtime has it, else the bundled roots', () => {
    const t = buildTrust({ caCertificates: [] });
    const hasSystem = systemCertificates() !== undefined;
    assert.equal(t.sources.base, hasSystem ? 'system' : 'bundled');
    assert.ok(t.sources.baseCount > 10, `${t.sources.baseCount} roots`);
    if (!hasSystem) assert.equal(t.sources.baseCount, tls.rootCertificates.length);
  });

  it('explains an unknown CA as likely TLS inspection (DPI), naming the presented issuer', async () => {
    const net = service({}, { lookup: testLookup({ 'api.openai.test': '127.0.0.3' }) });
    const before = dpi.seen.length;
    const err = await failure(
      net.fetch(`https://api.openai.test:${dpi.port}/v1/chat/completions`, { method: 'POST', body: 'secret prompt' }, 'provider:openai'),
    );
    assert.equal(err.kind, 'tls_untrusted');
    assert.match(err.message, /issued by "Corp TLS Inspection CA" \(Example Corp\)/);
    assert.match(err.message, /TLS inspection \(DPI\)/);
    assert.match(err.advice ?? '', /exclude api\.openai\.test .*from TLS inspection/);
    assert.match(err.advice ?? '', /multiclaw\.network\.caCertificates/);
    assert.equal(dpi.seen.length, before, 'nothing was sent to the intercepting server');
    assert.match(net.ledger.list()[0]!.error ?? '', /Corp TLS Inspection CA/);
  });

  it('trusts the system store plus configured CAs, and not a private CA that is not configured', async () => {
    const net = new NetService({ env: {}, lookup: testLookup(), config: defaultNetConfig(), connectTimeoutMs: 5000 });
    services.push(net);
    const err = await failure(net.fetch(`https://api.openai.test:${good.port}/x`, {}, 'provider:openai'));
    assert.equal(err.kind, 'tls_untrusted');
    assert.match(err.message, /"MultiClaw Test Root CA" \(MultiClaw Tests\)/);
    // The same store plus the CA in multiclaw.network.caCertificates: trusted.
    const withCa = new NetService({ env: {}, lookup: testLookup(), config: { ...defaultNetConfig(), caCertificates: [pki.caPem] }, connectTimeoutMs: 5000 });
    services.push(withCa);
    assert.equal((await withCa.fetch(`https://api.openai.test:${good.port}/x`, {}, 'provider:openai')).status, 200);
    assert.equal(withCa.trust.sources.configured, 1);
  });

  it('refuses a server that only speaks TLS 1.1', async () => {
    // Control: the server does speak TLS 1.1 to a client that allows it.
    const version = await new Promise<string>((resolve, reject) => {
      const s = tls.connect(
        {
          host: '127.0.0.4',
          port: old.port,
          ca: pki.caPem,
          servername: 'old-tls.test',
          minVersion: 'TLSv1',
          maxVersion: 'TLSv1.1',
          ciphers: 'DEFAULT@SECLEVEL=0',
        },
        () => {
          resolve(s.getProtocol() ?? '');
          s.destroy();
        },
      );
      s.once('error', reject);
    });
    assert.equal(version, 'TLSv1.1');
    const net = service();
    const err = await failure(net.fetch(`https://old-tls.test:${old.port}/x`, {}, 'provider:openai'));
    assert.equal(err.kind, 'tls_version');
    assert.match(err.message, /does not offer TLS 1\.2 or newer/);
  });

  it('rejects a certificate for other names', async () => {
    const net = service({}, { lookup: testLookup({ 'wrong-name.example': '127.0.0.2' }) });
    const err = await failure(net.fetch(`https://wrong-name.example:${good.port}/x`, {}, 'provider:openai'));
    assert.equal(err.kind, 'tls_hostname');
    assert.match(err.message, /is for api\.openai\.test/);
  });

  it('with strictSSL false, connects without verification and says so in the log and the ledger', async () => {
    const sink = new MemorySink();
    const net = service({ strictSSL: false }, { logger: new RedactingLogger(sink, new Redactor()), lookup: testLookup({ 'api.openai.test': '127.0.0.3' }) });
    assert.match(sink.lines.join('\n'), /TLS certificate verification is OFF/);
    const res = await net.fetch(`https://api.openai.test:${dpi.port}/x`, {}, 'provider:openai');
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    assert.equal(net.ledger.list()[0]!.verified, false);
    assert.match(sink.lines.join('\n'), /unverified connection to api\.openai\.test: Untrusted certificate .*Corp TLS Inspection CA/);
  });

  it('explains DPI behind a proxy too, and a provider reply fails with that clear error', async function () {
    if (!hasTinyproxy) this.skip();
    const proxy = await startTinyproxy();
    try {
      const net = service({}, { env: { HTTPS_PROXY: proxy.url }, lookup: testLookup() });
      // Through the proxy to the good server: fine. To the intercepting one (corp.example.test -> 127.0.0.3): DPI.
      assert.equal((await json<Seen>(await net.fetch(`https://api.openai.test:${good.port}/x`, {}, 'provider:openai'))).peer, PROXY_SOURCE);
      const logger = new RedactingLogger(new MemorySink(), new Redactor());
      const client = createProviderClient(
        'openai',
        { baseUrl: `https://corp.example.test:${dpi.port}/v1`, apiKey: 'sk-test-0000000000000000' },
        { net, logger, retry: { baseDelayMs: 1, maxDelayMs: 2 } },
      );
      const err = await (async () => {
        for await (const _ of client.stream({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] })) void _;
      })().then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err instanceof ProviderError, String(err));
      assert.equal(err.kind, 'network');
      assert.match(err.message, /Could not reach OpenAI \(Untrusted certificate for corp\.example\.test, issued by "Corp TLS Inspection CA"/);
      const dpiEntries = net.ledger.list().filter((e) => e.host === 'corp.example.test');
      assert.ok(dpiEntries.length >= 1 && dpiEntries.every((e) => e.proxied === `127.0.0.1:${proxy.port}` && /Corp TLS/.test(e.error ?? '')));
    } finally {
      await proxy.stop();
    }
  });

  it('keeps the secure context off the per-connection path (one context per configuration)', () => {
    const net = service();
    const a = net.connectorContext().trust.context;
    assert.equal(net.connectorContext().trust.context, a);
    net.configure({ ...net.config, caCertificates: [fs.readFileSync(path.join(pki.dir, 'ca.pem'), 'utf8')] });
    assert.notEqual(net.connectorContext().trust.context, a);
  });
});
