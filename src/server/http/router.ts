/**
 * The REST pipeline for every route of `ROUTES`: match (404/405) → auth rate limit → credentials →
 * workspace role and permission → body (size limit, JSON content type, zod) → query (zod) →
 * idempotency key for mutations → handler → JSON answer. A body nested deeper than `LIMITS.jsonDepth`
 * is refused from its text, before it is parsed; an answer that cannot be encoded fails only itself. No CORS headers are ever sent (a preflight
 * gets 405), answers are `no-store`, and one structured log line per request holds no secret.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import { jsonTooDeep } from '../../protocol/jsonLimits';
import { IDEMPOTENCY_HEADER, IDEMPOTENCY_REPLAYED_HEADER, idempotencyKeySchema, idSchema, LIMITS } from '../../protocol/workspace/common';
import { ROUTES, type RouteId, type RouteSpec } from '../../protocol/workspace/routes';
import { ApiError, validationError } from '../errors';
import type { Logger } from '../log';
import { idempotencyScope, requirePermission, type Access, type Credential } from '../services/access';
import { requestHash, type IdempotencyKey, type Reply } from '../services/idempotency';
import type { Services } from '../services/registry';
import type { RateLimiter } from './rateLimit';

export interface RequestContext {
  params: Record<string, string>;
  body: unknown;
  query: unknown;
  cred: Credential | undefined;
  /** Set on routes under /v1/workspaces/{wid}. */
  access: Access | undefined;
  idem: IdempotencyKey | undefined;
  ip: string;
}

export type Handler = (c: RequestContext) => Promise<Reply> | Reply;
export type Handlers = Record<RouteId, Handler>;

interface CompiledRoute {
  id: RouteId;
  spec: RouteSpec;
  re: RegExp;
  names: string[];
}

const AUTH_LIMITED: ReadonlySet<RouteId> = new Set(['auth.login', 'invites.accept']);

function compile(): CompiledRoute[] {
  return (Object.keys(ROUTES) as RouteId[]).map((id) => {
    const spec: RouteSpec = ROUTES[id];
    const names: string[] = [];
    const re = new RegExp(`^${spec.path.replace(/\{(\w+)\}/g, (_m, n: string) => (names.push(n), '([^/]+)'))}$`);
    return { id, spec, re, names };
  });
}

function send(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...extra,
  });
  res.end(text);
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) return Promise.reject(new ApiError('payload_too_large', `body over ${limit} bytes`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.off('data', onData);
        req.resume();
        reject(new ApiError('payload_too_large', `body over ${limit} bytes`));
        return;
      }
      chunks.push(c);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

function parse<T extends z.ZodType>(schema: T, value: unknown, where: string): z.infer<T> {
  const r = schema.safeParse(value);
  if (!r.success) throw validationError(r.error.issues, where);
  return r.data;
}

export class Router {
  private readonly routes = compile();

  constructor(
    private readonly services: Services,
    private readonly handlers: Handlers,
    private readonly authLimiter: RateLimiter,
    private readonly log: Logger,
  ) {}

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const ip = req.socket.remoteAddress ?? '?';
    let routeId: RouteId | undefined;
    let status = 500;
    let replayed = false;
    let code: string | undefined;
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const found = this.match(req.method ?? 'GET', url.pathname);
      routeId = found.route.id;
      const reply = await this.run(req, found.route, found.params, url, ip);
      status = reply.status;
      replayed = reply.replayed === true;
      if (status >= 400) code = (reply.body as { error?: { code?: string } }).error?.code;
      send(res, status, reply.body, replayed ? { [IDEMPOTENCY_REPLAYED_HEADER]: 'true' } : {});
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError('internal', 'internal error');
      if (!(err instanceof ApiError)) this.log.error('request failed', { route: routeId, err: err instanceof Error ? err : String(err) });
      status = e.httpStatus;
      code = e.code;
      const extra: Record<string, string> = {};
      const retry = e.details?.retryAfterSec;
      if (typeof retry === 'number') extra['retry-after'] = String(retry);
      if (e.code === 'method_not_allowed' && typeof e.details?.allow === 'string') extra.allow = e.details.allow;
      if (e.code === 'payload_too_large') extra.connection = 'close';
      if (!res.headersSent) send(res, status, { error: e.toBody() }, extra);
    } finally {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      this.log.info('http', { method: req.method, route: routeId ?? null, status, code, ms: Math.round(ms * 100) / 100, ip, replayed: replayed || undefined });
    }
  }

  private match(method: string, pathname: string): { route: CompiledRoute; params: Record<string, string> } {
    const allow: string[] = [];
    for (const r of this.routes) {
      const m = r.re.exec(pathname);
      if (!m) continue;
      if (r.spec.method !== method) {
        allow.push(r.spec.method);
        continue;
      }
      const params: Record<string, string> = {};
      try {
        r.names.forEach((n, i) => (params[n] = decodeURIComponent(m[i + 1])));
      } catch {
        throw new ApiError('not_found', 'no such route');
      }
      for (const [n, v] of Object.entries(params)) if (n !== 'provider' && !idSchema.safeParse(v).success) throw new ApiError('not_found', `no such ${n}`);
      return { route: r, params };
    }
    if (allow.length) throw new ApiError('method_not_allowed', `use ${allow.join(', ')}`, { allow: allow.join(', ') });
    throw new ApiError('not_found', 'no such route');
  }

  private async run(req: IncomingMessage, route: CompiledRoute, params: Record<string, string>, url: URL, ip: string): Promise<Reply> {
    const { spec, id } = route;
    if (AUTH_LIMITED.has(id)) {
      const wait = this.authLimiter.take(ip);
      if (wait) throw new ApiError('rate_limited', 'too many attempts: slow down', { retryAfterSec: wait });
    }
    let cred: Credential | undefined;
    if (spec.auth !== 'none' || (id === 'invites.accept' && req.headers.authorization)) cred = await this.services.access.fromBearer(req.headers.authorization);
    if (cred && spec.auth === 'account' && cred.kind !== 'account') throw new ApiError('forbidden', 'this route needs an account token');
    if (spec.auth === 'instance' && cred?.kind !== 'instance') throw new ApiError('forbidden', 'this route needs a workspace (instance) token');
    let access: Access | undefined;
    if (params.wid && cred) {
      access = await this.services.access.inWorkspace(cred, params.wid);
      if (spec.permission) requirePermission(access, spec.permission);
    } else if (cred?.kind === 'instance') {
      access = await this.services.access.inWorkspace(cred, cred.workspaceId);
    }
    const limit = AUTH_LIMITED.has(id) ? LIMITS.authBodyBytes : LIMITS.restBodyBytes;
    const raw = await readBody(req, limit);
    let body: unknown;
    if (spec.body) {
      const type = String(req.headers['content-type'] ?? '');
      if (raw.length && !/^application\/json\b/i.test(type)) throw new ApiError('unsupported_media_type', 'send Content-Type: application/json');
      let json: unknown = {};
      if (raw.length) {
        const text = raw.toString('utf8');
        // Before parsing: a 20,000-deep value would overflow every recursive step after it.
        if (jsonTooDeep(text, LIMITS.jsonDepth)) throw new ApiError('bad_request', `body nests deeper than ${LIMITS.jsonDepth} levels`);
        try {
          json = JSON.parse(text);
        } catch {
          throw new ApiError('bad_request', 'body is not valid JSON');
        }
      }
      body = parse(spec.body, json, 'body');
    }
    const query = spec.query ? parse(spec.query, Object.fromEntries(url.searchParams), 'query') : undefined;
    let idem: IdempotencyKey | undefined;
    if (spec.mutation) {
      const key = req.headers[IDEMPOTENCY_HEADER];
      if (typeof key !== 'string' || !key) throw new ApiError('idempotency_key_required', `send an ${IDEMPOTENCY_HEADER} header with every mutation`);
      if (!idempotencyKeySchema.safeParse(key).success) throw new ApiError('validation_failed', `bad ${IDEMPOTENCY_HEADER}`);
      const scope = cred ? idempotencyScope(cred.kind === 'instance' ? cred : { userId: cred.userId }) : `ip:${ip}`;
      idem = { scope, key, hash: requestHash(spec.method, `${id} ${JSON.stringify(params)}`, body) };
    }
    return this.handlers[id]({ params, body, query, cred, access, idem, ip });
  }
}
