/**
 * Enrolling a cloud desktop: with an account token (or email and password) of a Member, Admin or
 * Owner, register this machine as an instance of kind `desktop` once; keep only the instance record
 * (id, instance secret, workspace token) — the account token is revoked again when we signed in for it.
 * Later starts reuse the record. A file-backed SecretStore (0600) holds it: a cloud VM has no keychain.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { SecretStore } from '../ports';
import { ServerApi } from '../workspace/serverApi';
import type { AccountRecord, InstanceRecord } from '../workspace/credentials';
import type { WorkspaceLink } from '../workspace/workspaceLink';

export interface EnrollInput {
  serverUrl: string;
  /** An account token (mca_…), or email + password. */
  token?: string;
  email?: string;
  password?: string;
  /** Workspace id or slug (needed when the account is in several). */
  workspace?: string;
  name?: string;
  version: string;
}

/** Secrets in one JSON file, mode 0600, rewritten atomically. */
export class FileSecretStore implements SecretStore {
  private cache: Record<string, string> | undefined;
  constructor(private readonly file: string) {}

  private async load(): Promise<Record<string, string>> {
    if (this.cache) return this.cache;
    try {
      const st = await fs.stat(this.file);
      if ((st.mode & 0o077) !== 0) await fs.chmod(this.file, 0o600);
      this.cache = JSON.parse(await fs.readFile(this.file, 'utf8')) as Record<string, string>;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`${this.file} is unreadable: ${(err as Error).message}`);
      this.cache = {};
    }
    return this.cache;
  }

  private async save(): Promise<void> {
    await fs.mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.${process.pid}.tmp`;
    await fs.writeFile(tmp, JSON.stringify(this.cache ?? {}), { mode: 0o600 });
    await fs.rename(tmp, this.file);
  }

  async get(k: string): Promise<string | undefined> {
    return (await this.load())[k];
  }
  async store(k: string, v: string): Promise<void> {
    (await this.load())[k] = v;
    await this.save();
  }
  async delete(k: string): Promise<void> {
    delete (await this.load())[k];
    await this.save();
  }
}

/** The account record a desktop keeps: no token (the desktop acts only with its workspace token). */
function accountFor(
  i: InstanceRecord,
  ws: { id: string; slug: string; name: string; role: AccountRecord['workspace']['role'] },
  user: AccountRecord['user'],
): AccountRecord {
  return { v: 1, serverUrl: i.serverUrl, token: '', expiresAt: '9999-12-31T00:00:00.000Z', user, workspace: ws };
}

/** Connects with the stored registration, or registers this desktop first. Returns the instance id. */
export async function enrollDesktop(link: WorkspaceLink, input: EnrollInput): Promise<{ instanceId: string; registered: boolean }> {
  const api = new ServerApi(input.serverUrl, link.fetch);
  const [oldAccount, oldInstance] = await Promise.all([link.credentials.account(), link.credentials.instance()]);
  if (oldInstance && oldAccount && oldInstance.serverUrl === api.baseUrl) {
    if (!link.isSignedIn) await link.connect(oldAccount, oldInstance);
    return { instanceId: oldInstance.id, registered: false };
  }
  let token = input.token?.trim();
  let signedInHere = false;
  if (!token) {
    if (!input.email || !input.password)
      throw new Error('enrolling this desktop needs MULTICLAW_ENROLL_TOKEN (an account token) or MULTICLAW_EMAIL and MULTICLAW_PASSWORD');
    token = (await api.login(input.email, input.password)).session.token;
    signedInHere = true;
  }
  link.deps.redactor.add(token);
  try {
    const me = await api.me(token);
    const ws = input.workspace
      ? me.workspaces.find((w) => w.id === input.workspace || w.slug === input.workspace)
      : me.workspaces.length === 1
        ? me.workspaces[0]
        : undefined;
    if (!ws) {
      throw new Error(
        input.workspace
          ? `${me.user.email} is not a member of the workspace "${input.workspace}"`
          : `${me.user.email} is in ${me.workspaces.length} workspaces: pass --workspace <id or slug>`,
      );
    }
    const name = input.name ?? `${os.hostname().slice(0, 120)} · desktop`;
    const r = await api.registerInstance(token, ws.id, { name, platform: `${process.platform}-${process.arch}`, version: input.version, kind: 'desktop' });
    link.deps.redactor.add(r.instanceSecret);
    link.deps.redactor.add(r.workspaceToken);
    const instance: InstanceRecord = {
      v: 1,
      serverUrl: api.baseUrl,
      workspaceId: ws.id,
      userId: me.user.id,
      id: r.instance.id,
      name: r.instance.name,
      secret: r.instanceSecret,
      workspaceToken: r.workspaceToken,
    };
    const account = accountFor(instance, ws, { id: me.user.id, email: me.user.email, name: me.user.name });
    await link.credentials.saveInstance(instance);
    await link.credentials.saveAccount(account);
    await link.connect(account, instance);
    return { instanceId: instance.id, registered: true };
  } finally {
    if (signedInHere) await api.logout(token).catch(() => undefined);
  }
}
