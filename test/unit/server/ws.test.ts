import * as assert from 'node:assert/strict';
import { CLOSE_CODES, LIMITS } from '../../../src/protocol/workspace/common';
import WebSocket from 'ws';
import { serverFrameSchema } from '../../../src/protocol/workspace/frames';
import { call, idemKey, registerInstance, sessionToken, WsClient, type Team, type TestServer, useTeamServer } from '../../support/server';

const errCode = (f: Record<string, unknown>): string => (f.error as { code: string }).code;

describe('server WSS: frames, bad frames, heartbeats, presence, RPC', () => {
  let ts: TestServer;
  let team: Team;
  let token: string;

  useTeamServer(
    async (e) => {
      ({ ts, team } = e);
      token = await sessionToken(ts, team.people.member.token, team.wid);
    },
    { server: { heartbeatIntervalMs: 150, helloTimeoutMs: 300 } },
  );

  it('answers hello with a welcome that matches the schema', async () => {
    const { client, welcome } = await WsClient.ready(ts.wsUrl, token);
    assert.ok(serverFrameSchema.safeParse(welcome).success);
    assert.equal(welcome.workspaceId, team.wid);
    assert.deepEqual(welcome.principal, {
      userId: team.people.member.userId,
      memberId: team.people.member.memberId,
      role: 'member',
      instanceId: null,
      scope: 'user',
    });
    assert.equal(welcome.heartbeatIntervalMs, 150);
    client.close();
  });

  it('answers each bad frame with the documented error and keeps the socket up', async () => {
    const { client } = await WsClient.ready(ts.wsUrl, token);
    const cases: Array<[string | Buffer, string, string | null]> = [
      ['{not json', 'bad_frame', null],
      ['[1,2,3]', 'bad_frame', null],
      ['"a string"', 'bad_frame', null],
      [Buffer.from([1, 2, 3]), 'bad_frame', null],
      [JSON.stringify({ type: 'launch-missiles', id: 'm1' }), 'unknown_type', 'm1'],
      [JSON.stringify({ id: 'm2' }), 'unknown_type', 'm2'],
      [JSON.stringify({ type: 'heartbeat', ts: 'yesterday' }), 'validation_failed', null],
      [JSON.stringify({ type: 'signal', id: 's1', sessionId: 'x', kind: 'offer' }), 'validation_failed', 's1'],
      [JSON.stringify({ type: 'hello', protocol: 1, client: { name: 'again', version: '1' } }), 'not_ready', null],
      [JSON.stringify({ type: 'req', method: 'task.get' }), 'validation_failed', null],
    ];
    for (const [frame, code, ref] of cases) {
      client.ws.send(frame);
      const f = await client.next((x) => x.type === 'error');
      assert.ok(serverFrameSchema.safeParse(f).success, JSON.stringify(f));
      assert.equal(errCode(f), code, `frame ${String(frame)}`);
      assert.equal(f.ref, ref);
    }
    // A req with an id gets a failed res instead of an error frame.
    client.send({ type: 'req', id: 'r1', method: 7 });
    const res = await client.next((f) => f.type === 'res' && f.id === 'r1');
    assert.equal(res.ok, false);
    assert.equal(errCode(res), 'validation_failed');
    const unknown = await client.rpc('task.teleport', {});
    assert.equal(errCode(unknown), 'method_not_found');
    const badParams = await client.rpc('task.get', { taskId: '../etc/passwd' });
    assert.equal(errCode(badParams), 'validation_failed');
    // Still up: a good request works.
    const ok = await client.rpc('task.list', {});
    assert.equal(ok.ok, true);
    assert.equal(client.ws.readyState, client.ws.OPEN);
    client.close();
  });

  it('closes 4400 when the first frame is not hello, on hello timeout, or on a wrong protocol version', async () => {
    const a = await WsClient.connect(ts.wsUrl, token);
    a.send({ type: 'heartbeat', ts: 1 });
    assert.deepEqual(await a.closed, { code: CLOSE_CODES.protocolError.code, reason: 'first frame must be hello' });
    const b = await WsClient.connect(ts.wsUrl, token);
    assert.deepEqual(await b.closed, { code: 4400, reason: 'hello timeout' });
    const c = await WsClient.connect(ts.wsUrl, token);
    c.send({ type: 'hello', protocol: 2, client: { name: 'future', version: '9' } });
    assert.deepEqual(await c.closed, { code: 4400, reason: 'unsupported protocol version (server speaks 1)' });
  });

  it('closes 4400 after too many bad frames in a row, and 1009 for an oversized frame', async () => {
    const { client } = await WsClient.ready(ts.wsUrl, token);
    for (let i = 0; i <= LIMITS.maxConsecutiveBadFrames; i++) client.ws.send('nope');
    assert.deepEqual(await client.closed, { code: 4400, reason: 'too many bad frames' });
    const big = (await WsClient.ready(ts.wsUrl, token)).client;
    big.ws.send('x'.repeat(LIMITS.wsFrameBytes + 1));
    assert.equal((await big.closed).code, 1009);
  });

  it('sends heartbeats with the head seq, and closes 4408 when the client goes silent', async () => {
    const { client } = await WsClient.ready(ts.wsUrl, token);
    const hb = await client.next((f) => f.type === 'heartbeat');
    assert.equal(typeof hb.headSeq, 'number');
    assert.ok(serverFrameSchema.safeParse(hb).success);
    client.close();
    const silent = new WsClient(new WebSocket(ts.wsUrl, { headers: { authorization: `Bearer ${token}` }, autoPong: false }));
    await silent.opened;
    silent.send({ type: 'hello', protocol: 1, client: { name: 'quiet', version: '1' } });
    assert.deepEqual(await silent.closed, { code: CLOSE_CODES.heartbeatTimeout.code, reason: 'heartbeat timeout' });
  });

  it('tracks instance presence: online on connect (with heartbeat time), offline on close', async () => {
    const reg = await registerInstance(team, team.people.member);
    const watcher = (await WsClient.ready(ts.wsUrl, token)).client;
    const daemon = (await WsClient.ready(ts.wsUrl, await sessionToken(ts, reg.workspaceToken, undefined, 'daemon'))).client;
    const on = await watcher.next((f) => f.type === 'event' && f.name === 'instance.presence' && (f.data as { online: boolean }).online);
    assert.equal((on.data as { instanceId: string }).instanceId, reg.instanceId);
    assert.ok((on.data as { lastHeartbeatAt: string }).lastHeartbeatAt);
    daemon.send({ type: 'heartbeat', ts: Date.now(), status: 'busy' });
    const list = await daemon.rpc('presence.list', {});
    const me = (list.result as { instances: Array<{ id: string; online: boolean }> }).instances.find((i) => i.id === reg.instanceId);
    assert.equal(me?.online, true);
    daemon.close();
    const off = await watcher.next((f) => f.type === 'event' && f.name === 'instance.presence' && !(f.data as { online: boolean }).online);
    assert.equal((off.data as { instanceId: string }).instanceId, reg.instanceId);
    const rest = await call<{ instances: Array<{ id: string; online: boolean; lastHeartbeatAt: string | null }> }>(
      ts.url,
      'GET',
      `/v1/workspaces/${team.wid}/instances`,
      { token: team.owner.token },
    );
    const row = rest.body.instances.find((i) => i.id === reg.instanceId);
    assert.equal(row?.online, false);
    assert.ok(row?.lastHeartbeatAt);
    watcher.close();
  });

  it('updates tasks over WSS with idempotency shared with REST', async () => {
    const reg = await registerInstance(team, team.people.member);
    const created = await call<{ task: { id: string } }>(ts.url, 'POST', `/v1/workspaces/${team.wid}/tasks`, {
      token: team.owner.token,
      idem: true,
      body: { title: 'wss', prompt: 'p', assignee: { type: 'instance', instanceId: reg.instanceId } },
    });
    const tid = created.body.task.id;
    const daemon = (await WsClient.ready(ts.wsUrl, await sessionToken(ts, reg.workspaceToken, undefined, 'daemon'))).client;
    const noKey = await daemon.rpc('task.update', { taskId: tid, status: 'running' });
    assert.equal(errCode(noKey), 'idempotency_key_required');
    const key = idemKey();
    const first = await daemon.rpc('task.update', { taskId: tid, status: 'running', note: 'started', progress: 0.1 }, key);
    assert.equal(first.ok, true);
    assert.equal((first.result as { task: { status: string; version: number } }).task.status, 'running');
    const again = await daemon.rpc('task.update', { taskId: tid, status: 'running', note: 'started', progress: 0.1 }, key);
    assert.equal(again.replayed, true);
    assert.deepEqual(again.result, first.result);
    // The same key over REST (same request) replays too: one outbox, either channel.
    const viaRest = await call(ts.url, 'POST', `/v1/workspaces/${team.wid}/tasks/${tid}/status`, {
      token: reg.workspaceToken,
      idem: key,
      body: { status: 'running', note: 'started', progress: 0.1 },
    });
    assert.equal(viaRest.headers.get('idempotency-replayed'), 'true');
    assert.deepEqual(viaRest.body, first.result);
    const detail = await daemon.rpc('task.get', { taskId: tid });
    assert.equal((detail.result as { progress: unknown[] }).progress.length, 1);
    daemon.close();
  });

  it('delivers live events of every frame size intact (7-bit, 16-bit and 64-bit lengths)', async () => {
    const watcher = (await WsClient.ready(ts.wsUrl, token)).client;
    const t = await call<{ task: { id: string } }>(ts.url, 'POST', `/v1/workspaces/${team.wid}/tasks`, {
      token: team.owner.token,
      idem: true,
      body: { title: 'sizes', prompt: 'p' },
    });
    for (const size of [10, 2_000, 150_000]) {
      const output = 'x'.repeat(size);
      const r = await call(ts.url, 'POST', `/v1/workspaces/${team.wid}/tasks/${t.body.task.id}/status`, {
        token: team.owner.token,
        idem: true,
        body: { status: 'running', result: { summary: `size ${size}`, output } },
      });
      assert.equal(r.status, 200);
      const ev = await watcher.next(
        (f) =>
          f.type === 'event' &&
          f.name === 'task.updated' &&
          (f.data as { task: { result: { summary: string } | null } }).task.result?.summary === `size ${size}`,
      );
      assert.equal((ev.data as { task: { result: { output: string } } }).task.result.output, output);
    }
    assert.equal((await watcher.rpc('task.list', { limit: 1 })).ok, true);
    watcher.close();
  });

  it('lets a Viewer read over WSS but not mutate', async () => {
    const viewerTok = await sessionToken(ts, team.people.viewer.token, team.wid);
    const { client } = await WsClient.ready(ts.wsUrl, viewerTok);
    assert.equal((await client.rpc('task.list', {})).ok, true);
    const denied = await client.rpc('task.update', { taskId: 'tsk_x', status: 'running' }, idemKey());
    assert.equal(errCode(denied), 'forbidden');
    client.close();
  });
});
