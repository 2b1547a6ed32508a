/**
 * `multiclaw`: the gateway from a terminal (bundled to dist/cli.js, the package's `bin`).
 * `multiclaw gateway` runs it headless; the other commands talk to a running gateway's local API.
 * Exit codes and help: usage.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import * as commands from './commands';
import { runDesktop } from './desktop';
import { runGateway } from './headless';
import { CliError, EXIT, type ExitCode, HELP } from './usage';
import { errorMessage } from '../errors';

function productVersion(): string {
  for (let dir = __dirname, i = 0; i < 6; i++, dir = path.dirname(dir)) {
    const f = path.join(dir, 'package.json');
    if (!existsSync(f)) continue;
    try {
      const pkg = JSON.parse(readFileSync(f, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'multiclaw-vscode' && pkg.version) return pkg.version;
    } catch {
      // keep looking
    }
  }
  return '0.0.0';
}

const io: commands.Io = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
  onInterrupt: (fn) => {
    process.removeAllListeners('SIGINT');
    process.on('SIGINT', fn);
  },
};

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
  json: { type: 'boolean' },
  wait: { type: 'boolean', short: 'w' },
  deny: { type: 'boolean' },
  always: { type: 'boolean' },
  agent: { type: 'string', short: 'a' },
  title: { type: 'string' },
  context: { type: 'string' },
  status: { type: 'string' },
  limit: { type: 'string' },
  port: { type: 'string' },
  'discovery-file': { type: 'string' },
  server: { type: 'string' },
  workspace: { type: 'string' },
  name: { type: 'string' },
  label: { type: 'string' },
  size: { type: 'string' },
  fps: { type: 'string' },
  app: { type: 'string', multiple: true },
  wm: { type: 'string' },
  'turn-transport': { type: 'string' },
} as const;

function usage(message: string): CliError {
  return new CliError(EXIT.usage, `${message}\nRun "multiclaw --help" for usage.`);
}

export async function main(argv: string[]): Promise<ExitCode> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw usage(errorMessage(err));
  }
  const { values: v, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (v.version) {
    process.stdout.write(`${productVersion()}\n`);
    return EXIT.ok;
  }
  if (v.help || !command || command === 'help') {
    if (command || v.help) {
      process.stdout.write(HELP);
      return EXIT.ok;
    }
    process.stderr.write(HELP);
    return EXIT.usage;
  }
  const common: commands.CommonOptions = { json: v.json === true, discoveryFile: v['discovery-file'] };
  const noExtra = (n: number): void => {
    if (rest.length > n) throw usage(`unexpected argument "${rest[n]}" for "${command}"`);
  };
  switch (command) {
    case 'gateway': {
      noExtra(0);
      const port = v.port === undefined ? undefined : Number(v.port);
      if (port !== undefined && !Number.isInteger(port)) throw usage('--port takes a number');
      return (await runGateway(productVersion(), port, (line) => process.stdout.write(line + '\n'))) as ExitCode;
    }
    case 'desktop': {
      noExtra(0);
      const port = v.port === undefined ? undefined : Number(v.port);
      if (port !== undefined && !Number.isInteger(port)) throw usage('--port takes a number');
      const flags = {
        server: v.server,
        workspace: v.workspace,
        name: v.name,
        label: v.label,
        size: v.size,
        fps: v.fps,
        apps: v.app ?? [],
        wm: v.wm,
        port,
        turnTransport: v['turn-transport'],
      };
      return (await runDesktop(productVersion(), flags, (line) => process.stdout.write(line + '\n'))) as ExitCode;
    }
    case 'status':
      noExtra(0);
      return commands.status(common, io);
    case 'agents':
      noExtra(0);
      return commands.agents(common, io);
    case 'tasks':
      noExtra(0);
      return commands.tasks({ ...common, status: v.status, agent: v.agent, limit: v.limit }, io);
    case 'approvals':
      noExtra(0);
      return commands.approvals(common, io);
    case 'approve':
      if (!rest[0]) throw usage('approve needs an approval id (multiclaw approvals lists them)');
      noExtra(1);
      if (v.deny && v.always) throw usage('--always stores an allow rule; it cannot go with --deny');
      return commands.approve({ ...common, id: rest[0], deny: v.deny === true, always: v.always === true }, io);
    case 'cancel':
      if (!rest[0]) throw usage('cancel needs a task id');
      noExtra(1);
      return commands.cancel({ ...common, id: rest[0] }, io);
    case 'dispatch': {
      noExtra(1);
      const prompt = rest[0];
      if (!prompt?.trim()) throw usage('dispatch needs a prompt: multiclaw dispatch "<prompt>" --agent <id>');
      if (!v.agent) throw usage('dispatch needs --agent <id> (multiclaw agents lists them)');
      let context: Record<string, unknown> | undefined;
      if (v.context !== undefined) {
        try {
          const c: unknown = JSON.parse(v.context);
          if (typeof c !== 'object' || c === null || Array.isArray(c)) throw new Error('not an object');
          context = c as Record<string, unknown>;
        } catch {
          throw usage('--context takes a JSON object, e.g. --context \'{"file":"src/a.ts"}\'');
        }
      }
      return commands.dispatch({ ...common, prompt, agent: v.agent, title: v.title, context, wait: v.wait === true }, io);
    }
    default:
      throw usage(`unknown command "${command}"`);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
      // The headless gateway has stopped and flushed its log: leave even if a library keeps a handle open.
      if (process.argv[2] === 'gateway' || process.argv[2] === 'desktop') setImmediate(() => process.exit(code));
    },
    (err: unknown) => {
      if (err instanceof CliError) {
        process.stderr.write(`multiclaw: ${err.message}\n`);
        process.exitCode = err.exitCode;
      } else {
        process.stderr.write(`multiclaw: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
        process.exitCode = EXIT.error;
      }
    },
  );
}
