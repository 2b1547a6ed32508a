/**
 * Every command id, view id and context key the extension uses, spelled once. The manifest test
 * checks that CMD matches `contributes.commands` and VIEW matches `contributes.views`.
 */
import * as vscode from 'vscode';

export const CMD = {
  startGateway: 'multiclaw.startGateway',
  stopGateway: 'multiclaw.stopGateway',
  restartGateway: 'multiclaw.restartGateway',
  setProviderKey: 'multiclaw.setProviderKey',
  removeProviderKey: 'multiclaw.removeProviderKey',
  openLogs: 'multiclaw.openLogs',
  newConversation: 'multiclaw.newConversation',
  openConversation: 'multiclaw.openConversation',
  deleteConversation: 'multiclaw.deleteConversation',
  exportConversation: 'multiclaw.exportConversation',
  refreshConversations: 'multiclaw.refreshConversations',
  stopGenerating: 'multiclaw.stopGenerating',
  showStatusMenu: 'multiclaw.showStatusMenu',
  focusChat: 'multiclaw.focusChat',
  copyLocalApiToken: 'multiclaw.copyLocalApiToken',
  showNetworkActivity: 'multiclaw.showNetworkActivity',
  diagnoseConnection: 'multiclaw.diagnoseConnection',
  clearNetworkActivity: 'multiclaw.clearNetworkActivity',
  signIn: 'multiclaw.signIn',
  signOut: 'multiclaw.signOut',
  reconnect: 'multiclaw.reconnect',
  showTasks: 'multiclaw.showTasks',
  refreshTasks: 'multiclaw.refreshTasks',
  dispatchTask: 'multiclaw.dispatchTask',
  syncProviderKey: 'multiclaw.syncProviderKey',
  runTask: 'multiclaw.runTask',
  cancelTask: 'multiclaw.cancelTask',
  openTaskConversation: 'multiclaw.openTaskConversation',
  approvePlan: 'multiclaw.approvePlan',
  rejectPlan: 'multiclaw.rejectPlan',
  connectDesktop: 'multiclaw.connectDesktop',
  disconnectDesktop: 'multiclaw.disconnectDesktop',
  startDesktop: 'multiclaw.startDesktop',
  stopDesktop: 'multiclaw.stopDesktop',
  restartDesktop: 'multiclaw.restartDesktop',
  terminateDesktop: 'multiclaw.terminateDesktop',
  refreshInstances: 'multiclaw.refreshInstances',
  diagnoseDesktop: 'multiclaw.diagnoseDesktop',
  keepChanges: 'multiclaw.keepChanges',
  undoChanges: 'multiclaw.undoChanges',
  keepAllChanges: 'multiclaw.keepAllChanges',
  undoAllChanges: 'multiclaw.undoAllChanges',
  revertToHere: 'multiclaw.revertToHere',
  trustWorkspace: 'multiclaw.trustWorkspace',
  useLocalModel: 'multiclaw.useLocalModel',
  addMcpServer: 'multiclaw.addMcpServer',
  startMcpServer: 'multiclaw.startMcpServer',
  stopMcpServer: 'multiclaw.stopMcpServer',
  restartMcpServer: 'multiclaw.restartMcpServer',
  enableMcpServer: 'multiclaw.enableMcpServer',
  disableMcpServer: 'multiclaw.disableMcpServer',
  showMcpLog: 'multiclaw.showMcpLog',
  openMcpSettings: 'multiclaw.openMcpSettings',
  newSkill: 'multiclaw.newSkill',
  openSkill: 'multiclaw.openSkill',
  reloadSkills: 'multiclaw.reloadSkills',
  openWalkthrough: 'multiclaw.openWalkthrough',
  searchConversations: 'multiclaw.searchConversations',
  filterConversations: 'multiclaw.filterConversations',
  clearConversationFilter: 'multiclaw.clearConversationFilter',
} as const;
export type CommandId = (typeof CMD)[keyof typeof CMD];

/** The walkthrough (`contributes.walkthroughs`), as `workbench.action.openWalkthrough` names it. */
export const WALKTHROUGH_ID = 'multiclaw.multiclaw-vscode#multiclaw.gettingStarted';

export const VIEW = {
  chat: 'multiclaw.chat',
  conversations: 'multiclaw.conversations',
  tasks: 'multiclaw.tasks',
  network: 'multiclaw.network',
  instances: 'multiclaw.instances',
  mcp: 'multiclaw.mcpServers',
  skills: 'multiclaw.skills',
} as const;

/** `when`-clause context keys the extension sets. */
export const CTX = {
  gatewayState: 'multiclaw.gatewayState',
  chatBusy: 'multiclaw.chatBusy',
  chatPlanPending: 'multiclaw.chatPlanPending',
  tasksWaiting: 'multiclaw.tasksWaiting',
  signedIn: 'multiclaw.signedIn',
  workspacePhase: 'multiclaw.workspacePhase',
  canManageWorkspace: 'multiclaw.canManageWorkspace',
  networkViewEnabled: 'multiclaw.networkViewEnabled',
  desktopConnected: 'multiclaw.desktopConnected',
  /** The Tasks list shows a connected cloud desktop's tasks. */
  tasksFocus: 'multiclaw.tasksFocus',
  /** Paths of the files an agent changed that are pending review (for `resourcePath in …`). */
  pendingFiles: 'multiclaw.pendingFiles',
  hasPendingChanges: 'multiclaw.hasPendingChanges',
  /** The one-time probe found a local model server (Ollama, LM Studio, llama.cpp, vLLM). */
  localModelsFound: 'multiclaw.localModelsFound',
  /** The Conversations view lists a search's results only. */
  conversationsFiltered: 'multiclaw.conversationsFiltered',
} as const;
export type ContextKey = (typeof CTX)[keyof typeof CTX];

export function setContext(key: ContextKey, value: unknown): void {
  void vscode.commands.executeCommand('setContext', key, value);
}
