import type { SecretStore } from '../../src/gateway/ports';

/** SecretStorage in memory (`map` is open to the test). */
export class MapSecrets implements SecretStore {
  readonly map = new Map<string, string>();
  async get(k: string): Promise<string | undefined> {
    return this.map.get(k);
  }
  async store(k: string, v: string): Promise<void> {
    this.map.set(k, v);
  }
  async delete(k: string): Promise<void> {
    this.map.delete(k);
  }
}
