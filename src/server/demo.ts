/**
 * `--demo`: seeds (once) a demo workspace with an Owner, a Member and a Viewer, two agents and a few
 * tasks, then sets fresh random passwords (so they can be printed) and makes a new invite.
 */
import { randomBytes } from 'node:crypto';
import type { Admin } from './admin';

export const DEMO_SLUG = 'demo';

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
    await admin.createTask(DEMO_SLUG, 'Review the open pull request', 'Review PR #42 and list risky changes.', USERS[1].email);
    await admin.createTask(DEMO_SLUG, 'Draft release notes', 'Summarise the changes since v0.1.0.');
  }
  const invite = await admin.invite(DEMO_SLUG, 'member');
  return { created, workspaceId: (await admin.workspace(DEMO_SLUG)).id, slug: DEMO_SLUG, users, inviteToken: invite.token };
}
