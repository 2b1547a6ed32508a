/** Error mapping (each provider's body shape), Retry-After parsing, and the backoff policy. */
import assert from 'node:assert/strict';
import { errorFromResponse, parseRetryAfter, ProviderError } from '../../../../src/gateway/providers/errors';
import { backoffDelay, DEFAULT_RETRY_POLICY, retryDelayFor, sleep } from '../../../../src/gateway/providers/retry';

const headers = (h: Record<string, string>): { get(name: string): string | null } => ({ get: (n) => h[n.toLowerCase()] ?? null });

describe('provider errors', () => {
  describe('parseRetryAfter', () => {
    it('reads seconds, fractional seconds, an HTTP-date, and retry-after-ms (which wins)', () => {
      assert.equal(parseRetryAfter(headers({ 'retry-after': '3' })), 3000);
      assert.equal(parseRetryAfter(headers({ 'retry-after': '0.5' })), 500);
      const now = Date.parse('2025-01-01T00:00:00Z');
      assert.equal(parseRetryAfter(headers({ 'retry-after': 'Wed, 01 Jan 2025 00:00:07 GMT' }), now), 7000);
      assert.equal(parseRetryAfter(headers({ 'retry-after': 'Tue, 31 Dec 2024 23:59:00 GMT' }), now), 0, 'a past date means now');
      assert.equal(parseRetryAfter(headers({ 'retry-after': '3', 'retry-after-ms': '250' })), 250);
      assert.equal(parseRetryAfter(headers({ 'retry-after': 'soon' })), undefined);
      assert.equal(parseRetryAfter(headers({})), undefined);
    });
  });

  describe('errorFromResponse', () => {
    const cases: Array<[string, Parameters<typeof errorFromResponse>, ProviderError['kind'], boolean]> = [
      [
        'OpenAI invalid key',
        [
          'openai',
          401,
          JSON.stringify({ error: { message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' } }),
          undefined,
        ],
        'auth',
        false,
      ],
      [
        'OpenAI context length',
        [
          'openai',
          400,
          JSON.stringify({
            error: { message: "This model's maximum context length is 8192 tokens", type: 'invalid_request_error', code: 'context_length_exceeded' },
          }),
          undefined,
        ],
        'context_length',
        false,
      ],
      [
        'OpenAI quota (429 that waiting does not fix)',
        [
          'openai',
          429,
          JSON.stringify({ error: { message: 'You exceeded your current quota', type: 'insufficient_quota', code: 'insufficient_quota' } }),
          undefined,
        ],
        'rate_limit',
        false,
      ],
      ['OpenAI 503', ['openai', 503, JSON.stringify({ error: { message: 'overloaded', type: 'server_error', code: null } }), undefined], 'server', true],
      [
        'vLLM context message without code',
        [
          'openai-compatible',
          400,
          JSON.stringify({ error: { message: "This model's maximum context length is 4096 tokens.", type: 'BadRequestError', code: 400 } }),
          undefined,
        ],
        'context_length',
        false,
      ],
      ['compatible server plain-text 404', ['openai-compatible', 404, '404 page not found', undefined], 'not_found', false],
      [
        'Anthropic overloaded (529)',
        ['anthropic', 529, JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }), undefined],
        'server',
        true,
      ],
      [
        'Anthropic rate limit',
        ['anthropic', 429, JSON.stringify({ type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } }), 2000],
        'rate_limit',
        true,
      ],
      [
        'Anthropic bad key',
        ['anthropic', 401, JSON.stringify({ type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } }), undefined],
        'auth',
        false,
      ],
      [
        'Anthropic prompt too long',
        [
          'anthropic',
          400,
          JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message: 'prompt is too long: 208310 tokens > 200000 maximum' } }),
          undefined,
        ],
        'context_length',
        false,
      ],
      [
        'Anthropic other invalid request',
        ['anthropic', 400, JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message: 'max_tokens: Field required' } }), undefined],
        'bad_request',
        false,
      ],
      [
        'Gemini quota',
        ['gemini', 429, JSON.stringify({ error: { code: 429, message: 'Resource has been exhausted', status: 'RESOURCE_EXHAUSTED' } }), undefined],
        'rate_limit',
        true,
      ],
      [
        'Gemini bad key (400)',
        [
          'gemini',
          400,
          JSON.stringify({
            error: {
              code: 400,
              message: 'API key not valid. Please pass a valid API key.',
              status: 'INVALID_ARGUMENT',
              details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID' }],
            },
          }),
          undefined,
        ],
        'auth',
        false,
      ],
      [
        'Gemini unauthenticated',
        [
          'gemini',
          401,
          JSON.stringify({ error: { code: 401, message: 'Request had invalid authentication credentials.', status: 'UNAUTHENTICATED' } }),
          undefined,
        ],
        'auth',
        false,
      ],
      [
        'Gemini permission denied',
        ['gemini', 403, JSON.stringify({ error: { code: 403, message: "Method doesn't allow unregistered callers", status: 'PERMISSION_DENIED' } }), undefined],
        'auth',
        false,
      ],
      [
        'Gemini input too long',
        [
          'gemini',
          400,
          JSON.stringify({
            error: {
              code: 400,
              message: 'The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).',
              status: 'INVALID_ARGUMENT',
            },
          }),
          undefined,
        ],
        'context_length',
        false,
      ],
      [
        'Gemini model not found',
        ['gemini', 404, JSON.stringify({ error: { code: 404, message: 'models/nope is not found', status: 'NOT_FOUND' } }), undefined],
        'not_found',
        false,
      ],
      ['a proxy HTML page', ['anthropic', 502, '<html><body>Bad Gateway</body></html>', undefined], 'server', true],
    ];
    for (const [name, args, kind, retryable] of cases) {
      it(`${name} → ${kind}`, () => {
        const e = errorFromResponse(...args);
        assert.ok(e instanceof ProviderError);
        assert.equal(e.kind, kind);
        assert.equal(e.retryable, retryable);
        assert.equal(e.provider, args[0]);
        assert.equal(e.status, args[1]);
        assert.ok(e.message.length < 300, 'short');
        assert.match(e.message, /\.$/, 'a sentence that says what to do');
      });
    }

    it('reads the Gemini RetryInfo delay from the body', () => {
      const body = {
        error: {
          code: 429,
          message: 'quota',
          status: 'RESOURCE_EXHAUSTED',
          details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '37s' }],
        },
      };
      assert.equal(errorFromResponse('gemini', 429, JSON.stringify(body), undefined).retryAfterMs, 37_000);
    });

    it('says how long to wait on a rate limit', () => {
      assert.match(errorFromResponse('anthropic', 429, '{}', 12_000).message, /Try again in 12 s/);
    });
  });

  describe('backoff', () => {
    it('uses full jitter under an exponential ceiling, capped', () => {
      const p = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 100, maxDelayMs: 1000 };
      assert.equal(
        backoffDelay(1, p, undefined, () => 0.999999),
        99,
      );
      assert.equal(
        backoffDelay(3, p, undefined, () => 0.5),
        200,
      );
      assert.equal(
        backoffDelay(10, p, undefined, () => 0.999999),
        999,
      );
      assert.equal(
        backoffDelay(2, p, undefined, () => 0),
        0,
      );
    });

    it('honours Retry-After, and refuses to wait longer than maxRetryAfterMs', () => {
      const p = { ...DEFAULT_RETRY_POLICY, maxRetryAfterMs: 10_000 };
      assert.equal(
        backoffDelay(1, p, 4_000, () => 0),
        4_000,
      );
      assert.equal(backoffDelay(1, p, 30_000), undefined);
    });

    it('sleep rejects with "cancelled" as soon as the signal aborts', async () => {
      const abort = new AbortController();
      const started = Date.now();
      const p = sleep(10_000, 'openai', abort.signal);
      queueMicrotask(() => abort.abort());
      await assert.rejects(p, (e: unknown) => e instanceof ProviderError && e.kind === 'cancelled');
      assert.ok(Date.now() - started < 1_000);
    });

    it('retries only retryable errors, before the first token, within maxAttempts', () => {
      const p = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 100, maxAttempts: 3 };
      const server = new ProviderError({ kind: 'server', provider: 'openai', status: 500 });
      const auth = new ProviderError({ kind: 'auth', provider: 'openai', status: 401 });
      const limited = new ProviderError({ kind: 'rate_limit', provider: 'openai', status: 429, retryAfterMs: 1234 });
      assert.equal(
        retryDelayFor(server, 1, false, p, () => 0.5),
        50,
      );
      assert.equal(
        retryDelayFor(server, 2, false, p, () => 0.5),
        100,
      );
      assert.equal(retryDelayFor(server, 3, false, p), undefined, 'no attempts left');
      assert.equal(retryDelayFor(server, 1, true, p), undefined, 'never after the first token');
      assert.equal(retryDelayFor(auth, 1, false, p), undefined, 'not retryable');
      assert.equal(retryDelayFor(limited, 1, false, p), 1234, 'Retry-After wins');
    });
  });
});
