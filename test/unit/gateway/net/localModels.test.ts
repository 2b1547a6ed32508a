/**
 * Local model discovery against real local servers on 127.0.0.1 through a real NetService: one speaks
 * Ollama's `GET /api/tags`, one the OpenAI-compatible `GET /v1/models`, one port is closed and one
 * answers something else. Each probe is in the connection ledger; disabled, nothing is contacted.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { defaultNetConfig } from '../../../../src/gateway/net/netConfig';
import { NetService } from '../../../../src/gateway/net/net';
import { discoverLocalModels, LOCAL_MODEL_PORTS, parseModelList, type LocalModelPort, type ProbeFetch } from '../../../../src/gateway/net/localModels';
import { freePort } from '../../../support/net';

async function serve(routes: Record<string, unknown>): Promise<{ port: number; paths: string[]; close: () => Promise<void> }> {
  const paths: string[] = [];
  const server = http.createServer((req, res) => {
    paths.push(`${req.method} ${req.url}`);
    const body = routes[req.url ?? ''];
    if (body === undefined) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
    res.writeHead(200, { 'content-type': 'application/json' }).end(typeof body === 'string' ? body : JSON.stringify(body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, paths, close: () => new Promise((r) => server.close(() => r())) };
}

describe('local model discovery (127.0.0.1, through NetService)', () => {
  let net: NetService;
  let fetch: ProbeFetch;
  beforeEach(() => {
    net = new NetService({ env: {}, config: defaultNetConfig() });
    fetch = (url, init, purpose) => net.fetch(url, init, purpose);
  });
  afterEach(() => net.dispose());

  it('finds an Ollama server by /api/tags and an OpenAI-compatible one by /v1/models, skips a closed port and a wrong answer', async () => {
    const ollama = await serve({ '/api/tags': { models: [{ name: 'llama3.2:latest', model: 'llama3.2:latest' }, { name: 'qwen2.5-coder:7b' }] } });
    const lmstudio = await serve({ '/v1/models': { object: 'list', data: [{ id: 'google/gemma-3-4b', object: 'model' }] } });
    const other = await serve({ '/v1/models': '<html>not a model server</html>' });
    const closed = await freePort();
    try {
      const ports: LocalModelPort[] = [
        { port: ollama.port, label: 'Ollama', api: 'ollama' },
        { port: lmstudio.port, label: 'LM Studio', api: 'openai' },
        { port: closed, label: 'llama.cpp', api: 'openai' },
        { port: other.port, label: 'vLLM', api: 'openai' },
      ];
      const found = await discoverLocalModels({ enabled: true, fetch, ports });
      assert.deepEqual(found, [
        { label: 'Ollama', port: ollama.port, baseUrl: `http://127.0.0.1:${ollama.port}/v1`, models: ['llama3.2:latest', 'qwen2.5-coder:7b'] },
        { label: 'LM Studio', port: lmstudio.port, baseUrl: `http://127.0.0.1:${lmstudio.port}/v1`, models: ['google/gemma-3-4b'] },
      ]);
      assert.deepEqual(ollama.paths, ['GET /api/tags'], 'probed once');
      assert.deepEqual(lmstudio.paths, ['GET /v1/models'], 'probed once');
      const probed = net.ledger.list().filter((e) => e.purpose === 'local-models');
      assert.deepEqual(
        [...new Set(probed.map((e) => `${e.host}:${e.port}`))].sort(),
        ports.map((p) => `127.0.0.1:${p.port}`).sort(),
        'every probe is in the ledger',
      );
    } finally {
      await Promise.all([ollama.close(), lmstudio.close(), other.close()]);
    }
  });

  it('contacts nothing when discovery is off', async () => {
    const ollama = await serve({ '/api/tags': { models: [{ name: 'llama3.2:latest' }] } });
    try {
      const found = await discoverLocalModels({ enabled: false, fetch, ports: [{ port: ollama.port, label: 'Ollama', api: 'ollama' }] });
      assert.deepEqual(found, []);
      assert.deepEqual(ollama.paths, []);
      assert.equal(net.ledger.list().length, 0, 'no connection at all');
    } finally {
      await ollama.close();
    }
  });

  it('probes only 127.0.0.1 on the documented ports', async () => {
    const urls: string[] = [];
    await discoverLocalModels({
      enabled: true,
      fetch: (url) => {
        urls.push(url);
        return Promise.reject(new Error('ECONNREFUSED'));
      },
    });
    assert.deepEqual(urls, [
      'http://127.0.0.1:11434/api/tags',
      'http://127.0.0.1:1234/v1/models',
      'http://127.0.0.1:8080/v1/models',
      'http://127.0.0.1:8000/v1/models',
    ]);
    assert.equal(LOCAL_MODEL_PORTS.length, 4);
  });

  it('parses both model-list formats and refuses other shapes', () => {
    assert.deepEqual(parseModelList('ollama', { models: [{ name: 'a' }, { name: 'a' }, { nope: 1 }] }), ['a']);
    assert.deepEqual(parseModelList('openai', { data: [{ id: 'x' }, { id: '' }] }), ['x']);
    assert.equal(parseModelList('openai', { models: [] }), undefined);
    assert.equal(parseModelList('ollama', 'text'), undefined);
  });
});
