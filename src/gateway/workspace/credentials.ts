/**
 * Where workspace credentials live: VS Code SecretStorage only (the gateway's SecretStore port), never
 * settings or files. Two records: the account session (sign-in; expires, cleared by Sign Out) and this
 * machine's instance (id, instance secret, long-lived workspace token; kept across sign-ins to the same
 * workspace so the instance is reused, cleared when revoked). Every value is registered with the
 * redactor when read or written.
 */
import type { Role } from '../../protocol/workspace/common';
import type { Redactor } from '../log/redact';
import type { SecretStore } from '../ports';

export const ACCOUNT_SECRET = 'multiclaw.workspace.account';
export const INSTANCE_SECRET = 'multiclaw.workspace.instance';

export interface AccountRecord {
  v: 1;
  serverUrl: string;
  /** Account bearer token (mca_…). */
  token: string;
  expiresAt: string;
  user: { id: string; email: string; name: string };
  workspace: { id: string; slug: string; name: string; role: Role };
}

export interface InstanceRecord {
  v: 1;
  serverUrl: string;
  workspaceId: string;
  userId: string;
  id: string;
  name: string;
  /** The instance secret (mcis_…): provider-key blobs are encrypted for it. */
  secret: string;
  /** Long-lived workspace token (mcw_…). */
  workspaceToken: string;
}

function parse<T extends { v: number }>(raw: string | undefined): T | undefined {
  if (!raw) return undefined;
  try {
    const v = JSON.parse(raw) as T;
    return v && v.v === 1 ? v : undefined;
  } catch {
    return undefined;
  }
}

export class CredentialStore {
  constructor(
    private readonly secrets: SecretStore,
    private readonly redactor: Redactor,
  ) {}

  async account(): Promise<AccountRecord | undefined> {
    const a = parse<AccountRecord>(await this.secrets.get(ACCOUNT_SECRET));
    this.redactor.add(a?.token);
    return a;
  }

  async instance(): Promise<InstanceRecord | undefined> {
    const i = parse<InstanceRecord>(await this.secrets.get(INSTANCE_SECRET));
    this.redactor.add(i?.secret);
    this.redactor.add(i?.workspaceToken);
    return i;
  }

  async saveAccount(a: AccountRecord): Promise<void> {
    this.redactor.add(a.token);
    await this.secrets.store(ACCOUNT_SECRET, JSON.stringify(a));
  }

  async saveInstance(i: InstanceRecord): Promise<void> {
    this.redactor.add(i.secret);
    this.redactor.add(i.workspaceToken);
    await this.secrets.store(INSTANCE_SECRET, JSON.stringify(i));
  }

  async clearAccount(): Promise<void> {
    await this.secrets.delete(ACCOUNT_SECRET);
  }

  async clearInstance(): Promise<void> {
    await this.secrets.delete(INSTANCE_SECRET);
  }
}
