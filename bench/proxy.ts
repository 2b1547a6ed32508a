/**
 * `npm run bench -- proxy [--mb 64] [--rounds 5] [--requests 400]`
 *
 * Throughput and added latency of NetService through a real tinyproxy (CONNECT tunnel) versus
 * direct, on loopback, over HTTPS under a private test CA (the product's path: our connector, TLS
 * policy and ledger). Throughput: download `--mb` MB per round, median MB/s. Latency: `--requests`
 * small GETs on a kept-alive connection, p50 per request; `addedP50Ms` = proxied p50 − direct p50.
 * Also reported: a new connection's setup time (TCP [+ CONNECT] + TLS), p50 of 40.
 * The last line is one JSON object: directMBps, proxiedMBps, ratio, addedP50Ms.
 */
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { NetService } from '../src/gateway/net/net';
import { defaultNetConfig } from '../src/gateway/net/netConfig';
import { canUseNamespaces, hasTinyproxy, makePki, startTinyproxy, testLookup } from '../test/unit/gateway/net/helpers';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const MB = arg('mb', 64);
const ROUNDS = arg('rounds', 5);
const REQUESTS = arg('requests', 400);
const CHUNK = Buffer.alloc(64 * 1024, 120);

const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const median = (xs: number[]): number => percentile(xs, 50);
const round = (n: number, d = 2): number => Math.round(n * 10 ** d) / 10 ** d;

async function main(): Promise<void> {
  if (!hasTinyproxy || !canUseNamespaces)
    throw new Error('needs tinyproxy (apt-get install tinyproxy) and root for a private mount namespace (its /etc/hosts)');
  const pki = makePki();
  const server = https.createServer({ cert: pki.cert, key: pki.key }, (req, res) => {
    const m = /^\/bytes\/(\d+)/.exec(req.url ?? '');
    if (!m) {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 });
      res.end('ok');
      return;
    }
    let left = Number(m[1]);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': left });
    const pump = (): void => {
      while (left > 0) {
        const n = Math.min(left, CHUNK.length);
        left -= n;
        if (!res.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.2', () => r()));
  const port = (server.address() as AddressInfo).port;
  const proxy = await startTinyproxy();
  const make = (env: Record<string, string>): NetService =>
    new NetService({
      env,
      lookup: testLookup(),
      trustBase: [],
      config: { ...defaultNetConfig(), caCertificates: [pki.caPem] },
      keepAliveTimeoutMs: 60_000,
    });
  const nets = { direct: make({}), proxied: make({ HTTPS_PROXY: proxy.url }) };
  const url = (path: string): string => `https://api.openai.test:${port}${path}`;
  const results: Record<string, { mbps: number[]; p50: number; p99: number; connectP50: number }> = {};
  try {
    for (const name of ['direct', 'proxied'] as const) results[name] = { mbps: [], p50: 0, p99: 0, connectP50: 0 };
    // Warm-up: connections, TLS, JIT.
    for (const net of Object.values(nets)) for (let i = 0; i < 20; i++) await (await net.fetch(url('/'), {}, 'diagnostics')).arrayBuffer();
    const bytes = MB * 1024 * 1024;
    for (let r = 0; r < ROUNDS; r++) {
      for (const name of (r % 2 ? ['proxied', 'direct'] : ['direct', 'proxied']) as Array<keyof typeof nets>) {
        const t0 = performance.now();
        const res = await nets[name].fetch(url(`/bytes/${bytes}`), {}, 'diagnostics');
        let got = 0;
        for await (const chunk of res.body!) got += (chunk as Uint8Array).byteLength;
        if (got !== bytes) throw new Error(`${name}: got ${got} of ${bytes} bytes`);
        results[name]!.mbps.push(bytes / 1024 / 1024 / ((performance.now() - t0) / 1000));
      }
    }
    for (const name of ['direct', 'proxied'] as const) {
      const lat: number[] = [];
      for (let i = 0; i < REQUESTS; i++) {
        const t0 = performance.now();
        await (await nets[name].fetch(url('/'), {}, 'diagnostics')).arrayBuffer();
        lat.push(performance.now() - t0);
      }
      results[name]!.p50 = percentile(lat, 50);
      results[name]!.p99 = percentile(lat, 99);
      // New connection each time: TCP (+ CONNECT through the proxy) + TLS + one request.
      const setup: number[] = [];
      for (let i = 0; i < 40; i++) {
        const fresh = name === 'direct' ? make({}) : make({ HTTPS_PROXY: proxy.url });
        const t0 = performance.now();
        await (await fresh.fetch(url('/'), {}, 'diagnostics')).arrayBuffer();
        setup.push(performance.now() - t0);
        fresh.dispose();
      }
      results[name]!.connectP50 = percentile(setup, 50);
    }
  } finally {
    for (const n of Object.values(nets)) n.dispose();
    await proxy.stop();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    pki.remove();
  }
  const d = results.direct!;
  const p = results.proxied!;
  console.log(
    JSON.stringify({
      rounds: ROUNDS,
      mbPerRound: MB,
      requests: REQUESTS,
      direct: { mbps: d.mbps.map((x) => round(x, 1)), p50Ms: round(d.p50, 3), p99Ms: round(d.p99, 3), connectP50Ms: round(d.connectP50) },
      proxied: { mbps: p.mbps.map((x) => round(x, 1)), p50Ms: round(p.p50, 3), p99Ms: round(p.p99, 3), connectP50Ms: round(p.connectP50) },
    }),
  );
  console.log(
    JSON.stringify({
      directMBps: round(median(d.mbps), 1),
      proxiedMBps: round(median(p.mbps), 1),
      ratio: round(median(p.mbps) / median(d.mbps), 3),
      addedP50Ms: round(p.p50 - d.p50, 3),
      addedConnectP50Ms: round(p.connectP50 - d.connectP50),
    }),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
