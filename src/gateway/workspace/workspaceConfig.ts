/**
 * The configuration a workspace pushes: its agents, guardrails and provider keys. Keys arrive as
 * `enc:` blobs encrypted for this instance (HKDF-SHA256 of the instance secret); they are decrypted in
 * memory only, registered with the redactor, and never written or logged. Each snapshot replaces the
 * previous one: a provider missing from it has no workspace key any more (removal and rotation apply at
 * the next `config.changed` push, without a restart).
 */
import type { Provider } from '../../protocol/workspace/common';
import type { Agent, ConfigSnapshot, Guardrails } from '../../protocol/workspace/models';
import type { ResolvedAgent } from '../agents';
import type { Redactor } from '../log/redact';
import type { Logger } from '../ports';
import { PROVIDER_LABELS } from '../providers/types';
import { decryptKeyBlob } from './keyBlob';
import { errorMessage } from '../errors';

export interface InstanceSecretSlot {
  workspaceId: string;
  instanceId: string;
  instanceSecret: string;
}

export class WorkspaceConfig {
  private _version = -1;
  private _agents: Agent[] = [];
  private _guardrails: Guardrails | undefined;
  private readonly keys = new Map<Provider, string>();

  constructor(
    private readonly redactor: Redactor,
    private readonly log: Logger,
  ) {}

  get version(): number {
    return this._version;
  }

  get guardrails(): Guardrails | undefined {
    return this._guardrails;
  }

  hasKey(p: Provider): boolean {
    return this.keys.has(p);
  }

  key(p: Provider): string | undefined {
    return this.keys.get(p);
  }

  /** Providers with a workspace key (names only, for the tooltip and logs). */
  keyProviders(): Provider[] {
    return [...this.keys.keys()];
  }

  /** Applies a snapshot; returns whether agents, guardrails or keys changed. */
  apply(s: ConfigSnapshot, slot: InstanceSecretSlot): boolean {
    if (s.version < this._version) return false;
    const before = JSON.stringify([this._agents, this._guardrails, [...this.keys.keys()]]);
    const oldKeys = new Map(this.keys);
    this._version = s.version;
    this._agents = s.agents;
    this._guardrails = s.guardrails;
    this.keys.clear();
    for (const [provider, blob] of Object.entries(s.providerKeys) as Array<[Provider, string | undefined]>) {
      if (!blob) continue;
      try {
        const key = decryptKeyBlob(blob, slot.instanceSecret, { workspaceId: slot.workspaceId, instanceId: slot.instanceId, provider });
        this.redactor.add(key);
        this.keys.set(provider, key);
      } catch (err) {
        this.log.warn(
          `the workspace ${PROVIDER_LABELS[provider]} key could not be opened on this instance (${errorMessage(err)}); agents that need it stay unavailable`,
        );
      }
    }
    const changedKeys = [...new Set([...oldKeys.keys(), ...this.keys.keys()])].filter((p) => oldKeys.get(p) !== this.keys.get(p));
    if (changedKeys.length)
      this.log.info(
        `workspace provider keys updated: ${changedKeys.map((p) => `${p} ${this.keys.has(p) ? (oldKeys.has(p) ? 'rotated' : 'added') : 'removed'}`).join(', ')}`,
      );
    return before !== JSON.stringify([this._agents, this._guardrails, [...this.keys.keys()]]) || changedKeys.length > 0;
  }

  /** Forgets everything (sign-out): keys leave memory. */
  clear(): void {
    this._version = -1;
    this._agents = [];
    this._guardrails = undefined;
    this.keys.clear();
  }

  /** A workspace agent's own guardrails (they tighten the workspace's), if it is one. */
  agentGuardrails(agentId: string): Agent['guardrails'] | undefined {
    return this._agents.find((a) => a.id === agentId)?.guardrails;
  }

  /** Whether guardrails (workspace floor, tightened by the agent) allow a provider. */
  private restricted(a: Agent): boolean {
    const ws = this._guardrails?.restrictedProviders ?? [];
    const own = a.guardrails.restrictedProviders ?? [];
    return ws.includes(a.provider) || own.includes(a.provider);
  }

  /** Workspace agents as the gateway lists them (`source: 'workspace'`). */
  agents(hasLocalKey: (p: Provider) => boolean): ResolvedAgent[] {
    return this._agents.map((a) => {
      const restricted = this.restricted(a);
      const keyed = this.keys.has(a.provider) || (!a.baseUrl && hasLocalKey(a.provider)) || (a.provider === 'openai-compatible' && !!a.baseUrl);
      const budget = [this._guardrails?.maxTokenBudget, a.guardrails.maxTokenBudget].filter((n): n is number => typeof n === 'number');
      const r: ResolvedAgent = {
        id: a.id,
        name: a.emoji ? `${a.emoji} ${a.name}` : a.name,
        provider: a.provider,
        model: a.model,
        systemPrompt: a.systemPrompt || undefined,
        available: keyed && !restricted,
        source: 'workspace',
      };
      if (a.baseUrl) r.baseUrl = a.baseUrl;
      if (budget.length) r.maxTokens = Math.min(...budget);
      if (restricted) r.unavailableReason = `${PROVIDER_LABELS[a.provider]} is restricted by the workspace guardrails`;
      else if (!keyed) r.unavailableReason = `no ${PROVIDER_LABELS[a.provider]} key in the workspace or on this machine`;
      return r;
    });
  }
}
