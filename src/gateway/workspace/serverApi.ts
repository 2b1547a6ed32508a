/**
 * REST client of the workspace server (protocol v1, `src/protocol/workspace`). Every request goes through
 * the fetch it is given — the gateway passes `NetService.fetch(…, 'workspace:api')`, so the proxy
 * decision, TLS policy and connection ledger are the shared ones. Answers are validated with the
 * protocol's zod schemas; failures are `ServerApiError`s with a short message that says what to do.
 */
import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { apiErrorSchema, IDEMPOTENCY_HEADER, type Provider, type SessionScope } from '../../protocol/workspace/common';
import { configSnapshotSchema, type Assignee } from '../../protocol/workspace/models';
import {
  agentListResponseSchema,
  healthResponseSchema,
  type createTaskRequestSchema,
  instanceListResponseSchema,
  loginResponseSchema,
  meResponseSchema,
  memberListResponseSchema,
  mintSessionTokenResponseSchema,
  okResponseSchema,
  planResponseSchema,
  providerKeyResponseSchema,
  registerInstanceResponseSchema,
  taskDetailResponseSchema,
  taskResponseSchema,
} from '../../protocol/workspace/rest';
import { errorMessage } from '../errors';

export interface HttpResponseLike {
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}

export interface HttpInit {
  method: string;
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

export type FetchLike = (url: string, init: HttpInit) => Promise<HttpResponseLike>;

export type ServerApiErrorKind = 'network' | 'http' | 'invalid_response';

export class ServerApiError extends Error {
  override readonly name = 'ServerApiError';
  constructor(
    readonly kind: ServerApiErrorKind,
    message: string,
    readonly status?: number,
    /** The protocol error code (`unauthorized`, `token_expired`, `forbidden`…) of an HTTP error. */
    readonly code?: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }

  /** The credentials are no good (unknown, revoked or expired token): signing in again is the fix. */
  get isAuth(): boolean {
    return this.status === 401;
  }

  /** Trying again later can help (network, 5xx, 429, timeouts). */
  get retryable(): boolean {
    return this.kind === 'network' || this.status === 429 || (this.status !== undefined && this.status >= 500);
  }
}

export type LoginResponse = z.infer<typeof loginResponseSchema>;
export type MeResponse = z.infer<typeof meResponseSchema>;
export type RegisterInstanceResponse = z.infer<typeof registerInstanceResponseSchema>;
export type MintResponse = z.infer<typeof mintSessionTokenResponseSchema>;
export type CreateTaskRequest = z.infer<typeof createTaskRequestSchema>;

/** Normalises a server URL typed by a user: scheme required (http(s)), no trailing slash, no /v1. */
export function normalizeServerUrl(input: string): string {
  const s = input.trim();
  const u = new URL(s);
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('The workspace URL must start with https:// (or http:// for a local server).');
  if (u.username || u.password) throw new Error('The workspace URL must not contain credentials.');
  return `${u.origin}${u.pathname.replace(/\/+$/, '').replace(/\/v1$/, '')}`;
}

export class ServerApi {
  readonly baseUrl: string;

  constructor(
    baseUrl: string,
    private readonly fetchFn: FetchLike,
    private readonly timeoutMs = 15_000,
  ) {
    this.baseUrl = normalizeServerUrl(baseUrl);
  }

  /** The WebSocket URL of a `wsPath` returned by the server (same origin, ws/wss scheme). */
  wsUrl(wsPath: string): string {
    return new URL(wsPath, this.baseUrl.replace(/^http/, 'ws') + '/').toString();
  }

  private async call<S extends z.ZodType>(
    schema: S,
    method: string,
    path: string,
    o: { token?: string; body?: unknown; idem?: string | true } = {},
  ): Promise<z.infer<S>> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    if (o.idem) headers[IDEMPOTENCY_HEADER] = o.idem === true ? `mc-${randomUUID()}` : o.idem;
    let body: string | undefined;
    if (o.body !== undefined) {
      body = JSON.stringify(o.body);
      headers['content-type'] = 'application/json';
    }
    const host = new URL(this.baseUrl).host;
    let res: HttpResponseLike;
    let text: string;
    try {
      res = await this.fetchFn(this.baseUrl + path, { method, headers, body, signal: AbortSignal.timeout(this.timeoutMs) });
      text = await res.text();
    } catch (err) {
      const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
      const message = timedOut ? `${host} did not answer within ${Math.round(this.timeoutMs / 1000)} s` : errorMessage(err);
      throw Object.assign(new ServerApiError('network', message), { cause: err });
    }
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      throw new ServerApiError(
        'invalid_response',
        `${host} answered ${method} ${path} with something that is not JSON (HTTP ${res.status}): is ${this.baseUrl} a MultiClaw workspace server?`,
        res.status,
      );
    }
    if (res.status >= 400) {
      const e = apiErrorSchema.safeParse(json);
      const retryAfter = Number(res.headers.get('retry-after'));
      const retryAfterMs = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined;
      if (!e.success)
        throw new ServerApiError(
          'http',
          `${host} answered HTTP ${res.status}${res.status === 404 ? `: is ${this.baseUrl} a MultiClaw workspace server?` : ''}`,
          res.status,
          undefined,
          retryAfterMs,
        );
      throw new ServerApiError('http', e.data.error.message, res.status, e.data.error.code, retryAfterMs);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const where = parsed.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
        .join('; ');
      throw new ServerApiError('invalid_response', `${host} sent an answer this MultiClaw does not understand (${method} ${path}: ${where})`, res.status);
    }
    return parsed.data;
  }

  /** Liveness and protocol version (no credentials): is a MultiClaw workspace server there? */
  health(): Promise<z.infer<typeof healthResponseSchema>> {
    return this.call(healthResponseSchema, 'GET', '/v1/health');
  }

  login(email: string, password: string): Promise<LoginResponse> {
    return this.call(loginResponseSchema, 'POST', '/v1/auth/login', { body: { email, password } });
  }

  me(accountToken: string): Promise<MeResponse> {
    return this.call(meResponseSchema, 'GET', '/v1/me', { token: accountToken });
  }

  async logout(accountToken: string): Promise<void> {
    await this.call(okResponseSchema, 'POST', '/v1/auth/logout', { token: accountToken });
  }

  registerInstance(
    accountToken: string,
    workspaceId: string,
    body: { name: string; platform: string; version: string; kind?: 'gateway' | 'desktop' },
  ): Promise<RegisterInstanceResponse> {
    return this.call(registerInstanceResponseSchema, 'POST', `/v1/workspaces/${enc(workspaceId)}/instances`, {
      token: accountToken,
      idem: true,
      body: { ...body, kind: body.kind ?? 'gateway' },
    });
  }

  async removeInstance(token: string, workspaceId: string, instanceId: string): Promise<void> {
    await this.call(okResponseSchema, 'DELETE', `/v1/workspaces/${enc(workspaceId)}/instances/${enc(instanceId)}`, { token, idem: true });
  }

  mintSession(token: string, workspaceId: string, scope: SessionScope): Promise<MintResponse> {
    return this.call(mintSessionTokenResponseSchema, 'POST', '/v1/session-tokens', { token, body: { workspaceId, scope } });
  }

  config(token: string, workspaceId: string): Promise<z.infer<typeof configSnapshotSchema>> {
    return this.call(configSnapshotSchema, 'GET', `/v1/workspaces/${enc(workspaceId)}/config`, { token });
  }

  members(token: string, workspaceId: string): Promise<z.infer<typeof memberListResponseSchema>> {
    return this.call(memberListResponseSchema, 'GET', `/v1/workspaces/${enc(workspaceId)}/members`, { token });
  }

  instances(token: string, workspaceId: string): Promise<z.infer<typeof instanceListResponseSchema>> {
    return this.call(instanceListResponseSchema, 'GET', `/v1/workspaces/${enc(workspaceId)}/instances`, { token });
  }

  agents(token: string, workspaceId: string): Promise<z.infer<typeof agentListResponseSchema>> {
    return this.call(agentListResponseSchema, 'GET', `/v1/workspaces/${enc(workspaceId)}/agents`, { token });
  }

  createTask(token: string, workspaceId: string, body: CreateTaskRequest, idem: string): Promise<z.infer<typeof taskResponseSchema>> {
    return this.call(taskResponseSchema, 'POST', `/v1/workspaces/${enc(workspaceId)}/tasks`, { token, idem, body });
  }

  getTask(token: string, workspaceId: string, taskId: string): Promise<z.infer<typeof taskDetailResponseSchema>> {
    return this.call(taskDetailResponseSchema, 'GET', `/v1/workspaces/${enc(workspaceId)}/tasks/${enc(taskId)}`, { token });
  }

  assignTask(token: string, workspaceId: string, taskId: string, assignee: Assignee | null, idem: string): Promise<z.infer<typeof taskResponseSchema>> {
    return this.call(taskResponseSchema, 'POST', `/v1/workspaces/${enc(workspaceId)}/tasks/${enc(taskId)}/assign`, { token, idem, body: { assignee } });
  }

  decidePlan(
    token: string,
    workspaceId: string,
    taskId: string,
    planId: string,
    decision: 'approved' | 'rejected',
    comment: string | undefined,
    idem: string,
  ): Promise<z.infer<typeof planResponseSchema>> {
    return this.call(planResponseSchema, 'POST', `/v1/workspaces/${enc(workspaceId)}/tasks/${enc(taskId)}/plans/${enc(planId)}/decision`, {
      token,
      idem,
      body: comment ? { decision, comment } : { decision },
    });
  }

  setProviderKey(accountToken: string, workspaceId: string, provider: Provider, apiKey: string): Promise<z.infer<typeof providerKeyResponseSchema>> {
    return this.call(providerKeyResponseSchema, 'PUT', `/v1/workspaces/${enc(workspaceId)}/provider-keys/${enc(provider)}`, {
      token: accountToken,
      idem: true,
      body: { apiKey },
    });
  }
}

function enc(s: string): string {
  return encodeURIComponent(s);
}
