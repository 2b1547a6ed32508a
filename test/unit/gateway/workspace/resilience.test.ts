/**
 * The WSS session under failure, against the real reference server: 100 random drops while a running
 * task sends 1,000 updates (each delivered exactly once, in order), a half-open socket noticed within
 * two heartbeat intervals, malformed frames logged with the connection kept, a revoked member or
 * instance ending in Signed out after a bounded, counted number of attempts, and a reconnect that
 * never cancels a running task.
 */
import assert from 'node:assert/strict';
import { type ProviderServer } from '../../../fixtures/providerServer';
import { startTcpProxy } from '../../../fixtures/tcpProxy';
import {
  call,
  makeTeam,
  signInAs,
  startGateway,
  untilTask,
  waitFor,
  type GatewayHarness,
  type Team,
  type TestServer,
  stopGateway,
  useLinkEnv,
} from './helpers';

interface Note {
  note: string | null;
  status: string;
}

async function notesOf(ts: TestServer, team: Team, taskId: string): Promise<Note[]> {
  const r = await call<{ progress: Note[] }>(ts.url, 'GET', `/v1/workspaces/${team.wid}/tasks/${taskId}`, { token: team.owner.token });
  return r.body.progress;
}

async function assignedTask(ts: TestServer, team: Team, instanceId: string, title: string): Promise<string> {
  const r = await call<{ task: { id: string } }>(ts.url, 'POST', `/v1/workspaces/${team.wid}/tasks`, {
    token: team.owner.token,
    idem: true,
    body: { title, prompt: title, assignee: { type: 'instance', instanceId } },
  });
  assert.equal(r.status, 201);
  return r.body.task.id;
}

const countLogs = (ts: TestServer, pred: (rec: Record<string, unknown>) => boolean, from: number): number =>
  ts.logs
    .slice(from)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter(pred).length;

describe('workspace link: resilience', function () {
  this.timeout(90_000);
  let providers: ProviderServer;
  let ts: TestServer;
  let team: Team;
  let h: GatewayHarness;

  useLinkEnv((e) => void ({ providers, ts, team } = e));
  afterEach(async () => {
    await stopGateway(h);
  });

  it('100 random WSS drops while a running task sends 1,000 updates: each delivered exactly once, in order', async () => {
    h = await startGateway(providers, { tuning: { backoff: { baseMs: 10, capMs: 100 }, rpcTimeoutMs: 5_000 } });
    await signInAs(h, ts, team.people.member, team.wid);
    const link = h.gateway.link;
    const taskId = await assignedTask(ts, team, link.instance!.id, 'chatty task');
    const sender = link.sender!;
    let drops = 0;
    const welcomes = { n: 0 };
    link.session!.onDidWelcome(() => welcomes.n++);
    // Chaos: at 100 random points among the 1,000 deliveries, the server drops the connection (abruptly
    // or with a close code) — while requests are in flight.
    const dropAt = new Set<number>();
    while (dropAt.size < 100) dropAt.add(1 + Math.floor(Math.random() * 950));
    let delivered = 0;
    let owed = 0;
    sender.onDidDeliver(() => {
      if (dropAt.has(++delivered)) owed++;
      const conn = owed > 0 ? ts.server.hub.connection(link.session!.connectionId ?? '') : undefined;
      if (!conn) return; // not connected right now: drop on a later delivery
      owed--;
      drops++;
      if (Math.random() < 0.5) conn.ws.terminate();
      else conn.close(Math.random() < 0.5 ? 'shutdown' : 'internal', 'chaos');
    });
    // The task runs and reports 1,000 updates, enqueued as it goes (never waiting for the network).
    for (let i = 1; i <= 1000; i++) {
      await link.runner!.update(taskId, { status: 'running', note: `update ${i}`, progress: i / 1000 });
      if (i % 50 === 0) await new Promise((r) => setImmediate(r));
    }
    if (link.outbox!.size > 0) await waitFor(link.outbox!.onDidChange, (n) => n === 0, 80_000, `an empty outbox (drops so far: ${drops})`);
    assert.equal(drops, 100);
    assert.ok(welcomes.n >= 100, `reconnected after each drop (${welcomes.n} welcomes)`);
    const notes = (await notesOf(ts, team, taskId)).map((n) => n.note).filter((n): n is string => !!n && n.startsWith('update '));
    assert.equal(notes.length, 1000, 'no update lost or duplicated');
    assert.deepEqual(
      notes,
      Array.from({ length: 1000 }, (_, i) => `update ${i + 1}`),
      'in order',
    );
  });

  it('notices a half-open socket within two heartbeat intervals and reconnects', async () => {
    const proxy = await startTcpProxy(ts.server.port);
    try {
      h = await startGateway(providers);
      await signInAs(h, { url: `http://127.0.0.1:${proxy.port}` }, team.people.member, team.wid);
      const session = h.gateway.link.session!;
      await waitFor(session.onDidHeartbeat, () => true, 5_000, 'a heartbeat');
      const lost = waitFor(session.onDidChangeState, (s) => s.phase !== 'connected', 5_000, 'the drop');
      const frozenAt = Date.now();
      proxy.freeze();
      await lost;
      const noticedMs = Date.now() - frozenAt;
      assert.ok(noticedMs <= 2 * 200, `noticed after ${noticedMs} ms (heartbeat every 200 ms)`);
      assert.ok(h.sink.lines.some((l) => /half-open/.test(l)));
      await h.status((s) => s.phase === 'connected', 5_000, 'connected again');
      assert.ok(proxy.accepted >= 2, 'a new connection through the relay');
    } finally {
      await proxy.close();
    }
  });

  it('logs malformed frames and keeps the connection', async () => {
    h = await startGateway(providers);
    await signInAs(h, ts, team.people.member, team.wid);
    const link = h.gateway.link;
    const id = link.session!.connectionId!;
    const conn = ts.server.hub.connection(id)!;
    for (const bad of ['not json', '[1,2,3]', '{"type":"event","seq":"x","name":"task.created"}', '{"type":"welcome"}', '{"type":"nope"}', '{"no":"type"}'])
      conn.send(bad);
    conn.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    const taskId = await assignedTask(ts, team, link.instance!.id, 'after the garbage');
    await untilTask(link, taskId, () => true);
    assert.equal(link.session!.connectionId, id, 'the same connection');
    assert.equal(link.session!.malformedFrames, 7);
    assert.equal(h.gateway.linkStatus.current.phase, 'connected');
    assert.ok(h.sink.lines.filter((l) => /ignored .* from the server/.test(l)).length >= 5, 'logged');
  });

  it('a revoked member: Signed out (revoked) after one close and no further attempt', async () => {
    const extra = await makeTeam(ts, ['member']);
    h = await startGateway(providers, { tuning: { backoff: { baseMs: 10, capMs: 50 } } });
    await signInAs(h, ts, extra.people.member, extra.wid);
    const from = ts.logs.length;
    const ledgerBefore = h.gateway.ledger.list().filter((e) => e.purpose === 'workspace:ws').length;
    const ended = h.status((s) => s.phase === 'signedOut', 5_000, 'signed out');
    const r = await call(ts.url, 'DELETE', `/v1/workspaces/${extra.wid}/members/${extra.people.member.memberId}`, { token: extra.owner.token, idem: true });
    assert.equal(r.status, 200);
    const s = await ended;
    assert.equal(s.signedOutReason, 'revoked');
    assert.match(s.message ?? '', /revoked/);
    // A window of many backoff periods (10–50 ms): nothing more is tried.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const mints = countLogs(ts, (x) => x.route === 'sessionTokens.mint', from);
    const sockets = h.gateway.ledger.list().filter((e) => e.purpose === 'workspace:ws').length - ledgerBefore;
    assert.deepEqual({ mints, sockets }, { mints: 0, sockets: 0 });
    assert.equal(h.secrets.map.size, 0, 'credentials cleared');
  });

  it('a revoked instance found while reconnecting: one refused mint, then Signed out', async () => {
    const extra = await makeTeam(ts, ['member']);
    h = await startGateway(providers, { tuning: { backoff: { baseMs: 10, capMs: 50 } } });
    await signInAs(h, ts, extra.people.member, extra.wid);
    const link = h.gateway.link;
    const instanceId = link.instance!.id;
    // The socket drops (network), and meanwhile the instance is deleted in the database (no close frame reaches us).
    const from = ts.logs.length;
    const ended = h.status((s) => s.phase === 'signedOut', 5_000, 'signed out');
    await ts.server.services.ctx.db.run('DELETE FROM instances WHERE id = ?', instanceId);
    ts.server.hub.connection(link.session!.connectionId!)!.ws.terminate();
    const s = await ended;
    assert.equal(s.signedOutReason, 'revoked');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(
      countLogs(ts, (x) => x.route === 'sessionTokens.mint', from),
      1,
      'exactly one attempt',
    );
  });

  it('a reconnect never cancels a running task', async () => {
    h = await startGateway(providers);
    await signInAs(h, ts, team.people.member, team.wid);
    const link = h.gateway.link;
    const task = await h.gateway.tasks.dispatch({ agentId: 'default-openai-compatible', prompt: 'take your time #scenario:slow:40' });
    await waitFor(h.gateway.tasks.onDidChange, (c) => c.task.id === task.id && c.task.status === 'running', 5_000, 'running');
    for (let i = 0; i < 3; i++) {
      const back = waitFor(link.session!.onDidChangeState, (s) => s.phase === 'connected', 5_000, 'a reconnect');
      ts.server.hub.connection(link.session!.connectionId!)!.ws.terminate();
      await back;
    }
    const done =
      h.gateway.tasks.get(task.id)?.status === 'completed'
        ? h.gateway.tasks.get(task.id)!
        : (await waitFor(h.gateway.tasks.onDidChange, (c) => c.task.id === task.id && c.task.status !== 'running', 20_000, 'the end')).task;
    assert.equal(done.status, 'completed');
  });
});
