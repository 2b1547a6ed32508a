/**
 * `MultiClaw: Sign In`: the workspace server URL (setting `multiclaw.workspace.url`), email and
 * password or a token, then the workspace when there are several. Arguments skip the prompts (tests).
 * The runtime (`src/gateway/workspace/signIn.ts`) loads on first use.
 */
import * as vscode from 'vscode';
import type { Gateway } from '../../gateway/gateway';
import type { Logger } from '../../gateway/ports';
import { showError } from '../commands';
import { errorMessage } from '../../gateway/errors';

export interface SignInArgs {
  url?: string;
  email?: string;
  password?: string;
  token?: string;
  /** Workspace id or slug. */
  workspace?: string;
}

function validUrl(v: string): string | undefined {
  try {
    const u = new URL(v.trim());
    return u.protocol === 'https:' || u.protocol === 'http:' ? undefined : 'Use an https:// URL (http:// only for a server on this machine).';
  } catch {
    return 'Enter the URL of your MultiClaw workspace server, e.g. https://workspace.example.com';
  }
}

/** Runs the sign-in flow; true when signed in. */
export async function runSignIn(gateway: Gateway, logger: Logger, args: SignInArgs = {}): Promise<boolean> {
  const cfg = vscode.workspace.getConfiguration('multiclaw');
  let url = args.url ?? cfg.get<string>('workspace.url')?.trim() ?? '';
  if (!url) {
    url =
      (
        await vscode.window.showInputBox({
          title: 'MultiClaw: Sign In (1/3)',
          prompt: 'The URL of your workspace server',
          placeHolder: 'https://workspace.example.com',
          ignoreFocusOut: true,
          validateInput: validUrl,
        })
      )?.trim() ?? '';
    if (!url) return false;
  }
  if (validUrl(url)) {
    showError(`"${url}" is not a workspace URL. ${validUrl(url) ?? ''}`, logger);
    return false;
  }
  if (cfg.get<string>('workspace.url') !== url) await cfg.update('workspace.url', url, vscode.ConfigurationTarget.Global);
  let cred: { email: string; password: string } | { token: string };
  if (args.token) cred = { token: args.token };
  else if (args.email && args.password) cred = { email: args.email, password: args.password };
  else {
    const how = await vscode.window.showQuickPick(
      [
        { label: '$(mail) Email and password', id: 'password' as const },
        { label: '$(key) Paste a sign-in token', id: 'token' as const, description: 'mca_…' },
      ],
      { title: 'MultiClaw: Sign In (2/3)', placeHolder: `Sign in to ${new URL(url).host}`, ignoreFocusOut: true },
    );
    if (!how) return false;
    if (how.id === 'token') {
      const token = await vscode.window.showInputBox({
        title: 'MultiClaw: Sign In (3/3)',
        prompt: "Your sign-in token. It is kept in VS Code's secret storage only.",
        password: true,
        ignoreFocusOut: true,
        validateInput: (v) => (v.trim() ? undefined : 'Paste a token, or press Escape.'),
      });
      if (!token) return false;
      cred = { token };
    } else {
      const email =
        args.email ??
        (await vscode.window.showInputBox({
          title: 'MultiClaw: Sign In (3/3)',
          prompt: 'Email',
          placeHolder: 'you@example.com',
          ignoreFocusOut: true,
          validateInput: (v) => (/^[^\s@]+@[^\s@]+$/.test(v.trim()) ? undefined : 'Enter an email address.'),
        }));
      if (!email) return false;
      const password = await vscode.window.showInputBox({
        title: 'MultiClaw: Sign In (3/3)',
        prompt: `Password for ${email}`,
        password: true,
        ignoreFocusOut: true,
        validateInput: (v) => (v ? undefined : 'Enter your password, or press Escape.'),
      });
      if (!password) return false;
      cred = { email, password };
    }
  }
  await gateway.ensureRunning();
  const { signIn, SignInCancelled } = await import('../../gateway/workspace/signIn');
  try {
    const account = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `MultiClaw: signing in to ${new URL(url).host}…` },
      () =>
        signIn(
          gateway.link,
          { serverUrl: url, workspace: args.workspace, ...cred },
          async (list) =>
            (
              await vscode.window.showQuickPick(
                list.map((w) => ({ label: w.name, description: `${w.slug} · ${w.role}`, w })),
                { title: 'MultiClaw: Select a workspace', placeHolder: 'You are a member of several workspaces', ignoreFocusOut: true },
              )
            )?.w,
        ),
    );
    void vscode.window.showInformationMessage(`MultiClaw: signed in to ${account.workspace.name} as ${account.user.email}.`);
    return true;
  } catch (err) {
    if (err instanceof SignInCancelled) return false;
    showError(`Sign-in failed: ${errorMessage(err)}`, logger, err);
    return false;
  }
}
