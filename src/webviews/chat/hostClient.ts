/**
 * The webview end of the chat protocol (src/protocol/chatView.ts): requests with correlated replies,
 * fire-and-forget commands, and host notifications. Everything inbound is checked with the protocol's
 * zod schemas; anything malformed is ignored with a console warning, never half-applied.
 */
import {
  chatCommandSchemas,
  chatNotificationSchemas,
  chatRequestResults,
  hostToWebviewSchema,
  type ChatCommandMethod,
  type ChatCommandParams,
  type ChatNotificationMethod,
  type ChatNotificationParams,
  type ChatRequestMethod,
  type ChatRequestParams,
  type ChatRequestResult,
} from '../../protocol/chatView';
import { warn } from './log';
import type { VsCodeApi } from './vscodeApi';

export type NotificationHandlers = { [M in ChatNotificationMethod]: (params: ChatNotificationParams<M>) => void };

interface Pending {
  readonly method: ChatRequestMethod;
  resolve(result: unknown): void;
  reject(error: Error): void;
}

const isNotificationMethod = (m: string): m is ChatNotificationMethod => Object.hasOwn(chatNotificationSchemas, m);

export class HostClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(
    private readonly api: Pick<VsCodeApi<unknown>, 'postMessage'>,
    private readonly handlers: NotificationHandlers,
    target: Window = window,
  ) {
    target.addEventListener('message', (event: MessageEvent<unknown>) => this.receive(event.data));
  }

  request<M extends ChatRequestMethod>(method: M, params: ChatRequestParams<M>): Promise<ChatRequestResult<M>> {
    const id = this.nextId++;
    return new Promise<ChatRequestResult<M>>((resolve, reject) => {
      this.pending.set(id, { method, resolve: (r) => resolve(r as ChatRequestResult<M>), reject });
      this.api.postMessage({ kind: 'request', id, method, params });
    });
  }

  /** Sends a command; returns false (and sends nothing) when its params fail the protocol schema. */
  command<M extends ChatCommandMethod>(method: M, params: ChatCommandParams<M>): boolean {
    const checked = chatCommandSchemas[method].safeParse(params);
    if (!checked.success) {
      warn(`not sending ${method}: invalid params`, checked.error.issues);
      return false;
    }
    this.api.postMessage({ kind: 'command', method, params: checked.data });
    return true;
  }

  private receive(data: unknown): void {
    const envelope = hostToWebviewSchema.safeParse(data);
    if (!envelope.success) {
      warn('ignoring malformed message from host', envelope.error.issues);
      return;
    }
    const msg = envelope.data;
    if (msg.kind === 'response') {
      const pending = this.pending.get(msg.id);
      if (!pending) return warn(`ignoring response to unknown request ${msg.id}`);
      this.pending.delete(msg.id);
      if (msg.error !== undefined) return pending.reject(new Error(msg.error));
      const result = chatRequestResults[pending.method].safeParse(msg.result);
      if (!result.success) {
        warn(`malformed result for ${pending.method}`, result.error.issues);
        return pending.reject(new Error(`malformed result for ${pending.method}`));
      }
      return pending.resolve(result.data);
    }
    if (!isNotificationMethod(msg.method)) return warn(`ignoring unknown notification ${msg.method}`);
    const params = chatNotificationSchemas[msg.method].safeParse(msg.params);
    if (!params.success) return warn(`ignoring malformed ${msg.method}`, params.error.issues);
    // The schema for msg.method validated params, so the handler for the same method accepts them.
    const handler = this.handlers[msg.method] as (p: unknown) => void;
    try {
      handler(params.data);
    } catch (err) {
      warn(`handler for ${msg.method} failed`, err);
    }
  }
}
