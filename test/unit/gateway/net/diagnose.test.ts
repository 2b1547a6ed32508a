/** Diagnose Connection against real servers: each step's ✓/✗, the DPI advice, and no secrets in the report. */
import assert from 'node:assert/strict';
import { describeEnvironment, diagnose, formatReport } from '../../../../src/gateway/net/diagnose';
import { NetService } from '../../../../src/gateway/net/net';
import { defaultNetConfig } from '../../../../src/gateway/net/netConfig';
import { freePort } from '../../../support/net';
import { hasTinyproxy, makePki, startTarget, startTinyproxy, testLookup, type Pki, type Target, type Tinyproxy } from './helpers';

describe('net: Diagnose Connection', function () {
  this.timeout(30_000);
  let pki: Pki;
  let good: Target;
  let dpi: Target;
  let proxy: Tinyproxy | undefined;
  const services: NetService[] = [];
  before(async () => {
    pki = makePki();
    good = await startTarget('127.0.0.2', { cert: pki.cert, key: pki.key });
    dpi = await startTarget('127.0.0.3', { cert: pki.dpiCert, key: pki.dpiKey });
    if (hasTinyproxy) proxy = await startTinyproxy({ auth: { user: 'diag', pass: 'SuperSecret1' }, blocked: ['api.anthropic.test'] });
  });
  after(async () => {
    for (const s of services) s.dispose();
    await good?.close();
    await dpi?.close();
    await proxy?.stop();
    pki?.remove();
  });
  const service = (env: Record<string, string> = {}): NetService => {
    const s = new NetService({
      env,
      lookup: testLookup(),
      trustBase: [],
      connectTimeoutMs: 3000,
      config: { ...defaultNetConfig(), caCertificates: [pki.caPem] },
    });
    services.push(s);
    return s;
  };

  it('checks DNS, TCP, TLS (version and issuer), HTTP and the WebSocket upgrade, direct', async () => {
    const net = service();
    const dead = await freePort();
    const r = await diagnose(
      net,
      [
        { label: 'OpenAI', url: `https://api.openai.test:${good.port}/v1`, purpose: 'provider:openai' },
        { label: 'Workspace (WSS)', url: `wss://ws.multiclaw.test:${good.port}/v1/ws`, purpose: 'workspace:ws' },
        { label: 'Intercepted', url: `https://corp.example.test:${dpi.port}/`, purpose: 'provider:gemini' },
        { label: 'Down', url: `https://api.openai.test:${dead}/`, purpose: 'provider:openai' },
        { label: 'Unknown', url: 'https://no-such-host.test/', purpose: 'provider:openai' },
      ],
      describeEnvironment(net),
    );
    const [ok, ws, intercepted, down, unknown] = r.targets;
    assert.equal(ok!.ok, true);
    assert.deepEqual(
      ok!.steps.map((s) => [s.name, s.ok]),
      [
        ['DNS', true],
        ['Proxy', null],
        ['TCP', true],
        ['TLS', true],
        ['HTTP', true],
      ],
    );
    assert.match(ok!.steps[0]!.detail, /127\.0\.0\.2/);
    assert.match(ok!.steps[3]!.detail, /^TLSv1\.3, certificate issued by "MultiClaw Test Root CA"/);
    assert.equal(ws!.steps.at(-1)!.name, 'WebSocket upgrade');
    assert.equal(ws!.steps.at(-1)!.ok, true);
    assert.match(ws!.steps.at(-1)!.detail, /101/);
    assert.equal(intercepted!.ok, false);
    assert.equal(intercepted!.steps.find((s) => s.name === 'TLS')!.ok, false);
    assert.match(intercepted!.steps.find((s) => s.name === 'TLS')!.detail, /Corp TLS Inspection CA/);
    assert.match(intercepted!.advice ?? '', /exclude corp\.example\.test/);
    assert.equal(down!.steps.find((s) => s.name === 'TCP')!.ok, false);
    assert.deepEqual(
      unknown!.steps.map((s) => [s.name, s.ok]),
      [['DNS', false]],
    );
    const text = formatReport(r);
    assert.match(text, /## ✓ OpenAI — https:\/\/api\.openai\.test:\d+/);
    assert.match(text, /## ✗ Intercepted/);
    assert.match(text, /Summary: 2 of 5 reachable\./);
  });

  it('goes through the proxy (CONNECT), reports a blocked host, and never prints the proxy password', async function () {
    if (!proxy) this.skip();
    const net = service({ HTTPS_PROXY: proxy!.url });
    const r = await diagnose(
      net,
      [
        { label: 'OpenAI', url: `https://api.openai.test:${good.port}/v1`, purpose: 'provider:openai' },
        { label: 'Anthropic', url: `https://api.anthropic.test:${good.port}/v1`, purpose: 'provider:anthropic' },
        { label: 'Workspace (WSS)', url: `wss://ws.multiclaw.test:${good.port}/v1/ws`, purpose: 'workspace:ws' },
      ],
      describeEnvironment(net),
    );
    const [ok, blocked, ws] = r.targets;
    assert.deepEqual(
      ok!.steps.map((s) => [s.name, s.ok]),
      [
        ['DNS', null],
        ['Proxy', true],
        ['TCP', true],
        ['TLS', true],
        ['HTTP', true],
      ],
    );
    assert.match(ok!.steps[1]!.detail, /CONNECT through http:\/\/diag:\*\*\*@127\.0\.0\.1:\d+/);
    assert.equal(blocked!.steps.find((s) => s.name === 'Proxy')!.ok, false);
    assert.match(blocked!.steps.find((s) => s.name === 'Proxy')!.detail, /refused to connect to api\.anthropic\.test.*403/);
    assert.equal(ws!.ok, true);
    const text = formatReport(r);
    assert.ok(!text.includes('SuperSecret1'), 'no proxy password');
    assert.match(text, /HTTPS proxy: http:\/\/diag:\*\*\*@127\.0\.0\.1:\d+ \(from HTTPS_PROXY\)/);
    assert.ok(net.ledger.list().every((e) => e.purpose === 'diagnostics'));
  });
});
