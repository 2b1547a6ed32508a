/**
 * `npm run bench -- assign-latency [--tasks 200]`
 *
 * A task created on the workspace server (REST, by the owner, assigned to the member) → the member's
 * Tasks tree data includes it: the gateway's WSS session receives `task.created`, validates it, updates
 * the workspace task list, and `buildTaskGroups` (the tree's model) is rebuilt with the row. Timed
 * from just before the REST request. Baseline in the same run: a bare `ws` client on the same server
 * receiving the same event (no validation, no model). Tasks are created one after another.
 * Last line: {p50Ms, p99Ms, baselineP50Ms, baselineP99Ms, tasks}. Goal: p50 ≤ 20 ms, p99 ≤ 100 ms.
 */
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { buildTaskGroups } from '../src/gateway/tasks/taskGroups';
import { percentile, rest, round, seedTeam, signedInGateway, startServer } from './benchGateway';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const TASKS = arg('tasks', 200);

async function main(): Promise<void> {
  const team = await seedTeam();
  const server = await startServer(team);
  const ownerToken = (await rest<{ session: { token: string } }>(server.url, 'POST', '/v1/auth/login', undefined, team.owner)).body.session.token;
  const g = await signedInGateway(server.url, team.member);
  const link = g.gateway.link;
  const ws = link.workspaceTasks!;
  const memberId = g.gateway.linkStatus.current.memberId!;
  const wid = link.account!.workspace.id;

  // Baseline: a bare socket on the same server (member session token), no validation or model.
  const mint = await rest<{ token: string }>(server.url, 'POST', '/v1/session-tokens', ownerToken, { workspaceId: wid });
  const bare = new WebSocket(server.wsUrl, { headers: { authorization: `Bearer ${mint.body.token}` } });
  await new Promise<void>((resolve, reject) => {
    bare.once('open', () => resolve());
    bare.once('error', reject);
  });
  bare.send(JSON.stringify({ type: 'hello', protocol: 1, client: { name: 'bench', version: '0' } }));
  const bareSeen = new Map<string, number>();
  bare.on('message', (d) => {
    const at = performance.now();
    const f = JSON.parse(String(d)) as { type: string; name?: string; data?: { task?: { id: string } } };
    if (f.type === 'event' && f.name === 'task.created' && f.data?.task) {
      bareSeen.set(f.data.task.id, at);
      wake?.();
    }
  });

  const treeSeen = new Map<string, number>();
  let wake: (() => void) | undefined;
  const seenBoth = (id: string): Promise<void> =>
    new Promise((resolve) => {
      const check = (): void => {
        if (treeSeen.has(id) && bareSeen.has(id)) resolve();
        else wake = check;
      };
      check();
    });
  ws.onDidChange((c) => {
    if (c.kind !== 'upsert' || !c.event || c.event.name !== 'task.created') return;
    const model = buildTaskGroups({ local: g.gateway.tasks.list(), workspace: ws.list(), me: ws.identity });
    if (model.groups.some((gr) => gr.rows.some((r) => r.id === c.id))) treeSeen.set(c.id, performance.now());
    wake?.();
  });

  const ours: number[] = [];
  const base: number[] = [];
  for (let i = 0; i < TASKS + 10; i++) {
    const t0 = performance.now();
    const r = await rest<{ task: { id: string } }>(server.url, 'POST', `/v1/workspaces/${wid}/tasks`, ownerToken, {
      title: `bench ${i}`,
      prompt: 'p',
      assignee: { type: 'member', memberId },
    });
    const id = r.body.task.id;
    await seenBoth(id);
    if (i < 10) continue; // warm-up
    ours.push(treeSeen.get(id)! - t0);
    base.push(bareSeen.get(id)! - t0);
  }
  ours.sort((a, b) => a - b);
  base.sort((a, b) => a - b);
  bare.close();
  await g.close();
  await server.close();
  console.log(
    JSON.stringify({
      bench: 'assign-latency',
      tasks: TASKS,
      p50Ms: round(percentile(ours, 50)),
      p99Ms: round(percentile(ours, 99)),
      baselineP50Ms: round(percentile(base, 50)),
      baselineP99Ms: round(percentile(base, 99)),
    }),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
