/** The `multiclaw` CLI's exit codes and help text (README "Local API and CLI" lists the same). */

export const EXIT = {
  ok: 0,
  error: 1,
  usage: 2,
  noGateway: 3,
  authRefused: 4,
  requestRefused: 5,
  taskFailed: 6,
  taskCancelled: 7,
  config: 8,
  alreadyRunning: 9,
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A failure that ends the CLI with a message on stderr and an exit code. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    readonly exitCode: ExitCode,
    message: string,
  ) {
    super(message);
  }
}

export const HELP = `multiclaw — the MultiClaw agent gateway from a terminal

Usage:
  multiclaw gateway [--port N]             Run the gateway without VS Code (headless), with its local API
  multiclaw desktop --server URL [--workspace ID] [--name N] [--label L] [--size 1280x720] [--fps 30]
                   [--app CMD]... [--wm openbox|none] [--turn-transport udp|tcp|tls] [--port N]
                                           Run this machine as a cloud desktop of the workspace (Xvfb display,
                                           WebRTC viewer, lifecycle, agents for its tasks); enrolls on first start
                                           with MULTICLAW_ENROLL_TOKEN (account token) or MULTICLAW_EMAIL/PASSWORD.
                                           Needs xvfb, openbox, ffmpeg and xdotool (Debian packages)
  multiclaw status [--json]                The running gateway: state, port, agents, tasks
  multiclaw agents [--json]                The agents you can dispatch to
  multiclaw tasks [--status S] [--agent ID] [--limit N] [--json]
                                           Local tasks, most recent first
  multiclaw dispatch "<prompt>" --agent ID [--title T] [--context JSON] [--wait] [--json]
                                           Dispatch a task; --wait streams the reply and exits with its outcome
  multiclaw cancel <task-id> [--json]      Cancel a queued or running task
  multiclaw approvals [--json]             Agent actions waiting for your approval
  multiclaw approve <id> [--deny] [--always] [--json]
                                           Allow (or deny) one; --always stores its rule for this workspace
  multiclaw --help | --version

Finding the gateway: the CLI reads the discovery file (0600, {port, token, pid}) that a running
gateway writes: --discovery-file or MULTICLAW_DISCOVERY_FILE; else $MULTICLAW_HOME/local-api.json
(headless, MULTICLAW_HOME defaults to ~/.multiclaw), then $MULTICLAW_HOME/vscode-local-api.json (the
VS Code extension's copy); else, when MULTICLAW_HOME is not set, the extension's global storage
(…/User/globalStorage/multiclaw.multiclaw-vscode/local-api.json).

Headless gateway configuration (environment variables win over $MULTICLAW_HOME/config.json, which
must be mode 0600):
  MULTICLAW_OPENAI_API_KEY, MULTICLAW_ANTHROPIC_API_KEY, MULTICLAW_GEMINI_API_KEY,
  MULTICLAW_OPENAI_COMPATIBLE_API_KEY                 provider keys
  MULTICLAW_<PROVIDER>_BASE_URL, MULTICLAW_<PROVIDER>_MODEL
                                                      e.g. MULTICLAW_OPENAI_COMPATIBLE_BASE_URL
  MULTICLAW_AGENTS                                    agents as JSON (same shape as multiclaw.agents)
  MULTICLAW_WORKSPACE                                 the folder agents act in (default: the current folder)
  MULTICLAW_GATEWAY_PORT                              local API port (default 18789; taken → a free one)
  MULTICLAW_LOCAL_API_TOKEN                           a fixed session token (≥ 32 characters); default: random per start
  MULTICLAW_OPENAI_COMPATIBLE_API=1                   serve POST /v1/chat/completions
  MULTICLAW_LOG_LEVEL                                 trace|debug|info|warn|error (log: $MULTICLAW_HOME/logs/gateway.log)
On start the gateway prints one JSON line: {"port":…,"discoveryFile":…,"pid":…}. SIGINT/SIGTERM stop it.

Exit codes:
  0    success (dispatch --wait: the task completed)
  1    unexpected error
  2    usage error (unknown command or option, missing argument)
  3    no running gateway found (no discovery file, or nothing answers on its port)
  4    the gateway refused the token (wrong or stale token, locked out after failed attempts)
  5    the gateway refused the request (unknown agent or task, invalid input, task already finished)
  6    dispatch --wait: the task failed
  7    dispatch --wait: the task was cancelled
  8    gateway: configuration error (config file readable by others, invalid value, weak token)
  9    gateway: another gateway already runs with this MULTICLAW_HOME
  130  interrupted (Ctrl+C; dispatch --wait cancels its task first)
`;
