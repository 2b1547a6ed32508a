/**
 * Shared by the workspace benchmarks: a reference server in-process (or as a child process, so it can
 * be restarted), a demo team, and a Gateway signed in as its member with production link settings.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Admin } from '../src/server/admin';
import { WorkspaceServer } from '../src/server/server';
import type { LinkStatus } from '../src/gateway/workspace/linkState';
import { signIn } from '../src/gateway/workspace/signIn';
import { createTestGateway } from '../test/support/gateway';
import { until } from '../test/support/wait';
import { type Gateway } from '../src/gateway/gateway';

export const CHEAP_SCRYPT = { log2N: 10, r: 8, p: 1 };

export interface Team {
  dataDir: string;
  slug: string;
  owner: { email: string; password: string };
  member: { email: string; password: string };
}

/** Seeds a workspace with an owner and a member directly in a data dir. */
export async function seedTeam(dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-bench-cloud-'))): Promise<Team> {
  const admin = new Admin(dataDir, undefined, CHEAP_SCRYPT);
  const team: Team = {
    dataDir,
    slug: 'bench',
    owner: { email: 'owner@bench.test', password: 'owner-password-1' },
    member: { email: 'member@bench.test', password: 'member-password-1' },
  };
  await admin.createUser(team.owner.email, 'Owner', team.owner.password);
  await admin.createUser(team.member.email, 'Member', team.member.password);
  await admin.createWorkspace(team.slug, 'Bench', team.owner.email);
  await admin.addMember(team.slug, team.member.email, 'member');
  await admin.close();
  return team;
}

export function startServer(team: Team): Promise<WorkspaceServer> {
  return WorkspaceServer.start({
    dataDir: team.dataDir,
    host: '127.0.0.1',
    port: 0,
    scryptCost: CHEAP_SCRYPT,
    env: {},
    authRateLimit: { burst: 1000, perMinute: 60_000 },
  });
}

export interface BenchGateway {
  gateway: Gateway;
  dir: string;
  status(pred: (s: LinkStatus) => boolean, ms?: number): Promise<LinkStatus>;
  close(): Promise<void>;
}

/** A gateway (no providers, no local API) signed in as `who`, connected. Production link settings. */
export async function signedInGateway(url: string, who: { email: string; password: string }): Promise<BenchGateway> {
  const t = await createTestGateway(undefined, {
    version: 'bench',
    config: (c) => {
      c.localApi.enabled = false;
    },
  });
  const { gateway, dir } = t;
  const status = (pred: (s: LinkStatus) => boolean, ms = 30_000): Promise<LinkStatus> =>
    until(gateway.linkStatus.onDidChange, () => pred(gateway.linkStatus.current) && gateway.linkStatus.current, ms, 'the link status');
  await signIn(gateway.link, { serverUrl: url, email: who.email, password: who.password }, async () => undefined);
  await status((s) => s.phase === 'connected');
  return {
    gateway,
    dir,
    status,
    close: () => t.close(),
  };
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export const round = (n: number): number => Math.round(n * 100) / 100;

export async function rest<T>(base: string, method: string, p: string, token?: string, body?: unknown): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = { 'idempotency-key': `bench-${Date.now()}-${Math.random().toString(36).slice(2)}` };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(base + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, body: (text ? JSON.parse(text) : {}) as T };
}
