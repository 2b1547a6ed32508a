/**
 * Renders docs/protocol.schema.json and docs/protocol.md from the v1 schemas, so the documentation is
 * the code. `scripts/genProtocolDocs.mjs` writes them; a unit test fails when the committed files drift.
 */
import { z } from 'zod';
import {
  API_PREFIX,
  CLOSE_CODES,
  ERROR_CODES,
  IDEMPOTENCY_HEADER,
  LIMITS,
  PROTOCOL_VERSION,
  ROLE_PERMISSIONS,
  SESSION_TTL_MS,
  TASK_ASSIGNMENT_RULES,
  TASK_TRANSITIONS,
  WS_PATH,
  WS_SUBPROTOCOL,
  permissionSchema,
  roleSchema,
} from './common';
import { EVENT_DATA, EVENT_NAMES } from './events';
import * as frames from './frames';
import { KEY_BLOB_HKDF_INFO } from './keyBlob';
import { ROUTES, type RouteId, type RouteSpec } from './routes';

type Json = Record<string, unknown>;

function schemaOf(s: z.ZodType): Json {
  const out = z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Json;
  delete out.$schema;
  return out;
}

const CLIENT_FRAMES: Record<string, z.ZodType> = {
  hello: frames.helloFrameSchema,
  heartbeat: frames.clientHeartbeatFrameSchema,
  req: frames.reqFrameSchema,
  signal: frames.clientSignalFrameSchema,
};
const SERVER_FRAMES: Record<string, z.ZodType> = {
  welcome: frames.welcomeFrameSchema,
  event: frames.eventFrameSchema,
  resumed: frames.resumedFrameSchema,
  resync: frames.resyncFrameSchema,
  heartbeat: frames.serverHeartbeatFrameSchema,
  res: frames.resFrameSchema,
  error: frames.errorFrameSchema,
  signal: frames.serverSignalFrameSchema,
  shutdown: frames.shutdownFrameSchema,
};

export function protocolJsonSchema(): Json {
  const rest: Json = {};
  for (const id of Object.keys(ROUTES) as RouteId[]) {
    const r: RouteSpec = ROUTES[id];
    rest[id] = {
      method: r.method,
      path: r.path,
      auth: r.auth,
      permission: r.permission ?? null,
      idempotencyKey: r.mutation,
      status: r.status ?? 200,
      description: r.description,
      query: r.query ? schemaOf(r.query) : null,
      request: r.body ? schemaOf(r.body) : null,
      response: schemaOf(r.response),
    };
  }
  const rpc: Json = {};
  for (const m of frames.RPC_METHOD_NAMES) {
    const spec = frames.RPC_METHODS[m];
    rpc[m] = { description: spec.description, idempotencyKey: spec.mutation, params: schemaOf(spec.params), result: schemaOf(spec.result) };
  }
  const map = (o: Record<string, z.ZodType>): Json => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, schemaOf(v)]));
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: `MultiClaw workspace protocol v${PROTOCOL_VERSION}`,
    protocol: PROTOCOL_VERSION,
    rest,
    rpc,
    frames: { client: map(CLIENT_FRAMES), server: map(SERVER_FRAMES) },
    events: map(EVENT_DATA),
    errors: ERROR_CODES,
    closeCodes: CLOSE_CODES,
    roles: ROLE_PERMISSIONS,
    taskTransitions: TASK_TRANSITIONS,
    limits: LIMITS,
    sessionTtlMs: SESSION_TTL_MS,
  };
}

// --- markdown ---------------------------------------------------------------------------------------

/** `{type: "member", memberId}`: an object alternative, by its keys (constant ones with their value). */
function shape(s: Json): string {
  const req = new Set((s.required ?? []) as string[]);
  const keys = Object.entries(s.properties as Record<string, Json>).map(([k, v]) =>
    v.const !== undefined ? `${k}: ${JSON.stringify(v.const)}` : `${k}${req.has(k) ? '' : '?'}`,
  );
  return `{${keys.join(', ')}}`;
}

function typeText(s: Json): string {
  if (typeof s.const !== 'undefined') return `\`${JSON.stringify(s.const)}\``;
  if (Array.isArray(s.enum)) return s.enum.map((v) => `\`${JSON.stringify(v)}\``).join(' \\| ');
  const alts = (s.anyOf ?? s.oneOf) as Json[] | undefined;
  if (alts) return alts.map((a) => (a.type === 'object' && a.properties ? shape(a) : typeText(a))).join(' \\| ');
  if (s.allOf) return (s.allOf as Json[]).map(typeText).join(' & ');
  if (s.type === 'array') return `${typeText((s.items ?? {}) as Json)}[]`;
  if (s.type === 'object') return s.properties ? 'object' : 'map';
  if (Array.isArray(s.type)) return (s.type as string[]).map((t) => typeText({ ...s, type: t })).join(' \\| '); // ['number', 'null']
  if (typeof s.type === 'string') {
    const bits: string[] = [];
    if (typeof s.minimum === 'number' && s.minimum !== -9007199254740991) bits.push(`≥ ${s.minimum}`);
    if (typeof s.maximum === 'number' && s.maximum !== 9007199254740991) bits.push(`≤ ${s.maximum}`);
    if (typeof s.maxLength === 'number') bits.push(`≤ ${s.maxLength} chars`);
    return bits.length ? `${s.type} (${bits.join(', ')})` : s.type;
  }
  return 'any';
}

function fields(s: Json, indent = '', depth = 0): string[] {
  const obj = s.type === 'object' && s.properties ? s : undefined;
  if (!obj) return [`${indent}- ${typeText(s)}`];
  const required = new Set((obj.required ?? []) as string[]);
  const lines: string[] = [];
  for (const [name, raw] of Object.entries(obj.properties as Record<string, Json>)) {
    const desc = typeof raw.description === 'string' ? ` — ${raw.description}` : '';
    lines.push(`${indent}- \`${name}\`${required.has(name) ? '' : '?'}: ${typeText(raw)}${desc}`);
    const inner = raw.type === 'array' ? (raw.items as Json | undefined) : raw;
    if (depth < 2 && inner?.type === 'object' && inner.properties) lines.push(...fields(inner, `${indent}  `, depth + 1));
  }
  return lines.length ? lines : [`${indent}- (empty object)`];
}

const table = (head: string[], rows: string[][]): string[] => [
  `| ${head.join(' | ')} |`,
  `|${head.map(() => '---').join('|')}|`,
  ...rows.map((r) => `| ${r.join(' | ')} |`),
];

export function protocolMarkdown(): string {
  const js = protocolJsonSchema();
  const out: string[] = [
    `# MultiClaw workspace protocol v${PROTOCOL_VERSION}`,
    '',
    '<!-- Generated from src/protocol/workspace by scripts/genProtocolDocs.mjs. Do not edit: a unit test fails when this file drifts. -->',
    '',
    `One port serves REST under \`${API_PREFIX}\` and a WebSocket at \`${WS_PATH}\`. Bodies are JSON (\`Content-Type: application/json\`);`,
    `REST bodies are limited to ${LIMITS.restBodyBytes} bytes (${LIMITS.authBodyBytes} on sign-in and invite acceptance), WebSocket frames to ${LIMITS.wsFrameBytes} bytes.`,
    'Every input is validated; unknown fields are ignored (forward compatible), invalid ones get `validation_failed` with `details.issues`.',
    'No CORS headers are sent. With TLS on, TLS 1.2 is the minimum. The machine-readable form is [`protocol.schema.json`](protocol.schema.json).',
    '',
    '## Credentials',
    '',
    '- **Account token** (`mca_…`): from `POST /v1/auth/login`; 30 days; revoked by `POST /v1/auth/logout`, which also ends every session token minted with it and closes their sockets (4401 "signed out"). Sign-in failures are counted per email whether or not an account has it: the answers (and the lockout, 423 `account_locked`) are the same for unknown and known emails.',
    '- **Workspace token** (`mcw_…`): long-lived, returned once by instance registration with the **instance secret** (`mcis_…`). Bound to one workspace and instance; acts with the role of the member who registered it. Removing the member or the instance revokes it.',
    `- **Session token** (\`mcs1.<claims>.<sig>\`, HMAC-SHA256): minted by \`POST /v1/session-tokens\`; \`user\` scope ${SESSION_TTL_MS.user / 3600_000} h, \`daemon\` scope ${SESSION_TTL_MS.daemon / 3600_000} h (needs a workspace token). Memory only. Presented on the WebSocket upgrade as \`Authorization: Bearer <token>\` (Node) or \`Sec-WebSocket-Protocol: ${WS_SUBPROTOCOL}, bearer.<token>\` (browsers; the server echoes only \`${WS_SUBPROTOCOL}\`).`,
    '',
    `Every REST mutation needs an \`${IDEMPOTENCY_HEADER}\` header (8–200 printable characters, unique per caller). A replay with the same key and request returns the stored answer (status and body, also for a 4xx) with \`Idempotency-Replayed: true\` and changes nothing; the same key with a different request is \`idempotency_conflict\`. WSS mutations carry \`idempotencyKey\` and share the namespace with REST, so one update may be retried over either channel.`,
    '',
    '## Roles and permissions',
    '',
    'Every request, and every WSS `req` and `signal` frame, is decided from the role the member has at that moment (read from the database, not from the token or the socket): a role change applies to the next frame. A role change also bumps the configuration (`config.changed`, reason `member_role`), because a snapshot depends on it: provider keys go only to instances of members with `agents.use`.',
    '',
    ...table(
      ['role', ...permissionSchema.options],
      roleSchema.options.map((role) => [role, ...permissionSchema.options.map((p) => (ROLE_PERMISSIONS[role].includes(p) ? 'yes' : '—'))]),
    ),
    '',
    '## Task statuses',
    '',
    ...table(
      ['from', 'allowed next statuses (status route)'],
      Object.entries(TASK_TRANSITIONS).map(([from, to]) => [`\`${from}\``, to.length ? to.map((t) => `\`${t}\``).join(', ') : '(final)']),
    ),
    '',
    'Assigning moves a task to `assigned` (or `queued` when unassigned); submitting a plan moves it to `awaiting_approval`; approving to `running`, rejecting back to `assigned`.',
    '',
    '### Who may assign and reassign',
    '',
    ...TASK_ASSIGNMENT_RULES.map((rule, i) => `${i + 1}. ${rule}`),
    '',
    '## REST routes',
    '',
    ...table(
      ['route', 'method and path', 'auth', 'permission', 'idempotency key'],
      Object.entries(js.rest as Record<string, Json>).map(([id, r]) => [
        `[\`${id}\`](#${id.replace(/\./g, '').toLowerCase()})`,
        `\`${String(r.method)} ${String(r.path)}\``,
        String(r.auth),
        r.permission ? `\`${String(r.permission)}\`` : '—',
        r.idempotencyKey ? 'required' : '—',
      ]),
    ),
    '',
  ];
  for (const [id, r] of Object.entries(js.rest as Record<string, Json>)) {
    out.push(`### ${id}`, '', `\`${String(r.method)} ${String(r.path)}\` → ${String(r.status)}. ${String(r.description)}`, '');
    if (r.query) out.push('Query:', '', ...fields(r.query as Json), '');
    if (r.request) out.push('Request body:', '', ...fields(r.request as Json), '');
    out.push('Response body:', '', ...fields(r.response as Json), '');
  }
  out.push(
    '## WebSocket',
    '',
    'The first frame must be `hello` (within 15 s). The server answers `welcome`, replays the events after `lastSeq` from its database (or sends `resync` when they are no longer kept, or `lastSeq` is ahead), then `resumed`, then live `event`s. Heartbeats run both ways; the server also pings.',
    '',
  );
  out.push('### Client frames', '');
  for (const [name, s] of Object.entries((js.frames as { client: Record<string, Json> }).client)) out.push(`#### ${name}`, '', ...fields(s), '');
  out.push('### Server frames', '');
  for (const [name, s] of Object.entries((js.frames as { server: Record<string, Json> }).server)) out.push(`#### ${name}`, '', ...fields(s), '');
  out.push('### RPC methods (`req` → `res`)', '');
  for (const [m, spec] of Object.entries(js.rpc as Record<string, Json>)) {
    out.push(
      `#### ${m}`,
      '',
      `${String(spec.description)}${spec.idempotencyKey ? ' Needs `idempotencyKey`.' : ''}`,
      '',
      'Params:',
      '',
      ...fields(spec.params as Json),
      '',
      'Result:',
      '',
      ...fields(spec.result as Json),
      '',
    );
  }
  out.push(
    '### Bad frames',
    '',
    'A frame that is not a JSON object, is binary, has an unknown `type` or fails validation gets an `error` frame (a `req` with an `id` gets a failed `res`) and **the socket stays up**. It closes 4400 only on the first frame not being `hello`, a hello timeout, an unsupported protocol version, or more than ' +
      String(LIMITS.maxConsecutiveBadFrames) +
      ' bad frames in a row; 1009 for a frame over the size limit.',
    '',
  );
  out.push(
    '### Close codes',
    '',
    ...table(
      ['code', 'name', 'reconnect', 'meaning'],
      Object.entries(CLOSE_CODES).map(([name, c]) => [String(c.code), name, c.reconnect, c.description]),
    ),
    '',
  );
  out.push(
    '## Events',
    '',
    'Every event is `{type: "event", seq, ts, workspaceId, name, data}`; `seq` increases by one per workspace and is persisted with the change that caused it.',
    '',
  );
  for (const name of EVENT_NAMES) out.push(`### ${name}`, '', ...fields((js.events as Record<string, Json>)[name]), '');
  out.push(
    '## Error codes',
    '',
    'REST errors are `{"error": {"code", "message", "details?"}}` with the HTTP status below; WSS errors carry the same object.',
    '',
  );
  out.push(
    ...table(
      ['code', 'HTTP', 'meaning'],
      Object.entries(ERROR_CODES).map(([c, e]) => [`\`${c}\``, String(e.http), e.description]),
    ),
    '',
  );
  out.push(
    '## Provider key blobs',
    '',
    '`enc:v1.<iv>.<ciphertext>.<tag>` (base64url). AES-256-GCM; key = HKDF-SHA256(ikm = instance secret, salt = instance id, info = `' +
      KEY_BLOB_HKDF_INFO +
      '`, 32 bytes); additional data `<workspaceId>:<instanceId>:<provider>`. A provider missing from `providerKeys` has no key: delete any local copy.',
    '',
  );
  return out.join('\n');
}
