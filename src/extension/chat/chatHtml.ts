/**
 * The chat webview's HTML shell, as a pure function (no `vscode`): the host passes the webview's
 * cspSource, a fresh nonce from crypto, and the asWebviewUri()s of the bundle, its CSS and codicons.
 * The CSP allows no inline script or style and no eval; the one script runs by nonce.
 */

export interface ChatHtmlOptions {
  readonly cspSource: string;
  readonly nonce: string;
  readonly scriptUri: string;
  readonly styleUri: string;
  readonly codiconsUri: string;
}

const NONCE = /^[A-Za-z0-9+/=_-]{16,}$/;
// A CSP source list: hosts/schemes, or quoted keywords such as 'self' (code-server's cspSource has
// one); no semicolons, commas, stray quotes or markup can slip into the policy.
const CSP_TOKEN = String.raw`(?:'[a-z-]+'|[^'";,<>\s]+)`;
const CSP_SOURCE = new RegExp(`^${CSP_TOKEN}(?: ${CSP_TOKEN})*$`);

const escapeAttr = (s: string): string => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function renderChatHtml(o: ChatHtmlOptions): string {
  if (!NONCE.test(o.nonce)) throw new Error('renderChatHtml: the nonce must be 16+ base64/hex characters');
  if (!CSP_SOURCE.test(o.cspSource)) throw new Error('renderChatHtml: invalid cspSource');
  const csp = [
    "default-src 'none'",
    `style-src ${o.cspSource}`,
    `font-src ${o.cspSource}`,
    `img-src ${o.cspSource} data:`,
    `script-src 'nonce-${o.nonce}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${escapeAttr(csp)};">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
  <link rel="stylesheet" href="${escapeAttr(o.codiconsUri)}" id="vscode-codicon-stylesheet">
  <link rel="stylesheet" href="${escapeAttr(o.styleUri)}">
  <title>MultiClaw Chat</title>
</head>
<body>
  <div id="root" class="chat-root"></div>
  <script nonce="${escapeAttr(o.nonce)}" src="${escapeAttr(o.scriptUri)}"></script>
</body>
</html>
`;
}
