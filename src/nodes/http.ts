import { fetch, type Dispatcher, type Response } from 'undici';
import { addressRefusal, checkLiteralAddress, guardedDispatcher, type AddressRules } from './addressRules.js';
import { CodedNodeError, PermanentNodeError } from './nodeErrors.js';
import { DEFAULT_OUTPUTS, type NodeExecute, type NodeType } from './nodeType.js';

export interface HttpNodeOptions {
  /** Each attempt's request (all its redirects and its body included) is aborted after this long. */
  timeoutMs: number;
  /** A response body larger than this fails the attempt (HTTP_RESPONSE_TOO_LARGE) as soon as it is over. */
  maxResponseBytes: number;
  /** HTTP_NODE_BLOCK_PRIVATE: public addresses only (link-local is refused whatever this says). */
  blockPrivate: boolean;
}

export const HTTP_NODE_DEFAULTS: HttpNodeOptions = { timeoutMs: 30_000, maxResponseBytes: 10 * 1024 * 1024, blockPrivate: false };

/** Redirects followed per request: enough for http -> https -> canonical host, and a loop ends quickly. */
export const MAX_HTTP_REDIRECTS = 5;

const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

interface Hop {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
}

/**
 * The request of the next hop, as fetch's own redirect handling does it: 303 (and 301/302 after
 * a POST) become a GET without a body; 307/308 repeat the request as it was.
 */
function redirected(hop: Hop, response: Response): Hop {
  const location = response.headers.get('location');
  if (location === null) throw new PermanentNodeError(`redirect ${response.status} from ${hop.url} has no Location header`, 'HTTP_BAD_REDIRECT');
  const url = new URL(location, hop.url).toString();
  const rewrites = response.status === 303 || ((response.status === 301 || response.status === 302) && hop.method === 'POST');
  if (!rewrites) return { ...hop, url };
  const headers = Object.fromEntries(Object.entries(hop.headers).filter(([name]) => name.toLowerCase() !== 'content-type'));
  return { url, method: hop.method === 'HEAD' ? 'HEAD' : 'GET', headers, body: undefined };
}

/**
 * Follows redirects by hand (`redirect: 'manual'`), at most MAX_HTTP_REDIRECTS of them, so that
 * every hop passes through here: a literal address is checked before each hop, and a name where
 * the connection resolves it (addressRules).
 */
/** Where requests go: through a pool whose connections obey the address rules. */
interface Route {
  dispatcher: Dispatcher;
  rules: AddressRules;
  signal: AbortSignal;
}

async function fetchFollowing(first: Hop, { dispatcher, rules, signal }: Route): Promise<Response> {
  let hop = first;
  for (let redirects = 0; ; redirects++) {
    checkLiteralAddress(hop.url, rules);
    const response = await fetch(hop.url, { method: hop.method, headers: hop.headers, body: hop.body, signal, redirect: 'manual', dispatcher });
    if (!REDIRECT_STATUSES.has(response.status)) return response;
    await response.body?.cancel();
    if (redirects === MAX_HTTP_REDIRECTS) throw new PermanentNodeError(`more than ${MAX_HTTP_REDIRECTS} redirects, the last to ${hop.url}`, 'HTTP_TOO_MANY_REDIRECTS');
    hop = redirected(hop, response);
  }
}

/** The body as text, read as a stream and dropped as soon as it is larger than `maxBytes`: a huge answer is never held whole. */
async function readBounded(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel();
    throw tooLarge(maxBytes);
  }
  if (response.body === null) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  // undici types its web stream's chunks as any; a response body's are bytes.
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > maxBytes) {
      await response.body.cancel().catch(() => undefined);
      throw tooLarge(maxBytes);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

const tooLarge = (maxBytes: number) => new PermanentNodeError(`response body is larger than ${maxBytes} bytes`, 'HTTP_RESPONSE_TOO_LARGE');

/**
 * The attempt's own signal (cancel, node timeout, stop) or the request timeout, whichever comes
 * first. Built by hand rather than with AbortSignal.any, whose derived signals Node 20 may let go
 * of before they fire; `done` clears the timer and the listener once the request is over.
 */
function requestSignal(attempt: AbortSignal, timeoutMs: number): { signal: AbortSignal; timedOut: () => boolean; done: () => void } {
  const controller = new AbortController();
  let timedOut = false;
  const onAbort = () => controller.abort(attempt.reason);
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error('request timed out'));
  }, timeoutMs);
  if (attempt.aborted) onAbort();
  else attempt.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    done: () => {
      clearTimeout(timer);
      attempt.removeEventListener('abort', onAbort);
    },
  };
}

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'] as const;

interface HttpParameters {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: unknown;
}

/** Output `{ status, headers, body }`, the body parsed when the answer says it is JSON. */
function httpExecute({ timeoutMs, maxResponseBytes, blockPrivate }: HttpNodeOptions): NodeExecute {
  const rules = { blockPrivate };
  const dispatcher = guardedDispatcher(rules);
  return async ({ parameters: given, signal }) => {
    const parameters = given as unknown as HttpParameters;
    const body = parameters.body === undefined ? undefined : typeof parameters.body === 'string' ? parameters.body : JSON.stringify(parameters.body);
    const headers = { ...(body && typeof parameters.body !== 'string' ? { 'content-type': 'application/json' } : {}), ...parameters.headers };
    const request = requestSignal(signal, timeoutMs);
    try {
      const response = await fetchFollowing({ url: parameters.url, method: parameters.method ?? 'GET', headers, body }, { dispatcher, rules, signal: request.signal });
      const text = await readBounded(response, maxResponseBytes);
      const json = (response.headers.get('content-type') ?? '').includes('json');
      return { output: { status: response.status, headers: Object.fromEntries(response.headers), body: json && text ? (JSON.parse(text) as unknown) : text } };
    } catch (error) {
      // Only the request's own timeout: an abort of the attempt is the runner's to report.
      if (!signal.aborted && request.timedOut()) throw new CodedNodeError(`no complete answer from ${parameters.url} within ${timeoutMs} ms`, 'HTTP_TIMEOUT', true);
      throw addressRefusal(error) ?? error;
    } finally {
      request.done();
    }
  };
}

/** The `http` type under the engine's bounds: a request has side effects, so it is leased and at-least-once. */
export const httpNode = (options: HttpNodeOptions): NodeType => ({
  type: 'http',
  description: 'Sends an HTTP request; output = { status, headers, body }',
  parameters: {
    type: 'object',
    required: ['url'],
    properties: {
      url: { type: 'string', format: 'http-url', description: 'an absolute http(s) URL', problem: 'must be an absolute http(s) URL' },
      method: { enum: HTTP_METHODS, description: 'default GET', problem: `must be one of ${HTTP_METHODS.join(', ')}` },
      headers: { type: 'object', additionalProperties: { type: 'string' }, description: 'request headers', problem: 'must be an object of strings' },
      body: { description: 'a string is sent as it is; any other JSON value as JSON' },
    },
  },
  outputs: DEFAULT_OUTPUTS,
  sideEffects: true,
  runs: 'in-process',
  execute: httpExecute(options),
});
