/**
 * What the user agreed to, in `storageDir/mcp-consent.json`: per server, the config hash its first
 * start was consented under (a changed command, URL, env or header asks again: consent bound to the
 * name alone is how MCPoison worked) and the fingerprint of each tool when it was approved (a changed
 * name, description or schema is a "rug pull": the tool is `changed` until approved again).
 * Per-tool enable/disable lives in `storageDir/mcp-tools.json`. Writes are atomic; a corrupt file is
 * read as empty, with a log line.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../ports';
import { writeFileAtomic } from '../util/atomicFile';

interface ServerConsent {
  configHash: string;
  /** Tool name (the server's own) → fingerprint at approval. */
  tools: Record<string, string>;
}

interface ConsentFile {
  version: 1;
  servers: Record<string, ServerConsent>;
}

interface ToolsFile {
  version: 1;
  /** Server name → the server's tool names the user switched off. */
  disabled: Record<string, string[]>;
}

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** Reads a JSON file; missing → undefined; unreadable or invalid → undefined with a warning. */
export async function readJsonFile<T>(file: string, valid: (v: unknown) => v is T, log: Logger): Promise<T | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log.warn(`could not read ${path.basename(file)}; starting empty`, err);
    return undefined;
  }
  try {
    const v: unknown = JSON.parse(text);
    if (valid(v)) return v;
  } catch {
    // fall through
  }
  log.warn(`${path.basename(file)} is corrupt (not the expected JSON); starting empty. It will be rewritten on the next change.`);
  return undefined;
}

const validConsent = (v: unknown): v is ConsentFile =>
  isObject(v) &&
  isObject(v.servers) &&
  Object.values(v.servers).every(
    (s) => isObject(s) && typeof s.configHash === 'string' && isObject(s.tools) && Object.values(s.tools).every((f) => typeof f === 'string'),
  );

const validTools = (v: unknown): v is ToolsFile =>
  isObject(v) && isObject(v.disabled) && Object.values(v.disabled).every((l) => Array.isArray(l) && l.every((t) => typeof t === 'string'));

export class McpConsentStore {
  private consent: ConsentFile = { version: 1, servers: {} };
  private tools: ToolsFile = { version: 1, disabled: {} };
  private writes: Promise<void> = Promise.resolve();

  constructor(
    private readonly storageDir: string,
    private readonly log: Logger,
  ) {}

  private get consentFile(): string {
    return path.join(this.storageDir, 'mcp-consent.json');
  }

  private get toolsFile(): string {
    return path.join(this.storageDir, 'mcp-tools.json');
  }

  async load(): Promise<void> {
    this.consent = (await readJsonFile(this.consentFile, validConsent, this.log)) ?? { version: 1, servers: {} };
    this.tools = (await readJsonFile(this.toolsFile, validTools, this.log)) ?? { version: 1, disabled: {} };
  }

  hasConsent(server: string, hash: string): boolean {
    return this.consent.servers[server]?.configHash === hash;
  }

  /** Records consent for this config; a new config hash forgets the old tool approvals too. */
  grant(server: string, hash: string): Promise<void> {
    const old = this.consent.servers[server];
    this.consent.servers[server] = { configHash: hash, tools: old?.configHash === hash ? old.tools : {} };
    return this.save('consent');
  }

  revoke(server: string): Promise<void> {
    delete this.consent.servers[server];
    return this.save('consent');
  }

  approvedFingerprint(server: string, tool: string): string | undefined {
    return this.consent.servers[server]?.tools[tool];
  }

  /** Records tools' fingerprints as approved (only for a consented server). */
  approveTools(server: string, fingerprints: Record<string, string>): Promise<void> {
    const s = this.consent.servers[server];
    if (!s) return Promise.resolve();
    let changed = false;
    for (const [t, f] of Object.entries(fingerprints)) {
      if (s.tools[t] === f) continue;
      s.tools[t] = f;
      changed = true;
    }
    return changed ? this.save('consent') : Promise.resolve();
  }

  isToolDisabled(server: string, tool: string): boolean {
    return this.tools.disabled[server]?.includes(tool) ?? false;
  }

  setToolEnabled(server: string, tool: string, enabled: boolean): Promise<void> {
    const list = new Set(this.tools.disabled[server] ?? []);
    if (enabled === !list.has(tool)) return Promise.resolve();
    if (enabled) list.delete(tool);
    else list.add(tool);
    if (list.size) this.tools.disabled[server] = [...list].sort();
    else delete this.tools.disabled[server];
    return this.save('tools');
  }

  /** Waits for queued writes (tests, shutdown). */
  flush(): Promise<void> {
    return this.writes;
  }

  private save(which: 'consent' | 'tools'): Promise<void> {
    const file = which === 'consent' ? this.consentFile : this.toolsFile;
    const write = async (): Promise<void> => {
      const data = JSON.stringify(which === 'consent' ? this.consent : this.tools, null, 2) + '\n';
      await fs.mkdir(this.storageDir, { recursive: true });
      await writeFileAtomic(file, data);
    };
    this.writes = this.writes.then(write).catch((err: unknown) => this.log.error(`could not write ${path.basename(file)}`, err));
    return this.writes;
  }
}
