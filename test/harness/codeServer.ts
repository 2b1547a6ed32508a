/**
 * Starts a real VS Code (code-server 4.139 = VS Code 1.139) on 127.0.0.1 with a clean user-data dir,
 * its own port and temp dirs, in its own process group, and tears it all down afterwards.
 * Used by the extension-host runner (the `runTests()` shim) and by the UI end-to-end tests.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { testEnv } from './env';
import { freePort } from '../support/net';

export interface CodeServerOptions {
  /** Install these VSIX files (or extension ids) before starting. */
  installExtensions?: string[];
  /** Extra user settings merged over the quiet defaults. */
  settings?: Record<string, unknown>;
  /** Run with the smoke-test driver so the `payload` URL parameter (dev/test paths) is honoured. */
  smokeTestDriver?: boolean;
  /** Extra environment for code-server and its extension host. */
  env?: Record<string, string>;
  /** Use this extensions dir instead of a fresh one. */
  extensionsDir?: string;
  /** Keep the temp dir after stop (always kept when `stop({ keepLogs: true })`). */
  keep?: boolean;
  /** Prefix of the temp dir name. */
  label?: string;
  /** Keep Workspace Trust on: the folder opens in Restricted Mode (default: trust disabled, everything trusted). */
  workspaceTrust?: boolean;
}

export const QUIET_SETTINGS: Record<string, unknown> = {
  'security.workspace.trust.enabled': false,
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'chat.disableAIFeatures': true,
  'git.enabled': false,
  'workbench.enableExperiments': false,
  'npm.fetchOnlinePackageInfo': false,
};

function httpOk(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(url, (res) => {
      res.resume();
      resolve((res.statusCode ?? 500) < 500);
    });
    req.on('error', () => resolve(false));
    req.setTimeout(2000, () => {
      req.destroy();
      resolve(false);
    });
  });
}

export class CodeServer {
  readonly root: string;
  readonly userDataDir: string;
  readonly extensionsDir: string;
  readonly workspaceDir: string;
  readonly logFile: string;
  port = 0;
  private proc: ChildProcess | undefined;
  private exited = false;

  constructor(private readonly options: CodeServerOptions = {}) {
    this.root = fs.mkdtempSync(path.join(os.tmpdir(), `${options.label ?? 'multiclaw-cs'}-`));
    this.userDataDir = path.join(this.root, 'user-data');
    this.extensionsDir = options.extensionsDir ?? path.join(this.root, 'extensions');
    this.workspaceDir = path.join(this.root, 'workspace');
    this.logFile = path.join(this.root, 'code-server.log');
    fs.mkdirSync(path.join(this.userDataDir, 'User'), { recursive: true });
    fs.mkdirSync(this.extensionsDir, { recursive: true });
    fs.mkdirSync(this.workspaceDir, { recursive: true });
    const trust = options.workspaceTrust ? { 'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'never' } : {};
    fs.writeFileSync(
      path.join(this.userDataDir, 'User', 'settings.json'),
      JSON.stringify({ ...QUIET_SETTINGS, ...trust, ...(options.settings ?? {}) }, null, 2),
    );
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** `vscode-remote://` URI of a local path (the server maps any vscode-remote URI to file:). */
  remoteUri(p: string): string {
    return `vscode-remote://127.0.0.1:${this.port}${path.resolve(p)}`;
  }

  private cli(args: string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      execFile(
        testEnv.codeServerNode,
        [testEnv.codeServerEntry, '--user-data-dir', this.userDataDir, '--extensions-dir', this.extensionsDir, ...args],
        { timeout: 120_000 },
        (err, stdout, stderr) => {
          fs.appendFileSync(this.logFile, `$ code-server ${args.join(' ')}\n${stdout}${stderr}\n`);
          if (err) reject(new Error(`code-server ${args.join(' ')} failed: ${stderr || err.message}`));
          else resolve();
        },
      );
    });
  }

  async start(): Promise<void> {
    if (!fs.existsSync(testEnv.codeServerEntry)) {
      throw new Error(`code-server not found at ${testEnv.codeServerEntry}; run: bash scripts/setup-test-env.sh`);
    }
    for (const ext of this.options.installExtensions ?? []) await this.cli(['--install-extension', ext]);
    this.port = await freePort();
    const args = [
      testEnv.codeServerEntry,
      '--auth',
      'none',
      '--bind-addr',
      `127.0.0.1:${this.port}`,
      '--disable-telemetry',
      '--disable-update-check',
      ...(this.options.workspaceTrust ? [] : ['--disable-workspace-trust']),
      '--disable-getting-started-override',
      '--disable-proxy',
      '--user-data-dir',
      this.userDataDir,
      '--extensions-dir',
      this.extensionsDir,
      ...(this.options.smokeTestDriver ? ['--vscode-option', 'enable-smoke-test-driver'] : []),
    ];
    const out = fs.openSync(this.logFile, 'a');
    this.proc = spawn(testEnv.codeServerNode, args, {
      stdio: ['ignore', out, out],
      detached: true, // own process group: stop() kills the whole tree
      env: { ...process.env, ...(this.options.env ?? {}) },
    });
    fs.closeSync(out);
    this.proc.on('exit', () => {
      this.exited = true;
    });
    const deadline = Date.now() + 60_000;
    while (!(await httpOk(`${this.baseUrl}/healthz`))) {
      if (this.exited) throw new Error(`code-server exited early; log: ${this.logFile}`);
      if (Date.now() > deadline) throw new Error(`code-server did not come up in 60 s; log: ${this.logFile}`);
      await new Promise((r) => setTimeout(r, 100)); // polling an external process's port: no event to wait on
    }
  }

  /** Workbench URL; `payload` carries extension development/test paths (needs the smoke-test driver). */
  workbenchUrl(payload?: Array<[string, string]>): string {
    const q = new URLSearchParams({ folder: this.workspaceDir });
    if (payload) q.set('payload', JSON.stringify(payload));
    return `${this.baseUrl}/?${q.toString()}`;
  }

  /** Newest extension host log (remote extension host). */
  extensionHostLog(): string | undefined {
    const logs = path.join(this.userDataDir, 'logs');
    if (!fs.existsSync(logs)) return undefined;
    const found: string[] = [];
    const walk = (d: string): void => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (/exthost\.log$/.test(e.name)) found.push(p);
      }
    };
    walk(logs);
    return found.sort().pop();
  }

  /** Copies code-server's log and the extension host logs into `dir` (kept on failure). */
  collectLogs(dir: string): void {
    fs.mkdirSync(dir, { recursive: true });
    if (fs.existsSync(this.logFile)) fs.copyFileSync(this.logFile, path.join(dir, 'code-server.log'));
    const logs = path.join(this.userDataDir, 'logs');
    if (fs.existsSync(logs)) fs.cpSync(logs, path.join(dir, 'vscode-logs'), { recursive: true });
  }

  async stop(): Promise<void> {
    const p = this.proc;
    if (p?.pid && !this.exited) {
      const gone = new Promise<void>((r) => p.once('exit', () => r()));
      try {
        process.kill(-p.pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-p.pid!, 'SIGKILL');
        } catch {
          /* gone */
        }
      }, 3000);
      await gone;
      clearTimeout(timer);
      try {
        process.kill(-p.pid, 'SIGKILL');
      } catch {
        /* group already empty */
      }
    }
    if (!this.options.keep) fs.rmSync(this.root, { recursive: true, force: true });
  }
}
