/**
 * The local API's REST routes: status, agents, tasks. Each handler validates its input with the zod
 * schemas of `src/protocol/localApi.ts` and throws ApiError for a refusal; the server answers it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { clip } from '../../protocol/jsonLimits';
import {
  dispatchTaskRequestSchema,
  LOCAL_API_VERSION,
  type LocalAgent,
  listTasksQuerySchema,
  resolveApprovalRequestSchema,
  type StatusResponse,
} from '../../protocol/localApi';
import type { Logger } from '../ports';
import { TaskError } from '../tasks/taskService';
import { ApiError, readJson, sendJson, validate } from './http';
import { handleSendMessage } from './messages';
import { handleChatCompletions, handleModels } from './openAiCompat';
import type { LocalApiHost, LocalApiLimits } from './types';

export interface ApiContext {
  readonly gateway: LocalApiHost;
  readonly limits: LocalApiLimits;
  readonly log: Logger;
  readonly host: 'vscode' | 'headless';
  readonly version: string;
  readonly startedAt: number;
  readonly now: () => number;
  port(): number;
}

export type Handler = (ctx: ApiContext, req: IncomingMessage, res: ServerResponse, params: string[], query: string) => Promise<void> | void;

interface Route {
  method: string;
  path: RegExp;
  handler: Handler;
}

const ID = '([^/]{1,200})';

const ROUTES: Route[] = [
  { method: 'GET', path: /^\/v1\/status$/, handler: status },
  { method: 'GET', path: /^\/v1\/agents$/, handler: agents },
  { method: 'GET', path: /^\/v1\/tasks$/, handler: listTasks },
  { method: 'POST', path: /^\/v1\/tasks$/, handler: dispatchTask },
  { method: 'GET', path: new RegExp(`^/v1/tasks/${ID}$`), handler: getTask },
  { method: 'POST', path: new RegExp(`^/v1/tasks/${ID}/cancel$`), handler: cancelTask },
  { method: 'POST', path: new RegExp(`^/v1/conversations/${ID}/messages$`), handler: handleSendMessage },
  { method: 'GET', path: /^\/v1\/approvals$/, handler: listApprovals },
  { method: 'POST', path: new RegExp(`^/v1/approvals/${ID}$`), handler: resolveApproval },
  { method: 'POST', path: /^\/v1\/chat\/completions$/, handler: handleChatCompletions },
  { method: 'GET', path: /^\/v1\/models$/, handler: handleModels },
];

/** The handler for a method and path, or an ApiError (404 unknown path, 405 wrong method). */
export function route(method: string, pathname: string): { handler: Handler; params: string[] } {
  let pathMatched = false;
  for (const r of ROUTES) {
    const m = r.path.exec(pathname);
    if (!m) continue;
    pathMatched = true;
    if (r.method === method) return { handler: r.handler, params: m.slice(1).map(decode) };
  }
  if (pathMatched) throw new ApiError(405, 'method_not_allowed', `${clip(method, 20)} is not allowed on ${clip(pathname, 100)}.`);
  throw new ApiError(404, 'not_found', `No route ${clip(pathname, 100)}. See GET /v1/status.`);
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new ApiError(400, 'invalid_request', 'The path is not valid percent-encoding.');
  }
}

function status(ctx: ApiContext, _req: IncomingMessage, res: ServerResponse): void {
  const g = ctx.gateway;
  const agents = g.agents();
  const counts = g.taskCounts();
  const body: StatusResponse = {
    ok: true,
    apiVersion: LOCAL_API_VERSION,
    version: ctx.version,
    host: ctx.host,
    state: g.state,
    pid: process.pid,
    port: ctx.port(),
    uptimeMs: ctx.now() - ctx.startedAt,
    agents: { total: agents.length, available: agents.filter((a) => a.available).length },
    tasks: { queued: counts.queued, running: counts.running },
    openAiCompatibleApi: g.config.localApi.openAiCompatibleApi,
  };
  sendJson(res, 200, body);
}

export function agentList(g: LocalApiHost): LocalAgent[] {
  return g.agents().map((a) => ({ id: a.id, name: a.name, provider: a.provider, model: a.model, available: a.available, source: a.source }));
}

function agents(ctx: ApiContext, _req: IncomingMessage, res: ServerResponse): void {
  sendJson(res, 200, { agents: agentList(ctx.gateway) });
}

function listTasks(ctx: ApiContext, _req: IncomingMessage, res: ServerResponse, _params: string[], query: string): void {
  const q = validate(listTasksQuerySchema, Object.fromEntries(new URLSearchParams(query)), 'query');
  sendJson(res, 200, { tasks: ctx.gateway.tasks.list(q) });
}

async function dispatchTask(ctx: ApiContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = validate(dispatchTaskRequestSchema, await readJson(req, ctx.limits.bodyBytes), 'task');
  const task = await taskCall(() => ctx.gateway.tasks.dispatch(body));
  sendJson(res, 201, { task }, { location: `/v1/tasks/${task.id}` });
}

function getTask(ctx: ApiContext, _req: IncomingMessage, res: ServerResponse, params: string[]): void {
  const task = ctx.gateway.tasks.get(params[0]);
  if (!task) throw new ApiError(404, 'task_not_found', `No task ${clip(params[0] ?? '', 100)}.`);
  sendJson(res, 200, { task });
}

async function cancelTask(ctx: ApiContext, _req: IncomingMessage, res: ServerResponse, params: string[]): Promise<void> {
  const task = await taskCall(() => ctx.gateway.tasks.cancel(params[0]));
  sendJson(res, 200, { task });
}

function listApprovals(ctx: ApiContext, _req: IncomingMessage, res: ServerResponse): void {
  sendJson(res, 200, { approvals: ctx.gateway.pendingApprovals() });
}

async function resolveApproval(ctx: ApiContext, req: IncomingMessage, res: ServerResponse, params: string[]): Promise<void> {
  const body = validate(resolveApprovalRequestSchema, await readJson(req, ctx.limits.bodyBytes), 'approval decision');
  const id = params[0] ?? '';
  const decision = { decision: body.decision, ...(body.always ? { always: true } : {}), via: 'local-api' };
  if (!ctx.gateway.resolveApproval(id, decision))
    throw new ApiError(404, 'approval_not_found', `No approval ${clip(id, 100)} is waiting (already decided, or its turn was stopped).`);
  sendJson(res, 200, { id, decision });
}

const TASK_ERROR_STATUS: Record<TaskError['code'], number> = {
  agent_not_found: 404,
  agent_unavailable: 409,
  task_not_found: 404,
  task_finished: 409,
  gateway_not_running: 503,
};

async function taskCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof TaskError) throw new ApiError(TASK_ERROR_STATUS[err.code], err.code, err.message);
    throw err;
  }
}
