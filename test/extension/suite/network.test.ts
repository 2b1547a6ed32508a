/**
 * The network commands inside a real VS Code: Show Network Activity lists the hosts a chat contacted
 * (by purpose, live from the ledger), Diagnose Connection opens a read-only report without secrets,
 * and the network settings reach the gateway.
 */
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { api } from '../../support/extensionApi';
import type { HostActivity } from '../../../src/gateway/net/ledger';
import { startProviderServer, type ProviderServer } from '../../fixtures/providerServer';

describe('MultiClaw network (in a real VS Code)', () => {
  let server: ProviderServer;
  const cfg = (): vscode.WorkspaceConfiguration => vscode.workspace.getConfiguration('multiclaw');

  before(async () => {
    server = await startProviderServer();
  });
  after(async () => {
    await cfg().update('providers.openai.baseUrl', undefined, vscode.ConfigurationTarget.Global);
    await cfg().update('network.caCertificates', undefined, vscode.ConfigurationTarget.Global);
    await cfg().update('chat.linkPreviews', undefined, vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand('multiclaw.removeProviderKey', 'openai', true);
    await server?.close();
  });

  it('lists the hosts a chat contacted, by purpose, in Show Network Activity', async () => {
    const a = await api();
    const changed = new Promise<void>((resolve) => {
      const d = a.gateway.onDidChangeAgents(() => {
        if (a.gateway.config.providers.openai.baseUrl === server.baseUrls.openai) {
          d.dispose();
          resolve();
        }
      });
    });
    await cfg().update('providers.openai.baseUrl', server.baseUrls.openai, vscode.ConfigurationTarget.Global);
    await changed;
    await vscode.commands.executeCommand('multiclaw.setProviderKey', 'openai', server.keys.openai);
    await vscode.commands.executeCommand('multiclaw.clearNetworkActivity');
    const { done } = await a.chatView.send('Hello network', 'default-openai');
    await done;
    const rows = await vscode.commands.executeCommand<HostActivity[]>('multiclaw.showNetworkActivity');
    const port = Number(new URL(server.baseUrls.openai).port);
    assert.deepEqual(
      rows.map((r) => [r.purpose, `${r.host}:${r.port}`, r.proxied]),
      [['provider:openai', `127.0.0.1:${port}`, null]],
    );
    assert.ok(rows[0]!.bytesReceived > 0, 'bytes are counted');
    assert.equal(rows[0]!.failed, 0);
  });

  it('writes a read-only Diagnose Connection report with ✓/✗ and no secrets', async () => {
    await api();
    const text = await vscode.commands.executeCommand<string>('multiclaw.diagnoseConnection', [
      { label: 'OpenAI (local fixture)', url: server.baseUrls.openai, purpose: 'provider:openai' },
      { label: 'Nowhere', url: 'https://127.0.0.1:1/', purpose: 'provider:anthropic' },
    ]);
    assert.match(text, /^# MultiClaw connection report/m);
    assert.match(text, /## ✓ OpenAI \(local fixture\) — http:\/\/127\.0\.0\.1:\d+/);
    assert.match(text, /- ✓ HTTP: HTTP \d{3}/);
    assert.match(text, /## ✗ Nowhere/);
    assert.match(text, /Summary: 1 of 2 reachable\./);
    assert.ok(!text.includes(server.keys.openai), 'no API key in the report');
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'multiclaw-report');
    assert.ok(doc, 'the report is open');
    assert.equal(doc.getText(), text);
  });

  it('passes the network settings to the gateway', async () => {
    const a = await api();
    const applied = (pred: () => boolean): Promise<void> =>
      new Promise((resolve) => {
        const d = a.gateway.onDidChangeAgents(() => {
          if (pred()) {
            d.dispose();
            resolve();
          }
        });
      });
    let done = applied(() => !a.gateway.config.network.linkPreviews);
    await cfg().update('chat.linkPreviews', false, vscode.ConfigurationTarget.Global);
    await done;
    done = applied(() => a.gateway.config.network.caCertificates.length === 1);
    await cfg().update('network.caCertificates', ['/nonexistent/corp-ca.pem'], vscode.ConfigurationTarget.Global);
    await done;
    assert.deepEqual(a.gateway.net.config.caCertificates, ['/nonexistent/corp-ca.pem'], 'the running NetService got the new settings');
    assert.match(a.gateway.net.trust.problems.join('\n'), /corp-ca\.pem could not be read/);
  });
});
