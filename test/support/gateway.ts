/**
 * `createTestGateway()`: a real Gateway in a temp storage dir with in-memory secrets and a memory
 * logger, pointed at the provider fixture server. Every suite that needs a gateway builds it here.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultGatewayConfig, type GatewayConfig } from '../../src/gateway/config';
import { Gateway, type GatewayDeps } from '../../src/gateway/gateway';
import type { MemorySink } from '../../src/gateway/log/logger';
import type { Redactor } from '../../src/gateway/log/redact';
import type { SecretStore } from '../../src/gateway/ports';
import type { ProviderId } from '../../src/gateway/providers/types';
import type { ProviderServer } from '../fixtures/providerServer';
import { MemoryLogger } from './logger';
import { MapSecrets } from './secrets';

/** The default config with every provider's base URL on the fixture server, short idle timeout, local API on any free port. */
export function configFor(server: ProviderServer, localApi: Partial<GatewayConfig['localApi']> = {}): GatewayConfig {
  const c = defaultGatewayConfig();
  for (const p of Object.keys(c.providers) as ProviderId[]) c.providers[p].baseUrl = server.baseUrls[p];
  c.idleTimeoutMs = 5_000;
  c.localApi = { ...c.localApi, port: 0, ...localApi };
  return c;
}

export interface TestGatewayOptions extends Partial<Omit<GatewayDeps, 'logger' | 'redactor' | 'secrets' | 'storageDir' | 'config'>> {
  /** Storage dir (default: a new temp dir, removed by `close()`). */
  dir?: string;
  secrets?: SecretStore;
  /** Applied to `configFor(providers)` (or the default config without a provider server). */
  config?: (c: GatewayConfig) => void;
  /** Start it (default true). */
  start?: boolean;
}

export interface TestGateway {
  gateway: Gateway;
  dir: string;
  secrets: SecretStore;
  logger: MemoryLogger;
  sink: MemorySink;
  redactor: Redactor;
  /** Stops and disposes the gateway; removes the temp dir when the harness made it. */
  close(): Promise<void>;
}

export async function createTestGateway(providers: ProviderServer | undefined, o: TestGatewayOptions = {}): Promise<TestGateway> {
  const { dir: givenDir, secrets: givenSecrets, config: patch, start = true, ...deps } = o;
  const dir = givenDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'mc-gw-'));
  const secrets = givenSecrets ?? new MapSecrets();
  const logger = new MemoryLogger();
  const config = providers ? configFor(providers, { enabled: false }) : defaultGatewayConfig();
  patch?.(config);
  const gateway = new Gateway({ ...deps, logger, redactor: logger.redactor, secrets, storageDir: dir, config });
  if (start) await gateway.start();
  return {
    gateway,
    dir,
    secrets,
    logger,
    sink: logger.sink,
    redactor: logger.redactor,
    close: async () => {
      await gateway.stop();
      gateway.dispose();
      if (!givenDir) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
