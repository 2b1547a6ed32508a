/** Link titles and favicons through NetService: only the URL / only the domain leave, cached, bounded, never blocking. */
import assert from 'node:assert/strict';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { isPublicUrl } from '../../../../src/gateway/net/linkPreviews';
import { NetService } from '../../../../src/gateway/net/net';
import { defaultNetConfig, type NetConfig } from '../../../../src/gateway/net/netConfig';
import { hasTinyproxy, makePki, startTinyproxy, testLookup, type Pki } from './helpers';

const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201a5f2f0e60000000049454e44ae426082',
  'hex',
);

describe('net: link previews and favicons', function () {
  this.timeout(20_000);
  let pki: Pki;
  let server: https.Server;
  let port = 0;
  const hits: Array<{ host: string; path: string }> = [];
  let stall = false;
  const services: NetService[] = [];

  before(async () => {
    pki = makePki();
    server = https.createServer({ cert: pki.cert, key: pki.key }, (req, res) => {
      hits.push({ host: req.headers.host ?? '', path: req.url ?? '' });
      if (stall) return; // never answers
      const u = new URL(req.url ?? '/', 'https://x');
      if (u.pathname === '/s2/favicons') {
        res.writeHead(200, { 'content-type': 'image/png' });
        res.end(PNG);
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: 'success', data: { title: `  Title of\n ${u.searchParams.get('url')}  ` } }));
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.2', () => r()));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    for (const s of services) s.dispose();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    pki.remove();
  });
  beforeEach(() => {
    hits.length = 0;
    stall = false;
  });

  function service(config: Partial<NetConfig> = {}, env: Record<string, string> = {}, timeoutMs = 4000): NetService {
    const s = new NetService({
      env,
      linkPreviews: { timeoutMs },
      lookup: testLookup(),
      trustBase: [],
      connectTimeoutMs: 3000,
      config: {
        ...defaultNetConfig(),
        caCertificates: [pki.caPem],
        linkPreviewService: `https://api.microlink.test:${port}`,
        faviconService: `https://www.google.test:${port}/s2/favicons`,
        ...config,
      },
    });
    services.push(s);
    return s;
  }

  it('sends only the URL to the preview service and only the domain to the favicon service', async () => {
    const net = service();
    const meta = await net.links.lookup('https://docs.example.com/guide/page?q=1#frag');
    assert.equal(meta.title, 'Title of https://docs.example.com/guide/page?q=1#frag');
    assert.equal(meta.favicon, `data:image/png;base64,${PNG.toString('base64')}`);
    const preview = hits.find((h) => h.host.startsWith('api.microlink.test'))!;
    const icon = hits.find((h) => h.host.startsWith('www.google.test'))!;
    assert.deepEqual([...new URL(preview.path, 'https://x').searchParams.keys()], ['url']);
    assert.equal(new URL(preview.path, 'https://x').searchParams.get('url'), 'https://docs.example.com/guide/page?q=1#frag');
    assert.deepEqual(Object.fromEntries(new URL(icon.path, 'https://x').searchParams), { domain: 'docs.example.com', sz: '32' });
    assert.ok(!icon.path.includes('guide'), 'no path goes to the favicon service');
    assert.deepEqual(
      net.ledger
        .list()
        .map((e) => e.purpose)
        .sort(),
      ['favicon', 'link-preview'],
    );
  });

  it('caches titles per URL and favicons per domain', async () => {
    const net = service();
    await net.links.lookup('https://a.example.com/1');
    await net.links.lookup('https://a.example.com/1');
    await net.links.lookup('https://a.example.com/2');
    assert.equal(hits.filter((h) => h.host.startsWith('api.microlink.test')).length, 2);
    assert.equal(hits.filter((h) => h.host.startsWith('www.google.test')).length, 1);
  });

  it('never sends local, private or intranet URLs, and sends nothing when the settings are off', async () => {
    for (const u of [
      'http://localhost:3000/x',
      'http://127.0.0.1/x',
      'http://10.1.2.3/x',
      'http://192.168.0.1/',
      'https://[fd00::1]/',
      'http://intranet/x',
      'https://build.corp/x',
      'file:///etc/passwd',
      'https://user:pw@example.com/',
    ]) {
      assert.equal(isPublicUrl(u), undefined, u);
    }
    assert.ok(isPublicUrl('https://example.com/x'));
    const net = service();
    assert.deepEqual(await net.links.lookup('http://192.168.1.10/admin'), { url: 'http://192.168.1.10/admin' });
    const off = service({ linkPreviews: false, favicons: false });
    assert.deepEqual(await off.links.lookup('https://example.com/'), { url: 'https://example.com/' });
    assert.equal(hits.length, 0);
    assert.equal(off.ledger.list().length, 0);
  });

  it('gives up after its timeout when a service stalls, and caches the failure briefly', async () => {
    stall = true;
    const net = service({}, {}, 300);
    const started = Date.now();
    const meta = await net.links.lookup('https://slow.example.com/');
    assert.deepEqual(meta, { url: 'https://slow.example.com/' });
    assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
    const count = hits.length;
    await net.links.lookup('https://slow.example.com/');
    assert.equal(hits.length, count, 'the failure is cached');
  });

  it('renders without them when a proxy blocks the services (blocked-connection rows: Microlink, Google favicon)', async function () {
    if (!hasTinyproxy) this.skip();
    const proxy = await startTinyproxy({ blocked: ['api.microlink.test', 'www.google.test'] });
    try {
      const net = service({}, { HTTPS_PROXY: proxy.url });
      assert.deepEqual(await net.links.lookup('https://example.com/'), { url: 'https://example.com/' });
      assert.equal(hits.length, 0);
      assert.ok(net.ledger.list().every((e) => /refused to connect/.test(e.error ?? '')));
    } finally {
      await proxy.stop();
    }
  });
});
