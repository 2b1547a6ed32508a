/**
 * Several workspace server processes (dist/server.js) on one PostgreSQL database, behind a small
 * round-robin TCP proxy (node:net: each accepted socket is piped to the next live node), as a load
 * balancer without sticky sessions would do. Nodes can be killed (-9) or stopped (SIGTERM) and started
 * again on the same port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { EventEmitter } from 'node:events';
import * as readline from 'node:readline';
import type { Subscribe } from './wait';

const SERVER_MAIN = path.resolve(__dirname, '../../../dist/server.js');

export interface Node {
  id: string;
  port: number;
  url: string;
  wsUrl: string;
  child: ChildProcess;
  exited: Promise<void>;
  alive: boolean;
  /** The node's log records (JSON lines on its stdout), as they come. */
  onLog: Subscribe<{ msg?: string }>;
}

export interface Cluster {
  nodes: Node[];
  /** The proxy: every connection goes to the next live node. */
  url: string;
  wsUrl: string;
  masterKey: string;
  kill9(i: number): Promise<void>;
  sigterm(i: number): Promise<void>;
  restart(i: number): Promise<Node>;
  close(): Promise<void>;
}

function startNode(id: string, databaseUrl: string, masterKey: string, heartbeatMs: number, port = 0, framesPerSecond = 5000): Promise<Node> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `mc-node-${id}-`));
  const child = spawn(
    process.execPath,
    [
      SERVER_MAIN,
      '--port',
      String(port),
      '--data-dir',
      dataDir,
      '--database-url',
      databaseUrl,
      '--node-id',
      id,
      '--log-level',
      'info',
      '--ws-frames-per-second',
      String(framesPerSecond),
      '--heartbeat-interval-ms',
      String(heartbeatMs),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, MULTICLAW_SERVER_MASTER_KEY: masterKey } },
  );
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return new Promise((resolve, reject) => {
    const rl = readline.createInterface({ input: child.stdout as NodeJS.ReadableStream });
    const onExit = (code: number | null): void => reject(new Error(`node ${id} exited early (${code})`));
    child.once('exit', onExit);
    const logs = new EventEmitter();
    const onLog: Subscribe<{ msg?: string }> = (listener) => {
      logs.on('log', listener);
      return { dispose: () => void logs.off('log', listener) };
    };
    rl.on('line', (line) => {
      let rec: { msg?: string; url?: string };
      try {
        rec = JSON.parse(line) as typeof rec;
      } catch {
        return;
      }
      logs.emit('log', rec);
      if (rec.msg === 'listening' && rec.url) {
        child.off('exit', onExit);
        const node: Node = {
          id,
          url: rec.url,
          wsUrl: `${rec.url.replace(/^http/, 'ws')}/v1/ws`,
          port: Number(new URL(rec.url).port),
          child,
          exited,
          alive: true,
          onLog,
        };
        void exited.then(() => (node.alive = false));
        resolve(node);
      }
    });
  });
}

export async function startCluster(databaseUrl: string, n = 3, heartbeatMs = 1000, framesPerSecond = 5000): Promise<Cluster> {
  const masterKey = randomBytes(32).toString('base64');
  const nodes = await Promise.all(Array.from({ length: n }, (_, i) => startNode(`n${i}`, databaseUrl, masterKey, heartbeatMs, 0, framesPerSecond)));
  let next = 0;
  const sockets = new Set<net.Socket>();
  const proxy = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    const tryNode = (attempt: number): void => {
      const live = nodes.filter((x) => x.alive);
      if (!live.length || attempt > nodes.length) return void client.destroy();
      const node = live[next++ % live.length];
      const upstream = net.connect(node.port, '127.0.0.1');
      sockets.add(upstream);
      let connected = false;
      upstream.once('connect', () => {
        connected = true;
        client.pipe(upstream);
        upstream.pipe(client);
      });
      upstream.on('error', () => {
        upstream.destroy();
        if (!connected) tryNode(attempt + 1);
        else client.destroy();
      });
      upstream.on('close', () => {
        sockets.delete(upstream);
        if (connected) client.destroy();
      });
      client.on('close', () => upstream.destroy());
    };
    tryNode(0);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const port = (proxy.address() as net.AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const stopNode = async (i: number, signal: NodeJS.Signals) => {
    const node = nodes[i];
    if (node.child.exitCode === null && node.child.signalCode === null) node.child.kill(signal);
    await node.exited;
    node.alive = false;
  };
  return {
    nodes,
    url,
    wsUrl: `ws://127.0.0.1:${port}/v1/ws`,
    masterKey,
    kill9: (i) => stopNode(i, 'SIGKILL'),
    sigterm: (i) => stopNode(i, 'SIGTERM'),
    restart: async (i) => (nodes[i] = await startNode(nodes[i].id, databaseUrl, masterKey, heartbeatMs, nodes[i].port, framesPerSecond)),
    close: async () => {
      await Promise.all(nodes.map((_, i) => stopNode(i, 'SIGTERM')));
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    },
  };
}
