/**
 * Agents, provider keys and the configuration snapshot. Any change bumps the workspace config version
 * and pushes `config.changed`. Provider keys are sealed at rest (AES-256-GCM, master-derived key) and
 * leave the server only as `enc:` blobs re-encrypted for one instance; no answer and no log line
 * carries one in plain text. A removed key is simply absent from the next snapshot.
 */
import type { z } from 'zod';
import { roleHas, type Provider } from '../../protocol/workspace/common';
import type { Agent, ConfigSnapshot, Guardrails, ProviderKeyInfo } from '../../protocol/workspace/models';
import type { createAgentRequestSchema, updateAgentRequestSchema } from '../../protocol/workspace/rest';
import { sealKeyBlob } from '../crypto/keyBlob';
import { newId } from '../crypto/tokens';
import type { Sql } from '../db/store';
import type { Tx } from '../db/writeQueue';
import { notFound } from '../errors';
import { actorOf, type Access } from './access';
import { audit } from './audit';
import { iso, type ServerContext } from './context';
import { idempotent, type IdempotencyKey, type Reply } from './idempotency';
import type { Instances } from './instances';
import { toAgent, type AgentRow } from './rows';

type AgentBody = { agent: Agent; configVersion: number };

const keyAad = (workspaceId: string, provider: string): string => `provider-key:${workspaceId}:${provider}`;

export class AgentsConfig {
  constructor(
    private readonly ctx: ServerContext,
    private readonly instances: Instances,
  ) {}

  private async bump(tx: Tx, workspaceId: string, reason: 'agent' | 'provider_key' | 'guardrails'): Promise<number> {
    const version = (
      (await tx.db.get('UPDATE workspaces SET config_version = config_version + 1 WHERE id = ? RETURNING config_version', workspaceId)) as {
        config_version: number;
      }
    ).config_version;
    tx.emit(workspaceId, 'config.changed', { version, reason });
    return version;
  }

  private async version(workspaceId: string): Promise<number> {
    return ((await this.ctx.db.get('SELECT config_version FROM workspaces WHERE id = ?', workspaceId)) as { config_version: number }).config_version;
  }

  private async agentRow(tx: { db: Sql }, workspaceId: string, agentId: string): Promise<AgentRow> {
    const r = (await tx.db.get('SELECT * FROM agents WHERE id = ? AND workspace_id = ?', agentId, workspaceId)) as AgentRow | undefined;
    if (!r) throw notFound('agent');
    return r;
  }

  async list(a: Access): Promise<{ agents: Agent[]; configVersion: number }> {
    const rows = (await this.ctx.db.all('SELECT * FROM agents WHERE workspace_id = ? ORDER BY created_at, id', a.workspaceId)) as AgentRow[];
    return { agents: rows.map(toAgent), configVersion: await this.version(a.workspaceId) };
  }

  async createIn(tx: Tx, workspaceId: string, actor: Access | null, req: z.infer<typeof createAgentRequestSchema>): Promise<AgentBody> {
    const id = newId('agt');
    await tx.db.run(
      `INSERT INTO agents (id, workspace_id, name, emoji, description, provider, model, base_url, system_prompt, tools, guardrails, created_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      id,
      workspaceId,
      req.name,
      req.emoji ?? null,
      req.description ?? null,
      req.provider,
      req.model,
      req.baseUrl ?? null,
      req.systemPrompt ?? '',
      JSON.stringify(req.tools ?? []),
      JSON.stringify(req.guardrails ?? {}),
      tx.now,
      tx.now,
    );
    await audit(
      tx,
      workspaceId,
      actor ? actorOf(actor) : { type: 'system', id: 'admin-cli' },
      'agent.created',
      { type: 'agent', id },
      { name: req.name, provider: req.provider, model: req.model },
    );
    const configVersion = await this.bump(tx, workspaceId, 'agent');
    return { agent: toAgent(await this.agentRow(tx, workspaceId, id)), configVersion };
  }

  create(a: Access, req: z.infer<typeof createAgentRequestSchema>, idem: IdempotencyKey | undefined): Promise<Reply<AgentBody>> {
    return this.ctx.queue.run((tx) =>
      idempotent(tx, idem, this.ctx.box, false, async () => ({ status: 201, body: await this.createIn(tx, a.workspaceId, a, req) })),
    );
  }

  update(a: Access, agentId: string, req: z.infer<typeof updateAgentRequestSchema>, idem: IdempotencyKey | undefined): Promise<Reply<AgentBody>> {
    return this.ctx.queue.run((tx) =>
      idempotent(tx, idem, this.ctx.box, false, async () => {
        const cur = toAgent(await this.agentRow(tx, a.workspaceId, agentId));
        const next = {
          ...cur,
          ...Object.fromEntries(Object.entries(req).filter(([, v]) => v !== undefined)),
        } as Agent;
        await tx.db.run(
          `UPDATE agents SET name = ?, emoji = ?, description = ?, provider = ?, model = ?, base_url = ?, system_prompt = ?, tools = ?, guardrails = ?, updated_at = ?
          WHERE id = ?`,
          next.name,
          next.emoji,
          next.description,
          next.provider,
          next.model,
          next.baseUrl,
          next.systemPrompt,
          JSON.stringify(next.tools),
          JSON.stringify(next.guardrails),
          tx.now,
          agentId,
        );
        await audit(tx, a.workspaceId, actorOf(a), 'agent.edited', { type: 'agent', id: agentId }, { fields: Object.keys(req) });
        const configVersion = await this.bump(tx, a.workspaceId, 'agent');
        return { status: 200, body: { agent: toAgent(await this.agentRow(tx, a.workspaceId, agentId)), configVersion } };
      }),
    );
  }

  delete(a: Access, agentId: string, idem: IdempotencyKey | undefined): Promise<Reply<{ configVersion: number }>> {
    return this.ctx.queue.run((tx) =>
      idempotent(tx, idem, this.ctx.box, false, async () => {
        const cur = await this.agentRow(tx, a.workspaceId, agentId);
        await tx.db.run('DELETE FROM agents WHERE id = ?', agentId);
        await audit(tx, a.workspaceId, actorOf(a), 'agent.deleted', { type: 'agent', id: agentId }, { name: cur.name });
        return { status: 200, body: { configVersion: await this.bump(tx, a.workspaceId, 'agent') } };
      }),
    );
  }

  // --- provider keys ---------------------------------------------------------------------------------
  async listKeys(a: Access): Promise<{ keys: ProviderKeyInfo[] }> {
    const rows = (await this.ctx.db.all('SELECT provider, updated_at FROM provider_keys WHERE workspace_id = ? ORDER BY provider', a.workspaceId)) as Array<{
      provider: Provider;
      updated_at: number;
    }>;
    return { keys: rows.map((r) => ({ provider: r.provider, updatedAt: iso(r.updated_at) })) };
  }

  async setKeyIn(
    tx: Tx,
    workspaceId: string,
    actor: Access | null,
    provider: Provider,
    apiKey: string,
  ): Promise<{ key: ProviderKeyInfo; configVersion: number }> {
    await tx.db.run(
      `INSERT INTO provider_keys (workspace_id, provider, key_sealed, updated_at) VALUES (?, ?, ?, ?)
      ON CONFLICT (workspace_id, provider) DO UPDATE SET key_sealed = excluded.key_sealed, updated_at = excluded.updated_at`,
      workspaceId,
      provider,
      this.ctx.box.seal(apiKey, keyAad(workspaceId, provider)),
      tx.now,
    );
    await audit(tx, workspaceId, actor ? actorOf(actor) : { type: 'system', id: 'admin-cli' }, 'provider_key.set', { type: 'provider_key', id: provider });
    return { key: { provider, updatedAt: iso(tx.now) }, configVersion: await this.bump(tx, workspaceId, 'provider_key') };
  }

  setKey(a: Access, provider: Provider, apiKey: string, idem: IdempotencyKey | undefined): Promise<Reply<{ key: ProviderKeyInfo; configVersion: number }>> {
    return this.ctx.queue.run((tx) =>
      idempotent(tx, idem, this.ctx.box, false, async () => ({ status: 200, body: await this.setKeyIn(tx, a.workspaceId, a, provider, apiKey) })),
    );
  }

  removeKey(a: Access, provider: Provider, idem: IdempotencyKey | undefined): Promise<Reply<{ configVersion: number }>> {
    return this.ctx.queue.run((tx) =>
      idempotent(tx, idem, this.ctx.box, false, async () => {
        if (!(await tx.db.run('DELETE FROM provider_keys WHERE workspace_id = ? AND provider = ?', a.workspaceId, provider)).changes)
          throw notFound('provider key');
        await audit(tx, a.workspaceId, actorOf(a), 'provider_key.removed', { type: 'provider_key', id: provider });
        return { status: 200, body: { configVersion: await this.bump(tx, a.workspaceId, 'provider_key') } };
      }),
    );
  }

  /**
   * The snapshot for `a`, decided from `a.role` as it is now (the caller re-reads it): provider keys
   * only for an instance whose member may use agents (a Viewer gets none), re-encrypted for it.
   */
  async snapshot(a: Access): Promise<ConfigSnapshot> {
    const ws = (await this.ctx.db.get('SELECT guardrails, config_version FROM workspaces WHERE id = ?', a.workspaceId)) as
      | { guardrails: string; config_version: number }
      | undefined;
    if (!ws) throw notFound('workspace');
    const agents = ((await this.ctx.db.all('SELECT * FROM agents WHERE workspace_id = ? ORDER BY created_at, id', a.workspaceId)) as AgentRow[]).map(toAgent);
    const providerKeys: ConfigSnapshot['providerKeys'] = {};
    if (a.instanceId && roleHas(a.role, 'agents.use')) {
      const secret = await this.instances.secretOf(a.instanceId);
      const rows = (await this.ctx.db.all('SELECT provider, key_sealed FROM provider_keys WHERE workspace_id = ?', a.workspaceId)) as Array<{
        provider: Provider;
        key_sealed: string;
      }>;
      for (const r of rows) {
        const plain = this.ctx.box.open(r.key_sealed, keyAad(a.workspaceId, r.provider));
        providerKeys[r.provider] = sealKeyBlob(plain, secret, { workspaceId: a.workspaceId, instanceId: a.instanceId, provider: r.provider });
      }
    }
    return { workspaceId: a.workspaceId, version: ws.config_version, guardrails: JSON.parse(ws.guardrails) as Guardrails, agents, providerKeys };
  }
}
