/**
 * Run by cidr.test.ts inside a private network namespace (`unshare -mn`) where 198.51.100.1 and
 * 203.0.113.1 exist on lo only: CIDR entries in NO_PROXY match IP-literal targets, which must not be
 * loopback (loopback is always direct). Prints one JSON line with the peer each target saw.
 */
import fs from 'node:fs';
import path from 'node:path';
import { NetService } from '../../../../src/gateway/net/net';
import { defaultNetConfig } from '../../../../src/gateway/net/netConfig';
import { json, startTarget, startTinyproxy, type Seen } from './helpers';

async function main(): Promise<void> {
  const dir = process.env.MC_PKI_DIR!;
  const tlsOptions = { cert: fs.readFileSync(path.join(dir, 'leaf.pem')), key: fs.readFileSync(path.join(dir, 'leaf.key')) };
  const inRange = await startTarget('198.51.100.1', tlsOptions);
  const outOfRange = await startTarget('203.0.113.1', tlsOptions);
  const proxy = await startTinyproxy();
  const result: Record<string, string> = {};
  try {
    const net = new NetService({
      env: { HTTPS_PROXY: proxy.url, NO_PROXY: 'example.test, 198.51.100.0/24' },
      trustBase: [],
      config: { ...defaultNetConfig(), caCertificates: [fs.readFileSync(path.join(dir, 'ca.pem'), 'utf8')] },
      connectTimeoutMs: 5000,
    });
    for (const [name, t] of [
      ['inRange', inRange],
      ['outOfRange', outOfRange],
    ] as const) {
      try {
        result[name] = (await json<Seen>(await net.fetch(`https://${t.address}:${t.port}/cidr`, {}, 'diagnostics'))).peer;
      } catch (err) {
        result[name] = `error: ${(err as Error).message}`;
      }
    }
    const ws = await net.openWebSocket(`wss://${inRange.address}:${inRange.port}/ws`, {}, 'workspace:ws');
    result.wsInRange = await new Promise<string>((resolve) => ws.once('message', (d) => resolve((JSON.parse(String(d)) as Seen).peer)));
    ws.terminate();
    result.proxied = net.ledger
      .list()
      .map((e) => `${e.host}=${e.proxied ?? 'direct'}`)
      .join(' ');
    net.dispose();
  } finally {
    await proxy.stop();
    await inRange.close();
    await outOfRange.close();
  }
  console.log(JSON.stringify(result));
}

main().catch((err: unknown) => {
  console.log(JSON.stringify({ error: String(err) }));
  process.exit(1);
});
