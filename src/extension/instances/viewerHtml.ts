/**
 * The cloud desktop viewer's HTML shell (pure: no `vscode`). Strict CSP: nothing by default, scripts
 * by nonce only, styles and fonts from the webview's own folder. WebRTC is not governed by CSP
 * (connect-src covers fetch/XHR/WebSocket), and the page needs none of those: signalling and TURN
 * credentials arrive by postMessage.
 */
import { renderChatHtml } from '../chat/chatHtml';

export interface ViewerHtmlOptions {
  readonly cspSource: string;
  readonly nonce: string;
  readonly scriptUri: string;
  readonly styleUri: string;
  readonly codiconsUri: string;
}

export function renderViewerHtml(o: ViewerHtmlOptions): string {
  // The same validated shell as the chat (nonce and cspSource checked there), with the viewer's title and root.
  return renderChatHtml(o)
    .replace('<title>MultiClaw Chat</title>', '<title>MultiClaw Cloud Desktop</title>')
    .replace('<div id="root" class="chat-root"></div>\n', '');
}
