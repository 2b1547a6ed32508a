/**
 * The one TLS policy: TLS 1.2 minimum (1.3 preferred: Node offers both and the server picks), trust =
 * the OS store (`tls.getCACertificates('system')` where the runtime has it, else Node's bundled Mozilla
 * roots) + NODE_EXTRA_CA_CERTS + `multiclaw.network.caCertificates` (PEM files or PEM text).
 */
import fs from 'node:fs';
import tls from 'node:tls';

export interface TrustStore {
  readonly context: tls.SecureContext;
  readonly sources: { base: 'system' | 'bundled'; baseCount: number; extra: number; configured: number };
  /** Unreadable files or entries that hold no certificate. */
  readonly problems: readonly string[];
}

export const MIN_TLS_VERSION: tls.SecureVersion = 'TLSv1.2';

const PEM = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function pems(text: string): string[] {
  return text.match(PEM) ?? [];
}

type GetCa = (type: 'system' | 'bundled' | 'default' | 'extra') => string[];

/** The OS trust store when this runtime exposes it (Node >= 22.15 / 23.10), else undefined. */
export function systemCertificates(): string[] | undefined {
  const get = (tls as unknown as { getCACertificates?: GetCa }).getCACertificates;
  if (typeof get !== 'function') return undefined;
  try {
    const certs = get('system');
    return certs.length ? certs : undefined;
  } catch {
    return undefined;
  }
}

export interface TrustInputs {
  caCertificates: readonly string[];
  /** NODE_EXTRA_CA_CERTS (a file path). */
  extraCaFile?: string;
  readFile?: (p: string) => string;
  /** Tests: replaces the system/bundled base (e.g. [] for "only my private CA"). */
  base?: readonly string[];
}

export function buildTrust(inputs: TrustInputs): TrustStore {
  const read = inputs.readFile ?? ((p: string) => fs.readFileSync(p, 'utf8'));
  const problems: string[] = [];
  const system = inputs.base ? undefined : systemCertificates();
  const baseCerts = inputs.base ? [...inputs.base] : (system ?? [...tls.rootCertificates]);
  let extra: string[] = [];
  if (inputs.extraCaFile) {
    try {
      extra = pems(read(inputs.extraCaFile));
      if (!extra.length) problems.push(`NODE_EXTRA_CA_CERTS (${inputs.extraCaFile}) holds no PEM certificate`);
    } catch (err) {
      problems.push(`NODE_EXTRA_CA_CERTS (${inputs.extraCaFile}) could not be read: ${(err as Error).message}`);
    }
  }
  const configured: string[] = [];
  for (const entry of inputs.caCertificates) {
    const text = entry.trim();
    if (!text) continue;
    try {
      const found = pems(text.includes('-----BEGIN') ? text : read(text));
      if (!found.length) problems.push(`multiclaw.network.caCertificates: ${text.includes('-----BEGIN') ? 'an entry' : text} holds no PEM certificate`);
      configured.push(...found);
    } catch (err) {
      problems.push(`multiclaw.network.caCertificates: ${text} could not be read: ${(err as Error).message}`);
    }
  }
  let context: tls.SecureContext;
  if (!inputs.base && !system) {
    // Node's bundled roots: start from the default context (its parsed root store is shared, ~1 ms)
    // and add the extra CAs, instead of re-parsing ~140 PEM roots (~50-90 ms) on every configuration.
    context = tls.createSecureContext({ minVersion: MIN_TLS_VERSION });
    const native = (context as unknown as { context: { addCACert(pem: string): void } }).context;
    for (const pem of [...extra, ...configured]) {
      try {
        native.addCACert(pem);
      } catch (err) {
        problems.push(`a CA certificate could not be added (${(err as Error).message})`);
      }
    }
  } else {
    try {
      context = tls.createSecureContext({ ca: [...new Set([...baseCerts, ...extra, ...configured])], minVersion: MIN_TLS_VERSION });
    } catch (err) {
      // One malformed certificate must not take the trust store down: drop the added ones.
      problems.push(`a configured CA certificate is invalid (${(err as Error).message}); using the system store only`);
      context = tls.createSecureContext({ ca: baseCerts, minVersion: MIN_TLS_VERSION });
    }
  }
  return {
    context,
    problems,
    sources: { base: system || inputs.base ? 'system' : 'bundled', baseCount: baseCerts.length, extra: extra.length, configured: configured.length },
  };
}
