/**
 * The webview's only console output: malformed host messages and other programming errors worth
 * seeing in "Developer: Open Webview Developer Tools". Nothing here carries user content.
 */
export function warn(message: string, detail?: unknown): void {
  // eslint-disable-next-line no-console -- the webview has no Logger port; devtools is its log.
  console.warn(`[multiclaw chat] ${message}`, detail ?? '');
}
