/**
 * Types of the local API listener that the gateway (and the extension) see without loading it:
 * this file imports nothing at runtime, so `gateway.ts` can `import type` it on the activation path.
 */
import type { ApprovalDecision, ApprovalRequest } from '../../protocol/agent';
import type { ApprovalChange } from '../agent/approvals';
import type { ResolvedAgent } from '../agents';
import type { ChatService } from '../chat/chatService';
import type { GatewayConfig } from '../config';
import type { NetService } from '../net/net';
import type { Clock } from '../ports';
import type { ConversationStore } from '../store/conversationStore';
import type { TaskService } from '../tasks/taskService';
import type { Event } from '../util/disposable';

/**
 * What the local API needs of the gateway: a narrow host (the Gateway implements it), so the
 * listener never imports the Gateway class. The service getters throw GatewayNotRunningError
 * while stopped (answered 503).
 */
export interface LocalApiHost {
  readonly state: 'stopped' | 'starting' | 'running' | 'error';
  readonly config: GatewayConfig;
  readonly chat: ChatService;
  readonly store: ConversationStore;
  readonly net: NetService;
  readonly tasks: TaskService;
  readonly onDidChangeState: Event<{ state: LocalApiHost['state']; error?: string }>;
  readonly onDidChangeAgents: Event<void>;
  agents(): ResolvedAgent[];
  keyFor(agent: ResolvedAgent): string | undefined;
  taskCounts(): { queued: number; running: number };
  readonly onDidChangeApprovals: Event<ApprovalChange>;
  pendingApprovals(): ApprovalRequest[];
  resolveApproval(id: string, decision: ApprovalDecision): boolean;
}

/** Tunables of the listener; production uses the defaults, tests shorten them. */
export interface LocalApiLimits {
  /** Largest request body in bytes (default 1 MiB). */
  bodyBytes: number;
  /** Time to receive a request's headers (default 10 s; slow-loris). */
  headersTimeoutMs: number;
  /** Time to receive a whole request, body included (default 30 s). */
  requestTimeoutMs: number;
  /** Idle keep-alive time between requests (default 5 s). */
  keepAliveTimeoutMs: number;
  /** How long the 401 for a connection's first failed authentication is held (default 100 ms); each further failure there doubles it. */
  authDelayMs: number;
  /** The longest such delay (default 5 s). */
  maxAuthDelayMs: number;
  /** WebSocket ping interval; a socket that misses a pong is dropped (default 30 s). */
  wsHeartbeatMs: number;
  /** Bytes buffered for one WebSocket before it is closed as a slow consumer (default 4 MiB). */
  wsMaxBufferedBytes: number;
  /** Concurrent connections (default 256). */
  maxConnections: number;
}

export const DEFAULT_LOCAL_API_LIMITS: LocalApiLimits = {
  bodyBytes: 1024 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  authDelayMs: 100,
  maxAuthDelayMs: 5_000,
  wsHeartbeatMs: 30_000,
  wsMaxBufferedBytes: 4 * 1024 * 1024,
  maxConnections: 256,
};

/** What the host passes for the listener (GatewayDeps.localApi). */
export interface LocalApiOptions {
  /** A fixed token (the headless gateway's `MULTICLAW_LOCAL_API_TOKEN`); default: 256 random bits per start. */
  token?: string;
  /** `vscode` (the extension host) or `headless` (`multiclaw gateway`); shown by `GET /v1/status`. */
  host?: 'vscode' | 'headless';
  /** Product version shown by `GET /v1/status`. */
  version?: string;
  clock?: Clock;
  limits?: Partial<LocalApiLimits>;
  /** A second discovery file to keep (the extension's copy where the CLI looks first: `discoveryPath.ts`). */
  sharedDiscoveryFile?: string;
}

/** The running listener, as the gateway exposes it (`gateway.localApi`). */
export interface LocalApiInfo {
  /** The port it listens on (127.0.0.1). */
  readonly port: number;
  /** The port the settings asked for; differs from `port` when that one was taken. */
  readonly requestedPort: number;
  readonly url: string;
  /** The session token (`Authorization: Bearer <token>`); new at every gateway start. */
  readonly token: string;
  /** The 0600 file holding `{port, token, pid, startedAt}`. */
  readonly discoveryFile: string;
}
