/** Proves "nothing opens a socket around src/gateway/net": no product file outside it imports a socket or HTTP client module. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '../../../../..');
// Listeners are not outbound: the reference workspace server and the local API (127.0.0.1) may import http/ws.
const ALLOWED = ['src/gateway/net/', 'src/gateway/localApi/', 'src/server/', 'src/webviews/'];
const MODULES = /(?:from\s+|require\(\s*|import\(\s*)['"](?:node:)?(http|https|http2|net|tls|dgram|undici(?:\/[^'"]*)?|ws)['"]/g;

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    return d.isDirectory() ? files(p) : d.name.endsWith('.ts') && !d.name.endsWith('.d.ts') ? [p] : [];
  });
}

describe('net: one owner of outbound connections', () => {
  it('no product file outside src/gateway/net imports http, https, net, tls, undici or ws (except type-only)', () => {
    const offenders: string[] = [];
    for (const f of files(path.join(root, 'src'))) {
      const rel = path.relative(root, f).split(path.sep).join('/');
      if (ALLOWED.some((a) => rel.startsWith(a))) continue;
      const text = fs.readFileSync(f, 'utf8');
      for (const line of text.split('\n')) {
        MODULES.lastIndex = 0;
        if (MODULES.test(line) && !/^\s*import\s+type\b/.test(line)) offenders.push(`${rel}: ${line.trim()}`);
      }
      // The global fetch (Node's bundled undici) ignores our proxy and TLS policy.
      // A call, not a declaration (`get fetch()`, `async fetch(`, `function fetch(`).
      if (/(?<![.\w])(?<!\b(?:get|set|async|function)\s+)fetch\(/.test(text.replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, '')))
        offenders.push(`${rel}: calls the global fetch()`);
    }
    assert.deepEqual(offenders, []);
  });
});
