import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { canUseNamespaces, hasTinyproxy, makePki, NS_ADDRESSES, PROXY_SOURCE, type Pki } from './helpers';

describe('net: NO_PROXY CIDR ranges against real addresses (private network namespace)', function () {
  this.timeout(30_000);
  let pki: Pki;
  before(function () {
    if (!canUseNamespaces || !hasTinyproxy) this.skip(); // needs root (unshare -mn) and tinyproxy
    pki = makePki();
  });
  after(() => pki?.remove());

  it('sends an IP in a NO_PROXY CIDR range direct (HTTPS and WSS) and one outside it through the proxy', async () => {
    const script = path.join(__dirname, 'cidrScenario.js');
    const setup = ['ip link set lo up', ...NS_ADDRESSES.map((a) => `ip addr add ${a}/32 dev lo`), `exec "${process.execPath}" "${script}"`].join(' && ');
    const out = await new Promise<string>((resolve, reject) => {
      execFile('unshare', ['-mn', 'sh', '-c', setup], { env: { ...process.env, MC_PKI_DIR: pki.dir }, timeout: 25_000 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`${err.message}\n${stdout}\n${stderr}`));
        else resolve(stdout);
      });
    });
    const r = JSON.parse(out.trim().split('\n').pop()!) as Record<string, string>;
    assert.equal(r.outOfRange, PROXY_SOURCE, JSON.stringify(r));
    assert.notEqual(r.inRange, PROXY_SOURCE, JSON.stringify(r));
    assert.match(r.inRange!, /^\d+\.\d+\.\d+\.\d+$/, JSON.stringify(r));
    assert.notEqual(r.wsInRange, PROXY_SOURCE, JSON.stringify(r));
    assert.match(r.proxied!, /198\.51\.100\.1=direct .*203\.0\.113\.1=127\.0\.0\.1:\d+/, r.proxied);
  });
});
