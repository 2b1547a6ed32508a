/**
 * `MultiClaw: Sign In`: the workspace server URL (setting `multiclaw.workspace.url`), probed before any
 * credentials are asked for (a closed port or a wrong host is reported in the URL box, which keeps what
 * was typed); email and password or a token, with "Change server…"; a wrong password asks again for the
 * password only; then the workspace when there are several. The URL is saved only after a successful
 * sign-in. Arguments skip the prompts (tests). The runtime (`src/gateway/workspace/signIn.ts`) loads on
 * first use.
 */
import * as vscode from 'vscode';
import type { Gateway } from '../../gateway/gateway';
import type { Logger } from '../../gateway/ports';
import { showError } from '../commands';
import { errorMessage } from '../../gateway/errors';
import { ask } from '../quickInput';

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

const validEmail = (v: string): string | undefined => (/^[^\s@]+@[^\s@]+$/.test(v.trim()) ? undefined : 'Enter an email address.');

/** A wrong email or password (the server does not say which). */
function isWrongCredentials(err: unknown): boolean {
  const e = err as { name?: unknown; status?: unknown; code?: unknown } | undefined;
  return e?.name === 'ServerApiError' && e.status === 401 && e.code === 'invalid_credentials';
}

const hostOf = (url: string): string => {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
};

/** Runs the sign-in flow; true when signed in. */
export async function runSignIn(gateway: Gateway, logger: Logger, args: SignInArgs = {}): Promise<boolean> {
  const cfg = vscode.workspace.getConfiguration('multiclaw');
  await gateway.ensureRunning();
  const { signIn, probeServer, SignInCancelled } = await import('../../gateway/workspace/signIn');
  const probe = async (u: string): Promise<string | undefined> => {
    const bad = validUrl(u);
    if (bad) return bad;
    try {
      await probeServer(gateway.link, u.trim());
      return undefined;
    } catch (err) {
      return errorMessage(err);
    }
  };
  const askUrl = (value: string, error?: string): Promise<string | undefined> =>
    ask({
      title: 'MultiClaw: Sign In (1/3)',
      prompt: 'The URL of your workspace server (checked before you sign in)',
      placeholder: 'https://workspace.example.com',
      value,
      error,
      validate: (v) => (v.trim() ? validUrl(v) : undefined),
      check: probe,
    });

  // 1. The server: reachable and a MultiClaw workspace server, before any credentials.
  let url = (args.url ?? cfg.get<string>('workspace.url') ?? '').trim();
  if (!url) {
    url = (await askUrl(''))?.trim() ?? '';
    if (!url) return false;
  } else {
    const failure = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `MultiClaw: checking ${hostOf(url)}…` }, () =>
      probe(url),
    );
    if (failure) {
      if (args.url) {
        showError(`Cannot sign in to ${url}: ${failure}`, logger);
        return false;
      }
      url = (await askUrl(url, failure))?.trim() ?? '';
      if (!url) return false;
    }
  }

  // 2. How to sign in ("Change server…" goes back to 1), 3. the credentials.
  let cred: { email: string; password: string } | { token: string } | undefined;
  if (args.token) cred = { token: args.token };
  else if (args.email && args.password) cred = { email: args.email, password: args.password };
  while (!cred) {
    const how = await vscode.window.showQuickPick(
      [
        { label: '$(mail) Email and password', id: 'password' as const },
        { label: '$(key) Paste a sign-in token', id: 'token' as const, description: 'mca_…' },
        { label: '$(server) Change server…', id: 'server' as const, description: hostOf(url) },
      ],
      { title: 'MultiClaw: Sign In (2/3)', placeHolder: `Sign in to ${hostOf(url)}`, ignoreFocusOut: true },
    );
    if (!how) return false;
    if (how.id === 'server') {
      const next = (await askUrl(url))?.trim();
      if (!next) return false;
      url = next;
      continue;
    }
    if (how.id === 'token') {
      const token = await ask({
        title: 'MultiClaw: Sign In (3/3)',
        prompt: "Your sign-in token. It is kept in VS Code's secret storage only.",
        password: true,
        validate: (v) => (v.trim() ? undefined : 'Paste a token, or press Escape.'),
      });
      if (!token) return false;
      cred = { token };
    } else {
      const email =
        args.email ??
        (await ask({ title: 'MultiClaw: Sign In (3/3)', prompt: 'Email', placeholder: 'you@example.com', validate: (v) => (v ? validEmail(v) : undefined) }));
      if (!email) return false;
      cred = { email: email.trim(), password: '' };
    }
  }

  let passwordError: string | undefined;
  for (;;) {
    if ('email' in cred && !cred.password) {
      const password = await ask({
        title: 'MultiClaw: Sign In (3/3)',
        prompt: passwordError ? `Password for ${cred.email} (Escape, then Sign In again, to use another email)` : `Password for ${cred.email}`,
        password: true,
        error: passwordError,
        validate: (v) => (v ? undefined : 'Enter your password, or press Escape.'),
      });
      if (!password) return false;
      cred = { email: cred.email, password };
    }
    const input = { serverUrl: url, workspace: args.workspace, ...cred };
    try {
      const account = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `MultiClaw: signing in to ${hostOf(url)}…` },
        () =>
          signIn(
            gateway.link,
            input,
            async (list) =>
              (
                await vscode.window.showQuickPick(
                  list.map((w) => ({ label: w.name, description: `${w.slug} · ${w.role}`, w })),
                  { title: 'MultiClaw: Select a workspace', placeHolder: 'You are a member of several workspaces', ignoreFocusOut: true },
                )
              )?.w,
          ),
      );
      // Saved only now: a mistyped URL never becomes the setting every later Sign In starts from.
      if (cfg.get<string>('workspace.url') !== url) await cfg.update('workspace.url', url, vscode.ConfigurationTarget.Global);
      void vscode.window.showInformationMessage(`MultiClaw: signed in to ${account.workspace.name} as ${account.user.email}.`);
      return true;
    } catch (err) {
      if (err instanceof SignInCancelled) return false;
      if ('email' in cred && isWrongCredentials(err) && !args.password) {
        passwordError = `Wrong password for ${cred.email} (or no such account). Enter it again.`;
        cred = { email: cred.email, password: '' };
        continue;
      }
      showError(`Sign-in failed: ${errorMessage(err)}`, logger, err);
      return false;
    }
  }
}
