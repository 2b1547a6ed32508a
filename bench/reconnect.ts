/**
 * `npm run bench -- reconnect [--restarts 20] [--rate 100]`
 *
 * The workspace server (a child process, default settings, demo workspace) is restarted 20 times —
 * alternately SIGTERM (goodbye frames, close 1001) and SIGKILL — while a running task on the member's
 * gateway reports `--rate` updates per second through the outbox. For each restart: the time from the
 * server listening again to the gateway's session being connected (production backoff: full jitter,
 * 250 ms doubling to 30 s). Then every update is checked on the server: lost (never applied),
 * duplicated (applied twice) and out of order.
 * Last line: {medianMs, p90Ms, maxMs, lost, duplicated, outOfOrder, updates, restarts}.
 * Goal: median ≤ 1000 ms after the server is back, 0 lost, 0 duplicated.
 */
import { performance } from 'node:perf_hooks';
import { login, rest, startServerProcess } from '../test/fixtures/serverProcess';
import { percentile, round, signedInGateway } from './benchGateway';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const RESTARTS = arg('restarts', 20);
const RATE = arg('rate', 100);

async function main(): Promise<void> {
  const server = await startServerProcess({ node: process.execPath });
  const ownerToken = await login(server.url, server.users.owner);
  const g = await signedInGateway(server.url, server.users.member);
  const link = g.gateway.link;
  const session = (): NonNullable<typeof link.session> => link.session!;
  const created = await rest<{ task: { id: string } }>(server.url, 'POST', `/v1/workspaces/${server.workspaceId}/tasks`, {
    token: ownerToken,
    body: { title: 'under load', prompt: 'p', assignee: { type: 'instance', instanceId: link.instance!.id } },
  });
  const taskId = created.body.task.id;

  // Load: a running task reporting RATE updates per second, whatever the connection does.
  let enqueued = 0;
  let loading = true;
  const load = (async () => {
    const start = performance.now();
    while (loading) {
      await link.runner!.update(taskId, { status: 'running', note: `load ${++enqueued}` });
      const due = start + (enqueued * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  })();

  const connected = (): Promise<void> =>
    session().isConnected
      ? Promise.resolve()
      : new Promise((resolve) => {
          const sub = session().onDidChangeState((s) => {
            if (s.phase !== 'connected') return;
            sub.dispose();
            resolve();
          });
        });
  const times: number[] = [];
  for (let r = 1; r <= RESTARTS; r++) {
    await new Promise((res) => setTimeout(res, 1000)); // a second of traffic on the connection
    if (r % 2) await server.stop();
    else await server.kill9();
    await server.start();
    const back = performance.now();
    await connected();
    times.push(performance.now() - back);
    process.stderr.write(`restart ${r}: connected ${Math.round(times[times.length - 1]!)} ms after the server was back\n`);
  }
  loading = false;
  await load;
  const outbox = link.outbox!;
  if (outbox.size)
    await new Promise<void>((resolve) => {
      const sub = outbox.onDidChange((n) => {
        if (n === 0) {
          sub.dispose();
          resolve();
        }
      });
    });
  const d = await rest<{ progress: Array<{ note: string | null }> }>(server.url, 'GET', `/v1/workspaces/${server.workspaceId}/tasks/${taskId}`, {
    token: ownerToken,
  });
  const seq = d.body.progress
    .map((p) => /^load (\d+)$/.exec(p.note ?? '')?.[1])
    .filter((x): x is string => !!x)
    .map(Number);
  const distinct = new Set(seq);
  let outOfOrder = 0;
  for (let i = 1; i < seq.length; i++) if (seq[i]! < seq[i - 1]!) outOfOrder++;
  times.sort((a, b) => a - b);
  await g.close();
  await server.dispose();
  console.log(
    JSON.stringify({
      bench: 'reconnect',
      restarts: RESTARTS,
      updates: enqueued,
      medianMs: round(percentile(times, 50)),
      p90Ms: round(percentile(times, 90)),
      maxMs: round(times[times.length - 1] ?? NaN),
      lost: enqueued - distinct.size,
      duplicated: seq.length - distinct.size,
      outOfOrder,
    }),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
