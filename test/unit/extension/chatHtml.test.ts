/** renderChatHtml: the webview shell's CSP and resource tags (pure; no browser). */
import assert from 'node:assert/strict';
import { renderChatHtml } from '../../../src/extension/chat/chatHtml';

const base = {
  cspSource: 'https://*.vscode-cdn.net',
  nonce: 'bm9uY2Utbm9uY2Utbm9uY2U=',
  scriptUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webviews/chat.js',
  styleUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webviews/chat.css',
  codiconsUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webviews/codicons/codicon.css',
};

describe('renderChatHtml', () => {
  it('writes the strict CSP and loads the script only by nonce', () => {
    const html = renderChatHtml(base);
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html)?.[1];
    assert.equal(
      csp,
      "default-src 'none'; style-src https://*.vscode-cdn.net; font-src https://*.vscode-cdn.net; img-src https://*.vscode-cdn.net data:; script-src 'nonce-bm9uY2Utbm9uY2Utbm9uY2U=';",
    );
    assert.match(
      html,
      /<script nonce="bm9uY2Utbm9uY2Utbm9uY2U=" src="https:\/\/file\+\.vscode-resource\.vscode-cdn\.net\/ext\/dist\/webviews\/chat\.js"><\/script>/,
    );
    assert.equal(html.match(/<script/g)?.length, 1, 'one script, no inline script');
    assert.doesNotMatch(html, /<style|style=|unsafe-|\son\w+=/);
    assert.ok(html.indexOf(base.codiconsUri) < html.indexOf(base.styleUri), 'codicons before our CSS (ours may override)');
  });

  it('escapes URIs and rejects a nonce or cspSource that could break out of the policy', () => {
    assert.match(renderChatHtml({ ...base, scriptUri: 'https://x/a.js?"><b>' }), /src="https:\/\/x\/a\.js\?&quot;&gt;&lt;b&gt;"/);
    assert.throws(() => renderChatHtml({ ...base, nonce: "abc'; script-src *" }), /nonce/);
    assert.throws(() => renderChatHtml({ ...base, nonce: 'short' }), /nonce/);
    assert.throws(() => renderChatHtml({ ...base, cspSource: "https://a; script-src 'unsafe-inline'" }), /cspSource/);
  });
});
