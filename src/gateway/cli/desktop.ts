/**
 * `multiclaw desktop`: the headless gateway as a cloud desktop — an instance of kind `desktop` with a
 * real X display (Xvfb, a light window manager, the operator's apps), its screen streamed to viewers
 * over WebRTC and their input injected, lifecycle commands from the workspace, CPU/memory/disk in the
 * heartbeats, and agents for the tasks assigned to it. Enrolls on first start (see `enroll.ts`); the
 * registration lives in $MULTICLAW_HOME/desktop/credentials.json (0600). Prints one JSON line when up.
 */
import { createWriteStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Gateway } from '../gateway';
import { RedactingLogger } from '../log/logger';
import { Redactor } from '../log/redact';
import type { SecretStore } from '../ports';
import { DesktopHost } from '../desktop/desktopHost';
import { enrollDesktop, FileSecretStore } from '../desktop/enroll';
import { MetricsSampler } from '../desktop/metrics';
import { errorMessage } from '../errors';
import { FileSink, MemorySecrets } from './headless';
import { loadHeadlessConfig } from './headlessConfig';
import { CliError, EXIT } from './usage';

export interface DesktopFlags {
  server?: string;
  workspace?: string;
  name?: string;
  label?: string;
  size?: string;
  fps?: string;
  apps: string[];
  wm?: string;
  port?: number;
  turnTransport?: string;
}

/** Provider keys stay in memory; the workspace registration goes to the 0600 file. */
class DesktopSecrets implements SecretStore {
  constructor(
    private readonly memory: MemorySecrets,
    private readonly file: FileSecretStore,
  ) {}
  private pick(k: string): SecretStore {
    return k.startsWith('multiclaw.providerKey.') ? this.memory : this.file;
  }
  async get(k: string): Promise<string | undefined> {
    return await this.pick(k).get(k);
  }
  async store(k: string, v: string): Promise<void> {
    await this.pick(k).store(k, v);
  }
  async delete(k: string): Promise<void> {
    await this.pick(k).delete(k);
  }
}

export function parseSize(s: string | undefined): { width: number; height: number } {
  if (!s) return { width: 1280, height: 720 };
  const m = /^(\d{3,4})x(\d{3,4})$/.exec(s);
  if (!m) throw new CliError(EXIT.usage, `--size takes WIDTHxHEIGHT, e.g. 1280x720 (got "${s}")`);
  const width = Number(m[1]);
  const height = Number(m[2]);
  if (width < 320 || height < 240 || width > 3840 || height > 2160 || width % 2 || height % 2)
    throw new CliError(EXIT.usage, '--size: even sizes from 320x240 to 3840x2160');
  return { width, height };
}

export async function runDesktop(version: string, f: DesktopFlags, out: (line: string) => void): Promise<number> {
  const env = process.env;
  const serverUrl = f.server ?? env.MULTICLAW_WORKSPACE_URL;
  if (!serverUrl) throw new CliError(EXIT.usage, 'multiclaw desktop needs the workspace server: --server <url> or MULTICLAW_WORKSPACE_URL');
  const { width, height } = parseSize(f.size ?? env.MULTICLAW_DESKTOP_SIZE);
  const fps = Number(f.fps ?? env.MULTICLAW_DESKTOP_FPS ?? 30);
  if (!Number.isInteger(fps) || fps < 1 || fps > 60) throw new CliError(EXIT.usage, '--fps takes 1–60');
  const turnTransport = (f.turnTransport ?? env.MULTICLAW_DESKTOP_TURN_TRANSPORT ?? 'udp') as 'udp' | 'tcp' | 'tls';
  if (!['udp', 'tcp', 'tls'].includes(turnTransport)) throw new CliError(EXIT.usage, '--turn-transport takes udp, tcp or tls');
  const hc = await loadHeadlessConfig(env, f.port);
  await fs.mkdir(path.join(hc.home, 'logs'), { recursive: true, mode: 0o700 });
  const logFile = path.join(hc.home, 'logs', 'desktop.log');
  const stream = createWriteStream(logFile, { flags: 'a', mode: 0o600 });
  const redactor = new Redactor();
  for (const k of Object.values(hc.keys)) redactor.add(k);
  if (env.MULTICLAW_ENROLL_TOKEN) redactor.add(env.MULTICLAW_ENROLL_TOKEN);
  if (env.MULTICLAW_PASSWORD) redactor.add(env.MULTICLAW_PASSWORD);
  const logger = new RedactingLogger(new FileSink(stream), redactor, '', () => hc.logLevel);
  const memory = new MemorySecrets();
  for (const [p, k] of Object.entries(hc.keys)) await memory.store(`multiclaw.providerKey.${p}`, k);
  const credFile = path.join(hc.home, 'desktop', 'credentials.json');
  const metrics = new MetricsSampler(hc.home);
  hc.config.workspace = { url: serverUrl };
  const gateway = new Gateway({
    logger,
    redactor,
    secrets: new DesktopSecrets(memory, new FileSecretStore(credFile)),
    storageDir: hc.home,
    config: hc.config,
    localApi: { host: 'headless', version, token: hc.token },
    version,
    desktop: { metrics: () => metrics.sample() },
  });
  let host: DesktopHost | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (why: string): Promise<void> =>
    (stopping ??= (async () => {
      logger.info(`${why}: stopping`);
      host?.dispose();
      await host?.display.stop();
      await gateway.stop();
      gateway.dispose();
      await new Promise<void>((r) => stream.end(() => r()));
    })());
  let resolveDone: (code: number) => void = () => undefined;
  const done = new Promise<number>((r) => (resolveDone = r));
  const onSignal = (s: NodeJS.Signals): void => void stop(s).then(() => resolveDone(EXIT.ok));
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  try {
    await gateway.start();
    const link = gateway.link;
    const { instanceId, registered } = await enrollDesktop(link, {
      serverUrl,
      token: env.MULTICLAW_ENROLL_TOKEN,
      email: env.MULTICLAW_EMAIL,
      password: env.MULTICLAW_PASSWORD,
      workspace: f.workspace ?? env.MULTICLAW_WORKSPACE,
      name: f.name ?? env.MULTICLAW_DESKTOP_NAME,
      version,
    });
    const apps = f.apps.length ? f.apps : (env.MULTICLAW_DESKTOP_APPS ?? '').split('\n').filter(Boolean);
    const wm = f.wm ?? env.MULTICLAW_DESKTOP_WM ?? 'openbox';
    host = new DesktopHost(link, {
      width,
      height,
      fps,
      apps,
      windowManager: wm === 'none' ? [] : wm.split(' ').filter(Boolean),
      label: f.label ?? env.MULTICLAW_DESKTOP_LABEL,
      logger,
      ledger: gateway.ledger,
      runningTasks: () => gateway.taskCounts().running,
      turnTransport,
      onTerminate: async () => {
        logger.warn('terminated from the workspace: removing this desktop’s data');
        await stop('terminate');
        for (const p of ['conversations', 'workspace', 'tasks.json', 'desktop']) await fs.rm(path.join(hc.home, p), { recursive: true, force: true });
        resolveDone(EXIT.ok);
      },
    });
    await host.start();
    out(
      JSON.stringify({ instanceId, registered, display: host.display.running ? host.display.name : null, status: host.status, pid: process.pid, log: logFile }),
    );
  } catch (err) {
    await stop('start failed');
    throw new CliError(EXIT.error, `the desktop did not start: ${errorMessage(err)} (log: ${logFile})`);
  }
  return done;
}
