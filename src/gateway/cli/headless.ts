/**
 * `multiclaw gateway`: the same Gateway as in VS Code, without VS Code — the form a cloud desktop runs.
 * Files under MULTICLAW_HOME (conversations, tasks.json, local-api.json, logs/gateway.log); keys in
 * memory only; every log line redacted. Prints one JSON line when the local API listens; SIGINT,
 * SIGTERM or SIGHUP stop it (the discovery file is removed).
 */
import { createWriteStream, promises as fs, type WriteStream } from 'node:fs';
import * as path from 'node:path';
import { NodeWorkspace } from '../agent/nodeWorkspace';
import { Gateway } from '../gateway';
import { RedactingLogger, type LogSink } from '../log/logger';
import { Redactor } from '../log/redact';
import type { LogLevel, SecretStore } from '../ports';
import { readDiscoveryFile } from '../localApi/discovery';
import { DISCOVERY_FILE_NAME } from '../../protocol/localApi';
import { isAlive } from './discover';
import { loadHeadlessConfig } from './headlessConfig';
import { CliError, EXIT } from './usage';
import { errorMessage } from '../errors';

/** Provider keys from the environment or config file, in memory only (the SecretStore port). */
export class MemorySecrets implements SecretStore {
  private readonly map = new Map<string, string>();
  async get(k: string): Promise<string | undefined> {
    return this.map.get(k);
  }
  async store(k: string, v: string): Promise<void> {
    this.map.set(k, v);
  }
  async delete(k: string): Promise<void> {
    this.map.delete(k);
  }
}

export class FileSink implements LogSink {
  constructor(private readonly stream: WriteStream) {}
  write(level: LogLevel, line: string): void {
    this.stream.write(`${new Date().toISOString()} ${level.padEnd(5)} ${line}\n`);
  }
}

export async function runGateway(version: string, portFlag: number | undefined, out: (line: string) => void): Promise<number> {
  const hc = await loadHeadlessConfig(process.env, portFlag);
  await fs.mkdir(hc.home, { recursive: true, mode: 0o700 });
  const existing = await readDiscoveryFile(path.join(hc.home, DISCOVERY_FILE_NAME)).catch(() => undefined);
  if (existing && existing.pid !== process.pid && isAlive(existing.pid)) {
    throw new CliError(
      EXIT.alreadyRunning,
      `a gateway already runs with MULTICLAW_HOME=${hc.home} (pid ${existing.pid}, port ${existing.port}). Stop it, or set another MULTICLAW_HOME.`,
    );
  }
  const logDir = path.join(hc.home, 'logs');
  await fs.mkdir(logDir, { recursive: true, mode: 0o700 });
  const logFile = path.join(logDir, 'gateway.log');
  const stream = createWriteStream(logFile, { flags: 'a', mode: 0o600 });
  await fs.chmod(logFile, 0o600).catch(() => undefined);

  const redactor = new Redactor();
  for (const k of Object.values(hc.keys)) redactor.add(k);
  if (hc.token) redactor.add(hc.token);
  const order: LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error'];
  const logger = new RedactingLogger(new FileSink(stream), redactor, '', () => hc.logLevel);
  const secrets = new MemorySecrets();
  for (const [p, k] of Object.entries(hc.keys)) await secrets.store(`multiclaw.providerKey.${p}`, k);

  // The agents act in MULTICLAW_WORKSPACE (default: the folder the gateway was started in); approvals go through the local API / CLI.
  const workspace = new NodeWorkspace({ folders: [path.resolve(process.env.MULTICLAW_WORKSPACE || process.cwd())], ripgrepPath: process.env.MULTICLAW_RG });
  const gateway = new Gateway({
    logger,
    redactor,
    secrets,
    storageDir: hc.home,
    workspace,
    config: hc.config,
    localApi: { host: 'headless', version, token: hc.token },
  });
  logger.info(`multiclaw ${version} headless gateway, pid ${process.pid}, home ${hc.home}${hc.sources.length ? `; ${hc.sources.join(', ')}` : ''}`);

  let stopping: Promise<void> | undefined;
  const stop = (signal: string): Promise<void> => {
    stopping ??= (async () => {
      logger.info(`${signal}: stopping`);
      await gateway.stop();
      gateway.dispose();
      workspace.dispose();
      await new Promise<void>((r) => stream.end(() => r()));
    })();
    return stopping;
  };
  const finished = new Promise<number>((resolve) => {
    let signals = 0;
    const on = (signal: NodeJS.Signals): void => {
      if (++signals > 1) process.exit(EXIT.interrupted);
      void stop(signal).then(
        () => resolve(EXIT.ok),
        () => resolve(EXIT.error),
      );
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
    process.on('SIGHUP', on);
  });

  try {
    await gateway.start();
  } catch (err) {
    await stop('start failed');
    throw new CliError(EXIT.error, `the gateway did not start: ${errorMessage(err)} (log: ${logFile})`);
  }
  const api = gateway.localApi;
  if (!api) {
    await stop('no local API');
    throw new CliError(EXIT.error, `the local API did not start; see ${logFile}`);
  }
  out(JSON.stringify({ port: api.port, discoveryFile: api.discoveryFile, pid: process.pid, url: api.url }));
  if (order.indexOf(hc.logLevel) <= order.indexOf('info') && api.requestedPort !== 0 && api.port !== api.requestedPort) {
    process.stderr.write(`multiclaw: port ${api.requestedPort} is in use; the local API listens on 127.0.0.1:${api.port}\n`);
  }
  return finished;
}
