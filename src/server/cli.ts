/**
 * Command line of the reference workspace server (bundled as dist/server.js).
 *
 *   node dist/server.js [--port 8787] [--host 127.0.0.1] [--data-dir DIR] [--tls-cert F --tls-key F] [--demo]
 *                      [--turn-url URL]... [--log-level info] [--sync full|normal] [--commit-mode batched|per-op]
 *                      [--database-url postgres://…] [--node-id ID]
 *   node dist/server.js admin <command> --data-dir DIR [...]   (see `admin help`)
 *
 * Secrets never go on the command line: TURN_SECRET / MULTICLAW_TURN_SECRET, MULTICLAW_SERVER_MASTER_KEY,
 * MULTICLAW_PASSWORD (admin create-user) and MULTICLAW_PROVIDER_KEY (admin set-provider-key) come from
 * the environment.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { providerSchema, roleSchema } from '../protocol/workspace/common';
import { Admin } from './admin';
import { demoDataDir, seedDemo } from './demo';
import { ApiError } from './errors';
import { createLogger, type LogLevel } from './log';
import { MASTER_KEY_ENV } from './crypto/keys';
import { WorkspaceServer } from './server';
import { errorMessage } from './errors';

const DEFAULT_DATA_DIR = './multiclaw-server-data';
/** `postgres://user@host:port/db`: PostgreSQL instead of the SQLite file (several nodes may share it). */
export const DATABASE_URL_ENV = 'MULTICLAW_DATABASE_URL';

const ADMIN_HELP = `admin commands (all take --data-dir DIR, or --database-url URL / MULTICLAW_DATABASE_URL):
  create-user --email E --name N            password from MULTICLAW_PASSWORD, else generated and printed
  create-workspace --slug S --name N --owner EMAIL
  add-member --workspace SLUG --email E --role owner|admin|member|viewer
  invite --workspace SLUG --role ROLE [--email E]      prints the invite token (shown once)
  create-task --workspace SLUG --title T --prompt P [--assignee-email E]
  delete-task --workspace SLUG --task ID     deletes the task, its notes and plans (audited; pushes task.deleted)
  members --workspace SLUG
  set-provider-key --workspace SLUG --provider openai|anthropic|gemini|openai-compatible   key from MULTICLAW_PROVIDER_KEY`;

async function serve(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '8787' },
      host: { type: 'string', default: '127.0.0.1' },
      'data-dir': { type: 'string' },
      'database-url': { type: 'string' },
      'node-id': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      demo: { type: 'boolean', default: false },
      'turn-url': { type: 'string', multiple: true, default: [] },
      'log-level': { type: 'string', default: 'info' },
      sync: { type: 'string', default: 'full' },
      'commit-mode': { type: 'string', default: 'batched' },
      'ws-frames-per-second': { type: 'string', default: '200' },
      'heartbeat-interval-ms': { type: 'string', default: '15000' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(
      'usage: node dist/server.js [--port N] [--host H] [--data-dir DIR] [--tls-cert F --tls-key F] [--demo] [--turn-url URL]...\n       node dist/server.js admin help',
    );
    return 0;
  }
  if (Boolean(values['tls-cert']) !== Boolean(values['tls-key'])) throw new Error('--tls-cert and --tls-key go together');
  const dataDir = values['data-dir'] ?? (values.demo ? demoDataDir() : DEFAULT_DATA_DIR);
  const log = createLogger(process.stdout, values['log-level'] as LogLevel);
  const tls = values['tls-cert'] && values['tls-key'] ? { cert: fs.readFileSync(values['tls-cert']), key: fs.readFileSync(values['tls-key']) } : undefined;
  const databaseUrl = values['database-url'] ?? process.env[DATABASE_URL_ENV];
  if (databaseUrl && !process.env[MASTER_KEY_ENV])
    throw new Error(`with a database URL every node needs the same master key: set ${MASTER_KEY_ENV} (32 bytes, base64 or hex)`);
  const server = await WorkspaceServer.start({
    dataDir,
    databaseUrl,
    nodeId: values['node-id'],
    tls,
    logger: log,
    host: values.host,
    port: Number(values.port),
    synchronous: values.sync.toUpperCase() === 'NORMAL' ? 'NORMAL' : 'FULL',
    commitMode: values['commit-mode'] === 'per-op' ? 'per-op' : 'batched',
    wsFramesPerSecond: Number(values['ws-frames-per-second']),
    heartbeatIntervalMs: Number(values['heartbeat-interval-ms']),
    turn: { urls: values['turn-url'], secret: process.env.TURN_SECRET ?? process.env.MULTICLAW_TURN_SECRET },
  });
  if (values.demo) {
    const info = await seedDemo(new Admin(dataDir, server.services));
    const owner = info.users[0];
    console.log(
      [
        '',
        `MultiClaw reference workspace server — demo workspace "${info.slug}" (${info.created ? 'created' : 'passwords reset'})`,
        `  URL:        ${server.url}   (WebSocket ${server.wsUrl})`,
        ...info.users.map((u) => `  ${u.role.padEnd(7)}     ${u.email}  password: ${u.password}`),
        `  invite:     ${info.inviteToken}  (POST /v1/invites/accept)`,
        `  data:       ${path.resolve(dataDir)}`,
        '',
        'Sign in from VS Code:',
        `  1. Set the setting "multiclaw.workspace.url" to ${server.url}`,
        '     (or run MultiClaw: Sign In and enter that URL when it asks).',
        '  2. Run MultiClaw: Sign In (F1) → Email and password.',
        `  3. Email ${owner.email}, password ${owner.password}`,
        '     The Tasks view then shows "Plan the first sprint", assigned to you.',
        '',
        'Or with curl:',
        `  curl -s -X POST ${server.url}/v1/auth/login -H 'content-type: application/json' \\`,
        `       -d '{"email":"${owner.email}","password":"${owner.password}"}'`,
        'Then list tasks with the returned session token:',
        `  curl -s ${server.url}/v1/workspaces/${info.workspaceId}/tasks -H "authorization: Bearer <session.token>"`,
        '',
      ].join('\n'),
    );
  }
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  return 0;
}

async function admin(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help') {
    console.log(ADMIN_HELP);
    return command ? 0 : 2;
  }
  const { values: v } = parseArgs({
    args: rest,
    options: {
      'data-dir': { type: 'string', default: DEFAULT_DATA_DIR },
      'database-url': { type: 'string' },
      email: { type: 'string' },
      name: { type: 'string' },
      slug: { type: 'string' },
      owner: { type: 'string' },
      workspace: { type: 'string' },
      role: { type: 'string' },
      title: { type: 'string' },
      prompt: { type: 'string' },
      'assignee-email': { type: 'string' },
      task: { type: 'string' },
      provider: { type: 'string' },
    },
  });
  const need = (name: keyof typeof v): string => {
    const x = v[name];
    if (!x) throw new Error(`--${name} is required for ${command}`);
    return x;
  };
  const databaseUrl = v['database-url'] ?? process.env[DATABASE_URL_ENV];
  const a = databaseUrl ? await Admin.openPostgres(v['data-dir'], databaseUrl) : new Admin(v['data-dir']);
  try {
    switch (command) {
      case 'create-user': {
        const password = process.env.MULTICLAW_PASSWORD ?? randomBytes(12).toString('base64url');
        const id = await a.createUser(need('email'), need('name'), password);
        console.log(JSON.stringify({ userId: id, email: v.email, ...(process.env.MULTICLAW_PASSWORD ? {} : { password }) }));
        return 0;
      }
      case 'create-workspace': {
        const w = await a.createWorkspace(need('slug'), need('name'), need('owner'));
        console.log(JSON.stringify({ workspaceId: w.id, slug: w.slug }));
        return 0;
      }
      case 'add-member':
        console.log(JSON.stringify({ memberId: await a.addMember(need('workspace'), need('email'), roleSchema.parse(need('role'))) }));
        return 0;
      case 'invite':
        console.log(JSON.stringify(await a.invite(need('workspace'), roleSchema.parse(need('role')), v.email)));
        return 0;
      case 'create-task': {
        const t = await a.createTask(need('workspace'), need('title'), need('prompt'), v['assignee-email']);
        console.log(JSON.stringify({ taskId: t.id, status: t.status }));
        return 0;
      }
      case 'delete-task':
        await a.deleteTask(need('workspace'), need('task'));
        console.log(JSON.stringify({ ok: true }));
        return 0;
      case 'members':
        for (const m of await a.members(need('workspace'))) console.log(`${m.id}\t${m.role.padEnd(7)}\t${m.email}\t${m.name}`);
        return 0;
      case 'set-provider-key': {
        const key = process.env.MULTICLAW_PROVIDER_KEY;
        if (!key) throw new Error('put the key in MULTICLAW_PROVIDER_KEY');
        await a.setProviderKey(need('workspace'), providerSchema.parse(need('provider')), key);
        console.log(JSON.stringify({ ok: true }));
        return 0;
      }
      default:
        console.error(`unknown admin command "${command}"\n${ADMIN_HELP}`);
        return 2;
    }
  } finally {
    await a.close();
  }
}

export async function main(argv: string[]): Promise<number> {
  try {
    return argv[0] === 'admin' ? await admin(argv.slice(1)) : await serve(argv[0] === 'serve' ? argv.slice(1) : argv);
  } catch (err) {
    console.error(err instanceof ApiError ? `${err.code}: ${err.message}` : errorMessage(err));
    return 1;
  }
}
