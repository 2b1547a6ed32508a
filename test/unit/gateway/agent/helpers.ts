/**
 * An agent rig: a real gateway with a NodeWorkspace over a temp folder, pointed at the provider
 * fixture server in SCRIPTED mode, and helpers to run a turn and wait on its events.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NodeWorkspace } from '../../../../src/gateway/agent/nodeWorkspace';
import type { ChatEvent, SendOptions } from '../../../../src/gateway/chat/chatService';
import type { GatewayConfig } from '../../../../src/gateway/config';
import type { GatewayDeps } from '../../../../src/gateway/gateway';
import type { ProviderId } from '../../../../src/gateway/providers/types';
import type { Conversation } from '../../../../src/gateway/store/conversationStore';
import type { ToolCallView } from '../../../../src/protocol/agent';
import type { Guardrails } from '../../../../src/protocol/workspace/models';
import type { ProviderServer } from '../../../fixtures/providerServer';
import { createTestGateway, type TestGateway } from '../../../support/gateway';

export const AGENT_PROVIDERS: readonly ProviderId[] = ['openai', 'anthropic', 'gemini'];

export interface AgentRig {
  t: TestGateway;
  /** The workspace folder (its realpath). */
  ws: string;
  port: NodeWorkspace;
  agentId: string;
  events: ChatEvent[];
  /** Sends a message and waits for the turn to end. */
  turn(text: string, options?: SendOptions, conversationId?: string | null): Promise<Conversation>;
  /** Starts a turn without waiting. */
  start(text: string, options?: SendOptions, conversationId?: string | null): Promise<{ conversation: Conversation; done: Promise<void> }>;
  /** The latest card of each call, in order. */
  cards(conversationId: string): ToolCallView[];
  file(rel: string): string;
  close(): Promise<void>;
}

export interface RigOptions {
  files?: Record<string, string | Buffer>;
  config?: (c: GatewayConfig) => void;
  dir?: string;
  trusted?: boolean;
  /** More gateway deps (MCP consent, the skills folder). */
  gateway?: Pick<GatewayDeps, 'mcpConsent' | 'skillsFolder'>;
}

export async function agentRig(server: ProviderServer, provider: ProviderId, o: RigOptions = {}): Promise<AgentRig> {
  const ws = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'mc-ws-')));
  for (const [rel, content] of Object.entries(o.files ?? {})) {
    fs.mkdirSync(path.dirname(path.join(ws, rel)), { recursive: true });
    fs.writeFileSync(path.join(ws, rel), content);
  }
  const port = new NodeWorkspace({ folders: [ws], trusted: o.trusted });
  const t = await createTestGateway(server, {
    dir: o.dir,
    workspace: port,
    ...o.gateway,
    config: (c) => {
      c.agent = {
        tools: true,
        maxSteps: 25,
        commandsAllow: ['cat *', 'echo *', 'node *', 'sleep *'],
        commandsDeny: [],
        fetchAllowedDomains: [],
        autoApproveEdits: true,
      };
      o.config?.(c);
    },
  });
  if (provider !== 'openai-compatible') await t.gateway.keys.set(provider, server.keys[provider]);
  const agentId = `default-${provider}`;
  const events: ChatEvent[] = [];
  t.gateway.onChatEvent((e) => events.push(e));
  const start = (text: string, options?: SendOptions, cid: string | null = null): Promise<{ conversation: Conversation; done: Promise<void> }> =>
    t.gateway.chat.send(cid, agentId, text, undefined, options);
  return {
    t,
    ws,
    port,
    agentId,
    events,
    start,
    async turn(text, options, cid = null) {
      const { conversation, done } = await start(text, options, cid);
      await done;
      return conversation;
    },
    cards(cid) {
      const latest = new Map<string, ToolCallView>();
      for (const e of events) if (e.type === 'toolCall' && e.conversationId === cid) latest.set(e.call.id, e.call);
      return [...latest.values()];
    },
    file: (rel) => fs.readFileSync(path.join(ws, rel), 'utf8'),
    async close() {
      port.dispose();
      await t.close();
      fs.rmSync(ws, { recursive: true, force: true });
    },
  };
}

/** The tool results (role tool / tool_result / functionResponse) a provider request carried, as text, for any of the three shapes. */
export function toolResultsIn(body: unknown): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (!v || typeof v !== 'object') return;
    if (Array.isArray(v)) return v.forEach(walk);
    const o = v as Record<string, unknown>;
    if (o.role === 'tool' && typeof o.content === 'string') out.push(o.content);
    if (o.type === 'tool_result') out.push(typeof o.content === 'string' ? o.content : JSON.stringify(o.content ?? ''));
    if (o.functionResponse) out.push(JSON.stringify((o.functionResponse as { response?: unknown }).response ?? ''));
    Object.values(o).forEach(walk);
  };
  walk(body);
  return out;
}

/** Guardrails as a workspace would push them, for every agent of the rig (through the gateway's own merge). */
export async function setGuardrails(rig: AgentRig, g: Partial<Guardrails>): Promise<void> {
  const { mergeGuardrails } = await import('../../../../src/gateway/agent/agentRuntime');
  const chat = rig.t.gateway.chat as unknown as { deps: { guardrailsFor: unknown } };
  chat.deps.guardrailsFor = () =>
    mergeGuardrails({ blockedTools: [], approvalRequired: [], allowedDomains: [], maxTokenBudget: null, restrictedProviders: [], ...g }, undefined);
}
