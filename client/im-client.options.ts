import type { BackoffOptions } from './backoff.policy.js';
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_DEDUP_CAPACITY,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_PING_INTERVAL_MS,
  DEFAULT_PING_TIMEOUT_MS,
  DEFAULT_RECONNECT_FACTOR,
  DEFAULT_RECONNECT_INITIAL_DELAY_MS,
  DEFAULT_RECONNECT_MAX_DELAY_MS,
} from './im-client.constants.js';
import type { WebSocketConstructor } from './web-socket.types.js';

export interface ReconnectOptions {
  /** Ceiling of the first delay. Default 250. */
  initialDelayMs?: number;
  /** Growth of the ceiling per failed attempt. Default 2. */
  factor?: number;
  /** Largest ceiling. Default 10 000. */
  maxDelayMs?: number;
  /** Source of jitter in [0, 1). Default `Math.random`; inject one to make delays predictable. */
  random?: () => number;
}

export interface ImClientOptions {
  /** Gateway endpoint, such as `wss://chat.example.com/ws`. */
  url: string;
  /** Connect as this user (`?user=`): for servers that trust the query, as in development. */
  user?: string;
  /** Connect with this token (`?token=`); the server closes with 4401 when it expires. */
  token?: string;
  /** Called before every connection attempt for a token; lets the client come back after 4401 and 4003. */
  getToken?: () => string | Promise<string>;
  /** WebSocket class. Default `globalThis.WebSocket`; in Node pass the default export of `ws`. */
  WebSocket?: WebSocketConstructor;
  reconnect?: ReconnectOptions;
  /** Give up on a handshake after this long and retry. Default 10 000. */
  connectTimeoutMs?: number;
  /** Ping the server this often while connected. Default 15 000. */
  pingIntervalMs?: number;
  /** Declare the link dead when no frame arrives this long after a ping. Default 10 000. */
  pingTimeoutMs?: number;
  /** How many delivered message ids are remembered to drop redeliveries. Default 10 000. */
  dedupCapacity?: number;
  /** Reject a send not confirmed within this long. Default: none, a send waits until confirmed. */
  sendTimeoutMs?: number;
  /** The server's MAX_PAYLOAD_BYTES: a larger `send` frame is rejected at once. Default 65 536. */
  maxFrameBytes?: number;
}

/** Exactly one way to identify the user. */
export type Credentials =
  | { readonly kind: 'user'; readonly user: string }
  | { readonly kind: 'token'; readonly token: string }
  | { readonly kind: 'getToken'; readonly getToken: () => string | Promise<string> };

export interface ResolvedOptions {
  readonly url: string;
  readonly credentials: Credentials;
  readonly WebSocket: WebSocketConstructor;
  readonly backoff: BackoffOptions;
  readonly connectTimeoutMs: number;
  readonly pingIntervalMs: number;
  readonly pingTimeoutMs: number;
  readonly dedupCapacity: number;
  readonly sendTimeoutMs: number | undefined;
  readonly maxFrameBytes: number;
}

/** Validates the options once, failing with a message that names the option. */
export function resolveOptions(options: ImClientOptions): ResolvedOptions {
  const reconnect = options.reconnect ?? {};
  const backoff: BackoffOptions = {
    initialDelayMs: positive('reconnect.initialDelayMs', reconnect.initialDelayMs, DEFAULT_RECONNECT_INITIAL_DELAY_MS),
    factor: positive('reconnect.factor', reconnect.factor, DEFAULT_RECONNECT_FACTOR),
    maxDelayMs: positive('reconnect.maxDelayMs', reconnect.maxDelayMs, DEFAULT_RECONNECT_MAX_DELAY_MS),
    random: reconnect.random ?? Math.random,
  };
  if (backoff.factor < 1) fail('reconnect.factor', 'must be at least 1', backoff.factor);
  if (backoff.maxDelayMs < backoff.initialDelayMs) {
    fail('reconnect.maxDelayMs', 'must be at least reconnect.initialDelayMs', backoff.maxDelayMs);
  }
  const dedupCapacity = positive('dedupCapacity', options.dedupCapacity, DEFAULT_DEDUP_CAPACITY);
  if (!Number.isInteger(dedupCapacity)) fail('dedupCapacity', 'must be an integer', dedupCapacity);
  return {
    url: checkUrl(options.url),
    credentials: checkCredentials(options),
    WebSocket: checkWebSocket(options.WebSocket),
    backoff,
    connectTimeoutMs: positive('connectTimeoutMs', options.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS),
    pingIntervalMs: positive('pingIntervalMs', options.pingIntervalMs, DEFAULT_PING_INTERVAL_MS),
    pingTimeoutMs: positive('pingTimeoutMs', options.pingTimeoutMs, DEFAULT_PING_TIMEOUT_MS),
    dedupCapacity,
    sendTimeoutMs: positive('sendTimeoutMs', options.sendTimeoutMs, undefined),
    maxFrameBytes: positive('maxFrameBytes', options.maxFrameBytes, DEFAULT_MAX_FRAME_BYTES),
  };
}

function checkUrl(url: unknown): string {
  if (typeof url !== 'string') fail('url', 'must be a ws:// or wss:// URL', typeof url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    fail('url', 'must be a ws:// or wss:// URL', url);
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') fail('url', 'must be a ws:// or wss:// URL', url);
  if (parsed.hash !== '' || url.includes('#')) fail('url', 'must not have a #fragment', url);
  return url;
}

function checkCredentials(options: ImClientOptions): Credentials {
  const given = [options.user, options.token, options.getToken].filter((value) => value !== undefined);
  if (given.length !== 1) {
    throw new TypeError(`ImClient: pass exactly one of the options user, token or getToken (got ${given.length})`);
  }
  if (options.user !== undefined) return { kind: 'user', user: nonEmpty('user', options.user) };
  if (options.token !== undefined) return { kind: 'token', token: nonEmpty('token', options.token) };
  if (typeof options.getToken !== 'function') fail('getToken', 'must be a function', options.getToken);
  return { kind: 'getToken', getToken: options.getToken };
}

function checkWebSocket(given: WebSocketConstructor | undefined): WebSocketConstructor {
  const WebSocket: unknown = given ?? (globalThis as { WebSocket?: unknown }).WebSocket;
  if (typeof WebSocket !== 'function') {
    throw new TypeError(
      'ImClient: no WebSocket implementation found; pass the WebSocket option (in Node: `import WebSocket from "ws"`)',
    );
  }
  return WebSocket as WebSocketConstructor;
}

function positive<F extends number | undefined>(name: string, value: number | undefined, fallback: F): number | F {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    fail(name, 'must be a positive number', value);
  }
  return value;
}

function nonEmpty(name: string, value: unknown): string {
  // The value is left out of the message: it may be a token.
  if (typeof value !== 'string' || value.length === 0) fail(name, 'must be a non-empty string', typeof value);
  return value;
}

function fail(name: string, rule: string, value: unknown): never {
  throw new TypeError(`ImClient: option ${name} ${rule} (got ${String(value)})`);
}
