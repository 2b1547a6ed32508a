/**
 * Local model servers on this machine: Ollama (11434, `GET /api/tags`), LM Studio (1234), llama.cpp
 * (8080) and vLLM (8000), the last three OpenAI-compatible (`GET /v1/models`). Only 127.0.0.1 is
 * probed, once per call, each port with a short timeout, through `NetService.fetch(…, 'local-models')`
 * so every probe is in the connection ledger (Network Activity). Disabled (`multiclaw.discoverLocalModels`
 * off), nothing is contacted. Each server found is given with the OpenAI-compatible base URL
 * MultiClaw's `openai-compatible` provider talks to, and its models.
 */
import type { ConnectionPurpose } from './ledger';

export interface LocalModelPort {
  port: number;
  label: string;
  /** `ollama`: `/api/tags` (then its OpenAI-compatible `/v1`); `openai`: `/v1/models`. */
  api: 'ollama' | 'openai';
}

export const LOCAL_MODEL_PORTS: readonly LocalModelPort[] = [
  { port: 11434, label: 'Ollama', api: 'ollama' },
  { port: 1234, label: 'LM Studio', api: 'openai' },
  { port: 8080, label: 'llama.cpp', api: 'openai' },
  { port: 8000, label: 'vLLM', api: 'openai' },
];

export interface LocalModelServer {
  label: string;
  port: number;
  /** What MultiClaw's openai-compatible provider uses: `http://127.0.0.1:<port>/v1`. */
  baseUrl: string;
  models: string[];
}

/** The part of `Response` the probe reads. */
export interface ProbeResponse {
  ok: boolean;
  status: number;
  json(): Promise<unknown>;
}

/** `NetService.fetch`, or a stand-in with its shape. */
export type ProbeFetch = (url: string, init: { signal: AbortSignal; headers: Record<string, string> }, purpose: ConnectionPurpose) => Promise<ProbeResponse>;

export interface DiscoverOptions {
  enabled: boolean;
  fetch: ProbeFetch;
  /** Default LOCAL_MODEL_PORTS (tests pass their own servers' ports). */
  ports?: readonly LocalModelPort[];
  /** Per port (default 1500 ms): a closed port answers at once; this bounds a port that accepts and hangs. */
  timeoutMs?: number;
}

export const LOCAL_MODELS_PURPOSE: ConnectionPurpose = 'local-models';
const MAX_MODELS = 50;

function record(v: unknown): Record<string, unknown> | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** Model names from an Ollama `/api/tags` body (`{models:[{name}]}`) or an OpenAI `/v1/models` body (`{data:[{id}]}`). */
export function parseModelList(api: LocalModelPort['api'], body: unknown): string[] | undefined {
  const list = record(body)?.[api === 'ollama' ? 'models' : 'data'];
  if (!Array.isArray(list)) return undefined;
  const names = list
    .map((m) => record(m)?.[api === 'ollama' ? 'name' : 'id'])
    .filter((n): n is string => typeof n === 'string' && n.length > 0 && n.length <= 200);
  return [...new Set(names)].slice(0, MAX_MODELS);
}

async function probe(p: LocalModelPort, o: DiscoverOptions): Promise<LocalModelServer | undefined> {
  const url = `http://127.0.0.1:${p.port}${p.api === 'ollama' ? '/api/tags' : '/v1/models'}`;
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), o.timeoutMs ?? 1500);
  try {
    const res = await o.fetch(url, { signal: ac.signal, headers: { accept: 'application/json' } }, LOCAL_MODELS_PURPOSE);
    if (!res.ok) return undefined;
    const models = parseModelList(p.api, await res.json());
    return models ? { label: p.label, port: p.port, baseUrl: `http://127.0.0.1:${p.port}/v1`, models } : undefined;
  } catch {
    return undefined; // closed port, timeout, not JSON: nothing there
  } finally {
    clearTimeout(timer);
  }
}

/** Probes each port once, in parallel; the servers that answered with a model list, in port-list order. */
export async function discoverLocalModels(o: DiscoverOptions): Promise<LocalModelServer[]> {
  if (!o.enabled) return [];
  const found = await Promise.all((o.ports ?? LOCAL_MODEL_PORTS).map((p) => probe(p, o)));
  return found.filter((s): s is LocalModelServer => s !== undefined);
}
