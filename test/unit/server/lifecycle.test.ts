import * as assert from 'node:assert/strict';
import { instanceSchema } from '../../../src/protocol/workspace/models';
import { call, idemKey, registerInstance, sessionToken, useTeamServer, WsClient, type Team, type TestServer } from '../../support/server';

type InstanceBody = { instance: { id: string; status: string; statusReason: string | null; label: string | null; metrics: unknown; online: boolean } };

const metrics = (cpuPct: number) => ({
  cpuPct,
  memUsedBytes: 2 ** 30,
  memTotalBytes: 8 * 2 ** 30,
  diskUsedBytes: 10 * 2 ** 30,
  diskTotalBytes: 50 * 2 ** 30,
  at: new Date().toISOString(),
});

describe('cloud desktop lifecycle, status and metrics', () => {
  let ts: TestServer;
  let team: Team;
  useTeamServer((e) => {
    ({ ts, team } = e);
  });

  async function desktop(): Promise<{ id: string; ws: WsClient; token: string }> {
    const reg = await registerInstance(team, team.people.admin, 'desktop');
    const ws = (await WsClient.ready(ts.wsUrl, await sessionToken(ts, reg.workspaceToken, undefined, 'daemon'))).client;
    return { id: reg.instanceId, ws, token: reg.workspaceToken };
  }

  const list = async (token: string) =>
    (await call<{ instances: InstanceBody['instance'][] }>(ts.url, 'GET', `/v1/workspaces/${team.wid}/instances`, { token })).body.instances;

  it('reports status, reason and label (an instance.updated event) and heartbeat metrics (no event)', async () => {
    const d = await desktop();
    const watcher = (await WsClient.ready(ts.wsUrl, await sessionToken(ts, team.people.member.token, team.wid))).client;
    const r = await d.ws.rpc('instance.report', { status: 'starting', label: 'eu-west · vm-1' });
    assert.equal(r.ok, true, JSON.stringify(r));
    const ev = await watcher.next((f) => f.type === 'event' && f.name === 'instance.updated');
    const inst = (ev.data as InstanceBody).instance;
    assert.deepEqual([inst.id, inst.status, inst.label], [d.id, 'starting', 'eu-west · vm-1']);
    assert.ok(instanceSchema.safeParse(inst).success);
    d.ws.send({ type: 'heartbeat', ts: Date.now(), status: 'idle', metrics: metrics(37.5) });
    await d.ws.rpc('instance.report', { status: 'online' });
    const seen = (await list(team.people.member.token)).find((i) => i.id === d.id);
    assert.equal(seen?.status, 'online');
    assert.equal(seen?.label, 'eu-west · vm-1', 'the label stays when not reported again');
    assert.equal((seen?.metrics as { cpuPct: number }).cpuPct, 37.5);
    // Same status again: no new event.
    await d.ws.rpc('instance.report', { status: 'online', metrics: metrics(12) });
    await watcher.rpc('presence.list', {});
    assert.equal(watcher.frames.filter((f) => f.type === 'event' && f.name === 'instance.updated').length, 1, 'one event for starting → online');
    // An error with its reason; bad input is refused and changes nothing.
    const bad = await d.ws.rpc('instance.report', { status: 'exploded' });
    assert.equal((bad.error as { code: string }).code, 'validation_failed');
    await d.ws.rpc('instance.report', { status: 'error', reason: 'Xvfb exited (code 1)' });
    const err = (await list(team.people.member.token)).find((i) => i.id === d.id);
    assert.deepEqual([err?.status, err?.statusReason], ['error', 'Xvfb exited (code 1)']);
    const fromUser = await watcher.rpc('instance.report', { status: 'online' });
    assert.equal((fromUser.error as { code: string }).code, 'forbidden', 'only an instance reports itself');
    d.ws.close();
    watcher.close();
  });

  it('Start/Stop/Restart reach the desktop as commands, are audited, and are for Owners and Admins only', async () => {
    const d = await desktop();
    const path = `/v1/workspaces/${team.wid}/instances/${d.id}/lifecycle`;
    const member = await call(ts.url, 'POST', path, { token: team.people.member.token, idem: true, body: { action: 'stop' } });
    assert.equal(member.status, 403);
    const bad = await call(ts.url, 'POST', path, { token: team.owner.token, idem: true, body: { action: 'reboot' } });
    assert.equal(bad.status, 400);
    for (const action of ['stop', 'start', 'restart']) {
      const r = await call<{ commandId: string; action: string }>(ts.url, 'POST', path, { token: team.owner.token, idem: true, body: { action } });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const cmd = await d.ws.next((f) => f.type === 'event' && f.name === 'instance.command');
      assert.deepEqual(cmd.data, { instanceId: d.id, commandId: r.body.commandId, action, by: team.owner.memberId });
    }
    // Over WSS too (the VS Code gateway's path), with an idempotency key.
    const admin = (await WsClient.ready(ts.wsUrl, await sessionToken(ts, team.people.admin.token, team.wid))).client;
    const key = idemKey();
    const viaWs = await admin.rpc('instance.lifecycle', { instanceId: d.id, action: 'stop' }, key);
    assert.equal(viaWs.ok, true, JSON.stringify(viaWs));
    const again = await admin.rpc('instance.lifecycle', { instanceId: d.id, action: 'stop' }, key);
    assert.equal(again.replayed, true);
    await d.ws.next((f) => f.type === 'event' && f.name === 'instance.command' && (f.data as { action: string }).action === 'stop');
    const audit = await call<{ entries: Array<{ action: string; resource: { id: string } }> }>(ts.url, 'GET', `/v1/workspaces/${team.wid}/audit`, {
      token: team.owner.token,
    });
    const mine = audit.body.entries.filter((e) => e.resource.id === d.id).map((e) => e.action);
    assert.deepEqual(mine.slice(0, 4).reverse(), ['instance.stop', 'instance.start', 'instance.restart', 'instance.stop']);
    // A gateway has no lifecycle; an offline desktop cannot be started.
    const gw = await registerInstance(team, team.people.member, 'gateway');
    const g = await call(ts.url, 'POST', `/v1/workspaces/${team.wid}/instances/${gw.instanceId}/lifecycle`, {
      token: team.owner.token,
      idem: true,
      body: { action: 'stop' },
    });
    assert.equal(g.status, 409);
    d.ws.close();
    await d.ws.closed;
    const offline = await call<{ error: { message: string } }>(ts.url, 'POST', path, { token: team.owner.token, idem: true, body: { action: 'start' } });
    assert.equal(offline.status, 409);
    assert.match(offline.body.error.message, /offline/);
    admin.close();
  });

  it('Terminate sends the command, then deregisters the desktop and closes its socket (4403)', async () => {
    const d = await desktop();
    const r = await call<{ instance: null }>(ts.url, 'POST', `/v1/workspaces/${team.wid}/instances/${d.id}/lifecycle`, {
      token: team.people.admin.token,
      idem: true,
      body: { action: 'terminate' },
    });
    assert.equal(r.status, 200);
    assert.equal(r.body.instance, null);
    const cmd = await d.ws.next((f) => f.type === 'event' && f.name === 'instance.command');
    assert.equal((cmd.data as { action: string }).action, 'terminate', 'the command arrives before the close');
    assert.equal((await d.ws.closed).code, 4403);
    assert.equal(
      (await list(team.owner.token)).find((i) => i.id === d.id),
      undefined,
    );
    const mint = await call(ts.url, 'POST', '/v1/session-tokens', { token: d.token, body: { scope: 'daemon' } });
    assert.equal(mint.status, 401, 'its workspace token no longer works');
  });
});
