/**
 * Each provider client when the stream goes wrong: mid-stream error events, malformed events,
 * truncation, a stalled peer (idle watchdog), cancellation (the socket closes at once), and retry
 * only before the first token.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import { createProviderClient } from '../../../../src/gateway/providers/index';
import { PROVIDER_IDS } from '../../../../src/gateway/providers/types';
import { type ProviderServer } from '../../../fixtures/providerServer';
import { expectedDeltas, replyFor } from '../../../fixtures/providerServerStream';
import { clientFor, collect, request, within, type Harness, useProviders } from './harness';

/** A 127.0.0.1 port that was just free (listened on, then closed): connecting is refused. */
async function closedPort(): Promise<number> {
  const srv = net.createServer().listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

describe('provider clients: broken streams', function () {
  this.timeout(10_000);
  let server: ProviderServer;
  let h: Harness;

  useProviders((e) => void ({ server, h } = e), { slowIntervalMs: 30 });

  for (const id of PROVIDER_IDS) {
    describe(id, () => {
      it('surfaces a mid-stream error event after the first token, without retrying', async () => {
        server.setScenario('midstream-error');
        const retries: number[] = [];
        const out = await collect(clientFor(h, server, id), request('boom'), { maxAttempts: 3, onRetry: (n) => retries.push(n) });
        assert.deepEqual(out.deltas, expectedDeltas('boom').slice(0, 2));
        assert.equal(out.error?.kind, 'server');
        assert.equal(out.error?.retryable, true, 'retryable in general…');
        assert.deepEqual(retries, [], '…but never retried once text was shown');
        assert.equal(out.done, undefined);
        assert.equal(server.stats().requests[id], 1);
      });

      it('retries a mid-stream error that comes before the first token', async () => {
        server.setScenario('midstream-error-once:0');
        const out = await collect(clientFor(h, server, id), request('retry me'));
        assert.equal(out.error, undefined, out.error?.message);
        assert.equal(out.deltas.join(''), replyFor('retry me'));
        assert.equal(server.stats().requests[id], 2);
      });

      it('turns a data line that is not JSON into kind "malformed"', async () => {
        server.setScenario('malformed');
        const out = await collect(clientFor(h, server, id), request('bad json'));
        assert.deepEqual(out.deltas, expectedDeltas('bad json').slice(0, 1));
        assert.equal(out.error?.kind, 'malformed');
        assert.equal(out.error?.retryable, false);
        assert.match(out.error?.detail ?? '', /invalid JSON/);
        assert.match(out.error?.message ?? '', /could not read/);
      });

      it('turns an event of the wrong shape into kind "malformed" naming the field', async () => {
        server.setScenario('malformed-shape');
        const out = await collect(clientFor(h, server, id), request('bad shape'));
        assert.equal(out.deltas.length, 1);
        assert.equal(out.error?.kind, 'malformed');
        assert.match(out.error?.detail ?? '', /unexpected .*(content|text|parts)/);
      });

      it('reports a stream that ends without its terminal event as kind "truncated"', async () => {
        server.setScenario('truncated');
        const out = await collect(clientFor(h, server, id), request('cut'), { maxAttempts: 1 });
        assert.deepEqual(out.deltas, expectedDeltas('cut').slice(0, 2));
        assert.equal(out.error?.kind, 'truncated');
        assert.equal(out.done, undefined);
      });

      it('turns a connection that dies mid-body into kind "network" (not retried after text)', async () => {
        server.setScenario('drop');
        const out = await collect(clientFor(h, server, id), request('drop'), { maxAttempts: 3 });
        assert.deepEqual(out.deltas, expectedDeltas('drop').slice(0, 2));
        assert.equal(out.error?.kind, 'network');
        assert.equal(server.stats().requests[id], 1);
      });

      if (id === 'openai' || id === 'openai-compatible') {
        it('accepts a stream that ends after finish_reason without usage or [DONE] (local servers)', async () => {
          server.setScenario('no-usage');
          const out = await collect(clientFor(h, server, id), request('bare'));
          assert.equal(out.error, undefined, out.error?.message);
          assert.equal(out.deltas.join(''), replyFor('bare'));
          assert.equal(out.done?.finishReason, 'stop');
          assert.equal(out.done?.usage, undefined);
        });
      }

      it('turns a stall after some deltas into a retryable "idle_timeout" (not retried after text)', async () => {
        server.setScenario('stall');
        const started = Date.now();
        const out = await collect(clientFor(h, server, id), request('stall'), { idleTimeoutMs: 150, maxAttempts: 3 });
        assert.deepEqual(out.deltas, expectedDeltas('stall').slice(0, 2));
        assert.equal(out.error?.kind, 'idle_timeout');
        assert.equal(out.error?.retryable, true);
        assert.ok(Date.now() - started >= 140, 'waited for the idle timeout');
        assert.equal(server.stats().requests[id], 1);
      });

      it('retries a stall before the first token, then gives up with "idle_timeout"', async () => {
        server.setScenario('stall:0');
        const retries: number[] = [];
        const out = await collect(clientFor(h, server, id), request('silent'), {
          idleTimeoutMs: 300,
          maxAttempts: 2,
          onRetry: (attempt) => retries.push(attempt),
        });
        assert.equal(out.error?.kind, 'idle_timeout');
        assert.equal(out.deltas.length, 0);
        // Counted by the client: on a loaded machine the second request may time out before the server sees it.
        assert.deepEqual(retries, [1], 'the first attempt was retried once, then it gave up');
        assert.ok((server.stats().requests[id] ?? 0) >= 1);
      });

      it('cancels mid-stream: ends with kind "cancelled" and the server sees the socket close at once', async () => {
        server.setScenario('slow');
        const abort = new AbortController();
        const out = await collect(clientFor(h, server, id), request('cancel me'), { signal: abort.signal }, (_text, i) => {
          if (i === 0) abort.abort();
        });
        assert.equal(out.error?.kind, 'cancelled');
        assert.equal(out.deltas.length, 1, 'no delta after the cancel');
        const req = await within(server.waitForRequest(), 1_000, 'request recorded');
        await within(server.socketClosed(req.connection), 1_000, 'the server sees the socket closed');
        assert.equal(server.stats().requests[id], 1);
      });

      it('cancels while waiting: a stalled stream ends at once on abort', async () => {
        server.setScenario('stall');
        const abort = new AbortController();
        const started = Date.now();
        const out = await collect(clientFor(h, server, id), request('wait'), { signal: abort.signal, idleTimeoutMs: 5_000 }, (_t, i) => {
          if (i === 1) setImmediate(() => abort.abort());
        });
        assert.equal(out.error?.kind, 'cancelled');
        assert.ok(Date.now() - started < 2_000, 'did not wait for the idle timeout');
        await within(server.socketClosed(server.requests[0]!.connection), 1_000, 'socket closed');
      });

      it('cancels during the retry wait without sending another request', async () => {
        server.setScenario('error-500');
        const abort = new AbortController();
        h.deps.retry = { baseDelayMs: 5_000, maxDelayMs: 5_000 };
        const out = await collect(clientFor(h, server, id), request('x'), {
          signal: abort.signal,
          onRetry: () => setImmediate(() => abort.abort()),
          maxAttempts: 3,
        });
        assert.equal(out.error?.kind, 'cancelled');
        assert.equal(server.stats().requests[id], 1);
      });

      it('does not contact the server when already cancelled', async () => {
        const abort = new AbortController();
        abort.abort();
        const out = await collect(clientFor(h, server, id), request('x'), { signal: abort.signal });
        assert.equal(out.error?.kind, 'cancelled');
        assert.equal(server.stats().total, 0);
      });

      it('turns a refused connection into a retryable "network" error', async () => {
        const client = createProviderClient(id, { baseUrl: `http://127.0.0.1:${await closedPort()}/v1`, apiKey: server.keys[id] }, h.deps);
        const out = await collect(client, request('x'), { maxAttempts: 1 });
        assert.equal(out.error?.kind, 'network');
        assert.equal(out.error?.retryable, true);
        assert.match(out.error?.detail ?? '', /ECONNREFUSED/);
      });
    });
  }
});
