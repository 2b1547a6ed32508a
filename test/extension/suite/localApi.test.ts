/**
 * The local API served by the gateway inside a real VS Code: 127.0.0.1 with the session token, the
 * discovery file (0600) in the extension's global storage, `MultiClaw: Copy Local API Token`, a task
 * dispatched over HTTP that runs in this gateway, and a new token at each restart.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { api, EXTENSION_ID } from '../../support/extensionApi';
import { multiclawHome, vscodeDiscoveryFile } from '../../../src/gateway/localApi/discoveryPath';
import type { LocalTask } from '../../../src/gateway/tasks/taskService';
import { startProviderServer, type ProviderServer } from '../../fixtures/providerServer';

describe('Local API in VS Code', function () {
  let server: ProviderServer;

  before(async () => {
    server = await startProviderServer();
  });
  after(async () => {
    await vscode.workspace.getConfiguration('multiclaw').update('providers.openaiCompatible.baseUrl', undefined, vscode.ConfigurationTarget.Global);
    await server?.close();
  });

  it('serves the local API on 127.0.0.1 with the session token; the discovery file is 0600 in global storage', async () => {
    const a = await api();
    const info = a.gateway.localApi;
    assert.ok(info, 'the local API runs with the gateway (setting on by default)');
    assert.match(info.token, /^mcl_[A-Za-z0-9_-]{43}$/);
    assert.ok(info.discoveryFile.includes(EXTENSION_ID), info.discoveryFile);
    assert.equal(fs.statSync(info.discoveryFile).mode & 0o777, 0o600);
    const d = JSON.parse(fs.readFileSync(info.discoveryFile, 'utf8')) as { port: number; token: string; pid: number };
    assert.deepEqual([d.port, d.token, d.pid], [info.port, info.token, process.pid]);

    const ok = await fetch(`${info.url}/v1/status`, { headers: { authorization: `Bearer ${info.token}` } });
    assert.equal(ok.status, 200);
    const body = (await ok.json()) as { host: string; port: number; state: string };
    assert.deepEqual([body.host, body.port, body.state], ['vscode', info.port, 'running']);
    assert.equal((await fetch(`${info.url}/v1/status`)).status, 401);
    assert.equal((await fetch(`${info.url}/v1/status`, { headers: { authorization: `Bearer ${info.token}`, origin: 'https://evil.example' } })).status, 403);
  });

  it('MultiClaw: Copy Local API Token puts the token on the clipboard', async () => {
    const a = await api();
    await vscode.env.clipboard.writeText('before');
    await vscode.commands.executeCommand('multiclaw.copyLocalApiToken');
    assert.equal(await vscode.env.clipboard.readText(), a.gateway.localApi?.token);
  });

  it('runs a task dispatched over HTTP in this gateway, as a conversation linked to the task', async () => {
    const a = await api();
    const changed = new Promise<void>((r) => {
      const d = a.gateway.onDidChangeAgents(() => {
        d.dispose();
        r();
      });
    });
    await vscode.workspace
      .getConfiguration('multiclaw')
      .update('providers.openaiCompatible.baseUrl', server.baseUrls['openai-compatible'], vscode.ConfigurationTarget.Global);
    await changed;
    const info = a.gateway.localApi!;
    const r = await fetch(`${info.url}/v1/tasks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${info.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ agentId: 'default-openai-compatible', prompt: 'Hello from a terminal' }),
    });
    assert.equal(r.status, 201, await r.clone().text());
    const { task } = (await r.json()) as { task: LocalTask };
    const done = await new Promise<LocalTask>((resolve) => {
      const now = a.gateway.tasks.get(task.id);
      if (now?.status === 'completed' || now?.status === 'failed') return resolve(now);
      const d = a.gateway.tasks.onDidChange(({ task: t }) => {
        if (t.id === task.id && (t.status === 'completed' || t.status === 'failed')) {
          d.dispose();
          resolve(t);
        }
      });
    });
    assert.equal(done.status, 'completed', JSON.stringify(done.error));
    assert.match(done.result?.text ?? '', /You said: \*\*Hello from a terminal\*\*/);
    const summary = (await a.gateway.store.list()).find((s) => s.id === done.conversationId);
    assert.equal(summary?.taskId, task.id, 'listed in Conversations with its task');
  });

  it('a restart brings a new token; the old one is refused', async () => {
    const a = await api();
    const old = a.gateway.localApi!.token;
    await vscode.commands.executeCommand('multiclaw.restartGateway');
    const info = a.gateway.localApi!;
    assert.notEqual(info.token, old);
    assert.equal((await fetch(`${info.url}/v1/status`, { headers: { authorization: `Bearer ${old}` } })).status, 401);
    assert.equal((await fetch(`${info.url}/v1/status`, { headers: { authorization: `Bearer ${info.token}` } })).status, 200);
    assert.equal(JSON.parse(fs.readFileSync(info.discoveryFile, 'utf8')).token, info.token);
  });

  it('multiclaw status finds this gateway: the discovery file is also where the CLI looks first ($MULTICLAW_HOME, 0600)', async () => {
    const a = await api();
    const info = a.gateway.localApi!;
    const shared = vscodeDiscoveryFile();
    assert.equal(fs.statSync(shared).mode & 0o777, 0o600);
    assert.deepEqual((JSON.parse(fs.readFileSync(shared, 'utf8')) as { port: number }).port, info.port);
    // MULTICLAW_HOME set: the CLI looks only there, not in the editors' user-data folders.
    const cli = path.join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, 'dist', 'cli.js');
    const env: NodeJS.ProcessEnv = {
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'MULTICLAW_DISCOVERY_FILE')),
      MULTICLAW_HOME: multiclawHome(),
    };
    // Asynchronously: the gateway that answers runs in this extension host.
    const r = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.env.MULTICLAW_TEST_NODE || 'node', [cli, 'status', '--json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('error', reject);
      child.on('close', (status) => resolve({ status, stdout, stderr }));
    });
    assert.equal(r.status, 0, `multiclaw status: ${r.stderr}`);
    const status = JSON.parse(r.stdout) as { host: string; port: number };
    assert.deepEqual([status.host, status.port], ['vscode', info.port]);
  });
});
