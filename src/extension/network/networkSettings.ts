/**
 * Reads the network settings into `GatewayConfig.network`: MultiClaw's own (`multiclaw.network.*`,
 * `multiclaw.chat.linkPreviews|favicons|…Service`) and VS Code's proxy settings as fallbacks
 * (`http.proxy`, `http.noProxy`, `http.proxyStrictSSL`). Invalid values fall back with a log line.
 */
import * as vscode from 'vscode';
import { defaultNetConfig, type NetConfig } from '../../gateway/net/netConfig';
import type { Logger } from '../../gateway/ports';

function bool(cfg: vscode.WorkspaceConfiguration, key: string, fallback: boolean, logger: Logger, prefix = 'multiclaw'): boolean {
  const v = cfg.get<unknown>(key);
  if (v === undefined || v === null) return fallback;
  if (typeof v === 'boolean') return v;
  logger.warn(`setting ${prefix}.${key} must be true or false; using ${fallback}`);
  return fallback;
}

function strings(cfg: vscode.WorkspaceConfiguration, key: string, logger: Logger, prefix = 'multiclaw'): string[] {
  const v = cfg.get<unknown>(key);
  if (v === undefined || v === null) return [];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v.map((x) => x.trim()).filter(Boolean);
  logger.warn(`setting ${prefix}.${key} must be a list of strings; ignoring it`);
  return [];
}

function serviceUrl(cfg: vscode.WorkspaceConfiguration, key: string, fallback: string, logger: Logger): string {
  const v = cfg.get<unknown>(key);
  if (v === undefined || v === null || v === '') return fallback;
  if (typeof v === 'string') {
    try {
      const u = new URL(v.trim());
      if (u.protocol === 'https:' || u.protocol === 'http:') return u.href.replace(/\/+$/, '');
    } catch {
      // fall through
    }
  }
  logger.warn(`setting multiclaw.${key} is not an http(s) URL; using ${fallback}`);
  return fallback;
}

/** true when the user set the key anywhere (so it overrides a VS Code fallback). */
function isSet(cfg: vscode.WorkspaceConfiguration, key: string): boolean {
  const i = cfg.inspect(key);
  return !!i && [i.globalValue, i.workspaceValue, i.workspaceFolderValue].some((x) => x !== undefined);
}

export function readNetworkConfig(logger: Logger): NetConfig {
  const d = defaultNetConfig();
  const mc = vscode.workspace.getConfiguration('multiclaw');
  const http = vscode.workspace.getConfiguration('http');
  const proxy = http.get<unknown>('proxy');
  const strictSSL = isSet(mc, 'network.strictSSL') ? bool(mc, 'network.strictSSL', true, logger) : bool(http, 'proxyStrictSSL', true, logger, 'http');
  return {
    vscodeProxy: typeof proxy === 'string' ? proxy.trim() : '',
    vscodeNoProxy: strings(http, 'noProxy', logger, 'http'),
    strictSSL,
    caCertificates: strings(mc, 'network.caCertificates', logger),
    linkPreviews: bool(mc, 'chat.linkPreviews', d.linkPreviews, logger),
    favicons: bool(mc, 'chat.favicons', d.favicons, logger),
    linkPreviewService: serviceUrl(mc, 'chat.linkPreviewService', d.linkPreviewService, logger),
    faviconService: serviceUrl(mc, 'chat.faviconService', d.faviconService, logger),
  };
}
