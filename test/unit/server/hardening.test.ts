/**
 * The server stays up whatever a client sends (issue 11, items 1–3): deep nesting in a frame or body,
 * a bad row already stored, a client that never reads its answers, a sustained frame flood. Each row
 * was a crash or an unbounded queue before the fix.
 */
import * as assert from 'node:assert/strict';
import { CLOSE_CODES, LIMITS } from '../../../src/protocol/workspace/common';
import { MAX_JSON_DEPTH } from '../../../src/protocol/jsonLimits';
import { serverFrameSchema } from '../../../src/protocol/workspace/frames';
import { call, makeTeam, sessionToken, startTestServer, WsClient, type Team, type TestServer, useTeamServer } from '../../support/server';

const errCode = (f: Record<string, unknown>): string => (f.error as { code: string }).code;
const deepArray = (n: number): string => '['.repeat(n) + ']'.repeat(n);
const deepObject = (n: number): string => '{"a":'.repeat(n) + '1' + '}'.repeat(n);

/** Counts uncaught exceptions and unhandled rejections while a test runs (each one would kill a real server). */
function trapCrashes(): { crashes: unknown[]; stop(): void } {
  const crashes: unknown[] = [];
  const on = (e: unknown): void => void crashes.push(e);
  // Mocha's own handler stays installed; ours only records.
  process.on('uncaughtException', on);
  process.on('unhandledRejection', on);
  return {
    crashes,
    stop: () => {
      process.off('uncaughtException', on);
      process.off('unhandledRejection', on);
    },
  };
}

describe('server hardening: depth limits, guarded callbacks, bounded queues, floods', () => {
  let ts: TestServer;
  let team: Team;
  let token: string;
  let base: string;

  useTeamServer(async (e) => {
    ({ ts, team } = e);
    token = await sessionToken(ts, team.people.member.token, team.wid);
    base = `/v1/workspaces/${team.wid}`;
  });

  it('answers a frame whose type is nested 20,000 deep with a typed error, and stays up', async () => {
    const trap = trapCrashes();
    try {
      const viewer = (await WsClient.ready(ts.wsUrl, await sessionToken(ts, team.people.viewer.token, team.wid))).client;
      viewer.ws.send(`{"type":${deepArray(20_000)}}`);
      const f = await viewer.next((x) => x.type === 'error');
      assert.ok(serverFrameSchema.safeParse(f).success, JSON.stringify(f).slice(0, 300));
      assert.equal(errCode(f), 'bad_frame');
      assert.ok(JSON.stringify(f).length < 500, 'the error does not echo the value');
      // An unknown non-string type is described, not stringified.
      viewer.send({ type: { nested: [1, 2, 3] }, id: 'k1' });
      const k = await viewer.next((x) => x.type === 'error');
      assert.equal(errCode(k), 'unknown_type');
      assert.doesNotMatch(String((k.error as { message: string }).message), /nested/);
      assert.equal((await viewer.rpc('task.list', {})).ok, true, 'the socket still serves');
      viewer.close();
      assert.equal((await call(ts.url, 'GET', '/v1/health')).status, 200);
      assert.deepEqual(trap.crashes, []);
    } finally {
      trap.stop();
    }
  });

  it(`refuses a task context nested deeper than ${MAX_JSON_DEPTH} over REST and WSS, before validation`, async () => {
    const raw = `{"title":"deep","prompt":"p","context":${deepObject(4_100)}}`;
    const r = await call(ts.url, 'POST', `${base}/tasks`, { token: team.owner.token, idem: true, raw, headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 400);
    assert.equal(code(r), 'bad_request');
    assert.match((r.body.error as { message: string }).message, /nest/);
    const ok = await call(ts.url, 'POST', `${base}/tasks`, {
      token: team.owner.token,
      idem: true,
      raw: `{"title":"shallow","prompt":"p","context":${deepObject(MAX_JSON_DEPTH - 2)}}`,
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(ok.status, 201, 'nesting within the limit is accepted');
    const { client } = await WsClient.ready(ts.wsUrl, token);
    client.ws.send(`{"type":"req","id":"d1","method":"task.update","params":{"taskId":"x","status":"running","note":${deepArray(500)}}}`);
    const f = await client.next((x) => x.type === 'error' || x.type === 'res');
    assert.equal(errCode(f), 'bad_frame');
    const list = await client.rpc('task.list', {});
    assert.equal(list.ok, true);
    client.close();
    const rest = await call(ts.url, 'GET', `${base}/tasks`, { token: team.owner.token });
    assert.equal(rest.status, 200);
    const events = await call(ts.url, 'GET', `${base}/events`, { token: team.owner.token });
    assert.equal(events.status, 200);
  });

  it('keeps serving lists when a row stored before the fix is nested too deep, and an admin removes it', async () => {
    const trap = trapCrashes();
    try {
      const good = await call<{ task: { id: string } }>(ts.url, 'POST', `${base}/tasks`, {
        token: team.owner.token,
        idem: true,
        body: { title: 'bad row', prompt: 'p' },
      });
      const tid = good.body.task.id;
      // What an old server stored: a context 4,100 deep, in the row and in its task.created event.
      await ts.server.services.ctx.db.run('UPDATE tasks SET context = ? WHERE id = ?', deepObject(4_100), tid);
      await ts.server.services.ctx.db.run(
        "UPDATE events SET data = replace(data, '\"context\":{}', ?) WHERE workspace_id = ? AND name = 'task.created' AND data LIKE ?",
        `"context":${deepObject(4_100)}`,
        team.wid,
        `%${tid}%`,
      );
      const rest = await call<{ tasks: Array<{ id: string; context: Record<string, unknown> }> }>(ts.url, 'GET', `${base}/tasks`, { token: team.owner.token });
      assert.equal(rest.status, 200);
      const row = rest.body.tasks.find((t) => t.id === tid);
      assert.ok(row && typeof row.context._invalid === 'string', 'the bad context is replaced by a marker');
      const { client } = await WsClient.ready(ts.wsUrl, token, 0);
      const list = await client.rpc('task.list', {});
      assert.equal(list.ok, true);
      assert.equal((await call(ts.url, 'GET', `${base}/events?after=0`, { token: team.owner.token })).status, 200);
      // An Owner/Admin deletes it over REST; the event log no longer carries the deep value.
      const memberTry = await call(ts.url, 'DELETE', `${base}/tasks/${tid}`, { token: team.people.member.token, idem: true });
      assert.equal(memberTry.status, 403);
      const del = await call(ts.url, 'DELETE', `${base}/tasks/${tid}`, { token: team.people.admin.token, idem: true });
      assert.equal(del.status, 200, JSON.stringify(del.body));
      const gone = await client.next((x) => x.type === 'event' && x.name === 'task.deleted');
      assert.equal((gone.data as { taskId: string }).taskId, tid);
      assert.equal((await call(ts.url, 'GET', `${base}/tasks/${tid}`, { token: team.owner.token })).status, 404);
      const stored = (await ts.server.services.ctx.db.all('SELECT data FROM events WHERE workspace_id = ? AND data LIKE ?', team.wid, `%${tid}%`)) as Array<{
        data: string;
      }>;
      assert.ok(
        stored.every((e) => e.data.length < 5_000),
        'the deep context is scrubbed from the log',
      );
      const audit = await call<{ entries: Array<{ action: string }> }>(ts.url, 'GET', `${base}/audit?action=task.deleted`, { token: team.owner.token });
      assert.equal(audit.body.entries.length, 1);
      client.close();
      assert.deepEqual(trap.crashes, []);
    } finally {
      trap.stop();
    }
  });

  it('closes a client that never reads its answers with 4429 once its queue passes the byte limit', async () => {
    for (let i = 0; i < 12; i++) {
      await call(ts.url, 'POST', `${base}/tasks`, { token: team.owner.token, idem: true, body: { title: `big ${i}`, prompt: 'x'.repeat(90_000) } });
    }
    const { client } = await WsClient.ready(ts.wsUrl, token);
    const sock = (client.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    sock.pause();
    // Each answer is ~1 MB; 40 of them are five times the per-socket limit.
    for (let i = 0; i < 40; i++) client.send({ type: 'req', id: `q${i}`, method: 'task.list', params: { limit: 500 } });
    const conns = (ts.server.hub as unknown as { conns: Map<string, { ws: { bufferedAmount: number }; closed: boolean }> }).conns;
    let peak = 0;
    await new Promise<void>((resolve) => {
      const t = setInterval(() => {
        const c = [...conns.values()][0];
        if (c) peak = Math.max(peak, c.ws.bufferedAmount);
        if (!c || c.closed) {
          clearInterval(t);
          resolve();
        }
      }, 5);
    });
    sock.resume();
    const closed = await client.closed;
    assert.equal(closed.code, CLOSE_CODES.rateLimited.code);
    assert.ok(peak <= LIMITS.maxBufferedBytes + 2 * 1024 * 1024, `buffered ${peak} bytes`);
    assert.equal((await call(ts.url, 'GET', '/v1/health')).status, 200);
  });

  it('closes a sustained flood with 4429 after the burst, with at most a few error frames back', async () => {
    const flood = await startTestServer({ wsFramesPerSecond: 200 });
    try {
      const t = await makeTeam(flood, ['member']);
      const { client } = await WsClient.ready(flood.wsUrl, await sessionToken(flood, t.people.member.token, t.wid));
      const frame = JSON.stringify({ type: 'heartbeat', ts: 1 });
      let sent = 0;
      while (client.ws.readyState === client.ws.OPEN && sent < 20_000) {
        client.ws.send(frame);
        sent++;
        if (sent % 500 === 0) await new Promise((r) => setImmediate(r));
      }
      const closed = await client.closed;
      assert.equal(closed.code, CLOSE_CODES.rateLimited.code);
      const errors = client.frames.filter((f) => f.type === 'error');
      assert.ok(errors.length >= 1 && errors.length <= 5, `${errors.length} error frames for ${sent} frames sent`);
      assert.equal(errCode(errors[0]), 'rate_limited');
    } finally {
      await flood.close();
    }
  });
});

function code(r: { body: Record<string, unknown> }): string {
  return (r.body.error as { code: string }).code;
}
