/**
 * Real parts for the network tests, all on loopback: a private PKI made with openssl at test time,
 * HTTPS + WSS target servers on 127.0.0.x that report the TCP peer they saw, tinyproxy (Debian) on a
 * free port with its own config (outgoing connections bound to 127.0.0.5, so a target can tell a
 * proxied connection from a direct one), and a DNS hook that maps test host names to 127.0.0.x.
 * tinyproxy resolves names itself: it runs in a private mount namespace whose /etc/hosts maps them.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo, type LookupFunction } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { WebSocketServer } from 'ws';
import { freePort } from '../../../support/net';

export const PROXY_SOURCE = '127.0.0.5';

/** Non-loopback test addresses (TEST-NET-2/3) that exist only inside a private network namespace. */
export const NS_ADDRESSES = ['198.51.100.1', '203.0.113.1'];

/** Test host names and the loopback address each maps to. */
export const HOSTS: Record<string, string> = {
  'api.openai.test': '127.0.0.2',
  'api.anthropic.test': '127.0.0.2',
  'generativelanguage.googleapis.test': '127.0.0.2',
  'api.multiclaw.test': '127.0.0.2',
  'ws.multiclaw.test': '127.0.0.2',
  'api.microlink.test': '127.0.0.2',
  'www.google.test': '127.0.0.2',
  'corp.example.test': '127.0.0.3',
  'old-tls.test': '127.0.0.4',
};

/** A DNS hook for node:net (handles `all: true`, which autoSelectFamily asks for). */
export function testLookup(extra: Record<string, string> = {}): LookupFunction {
  const map = { ...HOSTS, ...extra };
  return ((hostname: string, options: { all?: boolean }, cb: (...args: unknown[]) => void) => {
    const address = map[hostname] ?? (net.isIP(hostname) ? hostname : undefined);
    if (!address) {
      const err = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname });
      return process.nextTick(() => cb(err));
    }
    const family = net.isIP(address);
    process.nextTick(() => (options?.all ? cb(null, [{ address, family }]) : cb(null, address, family)));
  }) as unknown as LookupFunction;
}

export interface Pki {
  dir: string;
  /** The private CA we trust in tests. */
  caPem: string;
  cert: string;
  key: string;
  /** An "inspection" CA we do not trust, and a leaf it signed for the same names (a DPI proxy). */
  dpiCaPem: string;
  dpiCert: string;
  dpiKey: string;
  remove(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'ignore' });
}

function issue(dir: string, caName: string, leafName: string, names: string[]): void {
  const san = names.map((n) => (net.isIP(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
  fs.writeFileSync(path.join(dir, `${leafName}.ext`), `subjectAltName=${san}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`);
  openssl(
    [
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      `${leafName}.key`,
      '-out',
      `${leafName}.csr`,
      '-subj',
      `/CN=${names[0]}`,
    ],
    dir,
  );
  openssl(
    [
      'x509',
      '-req',
      '-in',
      `${leafName}.csr`,
      '-CA',
      `${caName}.pem`,
      '-CAkey',
      `${caName}.key`,
      '-CAcreateserial',
      '-days',
      '2',
      '-out',
      `${leafName}.pem`,
      '-extfile',
      `${leafName}.ext`,
    ],
    dir,
  );
}

function makeCa(dir: string, name: string, subject: string): void {
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '2',
      '-subj',
      subject,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.pem`,
    ],
    dir,
  );
}

export function makePki(): Pki {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-net-pki-'));
  const names = [...Object.keys(HOSTS), 'localhost', '127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4', ...NS_ADDRESSES];
  makeCa(dir, 'ca', '/CN=MultiClaw Test Root CA/O=MultiClaw Tests');
  issue(dir, 'ca', 'leaf', names);
  makeCa(dir, 'dpi', '/CN=Corp TLS Inspection CA/O=Example Corp');
  issue(dir, 'dpi', 'dpileaf', names);
  const read = (f: string): string => fs.readFileSync(path.join(dir, f), 'utf8');
  return {
    dir,
    caPem: read('ca.pem'),
    cert: read('leaf.pem'),
    key: read('leaf.key'),
    dpiCaPem: read('dpi.pem'),
    dpiCert: read('dpileaf.pem'),
    dpiKey: read('dpileaf.key'),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

export interface Seen {
  peer: string;
  host: string;
  path: string;
  authorization: string | null;
}

export interface Target {
  address: string;
  port: number;
  /** Every request and upgrade, in order. */
  seen: Seen[];
  close(): Promise<void>;
}

/**
 * An HTTPS (or HTTP) + WSS server on `address`. GET /bytes/<n> returns n bytes; anything else returns
 * JSON {peer, host, path}. WebSocket clients get that JSON as their first message, then echo.
 */
export async function startTarget(address: string, tlsOptions?: tls.TlsOptions): Promise<Target> {
  const seen: Seen[] = [];
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const s: Seen = {
      peer: req.socket.remoteAddress ?? '',
      host: req.headers.host ?? '',
      path: req.url ?? '',
      authorization: req.headers.authorization ?? null,
    };
    seen.push(s);
    const m = /^\/bytes\/(\d+)/.exec(req.url ?? '');
    if (m) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': m[1] });
      res.end(Buffer.alloc(Number(m[1]), 120));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(s));
  };
  const server = tlsOptions ? https.createServer(tlsOptions, handler) : http.createServer(handler);
  server.keepAliveTimeout = 1000;
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws, req) => {
    const s: Seen = {
      peer: req.socket.remoteAddress ?? '',
      host: req.headers.host ?? '',
      path: req.url ?? '',
      authorization: req.headers.authorization ?? null,
    };
    seen.push(s);
    ws.send(JSON.stringify(s));
    ws.on('message', (data) => ws.send(`echo:${String(data)}`));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, address, () => resolve());
  });
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.on('secureConnection', () => undefined);
  return {
    address,
    port: (server.address() as AddressInfo).port,
    seen,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export const canUseNamespaces = ((): boolean => {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('unshare', ['-m', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

export const hasTinyproxy = ((): boolean => {
  try {
    execFileSync('tinyproxy', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

export interface Tinyproxy {
  port: number;
  /** http://[user:pass@]127.0.0.1:port */
  url: string;
  log(): string;
  stop(): Promise<void>;
}

export interface TinyproxyOptions {
  auth?: { user: string; pass: string };
  /** Host names (ERE, anchored) the proxy refuses with 403, like a corporate allowlist would. */
  blocked?: string[];
}

/** Starts tinyproxy on a free port with its own config; resolves when it accepts connections. */
export async function startTinyproxy(options: TinyproxyOptions = {}): Promise<Tinyproxy> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-tinyproxy-'));
  fs.chmodSync(dir, 0o755);
  const hosts = ['127.0.0.1 localhost', ...Object.entries(HOSTS).map(([h, a]) => `${a} ${h}`)].join('\n') + '\n';
  fs.writeFileSync(path.join(dir, 'hosts'), hosts);
  const filter = path.join(dir, 'filter');
  fs.writeFileSync(filter, (options.blocked ?? []).map((h) => `^${h.replace(/\./g, '\\.')}$`).join('\n') + '\n');
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const conf = [
      `Port ${port}`,
      'Listen 127.0.0.1',
      `Bind ${PROXY_SOURCE}`,
      'Timeout 30',
      'MaxClients 100',
      'Allow 127.0.0.0/8',
      'LogLevel Info',
      'User nobody',
      'Group nogroup',
      ...(options.blocked?.length ? [`Filter "${filter}"`, 'FilterType ere', 'FilterURLs Off', 'FilterDefaultDeny No'] : []),
      ...(options.auth ? [`BasicAuth ${options.auth.user} ${options.auth.pass}`] : []),
    ].join('\n');
    fs.writeFileSync(path.join(dir, 'tinyproxy.conf'), conf + '\n');
    const confPath = path.join(dir, 'tinyproxy.conf');
    const child: ChildProcess = canUseNamespaces
      ? spawn('unshare', ['-m', 'sh', '-c', `mount --bind "${path.join(dir, 'hosts')}" /etc/hosts && exec tinyproxy -d -c "${confPath}"`], {
          stdio: ['ignore', 'pipe', 'pipe'],
        })
      : spawn('tinyproxy', ['-d', '-c', confPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    const ready = await new Promise<boolean>((resolve) => {
      const onData = (d: Buffer): void => {
        log += d.toString();
        if (log.includes('Accepting connections')) resolve(true);
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', () => resolve(false));
      setTimeout(() => resolve(false), 10_000).unref();
    });
    if (!ready) {
      child.kill('SIGKILL');
      if (attempt < 2) continue;
      throw new Error(`tinyproxy did not start:\n${log}`);
    }
    const auth = options.auth ? `${options.auth.user}:${options.auth.pass}@` : '';
    return {
      port,
      url: `http://${auth}127.0.0.1:${port}`,
      log: () => log,
      stop: async () => {
        if (child.exitCode === null) {
          const exited = new Promise((r) => child.once('exit', r));
          child.kill('SIGTERM');
          await exited;
        }
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  }
}

/** A TLS server that terminates TLS and pipes the plaintext to a local TCP port (HTTPS in front of an HTTP fixture). */
export async function startTlsFront(address: string, targetPort: number, tlsOptions: tls.TlsOptions): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = tls.createServer(tlsOptions, (s) => {
    const up = net.connect(targetPort, '127.0.0.1');
    s.pipe(up).pipe(s);
    const kill = (): void => {
      s.destroy();
      up.destroy();
    };
    s.on('error', kill).on('close', kill);
    up.on('error', kill).on('close', kill);
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, address, () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Reads a fetch Response body as JSON. */
export async function json<T>(res: { json(): Promise<unknown> }): Promise<T> {
  return (await res.json()) as T;
}
