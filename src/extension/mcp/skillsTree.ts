/**
 * The Skills view: every skill agents can plan with (workspace `.multiclaw/skills/*`, the team's, the
 * user's folder), each with a checkbox — a disabled skill stays in the library but agents skip it
 * during planning — and a click opens its SKILL.md. Skills that did not load show with the reason.
 */
import * as vscode from 'vscode';
import type { Gateway } from '../../gateway/gateway';
import type { Logger } from '../../gateway/ports';
import type { SkillInfo, SkillProblem } from '../../gateway/skills';
import { Disposable, Emitter } from '../../gateway/util/disposable';
import { errorMessage } from '../../gateway/errors';
import { CMD } from '../commandIds';
import { escapeMarkdown } from '../markdown';

export type SkillNode = { skill: SkillInfo } | { problem: SkillProblem };

const SOURCE_LABEL: Record<SkillInfo['source'], string> = { workspace: 'Workspace', pushed: 'Team', user: 'Yours' };

export class SkillsTree extends Disposable implements vscode.TreeDataProvider<SkillNode> {
  private readonly changeEmitter = this._register(new Emitter<void>());
  readonly onDidChangeTreeData = this.changeEmitter.event as vscode.Event<void>;

  constructor(
    private readonly gateway: Gateway,
    private readonly log: Logger,
  ) {
    super();
    this._register(gateway.onDidChangeSkills(() => this.changeEmitter.fire()));
  }

  attach(view: vscode.TreeView<SkillNode>): void {
    this._register(
      view.onDidChangeCheckboxState((e) => {
        for (const [node, state] of e.items) {
          if (!('skill' in node)) continue;
          this.gateway.setSkillEnabled(node.skill.name, state === vscode.TreeItemCheckboxState.Checked).catch((err: unknown) => {
            this.log.warn(`could not switch the skill ${node.skill.name}:`, errorMessage(err));
            void vscode.window.showErrorMessage(`MultiClaw: ${errorMessage(err)}`);
          });
        }
      }),
    );
  }

  getChildren(node?: SkillNode): SkillNode[] {
    if (node) return [];
    return [...this.gateway.skills().map((skill) => ({ skill })), ...this.gateway.skillProblems().map((problem) => ({ problem }))];
  }

  getTreeItem(node: SkillNode): vscode.TreeItem {
    if ('problem' in node) {
      const item = new vscode.TreeItem(node.problem.path.split(/[\\/]/).slice(-2, -1)[0] ?? node.problem.path);
      item.description = `did not load: ${node.problem.error}`;
      item.tooltip = `${node.problem.path}\n\n${node.problem.error}`;
      item.iconPath = new vscode.ThemeIcon('error', new vscode.ThemeColor('problemsErrorIcon.foreground'));
      item.command = { command: 'vscode.open', title: 'Open', arguments: [vscode.Uri.file(node.problem.path)] };
      item.contextValue = 'skillProblem';
      return item;
    }
    const s = node.skill;
    const item = new vscode.TreeItem(s.name);
    item.id = `skill:${s.name}`;
    item.description = `${SOURCE_LABEL[s.source]} · ${s.description}`;
    item.tooltip = new vscode.MarkdownString(
      `**${escapeMarkdown(s.name)}** (${SOURCE_LABEL[s.source]})\n\n${escapeMarkdown(s.description)}${s.enabled ? '' : '\n\n_Disabled: agents skip it during planning._'}`,
    );
    item.iconPath = new vscode.ThemeIcon('book');
    item.checkboxState = s.enabled ? vscode.TreeItemCheckboxState.Checked : vscode.TreeItemCheckboxState.Unchecked;
    item.accessibilityInformation = { label: `${s.name}, ${s.enabled ? 'on' : 'off'}, ${s.description}` };
    if (s.source !== 'pushed') item.command = { command: CMD.openSkill, title: 'Open SKILL.md', arguments: [s.path] };
    item.contextValue = `skill ${s.source}`;
    return item;
  }
}
