/**
 * The one TLS policy: TLS 1.2 minimum (1.3 preferred: Node offers both and the server picks), trust =
 * the OS store (`tls.getCACertificates('system')` where the runtime has it, else Node's bundled Mozilla
 * roots) + NODE_EXTRA_CA_CERTS + `multiclaw.network.caCertificates` (PEM files or PEM text).
 */
import fs from 'node:fs';
import tls from 'node:tls';

export interface TrustStore {
  readonly context: tls.SecureContext;
  /** PEM certificates (for the ws client and a proxy reached over https). */
  readonly ca: readonly string[];
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
  const ca = [...new Set([...baseCerts, ...extra, ...configured])];
  let context: tls.SecureContext;
  try {
    context = tls.createSecureContext({ ca, minVersion: MIN_TLS_VERSION });
  } catch (err) {
    // One malformed certificate must not take the trust store down: drop the configured ones.
    problems.push(`a configured CA certificate is invalid (${(err as Error).message}); using the system store only`);
    context = tls.createSecureContext({ ca: baseCerts, minVersion: MIN_TLS_VERSION });
  }
  return {
    context, ca, problems,
    sources: { base: system || inputs.base ? 'system' : 'bundled', baseCount: baseCerts.length, extra: extra.length, configured: configured.length },
  };
}
