/** The handle VS Code injects into webviews; acquired exactly once per page. */
import type { WebviewToHost } from '../../protocol/chatView';

export interface VsCodeApi<S> {
  postMessage(message: WebviewToHost): void;
  getState(): S | undefined;
  setState(state: S): S;
}

declare function acquireVsCodeApi<S>(): VsCodeApi<S>;

export function getVsCodeApi<S>(): VsCodeApi<S> {
  return acquireVsCodeApi<S>();
}
