/**
 * The agent's tools beyond the built-in ones, for one gateway run: the MCP servers (an McpManager,
 * loaded with the SDK only once a server is configured) and the skill library. MCP servers start by
 * themselves only in a trusted folder (each asks for consent first); in Restricted Mode nothing is
 * started and workspace skills are not read, as workspace rules are not.
 */
import type { Redactor } from '../log/redact';
import type { McpManager, McpNet, McpServerConfig, McpSettings } from '../mcp';
import type { Logger, SecretStore } from '../ports';
import type { SkillLibrary } from '../skills';
import { Disposable, Emitter, type Event, type IDisposable } from '../util/disposable';
import type { WorkspacePort } from './workspacePort';

export interface ToolAddonsOptions {
  port: WorkspacePort;
  storageDir: string;
  logger: Logger;
  secrets: SecretStore;
  redactor: Redactor;
  net: McpNet;
  /** Absent or no servers: the SDK is never loaded. */
  mcp?: McpSettings;
  /** Asked before a server's first start (absent: declined, e.g. a headless run). */
  askConsent?: (server: McpServerConfig) => Promise<boolean>;
  /** The user's own skills folder (`<folder>/<name>/SKILL.md`). */
  skillsFolder?: string;
}

export const RESTRICTED_MCP_REASON = 'not started: this folder is in Restricted Mode (trust it to run MCP servers)';

export class ToolAddons extends Disposable {
  private readonly onDidChangeMcpEmitter = this._register(new Emitter<void>());
  /** A server's state or tools, or a tool's switch, changed (or the manager appeared). */
  readonly onDidChangeMcp: Event<void> = this.onDidChangeMcpEmitter.event;
  private readonly onDidChangeSkillsEmitter = this._register(new Emitter<void>());
  readonly onDidChangeSkills: Event<void> = this.onDidChangeSkillsEmitter.event;
  private manager: McpManager | undefined;
  private creating: Promise<McpManager> | undefined;
  private managerSub: IDisposable | undefined;
  private settings: McpSettings | undefined;
  private pushedSkills: Array<{ name: string; text: string }> = [];
  private readonly log: Logger;

  private constructor(
    private readonly o: ToolAddonsOptions,
    readonly skills: SkillLibrary,
  ) {
    super();
    this.log = o.logger.child('addons');
    this.settings = o.mcp;
    this._register(skills);
    this._register(skills.onDidChange(() => this.onDidChangeSkillsEmitter.fire()));
  }

  static async open(o: ToolAddonsOptions): Promise<ToolAddons> {
    const { SkillLibrary } = await import('../skills');
    const addons = new ToolAddons(o, new SkillLibrary(o.storageDir, o.logger.child('skills')));
    await addons.reloadSkills().catch((err: unknown) => addons.log.warn('skills did not load:', err instanceof Error ? err : String(err)));
    if (o.mcp?.servers.length) await addons.ensureManager();
    addons.autoStart();
    return addons;
  }

  /** The MCP manager, once a server was configured. */
  get mcp(): McpManager | undefined {
    return this.manager;
  }

  /** New MCP settings: changed or removed servers stop; enabled ones start (trusted folders only). */
  async configureMcp(settings: McpSettings | undefined): Promise<void> {
    this.settings = settings;
    if (!this.manager && !settings?.servers.length) return;
    const m = await this.ensureManager();
    m.configure(settings ?? { ...(await import('../mcp')).MCP_DEFAULTS, servers: [] });
    this.autoStart();
  }

  /** Re-reads the skills (a SKILL.md changed, a folder was added, the workspace pushed new ones). */
  async reloadSkills(pushed?: Array<{ name: string; text: string }>): Promise<void> {
    if (pushed) this.pushedSkills = pushed;
    const trusted = this.o.port.isTrusted();
    await this.skills.load({
      workspaceFolders: trusted ? this.o.port.folders().map((f) => f.path) : [],
      pushed: this.pushedSkills,
      ...(this.o.skillsFolder ? { userFolder: this.o.skillsFolder } : {}),
    });
  }

  /** Starts one server by hand (the MCP view); refused in Restricted Mode. */
  async startServer(name: string): Promise<void> {
    if (!this.o.port.isTrusted()) throw new Error(`The MCP server "${name}" was ${RESTRICTED_MCP_REASON}.`);
    const m = this.manager;
    if (!m) throw new Error(`no MCP server named "${name}"`);
    await m.start(name);
  }

  private ensureManager(): Promise<McpManager> {
    if (this.manager) return Promise.resolve(this.manager);
    return (this.creating ??= (async () => {
      const { McpManager, MCP_DEFAULTS } = await import('../mcp');
      const m = new McpManager({
        settings: this.settings ?? { ...MCP_DEFAULTS, servers: [] },
        storageDir: this.o.storageDir,
        logger: this.o.logger,
        secrets: this.o.secrets,
        redactor: this.o.redactor,
        net: this.o.net,
        askConsent: (server) => (this.o.askConsent ? this.o.askConsent(server) : Promise.resolve(false)),
      });
      await m.load();
      if (this.isDisposed) {
        m.dispose();
        throw new Error('the agent runtime stopped');
      }
      this.manager = m;
      this.managerSub = m.onDidChange(() => this.onDidChangeMcpEmitter.fire());
      this.onDidChangeMcpEmitter.fire();
      return m;
    })());
  }

  private autoStart(): void {
    const m = this.manager;
    if (!m) return;
    if (!this.o.port.isTrusted()) {
      if (m.states().some((s) => s.config.enabled)) this.log.info(`MCP servers ${RESTRICTED_MCP_REASON}`);
      return;
    }
    void m.startEnabled().catch((err: unknown) => this.log.warn('MCP servers did not start:', err instanceof Error ? err : String(err)));
  }

  /** Stops every MCP server and waits for them. */
  async close(): Promise<void> {
    await this.manager?.shutdown();
    this.dispose();
  }

  override dispose(): void {
    if (!this.isDisposed) {
      this.managerSub?.dispose();
      this.manager?.dispose();
    }
    super.dispose();
  }
}
