/** Defaults for every environment variable; each one says why it has this value. */

/** The conventional unprivileged HTTP port; the Docker image exposes it. */
export const DEFAULT_PORT = 8080;
/** Listen on every interface: inside a container the gateway is reached from outside it. */
export const DEFAULT_HOST = '0.0.0.0';
/** WebSocket endpoint path; HTTP routes (/health, /metrics) live beside it. */
export const DEFAULT_WS_PATH = '/ws';
/** Where the embedded SQLite inbox lives when nothing else is said: next to the process. */
export const DEFAULT_SQLITE_PATH = './data/offline.db';
/** Inboxes kept in memory as written (SQLite store): about 230,000 messages of 100 bytes, so a drain seldom reads the file. */
export const DEFAULT_INBOX_CACHE_MB = 64;
/** The seed keeps offline messages for 2 days. */
export const DEFAULT_OFFLINE_TTL_SECONDS = 172_800;
/** Mobile carriers drop idle NAT mappings after a few minutes; 30 s keeps them open and finds dead links within a minute. */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 30_000;
/** 64 KiB holds any chat message and keeps one frame from pinning much memory. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 65_536;

/** `sqlite`: one process, one file. `memory`: tests and throwaway setups. `redis`: shared by a cluster. */
export const OFFLINE_STORE_DRIVERS = ['sqlite', 'memory', 'redis'] as const;
/** `none`: one process, nothing shared. `redis`: many processes as one, over one Redis. */
export const CLUSTER_MODES = ['none', 'redis'] as const;
/** A local Redis, as `redis-server` starts with no arguments. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
/** Every key the gateway writes starts with it, so one Redis can serve other applications too. */
export const DEFAULT_REDIS_KEY_PREFIX = 'im:';
/**
 * A dead node's presence is gone after this; its users are then reached through the inbox. Each
 * node refreshes its entries every third of it, so two missed refreshes in a row still keep them.
 */
export const DEFAULT_PRESENCE_TTL_SECONDS = 15;
export const SESSION_POLICIES = ['multi', 'replace'] as const;
export const LOG_LEVELS = ['debug', 'log', 'warn', 'error'] as const;
export const SQLITE_SYNCHRONOUS_MODES = ['full', 'normal'] as const;
/** Unacknowledged messages per connection: keeps a phone draining a huge inbox from drowning (and us with it). */
export const DEFAULT_MAX_INFLIGHT_PER_CONNECTION = 256;
/** A chatty human types a few messages a second; 50/s with bursts of 100 leaves room for apps and stops floods. */
export const DEFAULT_RATE_LIMIT_PER_SECOND = 50;
export const DEFAULT_RATE_LIMIT_BURST = 100;
/** A plain-text client over the limit this long is misbehaving, not bursting: close it (1008). */
export const DEFAULT_RATE_LIMIT_CLOSE_AFTER_SECONDS = 10;
/** Phones, tablets, laptops and a few browser tabs; more is a script or a leak. */
export const DEFAULT_MAX_CONNECTIONS_PER_USER = 10;
/** Per process: ~7 KB each stays far below a container's memory, and below the open-file limit. */
export const DEFAULT_MAX_CONNECTIONS = 50_000;
/** Per user: a backlog nobody reads beyond this is abuse or a dead account; never evict silently. */
export const DEFAULT_INBOX_MAX_MESSAGES = 10_000;
/**
 * Per user, in UTF-8 bytes of bodies: 10,000 messages of 1.6 KB, or 256 of 64 KiB. SQLite stores
 * a message in its body plus about 230 bytes (ids, index, sent record), so one user pins at most
 * ~19 MB of disk.
 */
export const DEFAULT_INBOX_MAX_BYTES = 16 * 1024 * 1024;
/**
 * The least SLOW_CONSUMER_BYTES: bytes a connection may owe its client (unsent, or waiting behind
 * its window) before it counts as a slow consumer (closed with 1013). Half of it is the in-flight
 * window in bytes, so a client that reads and acks as fast as it is sent to never reaches it.
 */
export const DEFAULT_SLOW_CONSUMER_BYTES = 8 * 1024 * 1024;
/**
 * SLOW_CONSUMER_BYTES holds at least this many largest messages (and defaults to it when that is
 * more than DEFAULT_SLOW_CONSUMER_BYTES): a full byte window plus one message over it, plus answers.
 */
export const SLOW_CONSUMER_PAYLOADS = 4;
/** Tokens expire on clocks that drift; 30 s is the usual allowance. */
export const DEFAULT_JWT_CLOCK_SKEW_SECONDS = 30;
/** Long enough for a load balancer to notice /health/ready is 503 and stop sending new clients. */
export const DEFAULT_SHUTDOWN_DRAIN_MS = 5_000;
/**
 * Outside production nothing balances load in front of the gateway: Ctrl+C, or a dev-loop restart,
 * stops it at once.
 */
export const DEFAULT_DEV_SHUTDOWN_DRAIN_MS = 0;

export const AUTH_MODES = ['query', 'jwt'] as const;
export const LOG_FORMATS = ['json', 'pretty'] as const;
