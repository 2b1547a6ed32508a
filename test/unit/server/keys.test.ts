import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { configSnapshotSchema } from '../../../src/protocol/workspace/models';
import { decryptKeyBlob, isKeyBlob, KeyBlobError } from '../../../src/gateway/workspace/keyBlob';
import { SqliteStore } from '../../../src/server/db/sqliteStore';
import { call, idemKey, registerInstance, sessionToken, WsClient, type Registered, type Team, type TestServer, useTeamServer } from '../../support/server';

const KEY = 'sk-test-PLAINTEXT-provider-key-0123456789abcdef';
const KEY2 = 'sk-ant-api03-SECOND-provider-key-9876543210zyx';

describe('server provider keys: encrypted at rest, enc: blobs per instance, config sync', () => {
  let ts: TestServer;
  let team: Team;
  let a: Registered;
  let b: Registered;
  let base: string;

  useTeamServer(async (e) => {
    ({ ts, team } = e);
    base = `/v1/workspaces/${team.wid}`;
    a = await registerInstance(team, team.people.member);
    b = await registerInstance(team, team.people.admin, 'desktop');
  });

  it('stores a key without ever answering with it, and keeps it encrypted on disk', async () => {
    const key = idemKey();
    const put = await call(ts.url, 'PUT', `${base}/provider-keys/openai`, { token: team.people.admin.token, idem: key, body: { apiKey: KEY } });
    assert.equal(put.status, 200);
    assert.ok(!JSON.stringify(put.body).includes(KEY));
    const replay = await call(ts.url, 'PUT', `${base}/provider-keys/openai`, { token: team.people.admin.token, idem: key, body: { apiKey: KEY } });
    assert.equal(replay.headers.get('idempotency-replayed'), 'true');
    assert.deepEqual(replay.body, put.body);
    const list = await call<{ keys: Array<{ provider: string }> }>(ts.url, 'GET', `${base}/provider-keys`, { token: team.owner.token });
    assert.deepEqual(
      list.body.keys.map((k) => k.provider),
      ['openai'],
    );
    assert.equal((await call(ts.url, 'GET', `${base}/provider-keys`, { token: team.people.member.token })).status, 403);
    assert.equal(
      (await call(ts.url, 'PUT', `${base}/provider-keys/openai`, { token: team.people.member.token, idem: true, body: { apiKey: 'x' } })).status,
      403,
    );
    assert.equal((await call(ts.url, 'PUT', `${base}/provider-keys/bogus`, { token: team.owner.token, idem: true, body: { apiKey: 'x' } })).status, 400);
    const db = ts.server.services.ctx.db;
    if (db instanceof SqliteStore) db.db.pragma('wal_checkpoint(PASSIVE)');
    else {
      const stored = (await db.all(
        'SELECT key_sealed AS v FROM provider_keys UNION ALL SELECT secret_sealed FROM instances UNION ALL SELECT response FROM idempotency',
      )) as Array<{ v: string }>;
      assert.ok(stored.length > 0);
      for (const r of stored) assert.ok(!r.v.includes(KEY) && !r.v.includes(a.instanceSecret), 'a secret is stored in plain text');
    }
    for (const f of fs.readdirSync(ts.dataDir)) {
      const bytes = fs.readFileSync(path.join(ts.dataDir, f));
      assert.ok(!bytes.includes(Buffer.from(KEY)), `${f} holds the key in plain text`);
      assert.ok(!bytes.includes(Buffer.from(a.instanceSecret)), `${f} holds an instance secret in plain text`);
    }
  });

  it('delivers enc: blobs that open only with the right instance secret and slot', async () => {
    const cfgA = await call<{ providerKeys: Record<string, string> }>(ts.url, 'GET', `${base}/config`, { token: a.workspaceToken });
    assert.ok(configSnapshotSchema.safeParse(cfgA.body).success);
    const blob = cfgA.body.providerKeys.openai;
    assert.ok(isKeyBlob(blob) && blob.startsWith('enc:v1.'));
    assert.ok(!blob.includes(KEY));
    const slotA = { workspaceId: team.wid, instanceId: a.instanceId, provider: 'openai' };
    assert.equal(decryptKeyBlob(blob, a.instanceSecret, slotA), KEY);
    assert.throws(() => decryptKeyBlob(blob, b.instanceSecret, slotA), KeyBlobError);
    assert.throws(() => decryptKeyBlob(blob, a.instanceSecret, { ...slotA, instanceId: b.instanceId }), KeyBlobError);
    assert.throws(() => decryptKeyBlob(blob, a.instanceSecret, { ...slotA, provider: 'anthropic' }), KeyBlobError);
    const parts = blob.split('.');
    const ct = Buffer.from(parts[2], 'base64url');
    ct[0] ^= 1;
    assert.throws(() => decryptKeyBlob([parts[0], parts[1], ct.toString('base64url'), parts[3]].join('.'), a.instanceSecret, slotA), KeyBlobError);
    assert.throws(() => decryptKeyBlob('enc:v1.zz', a.instanceSecret, slotA), /not an enc:v1 key blob/);
    // Instance B gets its own blob for the same key; a signed-in user gets none.
    const cfgB = await call<{ providerKeys: Record<string, string> }>(ts.url, 'GET', `${base}/config`, { token: b.workspaceToken });
    assert.notEqual(cfgB.body.providerKeys.openai, blob);
    assert.equal(decryptKeyBlob(cfgB.body.providerKeys.openai, b.instanceSecret, { ...slotA, instanceId: b.instanceId }), KEY);
    const cfgUser = await call<{ providerKeys: Record<string, string> }>(ts.url, 'GET', `${base}/config`, { token: team.owner.token });
    assert.deepEqual(cfgUser.body.providerKeys, {});
  });

  it('pushes config.changed on key and agent changes; a removed key is gone at the next sync', async () => {
    const gw = (await WsClient.ready(ts.wsUrl, await sessionToken(ts, a.workspaceToken, undefined, 'daemon'))).client;
    const put = await call<{ configVersion: number }>(ts.url, 'PUT', `${base}/provider-keys/anthropic`, {
      token: team.owner.token,
      idem: true,
      body: { apiKey: KEY2 },
    });
    const ev1 = await gw.next((f) => f.type === 'event' && f.name === 'config.changed');
    assert.deepEqual(ev1.data, { version: put.body.configVersion, reason: 'provider_key' });
    const snap = await gw.rpc('config.get', {});
    const keys = snap.result as { providerKeys: Record<string, string>; version: number };
    assert.equal(keys.version, put.body.configVersion);
    assert.equal(
      decryptKeyBlob(keys.providerKeys.anthropic, a.instanceSecret, { workspaceId: team.wid, instanceId: a.instanceId, provider: 'anthropic' }),
      KEY2,
    );
    const del = await call<{ configVersion: number }>(ts.url, 'DELETE', `${base}/provider-keys/anthropic`, { token: team.owner.token, idem: true });
    const ev2 = await gw.next((f) => f.type === 'event' && f.name === 'config.changed');
    assert.deepEqual(ev2.data, { version: del.body.configVersion, reason: 'provider_key' });
    const after = await gw.rpc('config.get', {});
    assert.deepEqual(Object.keys((after.result as { providerKeys: Record<string, string> }).providerKeys), ['openai']);
    const agent = await call<{ agent: { id: string }; configVersion: number }>(ts.url, 'POST', `${base}/agents`, {
      token: team.people.admin.token,
      idem: true,
      body: { name: 'Coder', provider: 'anthropic', model: 'claude', tools: ['fs.read'], guardrails: { blockedTools: ['shell'] } },
    });
    const ev3 = await gw.next((f) => f.type === 'event' && f.name === 'config.changed');
    assert.deepEqual(ev3.data, { version: agent.body.configVersion, reason: 'agent' });
    const edit = await call<{ agent: { model: string; tools: string[] } }>(ts.url, 'PATCH', `${base}/agents/${agent.body.agent.id}`, {
      token: team.owner.token,
      idem: true,
      body: { model: 'claude-2' },
    });
    assert.equal(edit.body.agent.model, 'claude-2');
    assert.deepEqual(edit.body.agent.tools, ['fs.read']);
    const guard = await call(ts.url, 'PATCH', base, {
      token: team.owner.token,
      idem: true,
      body: {
        guardrails: { allowedDomains: ['example.com'], blockedTools: [], approvalRequired: ['send_email'], maxTokenBudget: 1000, restrictedProviders: [] },
      },
    });
    assert.equal(guard.status, 200);
    const ev4 = await gw.next((f) => f.type === 'event' && f.name === 'config.changed' && (f.data as { reason: string }).reason === 'guardrails');
    const cfg = await gw.rpc('config.get', {});
    const result = cfg.result as { version: number; agents: Array<{ model: string }>; guardrails: { approvalRequired: string[] } };
    assert.equal(result.version, (ev4.data as { version: number }).version);
    assert.deepEqual(result.guardrails.approvalRequired, ['send_email']);
    assert.deepEqual(
      result.agents.map((x) => x.model),
      ['claude-2'],
    );
    gw.close();
  });

  it('never writes a secret to the logs', () => {
    const text = ts.logs.join('');
    assert.ok(ts.logs.length > 20, 'the server logged requests');
    const secrets = [
      KEY,
      KEY2,
      a.instanceSecret,
      a.workspaceToken,
      b.instanceSecret,
      b.workspaceToken,
      team.owner.token,
      team.owner.password,
      team.people.admin.token,
    ];
    for (const s of secrets) assert.ok(!text.includes(s), `a secret leaked into the logs: ${s.slice(0, 6)}…`);
    for (const line of ts.logs) JSON.parse(line);
  });
});
