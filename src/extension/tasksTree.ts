import type * as vscode from 'vscode';

/**
 * Tasks assigned to me or to this machine by the team workspace. Until the workspace link exists
 * there are none, and the view shows its welcome content (guidance, contributed in package.json).
 */
export class TasksTree implements vscode.TreeDataProvider<vscode.TreeItem> {
  getTreeItem(e: vscode.TreeItem): vscode.TreeItem {
    return e;
  }

  getChildren(): vscode.TreeItem[] {
    return [];
  }
}
