/**
 * The composition root: builds the object graph by hand and registers one root disposable.
 * Activation does no I/O of its own; the gateway starts asynchronously.
 */
import os from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import { CMD, VIEW, CTX, setContext } from './commandIds';
import { Gateway } from '../gateway/gateway';
import { vscodeDiscoveryFile } from '../gateway/localApi/discoveryPath';
import { Redactor } from '../gateway/log/redact';
import { ApprovalNotifier } from './agent/approvalNotifier';
import { EditReview, registerReviewCommands } from './agent/editReview';
import { AgentTerminal } from './agent/terminal';
import { VsCodeWorkspace } from './agent/vscodeWorkspace';
import { ChatViewProvider } from './chat/chatViewProvider';
import { registerCommands, showError } from './commands';
import { ConversationsTree } from './conversationsTree';
import { registerConversationSearch } from './conversationSearch';
import { registerLocalApi } from './localApi';
import { LocalModelOffer } from './firstRun/localModelOffer';
import { RestrictedMode } from './firstRun/restrictedMode';
import { createLogger } from './logging';
import { registerAiSurfaces } from './aiSurfaces';
import { registerMcp } from './mcp/mcpCommands';
import { McpConsentUi } from './mcp/mcpConsent';
import type { McpTree } from './mcp/mcpTree';
import type { SkillsTree } from './mcp/skillsTree';
import { registerNetwork } from './network/networkCommands';
import { readAutoStart, readGatewayConfig } from './settings';
import { registerInstanceCommands, type DesktopUi } from './instances/instanceCommands';
import { InstancesTree } from './instances/instancesTree';
import { GatewayStatusBar } from './statusBar';
import { TasksTree } from './tasksTree';
import { AUTH_PROVIDER_ID, MultiClawAuthProvider } from './workspace/authProvider';
import { runSignIn } from './workspace/signInFlow';
import { registerWorkspaceCommands } from './workspace/workspaceCommands';

/** What the extension exports (used by the extension-host tests and by other extensions). */
export interface MultiClawApi {
  readonly gateway: Gateway;
  readonly chatView: ChatViewProvider;
  readonly conversations: ConversationsTree;
  readonly tasksTree: TasksTree;
  readonly statusBar: GatewayStatusBar;
  /** The Instances view, the open viewer and the cloud desktop status item. */
  readonly desktop: DesktopUi;
  /** The editor port the agents act through, its terminal, and the review of their edits. */
  readonly agent: { readonly workspace: VsCodeWorkspace; readonly terminal: AgentTerminal; readonly review: EditReview };
  /** The MCP view and the consent question before a server's first start. */
  readonly mcp: { readonly consent: McpConsentUi; readonly tree: McpTree; readonly skills: SkillsTree };
  readonly activatedInMs: number;
}

export function activate(context: vscode.ExtensionContext): MultiClawApi {
  const started = performance.now();
  const channel = vscode.window.createOutputChannel('MultiClaw', { log: true });
  const redactor = new Redactor();
  const logger = createLogger(channel, redactor);
  const agentTerminal = new AgentTerminal(logger.child('terminal'));
  const workspacePort = new VsCodeWorkspace({ terminal: agentTerminal, logger: logger.child('workspace-port') });
  const consent = new McpConsentUi();
  const gateway = new Gateway({
    workspace: workspacePort,
    mcpConsent: (server) => consent.ask(server),
    skillsFolder: path.join(os.homedir(), '.multiclaw', 'skills'),
    logger,
    redactor,
    secrets: context.secrets,
    storageDir: context.globalStorageUri.fsPath,
    // The CLI looks in ~/.multiclaw (or $MULTICLAW_HOME) first: keep a copy of the discovery file there.
    localApi: { host: 'vscode', version: String(context.extension.packageJSON.version), sharedDiscoveryFile: vscodeDiscoveryFile() },
    version: String(context.extension.packageJSON.version),
  });
  const chatView = new ChatViewProvider(context.extensionUri, gateway, logger);
  const review = new EditReview(gateway, logger.child('review'));
  chatView.attachAgent({ api: gateway, review });
  const approvals = new ApprovalNotifier(gateway, () => chatView.isVisible, logger.child('approvals'));
  const conversations = new ConversationsTree(gateway, logger.child('conversations'));
  const conversationsView = vscode.window.createTreeView(VIEW.conversations, { treeDataProvider: conversations });
  conversations.attach(conversationsView);
  const statusBar = new GatewayStatusBar(gateway);
  const tasksTree = new TasksTree(gateway, logger.child('tasks'));
  const tasksView = vscode.window.createTreeView(VIEW.tasks, { treeDataProvider: tasksTree, showCollapseAll: true });
  tasksTree.attach(tasksView);
  const instancesTree = new InstancesTree(gateway, logger.child('instances'));
  const instancesView = vscode.window.createTreeView(VIEW.instances, { treeDataProvider: instancesTree });
  instancesTree.attach(instancesView);
  const desktop = registerInstanceCommands({ extensionUri: context.extensionUri, gateway, tree: instancesTree, logger: logger.child('desktop') });
  desktop.ui.onDidChangeConnected((instance) => tasksTree.setFocus(instance));
  const reloadSettings = (): void =>
    void readGatewayConfig(logger.child('settings'))
      .then((c) => gateway.setConfig(c))
      .catch((err: unknown) => logger.warn('settings:', err instanceof Error ? err : String(err)));
  const mcp = registerMcp({ gateway, logger, consent, onMcpFilesChanged: reloadSettings });
  const auth = new MultiClawAuthProvider(
    context.secrets,
    gateway,
    () => runSignIn(gateway, logger.child('auth')),
    async () => {
      await vscode.commands.executeCommand(CMD.signOut, true);
    },
  );

  context.subscriptions.push(
    channel,
    gateway,
    workspacePort,
    agentTerminal,
    review,
    approvals,
    chatView,
    conversations,
    statusBar,
    tasksTree,
    tasksView,
    instancesTree,
    instancesView,
    ...desktop.disposables,
    ...mcp.disposables,
    ...registerAiSurfaces({ gateway, chatView, logger: logger.child('vscode-ai') }),
    new RestrictedMode({ workspaceState: context.workspaceState, onChatEvent: gateway.onChatEvent, logger: logger.child('trust') }),
    new LocalModelOffer(gateway, logger.child('local-models')),
    auth,
    vscode.authentication.registerAuthenticationProvider(AUTH_PROVIDER_ID, 'MultiClaw', auth, { supportsMultipleAccounts: false }),
    vscode.window.registerWebviewViewProvider(ChatViewProvider.viewId, chatView),
    conversationsView,
    ...registerConversationSearch({ gateway, conversations, logger: logger.child('search') }),
    ...registerCommands({ gateway, chatView, conversations, channel, logger }),
    ...registerNetwork({ gateway, logger, version: String(context.extension.packageJSON.version) }),
    ...registerLocalApi(gateway, logger.child('localApi')),
    ...registerWorkspaceCommands({ gateway, chatView, tasksTree, logger: logger.child('workspace') }),
    gateway.onChatEvent((e) => {
      if (e.type === 'toolCall') void review.onToolCall(e.conversationId, e.call);
    }),
    ...registerReviewCommands(
      () => review,
      () => chatView.conversationId,
      logger.child('review'),
    ),
    gateway.onDidChangeState(({ state, error }) => {
      setContext(CTX.gatewayState, state);
      if (state === 'error') showError(`The gateway failed to start: ${error ?? 'unknown error'}`, logger);
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('multiclaw')) reloadSettings();
    }),
    context.secrets.onDidChange((e) => void gateway.keys.onSecretChanged(e.key)),
  );

  // Settings and the gateway runtime load after activate() returns (zod, undici stay off its path).
  void (async () => {
    gateway.setConfig(await readGatewayConfig(logger.child('settings')));
    if (readAutoStart()) await gateway.start();
  })().catch((err: unknown) => {
    // start() failures also surface through the gateway's error state; anything else is logged here.
    if (gateway.state !== 'error') logger.error('MultiClaw could not load its settings or start:', err instanceof Error ? err : String(err));
  });
  const activatedInMs = performance.now() - started;
  logger.info(`MultiClaw ${String(context.extension.packageJSON.version)} activated in ${activatedInMs.toFixed(1)} ms`);
  return {
    gateway,
    chatView,
    conversations,
    tasksTree,
    statusBar,
    desktop: desktop.ui,
    agent: { workspace: workspacePort, terminal: agentTerminal, review },
    mcp: { consent: mcp.consent, tree: mcp.mcpTree, skills: mcp.skillsTree },
    activatedInMs,
  };
}

export function deactivate(): void {
  // Everything is owned by context.subscriptions.
}
