/** Chat webview entry point (bundled by esbuild to dist/webviews/chat.js, its CSS to chat.css). */
import './zodJitless';
import './chat.css';
import './transcript.css';
import './toolCards.css';
import './context.css';
import './usage.css';
import './actions.css';
import './slash.css';
import { ChatApp } from './chatApp';
import { getVsCodeApi } from './vscodeApi';
import type { ChatViewState } from './viewState';

function start(): void {
  const root = document.getElementById('root') ?? document.body;
  // `data-windowing="off"` renders every message: only the chat-render benchmark's baseline sets it.
  const app = new ChatApp(root, getVsCodeApi<ChatViewState>(), { windowed: document.body.dataset.windowing !== 'off' });
  app.start();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start, { once: true });
else start();
