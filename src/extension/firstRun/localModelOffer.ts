/**
 * A chat without a key: when no provider key is set and no OpenAI-compatible server is configured,
 * the first time the gateway runs MultiClaw probes the local model servers on 127.0.0.1 once
 * (`discoverLocalModels`, through the gateway's NetService, so the probe is in Network Activity; off
 * with `multiclaw.discoverLocalModels`). When it finds some, a notification and the Chat view's title
 * bar offer "Use a Local Model…": one pick (server and model) points the openai-compatible provider
 * at that server and adds an agent for the model to `multiclaw.agents`.
 */
import * as vscode from 'vscode';
import type { Gateway } from '../../gateway/gateway';
import { discoverLocalModels, type LocalModelServer } from '../../gateway/net/localModels';
import type { Logger } from '../../gateway/ports';
import { Disposable } from '../../gateway/util/disposable';
import { CMD, CTX, setContext } from '../commandIds';

const KEYED_PROVIDERS = ['openai', 'anthropic', 'gemini'] as const;
export const USE_LOCAL_MODEL = 'Use a Local Model…';

/** One model on one server, as the command takes it (tests pass it directly). */
export interface LocalModelChoice {
  label: string;
  baseUrl: string;
  model: string;
}

function discoveryEnabled(): boolean {
  const v = vscode.workspace.getConfiguration('multiclaw').get<unknown>('discoverLocalModels', true);
  return v !== false;
}

/** An agent id from the server and model (`ollama-llama3.2-latest`), within the agents schema. */
export function localAgentId(label: string, model: string): string {
  return `${label}-${model}`
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64);
}

export class LocalModelOffer extends Disposable {
  private probed = false;
  private servers: LocalModelServer[] = [];

  constructor(
    private readonly gateway: Gateway,
    private readonly log: Logger,
  ) {
    super();
    this._register(vscode.commands.registerCommand(CMD.useLocalModel, (choice?: LocalModelChoice) => this.use(choice)));
    this._register(
      gateway.onDidChangeState(({ state }) => {
        if (state === 'running') void this.probeOnce();
      }),
    );
    if (gateway.state === 'running') void this.probeOnce();
  }

  /** No key for a hosted provider and no OpenAI-compatible server configured: the newcomer case. */
  private needsAModel(): boolean {
    const baseUrl = vscode.workspace.getConfiguration('multiclaw').get<string>('providers.openaiCompatible.baseUrl');
    return !baseUrl && KEYED_PROVIDERS.every((p) => !this.gateway.keys.has(p));
  }

  private async probe(): Promise<LocalModelServer[]> {
    const net = this.gateway.net;
    this.servers = await discoverLocalModels({ enabled: discoveryEnabled(), fetch: (url, init, purpose) => net.fetch(url, init, purpose) });
    setContext(CTX.localModelsFound, this.servers.length > 0);
    this.log.info(`local model servers: ${this.servers.map((s) => `${s.label} on ${s.port} (${s.models.length} models)`).join(', ') || 'none found'}`);
    return this.servers;
  }

  private async probeOnce(): Promise<void> {
    if (this.probed || !discoveryEnabled() || !this.needsAModel()) return;
    this.probed = true;
    const found = await this.probe().catch((err: unknown) => {
      this.log.warn(`local model discovery failed: ${String(err)}`);
      return [];
    });
    if (!found.length) return;
    const what = found.map((s) => `${s.label} (${s.models.length} model${s.models.length === 1 ? '' : 's'})`).join(', ');
    const pick = await vscode.window.showInformationMessage(`No API key yet? MultiClaw found a local model server on this machine: ${what}.`, USE_LOCAL_MODEL);
    if (pick === USE_LOCAL_MODEL) await this.use();
  }

  /** Points the openai-compatible provider at the chosen server and adds an agent for the model. */
  async use(choice?: LocalModelChoice): Promise<string | undefined> {
    if (!choice) {
      if (!discoveryEnabled()) {
        const open = await vscode.window.showInformationMessage('Local model discovery is off (multiclaw.discoverLocalModels).', 'Open Settings');
        if (open) await vscode.commands.executeCommand('workbench.action.openSettings', 'multiclaw.discoverLocalModels');
        return undefined;
      }
      const servers = this.servers.length ? this.servers : await this.probe();
      if (!servers.length) {
        void vscode.window.showInformationMessage('No local model server answers on 127.0.0.1 (Ollama 11434, LM Studio 1234, llama.cpp 8080, vLLM 8000).');
        return undefined;
      }
      const items = servers.flatMap((s) =>
        s.models.map((model) => ({ label: model, description: `${s.label} · 127.0.0.1:${s.port}`, choice: { label: s.label, baseUrl: s.baseUrl, model } })),
      );
      const picked = await vscode.window.showQuickPick(items, {
        title: 'Chat with a local model',
        placeHolder: 'Pick a model: MultiClaw adds an agent for it',
      });
      if (!picked) return undefined;
      choice = picked.choice;
    }
    const cfg = vscode.workspace.getConfiguration('multiclaw');
    const id = localAgentId(choice.label, choice.model);
    const name = `${choice.model} (${choice.label}, local)`.slice(0, 100);
    const agents = (cfg.get<unknown[]>('agents') ?? []).filter((a) => !(a && typeof a === 'object' && (a as { id?: unknown }).id === id));
    await cfg.update('providers.openaiCompatible.baseUrl', choice.baseUrl, vscode.ConfigurationTarget.Global);
    await cfg.update('providers.openaiCompatible.model', choice.model, vscode.ConfigurationTarget.Global);
    await cfg.update('agents', [...agents, { id, name, provider: 'openai-compatible', model: choice.model }], vscode.ConfigurationTarget.Global);
    this.log.info(`added agent ${id} for ${choice.model} at ${choice.baseUrl}`);
    void vscode.window.showInformationMessage(`Agent "${name}" added: pick it in the Chat view.`);
    await vscode.commands.executeCommand(CMD.focusChat);
    return id;
  }
}
