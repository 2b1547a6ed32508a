/**
 * `--demo`: seeds (once) a demo workspace with an Owner, a Member and a Viewer, two agents and a few
 * tasks (one for the Owner, one for the Member, one unassigned), then sets fresh random passwords (so
 * they can be printed) and makes a new invite. Its data lives in the user's cache folder, not in the
 * current directory (`demoDataDir`).
 */
import { randomBytes } from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Admin } from './admin';

export const DEMO_SLUG = 'demo';

/** `--demo` without `--data-dir`: $XDG_CACHE_HOME/multiclaw/demo-server (default ~/.cache/…). */
export function demoDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'multiclaw', 'demo-server');
}

export interface DemoInfo {
  created: boolean;
  workspaceId: string;
  slug: string;
  users: Array<{ email: string; password: string; role: string }>;
  inviteToken: string;
}

const USERS = [
  { email: 'owner@demo.multiclaw.local', name: 'Demo Owner', role: 'owner' },
  { email: 'member@demo.multiclaw.local', name: 'Demo Member', role: 'member' },
  { email: 'viewer@demo.multiclaw.local', name: 'Demo Viewer', role: 'viewer' },
] as const;

export async function seedDemo(admin: Admin): Promise<DemoInfo> {
  const created = !(await admin.services.workspaces.bySlug(DEMO_SLUG));
  const users: DemoInfo['users'] = [];
  for (const u of USERS) {
    const password = randomBytes(12).toString('base64url');
    if (await admin.userExists(u.email)) await admin.setPassword(u.email, password);
    else await admin.createUser(u.email, u.name, password);
    users.push({ email: u.email, password, role: u.role });
  }
  if (created) {
    await admin.createWorkspace(DEMO_SLUG, 'Demo workspace', USERS[0].email);
    await admin.addMember(DEMO_SLUG, USERS[1].email, 'member');
    await admin.addMember(DEMO_SLUG, USERS[2].email, 'viewer');
    await admin.createAgent(DEMO_SLUG, 'Reviewer', 'anthropic', 'claude-sonnet-4-5', 'You review pull requests carefully and kindly.');
    await admin.createAgent(DEMO_SLUG, 'Scribe', 'openai', 'gpt-4.1-mini', 'You write release notes.');
    // The Owner signs in first (their password is printed first): something waits for them too.
    await admin.createTask(DEMO_SLUG, 'Plan the first sprint', 'List three goals for the first sprint and a first step for each.', USERS[0].email);
    await admin.createTask(DEMO_SLUG, 'Review the open pull request', 'Review PR #42 and list risky changes.', USERS[1].email);
    await admin.createTask(DEMO_SLUG, 'Draft release notes', 'Summarise the changes since v0.1.0.');
  }
  const invite = await admin.invite(DEMO_SLUG, 'member');
  return { created, workspaceId: (await admin.workspace(DEMO_SLUG)).id, slug: DEMO_SLUG, users, inviteToken: invite.token };
}
