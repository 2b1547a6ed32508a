/** Escapes text for a VS Code MarkdownString (tooltips, hovers): every Markdown punctuation mark. */
export function escapeMarkdown(s: string): string {
  return s.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}
