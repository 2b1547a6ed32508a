/**
 * Signing in and out of a workspace. Sign-in: email + password (or an account token) → pick the
 * workspace → reuse this machine's instance for it when its workspace token still works, else register
 * one (instance id, instance secret and workspace token, each shown once by the server) → keep both
 * records in SecretStorage → connect. Sign-out revokes the instance's workspace token and the account
 * token on the server, then clears them locally (also when the server cannot be reached).
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { WorkspaceSummary } from '../../protocol/workspace/models';
import { ServerApi, ServerApiError } from './serverApi';
import type { WorkspaceLink } from './workspaceLink';
import type { AccountRecord, InstanceRecord } from './credentials';
import { errorMessage } from '../errors';

export type SignInInput = { serverUrl: string; workspace?: string } & ({ email: string; password: string } | { token: string });

/** Asks the user which workspace (only when there are several); undefined = cancelled. */
export type WorkspacePicker = (workspaces: WorkspaceSummary[]) => Promise<WorkspaceSummary | undefined>;

export class SignInCancelled extends Error {
  override readonly name = 'SignInCancelled';
}

/** The default account-token lifetime of the reference server, for a pasted token whose expiry is unknown. */
const PASTED_TOKEN_TTL_MS = 30 * 24 * 3600_000;

/**
 * Checks a server URL before any credentials are asked for: `GET /v1/health` through the link's
 * NetService (proxy, TLS policy, ledger). Throws a message that says what is wrong: nothing answers
 * (closed port, wrong host), or something answers that is not a MultiClaw workspace server.
 */
export async function probeServer(link: WorkspaceLink, serverUrl: string): Promise<{ baseUrl: string; version: string }> {
  const api = new ServerApi(serverUrl, link.fetch, 10_000);
  try {
    const h = await api.health();
    return { baseUrl: api.baseUrl, version: h.version };
  } catch (err) {
    if (!(err instanceof ServerApiError)) throw err;
    if (err.kind === 'network') throw new Error(`Nothing answers at ${api.baseUrl}: ${err.message}`);
    throw new Error(`${api.baseUrl} answered, but not as a MultiClaw workspace server this version can use (${err.message}). Check the URL.`);
  }
}

export async function signIn(link: WorkspaceLink, input: SignInInput, pick: WorkspacePicker): Promise<AccountRecord> {
  if (link.isSignedIn) await signOut(link);
  const api = new ServerApi(input.serverUrl, link.fetch);
  let token: string;
  let expiresAt: string;
  let me: { user: AccountRecord['user']; workspaces: WorkspaceSummary[] };
  if ('token' in input) {
    token = input.token.trim();
    link.deps.redactor.add(token);
    me = await api.me(token);
    expiresAt = new Date(Date.now() + PASTED_TOKEN_TTL_MS).toISOString();
  } else {
    const r = await api.login(input.email.trim(), input.password);
    token = r.session.token;
    link.deps.redactor.add(token);
    expiresAt = r.session.expiresAt;
    me = { user: r.user, workspaces: r.workspaces };
  }
  const revokeUnused = async (): Promise<void> => {
    if (!('token' in input)) await api.logout(token).catch(() => undefined);
  };
  if (!me.workspaces.length) {
    await revokeUnused();
    throw new Error(`${me.user.email} is not a member of any workspace on ${api.baseUrl}. Ask a workspace owner for an invite.`);
  }
  const wanted = input.workspace;
  const ws = wanted
    ? me.workspaces.find((w) => w.id === wanted || w.slug === wanted)
    : me.workspaces.length === 1
      ? me.workspaces[0]
      : await pick(me.workspaces);
  if (!ws) {
    await revokeUnused();
    if (wanted) throw new Error(`${me.user.email} is not a member of the workspace "${wanted}".`);
    throw new SignInCancelled('Sign-in cancelled.');
  }
  const account: AccountRecord = {
    v: 1,
    serverUrl: api.baseUrl,
    token,
    expiresAt,
    user: { id: me.user.id, email: me.user.email, name: me.user.name },
    workspace: { id: ws.id, slug: ws.slug, name: ws.name, role: ws.role },
  };
  const instance = (await reusableInstance(link, api, account)) ?? (await register(link, api, account));
  await link.credentials.saveAccount(account);
  await link.credentials.saveInstance(instance);
  await link.connect(account, instance);
  return account;
}

/** This machine's instance from an earlier sign-in to the same workspace, if its token still works. */
async function reusableInstance(link: WorkspaceLink, api: ServerApi, a: AccountRecord): Promise<InstanceRecord | undefined> {
  const old = await link.credentials.instance();
  if (!old || old.serverUrl !== a.serverUrl || old.workspaceId !== a.workspace.id || old.userId !== a.user.id) return undefined;
  try {
    await api.mintSession(old.workspaceToken, old.workspaceId, 'daemon');
    link.log.info(`reusing instance ${old.name} (${old.id})`);
    return old;
  } catch (err) {
    if (err instanceof ServerApiError && (err.status === 401 || err.status === 403)) {
      await link.credentials.clearInstance();
      return undefined;
    }
    throw err;
  }
}

async function register(link: WorkspaceLink, api: ServerApi, a: AccountRecord): Promise<InstanceRecord> {
  const name = `${os.hostname().slice(0, 120)} · VS Code`;
  let r;
  try {
    r = await api.registerInstance(a.token, a.workspace.id, { name, platform: `${process.platform}-${process.arch}`, version: link.deps.version });
  } catch (err) {
    if (err instanceof ServerApiError && err.status === 403) {
      await api.logout(a.token).catch(() => undefined);
      throw new Error(
        `Your role in ${a.workspace.name} (${a.workspace.role}) cannot connect a machine to the workspace; ask an owner or admin for the member role.`,
      );
    }
    throw err;
  }
  link.deps.redactor.add(r.instanceSecret);
  link.deps.redactor.add(r.workspaceToken);
  link.log.info(`registered this machine as instance ${r.instance.name} (${r.instance.id})`);
  return {
    v: 1,
    serverUrl: a.serverUrl,
    workspaceId: a.workspace.id,
    userId: a.user.id,
    id: r.instance.id,
    name: r.instance.name,
    secret: r.instanceSecret,
    workspaceToken: r.workspaceToken,
  };
}

/** Revokes both tokens on the server (best effort) and clears them here. Returns whether the server confirmed. */
export async function signOut(link: WorkspaceLink): Promise<{ revoked: boolean }> {
  const [account, instance] = await Promise.all([link.credentials.account(), link.credentials.instance()]);
  await link.disconnect(false);
  let revoked = true;
  if (instance) {
    const api = new ServerApi(instance.serverUrl, link.fetch);
    try {
      await api.removeInstance(instance.workspaceToken, instance.workspaceId, instance.id);
    } catch (err) {
      if (!(err instanceof ServerApiError && err.status === 401)) revoked = false; // 401: already revoked
      link.log.warn(`could not revoke this machine's workspace token: ${errorMessage(err)}`);
    }
    await fs.rm(path.join(link.deps.storageDir, 'workspace', instance.id), { recursive: true, force: true });
  }
  if (account) {
    try {
      await new ServerApi(account.serverUrl, link.fetch).logout(account.token);
    } catch (err) {
      if (!(err instanceof ServerApiError && err.status === 401)) revoked = false;
      link.log.warn(`could not revoke the sign-in token: ${errorMessage(err)}`);
    }
  }
  await link.credentials.clearAccount();
  await link.credentials.clearInstance();
  await link.signedOut();
  link.log.info(`signed out${revoked ? '' : ' (the server could not be reached: the tokens were cleared here; a workspace owner can remove this instance)'}`);
  return { revoked };
}
