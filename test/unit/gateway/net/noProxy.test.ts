import assert from 'node:assert/strict';
import { isLoopbackHost, matchesNoProxy, parseNoProxy } from '../../../../src/gateway/net/noProxy';
import { decideProxy, redactProxy, resolveProxySettings } from '../../../../src/gateway/net/proxySettings';

const none = { vscodeProxy: '', vscodeNoProxy: [] as string[] };
const direct = (noProxy: string, host: string, port = 443): boolean => matchesNoProxy(parseNoProxy(noProxy), host, port);

describe('net: NO_PROXY rules', () => {
  it('matches exact hosts and their subdomains, never a look-alike', () => {
    assert.equal(direct('example.com', 'example.com'), true);
    assert.equal(direct('example.com', 'api.example.com'), true);
    assert.equal(direct('example.com', 'badexample.com'), false);
    assert.equal(direct('example.com', 'example.com.evil.test'), false);
    assert.equal(direct('EXAMPLE.com', 'Example.COM.'), true);
  });

  it('matches .suffix and *.suffix entries', () => {
    assert.equal(direct('.corp.test', 'a.b.corp.test'), true);
    assert.equal(direct('*.corp.test', 'x.corp.test'), true);
    assert.equal(direct('*.corp.test', 'xcorp.test'), false);
  });

  it('treats * as "never proxy" and ignores empty or junk entries', () => {
    assert.equal(direct('*', 'anything.test'), true);
    assert.equal(direct(' , ,', 'anything.test'), false);
    assert.deepEqual(parseNoProxy('bad/host, 10.0.0.0/99, ,'), []);
  });

  it('honours host:port entries only on that port', () => {
    assert.equal(direct('api.test:8443', 'api.test', 8443), true);
    assert.equal(direct('api.test:8443', 'api.test', 443), false);
    assert.equal(direct('[2001:db8::1]:8080', '2001:db8::1', 8080), true);
    assert.equal(direct('[2001:db8::1]:8080', '2001:db8::1', 80), false);
  });

  it('matches IPv4 and IPv6 literals and CIDR ranges (beyond undici)', () => {
    assert.equal(direct('10.0.0.0/8', '10.20.30.40'), true);
    assert.equal(direct('10.0.0.0/8', '11.0.0.1'), false);
    assert.equal(direct('192.168.1.0/24', '192.168.1.255'), true);
    assert.equal(direct('192.168.1.0/24', '192.168.2.1'), false);
    assert.equal(direct('172.16.0.0/12', '172.31.255.1'), true);
    assert.equal(direct('172.16.0.0/12', '172.32.0.1'), false);
    assert.equal(direct('203.0.113.7', '203.0.113.7'), true);
    assert.equal(direct('203.0.113.7', '203.0.113.8'), false);
    assert.equal(direct('fd00::/8', 'fd12:3456::1'), true);
    assert.equal(direct('fd00::/8', 'fe80::1'), false);
    assert.equal(direct('2001:db8::/32', '[2001:db8:ffff::1]'), true);
    assert.equal(direct('10.0.0.0/8', '::ffff:10.1.2.3'), true, 'an IPv4-mapped address matches its IPv4 range');
    assert.equal(direct('0.0.0.0/0', '8.8.8.8'), true);
    // A CIDR entry never matches a name: the decision is made before DNS.
    assert.equal(direct('10.0.0.0/8', 'ten.example.test'), false);
  });

  it('knows loopback: localhost, *.localhost, 127.0.0.0/8, ::1', () => {
    for (const h of ['localhost', 'LOCALHOST', 'app.localhost', '127.0.0.1', '127.9.8.7', '::1', '[::1]', '::ffff:127.0.0.1'])
      assert.equal(isLoopbackHost(h), true, h);
    for (const h of ['localhost.example.test', '128.0.0.1', '::2', 'example.test']) assert.equal(isLoopbackHost(h), false, h);
  });
});

describe('net: proxy settings', () => {
  const P = 'http://proxy.corp.test:3128';
  it('reads either case; lower case wins, as in curl', () => {
    assert.equal(resolveProxySettings({ HTTPS_PROXY: P }, none).https?.host, 'proxy.corp.test:3128');
    assert.equal(resolveProxySettings({ https_proxy: P }, none).https?.host, 'proxy.corp.test:3128');
    const both = resolveProxySettings({ https_proxy: 'http://lower.test:1', HTTPS_PROXY: 'http://upper.test:2', no_proxy: 'a.test', NO_PROXY: 'b.test' }, none);
    assert.equal(both.https?.hostname, 'lower.test');
    assert.equal(both.source.https, 'https_proxy');
    assert.equal(matchesNoProxy(both.noProxy, 'a.test', 443), true);
    assert.equal(matchesNoProxy(both.noProxy, 'b.test', 443), false);
    // An empty lower-case value means "no proxy" even when the upper-case one is set.
    assert.equal(resolveProxySettings({ https_proxy: '', HTTPS_PROXY: P }, none).https, undefined);
  });

  it('falls back to VS Code http.proxy / http.noProxy when the environment has none', () => {
    const s = resolveProxySettings({}, { vscodeProxy: 'proxy.vscode.test:8080', vscodeNoProxy: ['intranet.test', '10.0.0.0/8'] });
    assert.equal(s.https?.href, 'http://proxy.vscode.test:8080/');
    assert.equal(s.http?.href, 'http://proxy.vscode.test:8080/');
    assert.equal(s.source.https, 'http.proxy');
    assert.equal(matchesNoProxy(s.noProxy, 'intranet.test', 443), true);
    assert.equal(matchesNoProxy(s.noProxy, '10.1.1.1', 443), true);
    // The environment wins over the VS Code settings.
    const env = resolveProxySettings({ HTTPS_PROXY: P, NO_PROXY: 'only.test' }, { vscodeProxy: 'proxy.vscode.test:8080', vscodeNoProxy: ['intranet.test'] });
    assert.equal(env.https?.hostname, 'proxy.corp.test');
    assert.equal(matchesNoProxy(env.noProxy, 'intranet.test', 443), false);
  });

  it('decides per scheme; wss uses the https proxy and ws the http proxy (never wss_proxy)', () => {
    const s = resolveProxySettings(
      { https_proxy: 'http://secure.test:1', http_proxy: 'http://plain.test:2', wss_proxy: 'http://wrong.test:3', no_proxy: '10.0.0.0/8,.corp.test' },
      none,
    );
    assert.equal(decideProxy(s, new URL('wss://ws.multiclaw.test/v1')).proxy?.hostname, 'secure.test');
    assert.equal(decideProxy(s, new URL('https://api.openai.test')).proxy?.hostname, 'secure.test');
    assert.equal(decideProxy(s, new URL('ws://x.test')).proxy?.hostname, 'plain.test');
    assert.equal(decideProxy(s, new URL('http://x.test')).proxy?.hostname, 'plain.test');
    assert.equal(decideProxy(s, new URL('https://10.2.3.4:8443')).reason, 'no_proxy');
    assert.equal(decideProxy(s, new URL('https://git.corp.test')).reason, 'no_proxy');
    assert.equal(decideProxy(s, new URL('http://127.0.0.1:11434/v1')).reason, 'loopback');
    assert.equal(decideProxy(s, new URL('https://[::1]:1234')).reason, 'loopback');
    assert.equal(decideProxy(resolveProxySettings({ no_proxy: '' }, none), new URL('https://x.test')).reason, 'no proxy configured');
  });

  it('ignores an unreadable proxy with a warning, and never prints credentials', () => {
    const warnings: string[] = [];
    const s = resolveProxySettings({ HTTPS_PROXY: 'socks5://user:secret@h.test:1080' }, none, (m) => warnings.push(m));
    assert.equal(s.https, undefined);
    assert.equal(warnings.length, 1);
    assert.ok(!warnings[0]!.includes('secret'), warnings[0]);
    assert.equal(redactProxy('http://alice:s3cret@proxy.test:3128'), 'http://alice:***@proxy.test:3128');
    assert.equal(redactProxy(new URL('http://proxy.test:3128')), 'http://proxy.test:3128');
  });
});
