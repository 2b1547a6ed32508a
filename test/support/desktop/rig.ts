/**
 * A cloud desktop rig for tests and the viewer benchmark, meant to run inside a private network
 * namespace (`netns.ts`: lo + a veth with 198.51.100.1, because Chromium gathers no ICE candidates on
 * loopback): the reference workspace server, coturn with a REST secret (UDP/TCP 3478, TLS 443), the
 * real `multiclaw desktop` daemon as a child process (Xvfb, openbox, the apps given), and viewers —
 * the real viewer webview bundle in Debian's Chromium, its host side the real ViewerRelay of a test
 * gateway signed in as a member.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import type { Browser, Page } from 'playwright-core';
import { ViewerRelay } from '../../../src/gateway/desktop/viewerRelay';
import type { ConnectionMode, HostToViewer } from '../../../src/protocol/viewer';
import { signIn } from '../../../src/gateway/workspace/signIn';
import { launchChromium } from '../../harness/env';
import { createTestGateway, type TestGateway } from '../gateway';
import { makeTeam, startTestServer, type Person, type Team, type TestServer } from '../server';
import { poll, until } from '../wait';

export const NS_ADDRESS = '198.51.100.1';
export const TURN_SECRET = 'turn-secret-for-the-desktop-rig';
const ROOT = path.resolve(__dirname, '../../../..');
const CLI = path.join(ROOT, 'dist', 'cli.js');

export interface Coturn {
  stop(): Promise<void>;
  log(): string;
}

/** coturn (Debian) with REST-API secrets on the veth address: UDP+TCP 3478, TLS 443 (a self-signed cert). */
export async function startCoturn(dir: string): Promise<Coturn> {
  const key = path.join(dir, 'turn.key');
  const cert = path.join(dir, 'turn.crt');
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=turn.test']);
  const logFile = path.join(dir, 'turn.log');
  const args = [
    '-n',
    `--listening-ip=${NS_ADDRESS}`,
    '--listening-port=3478',
    '--tls-listening-port=443',
    `--relay-ip=${NS_ADDRESS}`,
    '--min-port=49160',
    '--max-port=49400',
    '--use-auth-secret',
    `--static-auth-secret=${TURN_SECRET}`,
    '--realm=test.local',
    '--allow-loopback-peers',
    `--cert=${cert}`,
    `--pkey=${key}`,
    '--no-dtls',
    '--no-cli',
    '--verbose',
    `--pidfile=${path.join(dir, 'turn.pid')}`,
    `--db=${path.join(dir, 'turn.db')}`,
    `--log-file=${logFile}`,
    '--simple-log',
  ];
  const child = spawn('turnserver', args, { stdio: 'ignore' });
  await poll(() => fs.existsSync(logFile) && /listener opened on/i.test(fs.readFileSync(logFile, 'utf8')), 15_000, 'coturn listening').catch(async (e) => {
    child.kill('SIGKILL');
    throw e;
  });
  return {
    log: () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : ''),
    stop: () => stopChild(child),
  };
}

export interface DaemonOptions {
  apps?: string[];
  size?: string;
  extraEnv?: Record<string, string>;
  turnTransport?: 'udp' | 'tcp' | 'tls';
}

export interface Daemon {
  child: ChildProcess;
  instanceId: string;
  display: string;
  home: string;
  log(): string;
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts `multiclaw desktop` (enrolling with the person's account token on first start). */
export async function startDaemon(server: TestServer, team: Team, who: Person, home: string, o: DaemonOptions = {}): Promise<Daemon> {
  const args = [CLI, 'desktop', '--server', server.url, '--workspace', team.wid, '--name', 'Build box', '--label', 'netns · vm-1', '--port', '0'];
  for (const a of o.apps ?? []) args.push('--app', a);
  if (o.size) args.push('--size', o.size);
  if (o.turnTransport) args.push('--turn-transport', o.turnTransport);
  const child = spawn(process.execPath, args, {
    env: { ...process.env, MULTICLAW_HOME: home, MULTICLAW_ENROLL_TOKEN: who.token, MULTICLAW_LOG_LEVEL: 'debug', ...o.extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const line = await new Promise<string>((resolve, reject) => {
    readline.createInterface({ input: child.stdout! }).on('line', (l) => l.startsWith('{') && resolve(l));
    child.once('exit', (code) => reject(new Error(`multiclaw desktop exited (${code}): ${stderr.slice(-800)}`)));
  });
  const info = JSON.parse(line) as { instanceId: string; display: string };
  const logFile = path.join(home, 'logs', 'desktop.log');
  return {
    child,
    instanceId: info.instanceId,
    display: info.display,
    home,
    log: () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '') + stderr,
    kill9: async () => {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await gone;
      // its Xvfb and apps are in their own process groups: end them by the display's lock file pid
      killDisplay(info.display);
    },
    stop: () => stopChild(child),
  };
}

function killDisplay(display: string | null): void {
  if (!display) return;
  try {
    const pid = Number(fs.readFileSync(`/tmp/.X${display.slice(1)}-lock`, 'utf8').trim());
    if (pid > 1) process.kill(pid, 'SIGTERM');
  } catch {
    // gone already
  }
}

/** Runs an X client on the display (xdotool, xsetroot…) and returns its stdout. */
export function xrun(display: string, cmd: string, args: string[]): Promise<string> {
  return run(cmd, args, { DISPLAY: display });
}

export interface ViewerPage {
  page: Page;
  relay: ViewerRelay;
  posted: HostToViewer[];
  state(): Promise<string>;
  evaluate<T>(fn: string): Promise<T>;
  close(): Promise<void>;
}

/** The viewer bundle in a page with the webview's CSP and an `acquireVsCodeApi` that talks to a ViewerRelay here. */
export class ViewerHost {
  private server: http.Server | undefined;
  private port = 0;
  browser: Browser | undefined;

  async start(chromiumArgs: string[] = []): Promise<void> {
    const dist = path.join(ROOT, 'dist', 'webviews');
    this.server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/') {
        res.writeHead(200, {
          'content-type': 'text/html',
          'content-security-policy': "default-src 'none'; style-src 'self'; font-src 'self'; script-src 'self'",
        });
        res.end(
          '<!DOCTYPE html><html><head><link rel="stylesheet" href="/codicons/codicon.css"><link rel="stylesheet" href="/viewer.css"></head><body><script src="/shim.js"></script><script src="/viewer.js"></script></body></html>',
        );
        return;
      }
      if (url.pathname === '/shim.js') {
        res.writeHead(200, { 'content-type': 'text/javascript' });
        res.end('window.acquireVsCodeApi = () => ({ postMessage: (m) => window.__toHost(m) });');
        return;
      }
      const f = path.join(dist, path.normalize(url.pathname).replace(/^\/+/, ''));
      if (!f.startsWith(dist) || !fs.existsSync(f)) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': f.endsWith('.css') ? 'text/css' : f.endsWith('.ttf') ? 'font/ttf' : 'text/javascript' });
      fs.createReadStream(f).pipe(res);
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.address() as AddressInfo).port;
    this.browser = await launchChromium({ args: chromiumArgs });
  }

  /** Opens a viewer of `instance` for the gateway's link (its relay posts into the page). */
  async open(gw: TestGateway, instance: { id: string; name: string }, mode: ConnectionMode): Promise<ViewerPage> {
    const ctx = await this.browser!.newContext({ viewport: { width: 1000, height: 640 } });
    const page = await ctx.newPage();
    const posted: HostToViewer[] = [];
    const relay = new ViewerRelay({
      link: gw.gateway.link,
      instance,
      mode: () => mode,
      ledger: gw.gateway.ledger,
      logger: gw.logger,
      post: (m) => {
        posted.push(m);
        void page.evaluate((msg) => (globalThis as unknown as { postMessage(m: unknown, o: string): void }).postMessage(msg, '*'), m).catch(() => undefined);
      },
    });
    await page.exposeBinding('__toHost', (_src, m: unknown) => relay.handle(m));
    await page.goto(`http://127.0.0.1:${this.port}/`);
    return {
      page,
      relay,
      posted,
      state: () => page.evaluate(() => (globalThis as unknown as { multiclawViewer: { state: string } }).multiclawViewer.state),
      evaluate: <T>(fn: string) => page.evaluate(fn) as Promise<T>,
      close: async () => {
        relay.dispose();
        await ctx.close();
      },
    };
  }

  async close(): Promise<void> {
    await this.browser?.close().catch(() => undefined);
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

export interface Rig {
  dir: string;
  server: TestServer;
  team: Team;
  coturn: Coturn;
  viewerGateway: TestGateway;
  close(): Promise<void>;
}

/** Server (TURN URLs on the veth address), coturn, a team, and a member's gateway signed in. */
export async function startRig(): Promise<Rig> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-desktop-rig-'));
  const coturn = await startCoturn(dir);
  const server = await startTestServer({
    heartbeatIntervalMs: 1000,
    turn: {
      urls: [`turn:${NS_ADDRESS}:3478?transport=udp`, `turn:${NS_ADDRESS}:3478?transport=tcp`, `turns:${NS_ADDRESS}:443?transport=tcp`],
      secret: TURN_SECRET,
      ttlSeconds: 600,
    },
  });
  const team = await makeTeam(server, ['admin', 'member', 'viewer']);
  const viewerGateway = await createTestGateway(undefined, { linkTuning: { backoff: { baseMs: 50, capMs: 500 } } });
  await signIn(
    viewerGateway.gateway.link,
    { serverUrl: server.url, email: team.people.member.email, password: team.people.member.password },
    async () => undefined,
  );
  await until(
    viewerGateway.gateway.linkStatus.onDidChange,
    () => viewerGateway.gateway.linkStatus.current.phase === 'connected',
    10_000,
    'viewer gateway connected',
  );
  return {
    dir,
    server,
    team,
    coturn,
    viewerGateway,
    close: async () => {
      await viewerGateway.close();
      await server.close();
      await coturn.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    c.on('error', reject);
    c.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} → ${code}: ${err.slice(-400)}`))));
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 5000);
  await gone;
  clearTimeout(t);
}
