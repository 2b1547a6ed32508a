/**
 * What the next chat message takes along from the editor: the active file or its selection (a chip
 * the composer shows, attached by default, `multiclaw.chat.attachActiveEditor` turns that off), and
 * the rules the agent will follow (AGENTS.md, `.multiclaw/rules/*.md`, the team's), and the enabled
 * skills' names (the composer's slash commands). A file that
 * `.gitignore` ignores or whose name says it may hold secrets is offered but not attached until the
 * user clicks it. The text is read when the message is sent, from the open document (unsaved
 * changes included); the webview only ever names a document that is open.
 */
import path from 'node:path';
import * as vscode from 'vscode';
import { isGitIgnored } from '../../gateway/agent/ignoreCheck';
import type { ProjectRule } from '../../gateway/agent/projectRules';
import { ChatInputError } from '../../gateway/chat/errors';
import type { Gateway } from '../../gateway/gateway';
import type { Logger } from '../../gateway/ports';
import type { ContextItem } from '../../gateway/store/model';
import { Disposable, Emitter, type Event } from '../../gateway/util/disposable';
import type { ActiveContext, ChatCommandParams, RuleInfo } from '../../protocol/chatView';
import { readAttachActiveEditor } from '../settings';

/** The most of a file (or selection) one message attaches; the rest is cut with a note the model and the chip show. */
export const ACTIVE_CONTEXT_MAX_CHARS = 100_000;
const DEBOUNCE_MS = 120;
const SECRET_NAME = /^(?:\.env(?:\..*)?|.*\.(?:pem|key|p12|pfx|keystore)|id_(?:rsa|dsa|ecdsa|ed25519)(?:\..*)?|\.npmrc|\.netrc|credentials(?:\.json)?)$/i;

export const estimateTokens = (chars: number): number => Math.ceil(chars / 4);

export type ActiveRef = NonNullable<ChatCommandParams<'chat/send'>['attachActive']>;

export interface ChatContextSnapshot {
  active: ActiveContext | null;
  rules: RuleInfo[];
  /** The enabled skills' names (the composer offers them as slash commands). */
  skills: string[];
}

function ruleInfo(r: ProjectRule): RuleInfo {
  return {
    id: r.id,
    name: r.name,
    source: r.source,
    enabled: r.enabled,
    locked: r.locked,
    tokens: r.tokens,
    truncated: r.truncated,
    ...(r.reason ? { reason: r.reason } : {}),
  };
}

export class EditorContext extends Disposable {
  private readonly onDidChangeEmitter = this._register(new Emitter<void>());
  /** Debounced: the active editor, its selection or text, the setting, or the rules changed. */
  readonly onDidChange: Event<void> = this.onDidChangeEmitter.event;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly gateway: Gateway,
    private readonly logger: Logger,
  ) {
    super();
    const later = (): void => this.schedule();
    this._register(vscode.window.onDidChangeActiveTextEditor(later));
    this._register(vscode.window.onDidChangeTextEditorSelection((e) => e.textEditor === vscode.window.activeTextEditor && later()));
    this._register(vscode.workspace.onDidChangeTextDocument((e) => e.document === vscode.window.activeTextEditor?.document && later()));
    this._register(vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('multiclaw.chat.attachActiveEditor') && later()));
    this._register(vscode.workspace.onDidGrantWorkspaceTrust(() => gateway.projectRulesChanged()));
    this._register(gateway.onDidChangeProjectRules(later));
    this._register(gateway.onDidChangeSkills(later));
    for (const glob of ['**/AGENTS.md', '**/.multiclaw/rules/*.md']) {
      const w = vscode.workspace.createFileSystemWatcher(glob);
      const changed = (): void => gateway.projectRulesChanged();
      w.onDidCreate(changed);
      w.onDidChange(changed);
      w.onDidDelete(changed);
      this._register(w);
    }
    this._register({ dispose: () => this.timer && clearTimeout(this.timer) });
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.onDidChangeEmitter.fire();
    }, DEBOUNCE_MS);
  }

  async snapshot(): Promise<ChatContextSnapshot> {
    const [active, rules] = await Promise.all([this.active(), this.gateway.projectRules().catch(() => [])]);
    const skills = this.gateway.skills().flatMap((s) => (s.enabled ? [s.name] : []));
    return { active, rules: rules.map(ruleInfo), skills };
  }

  /** The active editor's chip: its selection when there is one, else the whole file. */
  async active(): Promise<ActiveContext | null> {
    const editor = vscode.window.activeTextEditor;
    const doc = editor?.document;
    if (!editor || !doc || (doc.uri.scheme !== 'file' && doc.uri.scheme !== 'untitled')) return null;
    const sel = editor.selection;
    const range = sel.isEmpty
      ? undefined
      : { start: sel.start.line + 1, end: sel.end.character === 0 && sel.end.line > sel.start.line ? sel.end.line : sel.end.line + 1 };
    const chars = range ? doc.getText(new vscode.Range(range.start - 1, 0, range.end, 0)).length : doc.getText().length;
    const shown = Math.min(chars, ACTIVE_CONTEXT_MAX_CHARS);
    const rel = this.label(doc.uri);
    const needsPick = await this.needsPick(doc.uri);
    return {
      kind: range ? 'selection' : 'file',
      label: range ? `${rel}:${range.start}-${range.end}` : rel,
      uri: doc.uri.toString(),
      ...(range ? { range } : {}),
      tokens: estimateTokens(shown),
      truncated: chars > ACTIVE_CONTEXT_MAX_CHARS,
      ...(needsPick ? { needsPick } : {}),
    };
  }

  private label(uri: vscode.Uri): string {
    if (uri.scheme === 'untitled') return uri.path;
    return vscode.workspace.asRelativePath(uri, (vscode.workspace.workspaceFolders?.length ?? 0) > 1);
  }

  private async needsPick(uri: vscode.Uri): Promise<string | undefined> {
    if (!readAttachActiveEditor(this.logger)) return 'Not attached on its own (multiclaw.chat.attachActiveEditor is off). Click to attach it.';
    if (uri.scheme !== 'file') return undefined;
    if (SECRET_NAME.test(path.basename(uri.fsPath))) return 'This file may hold secrets, so it is not attached on its own. Click to attach it.';
    const folder = vscode.workspace.getWorkspaceFolder(uri);
    if (!folder) return undefined;
    const rel = path.relative(folder.uri.fsPath, uri.fsPath).split(path.sep).join('/');
    if (await isGitIgnored(folder.uri.fsPath, rel).catch(() => false)) return 'Ignored by .gitignore, so it is not attached on its own. Click to attach it.';
    return undefined;
  }

  /** The attachment for a chip the composer sent back, read now; only an open document can be named. */
  resolve(ref: ActiveRef): ContextItem {
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === ref.uri);
    if (!doc || (doc.uri.scheme !== 'file' && doc.uri.scheme !== 'untitled')) {
      throw new ChatInputError('The attached file is no longer open. Remove its chip or open it again.');
    }
    const rel = this.label(doc.uri);
    let text: string;
    let label = rel;
    if (ref.range) {
      const start = Math.min(ref.range.start, doc.lineCount);
      const end = Math.min(Math.max(ref.range.end, start), doc.lineCount);
      text = doc.getText(new vscode.Range(start - 1, 0, end, 0));
      label = `${rel}:${start}-${end}`;
    } else {
      text = doc.getText();
    }
    const truncated = text.length > ACTIVE_CONTEXT_MAX_CHARS;
    const body = truncated
      ? `${text.slice(0, ACTIVE_CONTEXT_MAX_CHARS)}\n[Truncated: the first ${ACTIVE_CONTEXT_MAX_CHARS} of ${text.length} characters.]`
      : text;
    return {
      kind: ref.range ? 'selection' : 'file',
      label,
      ref: label,
      text: `${doc.isDirty ? '(unsaved changes included)\n' : ''}${body}`,
      tokens: estimateTokens(body.length),
      truncated,
    };
  }

  async setRuleEnabled(id: string, enabled: boolean): Promise<void> {
    if (!(await this.gateway.setProjectRuleEnabled(id, enabled))) throw new ChatInputError('The team workspace sets this rule; it cannot be switched off.');
  }

  async openRule(id: string): Promise<void> {
    const rule = (await this.gateway.projectRules()).find((r) => r.id === id);
    if (rule?.path) await vscode.window.showTextDocument(vscode.Uri.file(rule.path), { preview: true });
    else if (rule) {
      const doc = await vscode.workspace.openTextDocument({ content: rule.text, language: 'markdown' });
      await vscode.window.showTextDocument(doc, { preview: true });
    }
  }
}
