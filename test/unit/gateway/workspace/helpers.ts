/**
 * Test harness for the workspace link: a real reference workspace server (in-process on 127.0.0.1:0, fast
 * heartbeats) or as a child process (for kill -9), a Gateway with in-memory secrets against the
 * provider fixture server, sign-in helpers, and event waits with a deadline (never sleeps).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import type { WorkspacePort } from '../../../../src/gateway/agent/workspacePort';
import type { WorkspaceLink, LinkTuning } from '../../../../src/gateway/workspace/workspaceLink';
import type { WorkspaceTask } from '../../../../src/gateway/workspace/workspaceTasks';
import type { LinkStatus } from '../../../../src/gateway/workspace/linkState';
import { signIn } from '../../../../src/gateway/workspace/signIn';
import type { Role } from '../../../../src/protocol/workspace/common';
import { startProviderServer, type ProviderServer } from '../../../fixtures/providerServer';
import { createTestGateway, type TestGateway } from '../../../support/gateway';
import { MapSecrets } from '../../../support/secrets';
import { makeTeam, startTestServer, type Person, type Team, type TestServer } from '../../../support/server';
import { until, waitFor } from '../../../support/wait';

export { call, makeTeam, registerInstance, type Person, type Team, type TestServer } from '../../../support/server';
export { MapSecrets } from '../../../support/secrets';
export { waitFor } from '../../../support/wait';

export const FAST_TUNING: LinkTuning = { backoff: { baseMs: 20, capMs: 300 }, rpcTimeoutMs: 5_000, progressIntervalMs: 50 };

/** A reference server with 200 ms heartbeats (so watchdogs and token expiry act quickly). */
export function startFastServer(o: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  return startTestServer({ heartbeatIntervalMs: 200, ...o });
}

export interface GatewayHarness extends TestGateway {
  secrets: MapSecrets;
  /** Waits until the link status matches (checks the current one first). */
  status(pred: (s: LinkStatus) => boolean, ms?: number, what?: string): Promise<LinkStatus>;
  stop(): Promise<void>;
}

export async function startGateway(
  providers: ProviderServer,
  o: { dir?: string; secrets?: MapSecrets; tuning?: LinkTuning; workspaceUrl?: string; workspace?: WorkspacePort } = {},
): Promise<GatewayHarness> {
  const secrets = o.secrets ?? new MapSecrets();
  // The dir outlives stop(): tests restart gateways on it and remove it themselves.
  const dir = o.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'mc-link-'));
  const t = await createTestGateway(providers, {
    dir,
    secrets,
    version: '9.9.9-test',
    workspace: o.workspace,
    linkTuning: o.tuning ?? FAST_TUNING,
    config: (c) => {
      c.maxAttempts = 1;
      c.workspace = { url: o.workspaceUrl ?? '' };
    },
  });
  const { gateway } = t;
  return {
    ...t,
    secrets,
    status: (pred, ms = 10_000, what = 'link status') =>
      until(gateway.linkStatus.onDidChange, () => pred(gateway.linkStatus.current) && gateway.linkStatus.current, ms, what),
    stop: () => t.close(),
  };
}

/** Signs the gateway in as `who` (email + password) and waits until it is connected and synced. */
export async function signInAs(h: GatewayHarness, ts: { url: string }, who: Pick<Person, 'email' | 'password'>, workspace?: string): Promise<void> {
  await signIn(h.gateway.link, { serverUrl: ts.url, email: who.email, password: who.password, workspace }, async () => undefined);
  await h.status((s) => s.phase === 'connected', 10_000, 'connected');
}

/** Waits until the link holds workspace task `id` in a state that matches (checks the current one first). */
export async function untilTask(link: WorkspaceLink, id: string, pred: (t: WorkspaceTask) => boolean, ms = 10_000): Promise<WorkspaceTask> {
  const tasks = link.workspaceTasks;
  if (!tasks) throw new Error('not signed in');
  const now = tasks.get(id);
  if (now && pred(now)) return now;
  const c = await waitFor(tasks.onDidChange, (x) => x.id === id && !!x.task && pred(x.task), ms, `workspace task ${id}`);
  return c.task as WorkspaceTask;
}

/** The compiled reference server as a child process (so it can be killed with SIGKILL). */
export interface ChildServer {
  child: ChildProcess;
  url: string;
  port: number;
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

const SERVER_MAIN = path.resolve(__dirname, '../../../../src/server/main.js');

export function startChildServer(dataDir: string, port = 0, extra: string[] = []): Promise<ChildServer> {
  const child = spawn(
    process.execPath,
    [SERVER_MAIN, '--port', String(port), '--data-dir', dataDir, '--log-level', 'info', '--ws-frames-per-second', '5000', ...extra],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return new Promise((resolve, reject) => {
    const rl = readline.createInterface({ input: child.stdout as NodeJS.ReadableStream });
    const onExit = (code: number | null): void => reject(new Error(`the server exited early (${code})`));
    child.once('exit', onExit);
    rl.on('line', (line) => {
      let rec: { msg?: string; url?: string; port?: number };
      try {
        rec = JSON.parse(line) as typeof rec;
      } catch {
        return;
      }
      if (rec.msg === 'listening' && rec.url) {
        child.off('exit', onExit);
        const url = rec.url;
        resolve({
          child,
          url,
          port: Number(new URL(url).port),
          kill9: async () => {
            child.kill('SIGKILL');
            await exited;
          },
          stop: async () => {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
            await exited;
          },
        });
      }
    });
  });
}

/** Files under `dir` whose content includes `needle` (secrets must never be written). */
export function filesContaining(dir: string, needle: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (fs.readFileSync(p).includes(needle)) out.push(p);
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out;
}

/** Mocha hooks: the provider fixture server, a fast reference server and a team on it, for the suite. */
export function useLinkEnv(
  set: (e: { providers: ProviderServer; ts: TestServer; team: Team }) => void | Promise<void>,
  o: { roles?: Role[]; slug?: string; /** Runs before the servers close (stop gateways here). */ teardown?: () => Promise<void> } = {},
): void {
  let providers: ProviderServer | undefined;
  let ts: TestServer | undefined;
  before(async () => {
    providers = await startProviderServer();
    ts = await startFastServer();
    await set({ providers, ts, team: await makeTeam(ts, o.roles, o.slug) });
  });
  after(async () => {
    await o.teardown?.();
    await ts?.close();
    await providers?.close();
  });
}

/** Stops a harness's gateway and removes its storage dir (tests that restart gateways keep the dir). */
export async function stopGateway(h: GatewayHarness | undefined): Promise<void> {
  await h?.stop();
  if (h) fs.rmSync(h.dir, { recursive: true, force: true });
}
