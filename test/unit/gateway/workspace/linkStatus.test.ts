/**
 * What the status bar reads from the link, against the real reference server: a short outage stays
 * Reconnecting (Offline only once reconnecting has failed for the documented window), and the round
 * trip is known as soon as the link connects, not one heartbeat interval later.
 */
import assert from 'node:assert/strict';
import { type ProviderServer } from '../../../fixtures/providerServer';
import { startTcpProxy } from '../../../fixtures/tcpProxy';
import { OFFLINE_AFTER_MS } from '../../../../src/gateway/workspace/linkSession';
import type { LinkPhase } from '../../../../src/gateway/workspace/linkState';
import { startTestServer } from '../../../support/server';
import { makeTeam, signInAs, startGateway, stopGateway, useLinkEnv, type GatewayHarness, type Team, type TestServer } from './helpers';

describe('workspace link: what the status bar shows', function () {
  this.timeout(60_000);
  let providers: ProviderServer;
  let ts: TestServer;
  let team: Team;
  let h: GatewayHarness | undefined;

  useLinkEnv((e) => void ({ providers, ts, team } = e));
  afterEach(async () => {
    await stopGateway(h);
    h = undefined;
  });

  it('stays Reconnecting through quick failed attempts; Offline only after the offline window', async () => {
    assert.equal(OFFLINE_AFTER_MS, 15_000, 'the window the README documents');
    const windowMs = 1_500;
    const proxy = await startTcpProxy(ts.server.port);
    h = await startGateway(providers, { tuning: { backoff: { baseMs: 10, capMs: 60 }, rpcTimeoutMs: 5_000, offlineAfterMs: windowMs } });
    await signInAs(h, { url: `http://127.0.0.1:${proxy.port}` }, team.people.member, team.wid);
    const seen: Array<{ phase: LinkPhase; attempt?: number; at: number }> = [];
    const sub = h.gateway.linkStatus.onDidChange((s) => seen.push({ phase: s.phase, attempt: s.attempt, at: Date.now() }));
    try {
      await proxy.close(); // connection refused from now on: a network failure at every attempt
      const many = await h.status((s) => (s.attempt ?? 0) >= 5, 10_000, 'five failed attempts');
      const firstFailure = seen.find((x) => x.phase === 'reconnecting')?.at;
      assert.ok(firstFailure, `reconnecting first: ${JSON.stringify(seen)}`);
      if (Date.now() - firstFailure < windowMs - 100) assert.equal(many.phase, 'reconnecting', 'five quick failures are still a short outage');
      await h.status((s) => s.phase === 'offline', 10_000, 'offline after the window');
      const offlineAt = seen.find((x) => x.phase === 'offline')!.at;
      assert.ok(offlineAt - firstFailure >= windowMs - 50, `Offline after ${offlineAt - firstFailure} ms, not before the ${windowMs} ms window`);
    } finally {
      sub.dispose();
    }
  });

  it('knows the latency (heartbeat round trip) as soon as it connects', async () => {
    const slow = await startTestServer({ heartbeatIntervalMs: 60_000 });
    try {
      const t = await makeTeam(slow);
      h = await startGateway(providers);
      await signInAs(h, slow, t.people.member, t.wid);
      const s = await h.status((x) => x.phase === 'connected' && x.latencyMs !== undefined, 10_000, 'a latency well before the first 60 s heartbeat');
      assert.ok(s.latencyMs! >= 0 && s.latencyMs! < 10_000, String(s.latencyMs));
    } finally {
      await stopGateway(h);
      h = undefined;
      await slow.close();
    }
  });
});
