import * as assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { turnCredentialsSchema } from '../../../src/protocol/workspace/models';
import { call, makeTeam, registerInstance, sessionToken, startTestServer, WsClient, type Team, type TestServer } from '../../support/server';

const TURN_SECRET = 'turn-shared-secret-for-tests';
const errCode = (f: Record<string, unknown>): string => (f.error as { code: string }).code;

describe('cloud desktop signalling and TURN credentials', () => {
  let ts: TestServer;
  let team: Team;
  let desktop: WsClient;
  let desktopId: string;
  let viewer: WsClient;

  before(async () => {
    ts = await startTestServer({
      turn: { urls: ['turn:127.0.0.1:3478?transport=udp', 'turn:127.0.0.1:3478?transport=tcp'], secret: TURN_SECRET, ttlSeconds: 600 },
    });
    team = await makeTeam(ts);
    const reg = await registerInstance(team, team.people.admin, 'desktop');
    desktopId = reg.instanceId;
    desktop = (await WsClient.ready(ts.wsUrl, await sessionToken(ts, reg.workspaceToken, undefined, 'daemon'))).client;
    viewer = (await WsClient.ready(ts.wsUrl, await sessionToken(ts, team.people.member.token, team.wid))).client;
  });
  after(async () => {
    desktop.close();
    viewer.close();
    await ts.close();
  });

  it('relays offer, answer and ICE between a viewer and a desktop instance of the workspace', async () => {
    viewer.send({ type: 'signal', sessionId: 's1', kind: 'offer', to: { instanceId: desktopId }, payload: { sdp: 'v=0 offer' } });
    const offer = await desktop.next((f) => f.type === 'signal');
    assert.equal(offer.kind, 'offer');
    assert.deepEqual(offer.payload, { sdp: 'v=0 offer' });
    const from = offer.from as { connectionId: string; memberId: string; instanceId: string | null; role: string };
    assert.equal(from.memberId, team.people.member.memberId);
    assert.equal(from.instanceId, null);
    assert.equal(from.role, 'member', 'the server attests the role (the desktop decides input by it)');
    desktop.send({ type: 'signal', sessionId: 's1', kind: 'answer', to: { connectionId: from.connectionId }, payload: { sdp: 'v=0 answer' } });
    const answer = await viewer.next((f) => f.type === 'signal');
    assert.deepEqual([answer.kind, answer.payload, (answer.from as { instanceId: string }).instanceId], ['answer', { sdp: 'v=0 answer' }, desktopId]);
    viewer.send({
      type: 'signal',
      sessionId: 's1',
      kind: 'ice',
      to: { instanceId: desktopId },
      payload: { candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0 },
    });
    const ice = await desktop.next((f) => f.type === 'signal');
    assert.equal((ice.payload as { candidate: string }).candidate.startsWith('candidate:1'), true);
  });

  it('refuses viewer↔viewer, other workspaces and offline peers, keeping the socket up', async () => {
    const other = (await WsClient.ready(ts.wsUrl, await sessionToken(ts, team.people.admin.token, team.wid))).client;
    const otherWelcome = await other.rpc('presence.list', {});
    assert.equal(otherWelcome.ok, true);
    // viewer → viewer
    const { client: peer, welcome } = await WsClient.ready(ts.wsUrl, await sessionToken(ts, team.owner.token, team.wid));
    viewer.send({ type: 'signal', id: 'x1', sessionId: 's2', kind: 'offer', to: { connectionId: welcome.connectionId }, payload: { sdp: 'x' } });
    const e1 = await viewer.next((f) => f.type === 'error' && f.ref === 'x1');
    assert.equal(errCode(e1), 'forbidden');
    // another workspace's desktop looks offline
    const t2 = await makeTeam(ts, ['member']);
    const reg2 = await registerInstance(t2, t2.people.member, 'desktop');
    const foreign = (await WsClient.ready(ts.wsUrl, await sessionToken(ts, reg2.workspaceToken, undefined, 'daemon'))).client;
    viewer.send({ type: 'signal', id: 'x2', sessionId: 's3', kind: 'offer', to: { instanceId: reg2.instanceId }, payload: { sdp: 'x' } });
    assert.equal(errCode(await viewer.next((f) => f.type === 'error' && f.ref === 'x2')), 'target_offline');
    foreign.send({ type: 'signal', id: 'x3', sessionId: 's3', kind: 'answer', to: { connectionId: welcome.connectionId }, payload: { sdp: 'x' } });
    assert.equal(errCode(await foreign.next((f) => f.type === 'error' && f.ref === 'x3')), 'target_offline');
    viewer.send({ type: 'signal', id: 'x5', sessionId: 's5', kind: 'offer', to: { instanceId: 'ins_unknown' }, payload: {} });
    assert.equal(errCode(await viewer.next((f) => f.type === 'error' && f.ref === 'x5')), 'target_offline');
    assert.equal(desktop.frames.filter((f) => f.type === 'signal').length, 0, 'nothing reached the desktop');
    assert.equal((await viewer.rpc('task.list', {})).ok, true, 'socket still up');
    for (const c of [other, peer, foreign]) c.close();
  });

  it('lets a Viewer (role) watch: its offer reaches the desktop marked with its role', async () => {
    const v = (await WsClient.ready(ts.wsUrl, await sessionToken(ts, team.people.viewer.token, team.wid))).client;
    v.send({ type: 'signal', id: 'x4', sessionId: 's4', kind: 'offer', to: { instanceId: desktopId }, payload: { sdp: 'v=0 watch' } });
    const offer = await desktop.next((f) => f.type === 'signal' && f.sessionId === 's4');
    assert.equal((offer.from as { role: string }).role, 'viewer');
    assert.equal((await v.rpc('turn.credentials', {})).ok, true, 'a Viewer gets TURN credentials to watch');
    v.close();
  });

  it('mints TURN REST credentials (expiry:user, HMAC-SHA1) over REST and WSS', async () => {
    const r = await call<{ iceServers: Array<{ urls: string[]; username: string; credential: string }>; ttlSeconds: number }>(
      ts.url,
      'GET',
      `/v1/workspaces/${team.wid}/turn-credentials`,
      { token: team.people.member.token },
    );
    assert.equal(r.status, 200);
    assert.ok(turnCredentialsSchema.safeParse(r.body).success);
    const [server] = r.body.iceServers;
    assert.deepEqual(server.urls, ['turn:127.0.0.1:3478?transport=udp', 'turn:127.0.0.1:3478?transport=tcp']);
    const [expiry, user] = server.username.split(':');
    assert.equal(user, team.people.member.memberId);
    assert.ok(Math.abs(Number(expiry) - (Date.now() / 1000 + 600)) < 120);
    assert.equal(server.credential, createHmac('sha1', TURN_SECRET).update(server.username).digest('base64'));
    assert.equal((await call(ts.url, 'GET', `/v1/workspaces/${team.wid}/turn-credentials`, { token: team.people.viewer.token })).status, 200);
    const t2 = await makeTeam(ts, ['member']);
    assert.equal(
      (await call(ts.url, 'GET', `/v1/workspaces/${team.wid}/turn-credentials`, { token: t2.people.member.token })).status,
      404,
      'not for another workspace',
    );
    const ws = await viewer.rpc('turn.credentials', {});
    assert.equal((ws.result as { iceServers: unknown[] }).iceServers.length, 1);
  });
});
