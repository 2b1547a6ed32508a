/**
 * Diagnose Connection in workspace mode (issue 11, item 12): signed in and Offline, the report probed
 * nothing ("no workspace configured, nothing to check"). It must check exactly the server the link
 * uses — its REST origin and its WebSocket endpoint — and say so in the configuration section.
 */
import assert from 'node:assert/strict';
import { diagnose, formatReport } from '../../../../src/gateway/net/diagnose';
import { workspaceDiagnoseTargets, workspaceEnvironment } from '../../../../src/gateway/workspace/diagnoseTargets';
import { LOCAL_STATUS } from '../../../../src/gateway/workspace/linkState';
import { startProviderServer, type ProviderServer } from '../../../fixtures/providerServer';
import { startFastServer, startGateway, signInAs, stopGateway, type GatewayHarness } from './helpers';
import { makeTeam, type TestServer } from '../../../support/server';

describe('workspace link: Diagnose Connection checks the server the link uses', function () {
  this.timeout(60_000);
  let providers: ProviderServer;
  let ts: TestServer;
  let h: GatewayHarness;

  before(async () => {
    providers = await startProviderServer();
    ts = await startFastServer();
  });
  after(async () => {
    await stopGateway(h);
    await ts.close().catch(() => undefined);
    await providers.close();
  });

  it('says there is nothing to check only in local mode', () => {
    assert.deepEqual(workspaceDiagnoseTargets(LOCAL_STATUS), []);
    assert.match(workspaceEnvironment(LOCAL_STATUS), /local mode: no workspace server to check/);
  });

  it('signed in and Offline: probes the REST origin and the WebSocket endpoint of the link’s server, and reports them down', async () => {
    const team = await makeTeam(ts, ['member']);
    h = await startGateway(providers);
    await signInAs(h, ts, team.people.member, team.wid);
    const url = new URL(ts.url);
    const connected = workspaceDiagnoseTargets(h.gateway.linkStatus.current);
    assert.deepEqual(
      connected.map((t) => [t.purpose, new URL(t.url).host]),
      [
        ['workspace:api', url.host],
        ['workspace:ws', url.host],
      ],
    );
    const up = await diagnose(h.gateway.net, connected, [workspaceEnvironment(h.gateway.linkStatus.current)]);
    assert.ok(
      up.targets.every((t) => t.ok),
      formatReport(up),
    );
    // The server goes away: the link goes Reconnecting, then Offline.
    await ts.close();
    const offline = await h.status((s) => s.phase === 'offline' || s.phase === 'reconnecting', 30_000, 'offline');
    const targets = workspaceDiagnoseTargets(offline);
    assert.deepEqual(
      targets.map((t) => new URL(t.url).host),
      [url.host, url.host],
      'exactly the server the link uses',
    );
    const env = workspaceEnvironment(offline);
    assert.doesNotMatch(env, /nothing to check/);
    assert.ok(env.includes(url.host), env);
    const report = await diagnose(h.gateway.net, targets, [env], 3_000);
    const text = formatReport(report);
    assert.ok(
      report.targets.every((t) => !t.ok && t.steps.some((s) => s.name === 'TCP' && !s.ok)),
      text,
    );
    assert.match(text, new RegExp(`Workspace server \\(REST\\) — http://${url.host.replace(/[.[\]]/g, '\\$&')}`));
  });
});
