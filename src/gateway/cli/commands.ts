/** The client commands of the `multiclaw` CLI: status, agents, tasks, dispatch, cancel. */
import {
  agentsResponseSchema,
  approvalsResponseSchema,
  type LocalEvent,
  type LocalTask,
  resolveApprovalResponseSchema,
  statusResponseSchema,
  taskResponseSchema,
  tasksResponseSchema,
} from '../../protocol/localApi';
import { type ApiReply, LocalApiClient, UnreachableError } from '../localApi/client';
import { discover } from './discover';
import { CliError, EXIT, type ExitCode } from './usage';

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Registers a Ctrl+C handler for the duration of a command. */
  onInterrupt(fn: () => void): void;
}

export interface CommonOptions {
  json: boolean;
  discoveryFile?: string;
}

async function connect(o: CommonOptions): Promise<LocalApiClient> {
  const found = await discover(o.discoveryFile);
  return new LocalApiClient({ port: found.port, token: found.token });
}

/** Sends a request; maps refusals to exit codes with the gateway's own message. */
async function call(client: LocalApiClient, method: string, path: string, body?: unknown): Promise<unknown> {
  let reply: ApiReply;
  try {
    reply = await client.request(method, path, body);
  } catch (err) {
    if (err instanceof UnreachableError)
      throw new CliError(EXIT.noGateway, `The gateway on 127.0.0.1:${client.endpoint.port} does not answer (${err.message}). Is it still running?`);
    throw err;
  }
  if (reply.status >= 200 && reply.status < 300) return reply.body;
  throw refusal(reply);
}

function refusal(reply: ApiReply): CliError {
  const e = (reply.body as { error?: { code?: string; message?: string } } | undefined)?.error;
  const message = `${e?.message ?? `HTTP ${reply.status}`}${e?.code ? ` (${e.code})` : ''}`;
  const auth = reply.status === 401 || reply.status === 403 || reply.status === 421 || reply.status === 429;
  return new CliError(auth ? EXIT.authRefused : reply.status >= 500 ? EXIT.error : EXIT.requestRefused, message);
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n') + '\n';
}

export async function status(o: CommonOptions, io: Io): Promise<ExitCode> {
  const client = await connect(o);
  try {
    const s = statusResponseSchema.parse(await call(client, 'GET', '/v1/status'));
    if (o.json) io.out(JSON.stringify(s) + '\n');
    else {
      io.out(`MultiClaw gateway ${s.state} (${s.host === 'vscode' ? 'in VS Code' : 'headless'}) · version ${s.version} · pid ${s.pid}\n`);
      io.out(`Local API: http://127.0.0.1:${s.port}\n`);
      io.out(`Agents: ${s.agents.available} available of ${s.agents.total}\n`);
      io.out(`Tasks: ${s.tasks.running} running, ${s.tasks.queued} queued\n`);
      io.out(`OpenAI-compatible API: ${s.openAiCompatibleApi ? 'on' : 'off'}\n`);
    }
    return EXIT.ok;
  } finally {
    client.close();
  }
}

export async function agents(o: CommonOptions, io: Io): Promise<ExitCode> {
  const client = await connect(o);
  try {
    const { agents: list } = agentsResponseSchema.parse(await call(client, 'GET', '/v1/agents'));
    if (o.json) io.out(JSON.stringify(list) + '\n');
    else if (!list.length) io.out('No agents. Set a provider key (MultiClaw: Set Provider API Key, or MULTICLAW_<PROVIDER>_API_KEY).\n');
    else io.out(table([['ID', 'PROVIDER', 'MODEL', 'AVAILABLE', 'NAME'], ...list.map((a) => [a.id, a.provider, a.model, a.available ? 'yes' : 'no', a.name])]));
    return EXIT.ok;
  } finally {
    client.close();
  }
}

export async function tasks(o: CommonOptions & { status?: string; agent?: string; limit?: string }, io: Io): Promise<ExitCode> {
  const client = await connect(o);
  try {
    const q = new URLSearchParams();
    if (o.status) q.set('status', o.status);
    if (o.agent) q.set('agentId', o.agent);
    if (o.limit) q.set('limit', o.limit);
    const { tasks: list } = tasksResponseSchema.parse(await call(client, 'GET', `/v1/tasks${q.size ? `?${q}` : ''}`));
    if (o.json) io.out(JSON.stringify(list) + '\n');
    else if (!list.length) io.out('No tasks.\n');
    else
      io.out(
        table([
          ['ID', 'STATUS', 'AGENT', 'CREATED', 'TITLE'],
          ...list.map((t) => [t.id, t.status, t.agentId, t.createdAt.replace('T', ' ').slice(0, 19), t.title]),
        ]),
      );
    return EXIT.ok;
  } finally {
    client.close();
  }
}

export async function cancel(o: CommonOptions & { id: string }, io: Io): Promise<ExitCode> {
  const client = await connect(o);
  try {
    const { task } = taskResponseSchema.parse(await call(client, 'POST', `/v1/tasks/${encodeURIComponent(o.id)}/cancel`));
    io.out(o.json ? JSON.stringify(task) + '\n' : `${task.id} ${task.status}\n`);
    return EXIT.ok;
  } finally {
    client.close();
  }
}

/** The agent calls waiting for a decision. */
export async function approvals(o: CommonOptions, io: Io): Promise<ExitCode> {
  const client = await connect(o);
  try {
    const { approvals: list } = approvalsResponseSchema.parse(await call(client, 'GET', '/v1/approvals'));
    if (o.json) io.out(JSON.stringify(list) + '\n');
    else if (!list.length) io.out('No approvals waiting.\n');
    else {
      for (const a of list) {
        io.out(
          `${a.id}  ${a.toolName}  ${a.title}\n    why: ${a.reason}${a.suggestedRule ? `\n    always allow: ${a.suggestedRule}` : ''}${a.taskId ? `\n    task: ${a.taskId}` : ''}\n`,
        );
      }
      io.out('Answer with: multiclaw approve <id> [--deny] [--always]\n');
    }
    return EXIT.ok;
  } finally {
    client.close();
  }
}

/** Allows (or with `deny`, denies) a waiting call; `always` stores its suggested rule for the workspace. */
export async function approve(o: CommonOptions & { id: string; deny: boolean; always: boolean }, io: Io): Promise<ExitCode> {
  const client = await connect(o);
  try {
    const body = { decision: o.deny ? 'deny' : 'allow', ...(o.always ? { always: true } : {}) };
    const r = resolveApprovalResponseSchema.parse(await call(client, 'POST', `/v1/approvals/${encodeURIComponent(o.id)}`, body));
    io.out(
      o.json ? JSON.stringify(r) + '\n' : `${r.id} ${r.decision.decision === 'allow' ? 'allowed' : 'denied'}${r.decision.always ? ' (rule stored)' : ''}\n`,
    );
    return EXIT.ok;
  } finally {
    client.close();
  }
}

const OUTCOME: Record<string, ExitCode> = { completed: EXIT.ok, failed: EXIT.taskFailed, cancelled: EXIT.taskCancelled };

/**
 * Dispatches a task. With `wait`, subscribes to /v1/events first (so no output is missed), streams
 * the reply to stdout and exits with the task's outcome; Ctrl+C cancels the task.
 */
export async function dispatch(
  o: CommonOptions & { prompt: string; agent: string; title?: string; context?: Record<string, unknown>; wait: boolean },
  io: Io,
): Promise<ExitCode> {
  const client = await connect(o);
  const body = { prompt: o.prompt, agentId: o.agent, title: o.title, context: o.context };
  try {
    if (!o.wait) {
      const { task } = taskResponseSchema.parse(await call(client, 'POST', '/v1/tasks', body));
      io.out(o.json ? JSON.stringify(task) + '\n' : `${task.id}\n`);
      return EXIT.ok;
    }
    let taskId: string | undefined;
    const early: LocalEvent[] = [];
    let wrote = false;
    let settle!: (t: LocalTask | Error) => void;
    const ended = new Promise<LocalTask | Error>((r) => (settle = r));
    const handle = (e: LocalEvent): void => {
      if (taskId === undefined) {
        early.push(e);
        return;
      }
      if (e.type === 'task.output' && e.taskId === taskId && !o.json) {
        io.out(e.text);
        wrote = e.text.length > 0;
      } else if ((e.type === 'task.updated' || e.type === 'task.created') && e.task.id === taskId && OUTCOME[e.task.status] !== undefined) {
        settle(e.task);
      }
    };
    let events: { close(): void };
    try {
      events = await client.events(handle, (code, reason) =>
        settle(new CliError(EXIT.error, `the gateway closed the events stream (${code}${reason ? ` ${reason}` : ''}) before the task ended`)),
      );
    } catch (err) {
      const reply = (err as { reply?: ApiReply }).reply;
      if (reply) throw refusal(reply);
      if (err instanceof UnreachableError)
        throw new CliError(EXIT.noGateway, `The gateway on 127.0.0.1:${client.endpoint.port} does not answer (${err.message}).`);
      throw err;
    }
    try {
      const { task } = taskResponseSchema.parse(await call(client, 'POST', '/v1/tasks', body));
      taskId = task.id;
      if (!o.json) io.err(`task ${task.id} dispatched to ${task.agentId}\n`);
      let interrupted = false;
      io.onInterrupt(() => {
        if (interrupted) return;
        interrupted = true;
        io.err('\ncancelling the task…\n');
        void call(client, 'POST', `/v1/tasks/${task.id}/cancel`).catch(() => undefined);
      });
      for (const e of early.splice(0)) handle(e);
      const final = await ended;
      if (final instanceof Error) throw final;
      if (wrote) io.out('\n');
      if (o.json) io.out(JSON.stringify(final) + '\n');
      else if (final.status !== 'completed') io.err(`task ${final.status}${final.error ? `: ${final.error.message}` : ''}\n`);
      return interrupted ? EXIT.interrupted : OUTCOME[final.status];
    } finally {
      events.close();
    }
  } finally {
    client.close();
  }
}
