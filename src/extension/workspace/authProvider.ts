/**
 * The "MultiClaw" entry of the Accounts menu. Sessions are read from SecretStorage (the account record
 * the workspace link writes); signing in and out run the same flows as the commands. MultiClaw keeps its
 * tokens to itself: a session handed to another extension carries no token.
 */
import * as vscode from 'vscode';
import { ACCOUNT_SECRET, type AccountRecord } from '../../gateway/workspace/credentials';
import type { Gateway } from '../../gateway/gateway';
import { Disposable } from '../../gateway/util/disposable';

export const AUTH_PROVIDER_ID = 'multiclaw';

export class MultiClawAuthProvider extends Disposable implements vscode.AuthenticationProvider {
  private readonly emitter = this._register(new vscode.EventEmitter<vscode.AuthenticationProviderAuthenticationSessionsChangeEvent>());
  readonly onDidChangeSessions = this.emitter.event;
  private current: vscode.AuthenticationSession | undefined;

  constructor(
    private readonly secrets: vscode.SecretStorage,
    gateway: Gateway,
    private readonly signIn: () => Promise<boolean>,
    private readonly signOut: () => Promise<void>,
  ) {
    super();
    this._register(gateway.linkStatus.onDidChange(() => void this.check()));
    this._register(
      secrets.onDidChange((e) => {
        if (e.key === ACCOUNT_SECRET) void this.check();
      }),
    );
    void this.check();
  }

  private async read(): Promise<vscode.AuthenticationSession | undefined> {
    const raw = await this.secrets.get(ACCOUNT_SECRET);
    if (!raw) return undefined;
    try {
      const a = JSON.parse(raw) as AccountRecord;
      if (Date.parse(a.expiresAt) <= Date.now()) return undefined;
      return { id: `${a.user.id}@${a.workspace.id}`, accessToken: '', account: { id: a.user.id, label: `${a.user.email} (${a.workspace.name})` }, scopes: [] };
    } catch {
      return undefined;
    }
  }

  /** Fires added/removed when the signed-in session changes. */
  private async check(): Promise<void> {
    const next = await this.read();
    const prev = this.current;
    if (prev?.id === next?.id) return;
    this.current = next;
    this.emitter.fire({ added: next ? [next] : [], removed: prev ? [prev] : [], changed: [] });
  }

  async getSessions(): Promise<vscode.AuthenticationSession[]> {
    const s = await this.read();
    return s ? [s] : [];
  }

  async createSession(): Promise<vscode.AuthenticationSession> {
    if (!(await this.signIn())) throw new Error('Sign-in to MultiClaw was cancelled.');
    const s = await this.read();
    if (!s) throw new Error('Sign-in to MultiClaw did not complete.');
    await this.check();
    return s;
  }

  async removeSession(): Promise<void> {
    await this.signOut();
    await this.check();
  }
}
