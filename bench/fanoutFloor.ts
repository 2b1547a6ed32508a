/**
 * The floor the cloud-throughput fan-out phase is compared against, in the same run: a bare `ws`
 * server (a child process, like the workspace server) that answers `hello` with `resumed` and turns
 * each `req` it gets into one event frame of the workspace server's shape and size, broadcast the
 * way ws's README does it (`for (const c of clients) c.send(json)`). No storage, no fsync, no
 * validation: what is left is the cost of the socket writes themselves on this machine, right now.
 * Not a benchmark of its own: `startFloor()` spawns this file with SERVER_BENCH_ROLE=floor.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as http from 'node:http';
import * as readline from 'node:readline';
import { WebSocketServer, type WebSocket } from 'ws';

/** About the size of a `task.updated` task state (the rest of the frame is built as the server does). */
const TASK = JSON.stringify({
  id: 'task_floor',
  title: 'bench 0',
  status: 'running',
  version: 1,
  assigneeMemberId: 'mem_floor',
  assigneeInstanceId: null,
  agentId: null,
  createdAt: new Date(0).toISOString(),
  updatedAt: new Date(0).toISOString(),
  filler: 'x'.repeat(360),
});

function serve(): void {
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server, path: '/v1/ws', perMessageDeflate: false });
  const clients = new Set<WebSocket>();
  let seq = 0;
  wss.on('connection', (ws) => {
    ws.on('message', (d: Buffer) => {
      const f = JSON.parse(d.toString()) as { type: string; params?: { note?: string } };
      if (f.type === 'hello') {
        clients.add(ws);
        ws.send(`{"type":"resumed","fromSeq":${seq},"toSeq":${seq},"count":0}`);
      } else if (f.type === 'req') {
        seq++;
        const json = `{"type":"event","seq":${seq},"ts":"${new Date().toISOString()}","workspaceId":"ws_floor","name":"task.updated","data":{"task":${TASK},"note":{"note":${JSON.stringify(f.params?.note ?? '')}}}}`;
        for (const c of clients) c.send(json);
      }
    });
    ws.on('close', () => clients.delete(ws));
  });
  server.listen(0, '127.0.0.1', () => {
    const a = server.address() as { port: number };
    console.log(JSON.stringify({ msg: 'listening', wsUrl: `ws://127.0.0.1:${a.port}/v1/ws` }));
  });
  process.on('SIGTERM', () => process.exit(0));
}

export async function startFloor(): Promise<{ child: ChildProcess; wsUrl: string }> {
  const child = spawn(process.execPath, [__filename], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, SERVER_BENCH_ROLE: 'floor' } });
  const rl = readline.createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const wsUrl = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`floor server exited (${code})`)));
    rl.on('line', (line) => {
      const m = JSON.parse(line) as { msg?: string; wsUrl?: string };
      if (m.msg === 'listening' && m.wsUrl) resolve(m.wsUrl);
    });
  });
  return { child, wsUrl };
}

if (require.main === module) {
  if (process.env.SERVER_BENCH_ROLE === 'floor') serve();
  else {
    console.error('fanout-floor is part of cloud-throughput: npm run bench -- cloud-throughput');
    process.exit(2);
  }
}
