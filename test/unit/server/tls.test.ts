import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import WebSocket from 'ws';
import { startTestServer, WsClient, type TestServer } from '../../support/server';

/** Tries a TLS handshake capped at `max`; resolves with the negotiated version or the error code. */
function handshake(port: number, ca: Buffer, min: tls.SecureVersion, max: tls.SecureVersion): Promise<string> {
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca, minVersion: min, maxVersion: max, ciphers: 'DEFAULT@SECLEVEL=0' }, () => {
      resolve(s.getProtocol() ?? 'unknown');
      s.end();
    });
    s.on('error', (e: NodeJS.ErrnoException) => resolve(`error:${e.code ?? e.message}`));
  });
}

describe('server TLS', () => {
  let dir: string;
  let cert: Buffer;
  let key: Buffer;
  let ts: TestServer;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-server-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
        '-keyout',
        path.join(dir, 'key.pem'),
        '-out',
        path.join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    cert = fs.readFileSync(path.join(dir, 'cert.pem'));
    key = fs.readFileSync(path.join(dir, 'key.pem'));
    ts = await startTestServer({ tls: { cert, key } });
  });
  after(async () => {
    await ts.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refuses TLS 1.1 and accepts TLS 1.2 and 1.3', async () => {
    // Control: this client can speak TLS 1.1 at all (a server that allows it negotiates it).
    const lax = tls.createServer({ cert, key, minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' }, (s) => s.end());
    await new Promise<void>((r) => lax.listen(0, '127.0.0.1', () => r()));
    try {
      assert.equal(await handshake((lax.address() as { port: number }).port, cert, 'TLSv1', 'TLSv1.1'), 'TLSv1.1');
    } finally {
      lax.close();
    }
    const old = await handshake(ts.server.port, cert, 'TLSv1', 'TLSv1.1');
    assert.match(old, /^error:/);
    assert.match(old, /VERSION|PROTOCOL|ALERT/i);
    assert.equal(await handshake(ts.server.port, cert, 'TLSv1.2', 'TLSv1.2'), 'TLSv1.2');
    assert.equal(await handshake(ts.server.port, cert, 'TLSv1.2', 'TLSv1.3'), 'TLSv1.3');
  });

  it('serves REST and WSS over TLS', async () => {
    assert.match(ts.url, /^https:\/\//);
    const body = await new Promise<string>((resolve, reject) => {
      https
        .get(`${ts.url}/v1/health`, { ca: cert }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve(text));
        })
        .on('error', reject);
    });
    assert.equal((JSON.parse(body) as { protocol: number }).protocol, 1);
    const token = await signInOverTls(ts, cert);
    const c = new WsClient(new WebSocket(ts.wsUrl, { ca: cert, headers: { authorization: `Bearer ${token}` } }));
    await c.opened;
    c.send({ type: 'hello', protocol: 1, client: { name: 'tls', version: '1' } });
    assert.equal((await c.next((f) => f.type === 'welcome')).type, 'welcome');
    c.close();
  });
});

/** Signs in over HTTPS (trusting the throwaway cert) and returns a session token. */
async function signInOverTls(ts: TestServer, ca: Buffer): Promise<string> {
  const post = (p: string, payload: unknown, token?: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const data = JSON.stringify(payload);
      const req = https.request(
        `${ts.url}${p}`,
        { method: 'POST', ca, headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) } },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve(JSON.parse(text) as Record<string, unknown>));
        },
      );
      req.on('error', reject);
      req.end(data);
    });
  await ts.admin.createUser('tls@example.test', 'TLS', 'tls-password-1');
  const w = await ts.admin.createWorkspace('tls-team', 'TLS', 'tls@example.test');
  const login = await post('/v1/auth/login', { email: 'tls@example.test', password: 'tls-password-1' });
  const mint = await post('/v1/session-tokens', { workspaceId: w.id }, (login.session as { token: string }).token);
  return mint.token as string;
}
