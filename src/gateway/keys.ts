import type { Redactor } from './log/redact';
import type { Logger, SecretStore } from './ports';
import { PROVIDER_IDS, type ProviderId } from './providers/types';
import { Disposable, Emitter } from './util/disposable';

const secretKey = (p: ProviderId): string => `multiclaw.providerKey.${p}`;

/**
 * Provider API keys. Stored only in the SecretStore (VS Code SecretStorage); cached in memory;
 * every value is registered with the redactor so no log line can carry it.
 */
export class ProviderKeys extends Disposable {
  private readonly cache = new Map<ProviderId, string>();
  private readonly onDidChangeEmitter = this._register(new Emitter<ProviderId>());
  readonly onDidChange = this.onDidChangeEmitter.event;

  constructor(
    private readonly secrets: SecretStore,
    private readonly redactor: Redactor,
    private readonly logger: Logger,
  ) {
    super();
  }

  /** Loads every provider's key from the secret store (once at gateway start, and on external change). */
  async load(): Promise<void> {
    for (const p of PROVIDER_IDS) {
      const v = await this.secrets.get(secretKey(p));
      const old = this.cache.get(p);
      if (v) {
        this.redactor.add(v);
        this.cache.set(p, v);
      } else {
        this.cache.delete(p);
      }
      if (old !== v) this.onDidChangeEmitter.fire(p);
    }
  }

  get(p: ProviderId): string | undefined {
    return this.cache.get(p);
  }

  has(p: ProviderId): boolean {
    return this.cache.has(p);
  }

  async set(p: ProviderId, value: string): Promise<void> {
    const v = value.trim();
    if (!v) throw new Error('The API key is empty.');
    this.redactor.add(v);
    await this.secrets.store(secretKey(p), v);
    this.cache.set(p, v);
    this.logger.info(`API key for ${p} saved to secret storage`);
    this.onDidChangeEmitter.fire(p);
  }

  async remove(p: ProviderId): Promise<void> {
    await this.secrets.delete(secretKey(p));
    this.cache.delete(p);
    this.logger.info(`API key for ${p} removed`);
    this.onDidChangeEmitter.fire(p);
  }

  /** Called when the secret store reports an outside change (another window). */
  async onSecretChanged(key: string): Promise<void> {
    if (key.startsWith('multiclaw.providerKey.')) await this.load();
  }
}
