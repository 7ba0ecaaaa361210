/** Defaults for every environment variable; each one says why it has this value. */

/** The conventional unprivileged HTTP port; the Docker image exposes it. */
export const DEFAULT_PORT = 8080;
/** Listen on every interface: inside a container the gateway is reached from outside it. */
export const DEFAULT_HOST = '0.0.0.0';
/** WebSocket endpoint path; HTTP routes (/health, /metrics) live beside it. */
export const DEFAULT_WS_PATH = '/ws';
/** Where the embedded SQLite inbox lives when nothing else is said: next to the process. */
export const DEFAULT_SQLITE_PATH = './data/offline.db';
/** The seed keeps offline messages for 2 days. */
export const DEFAULT_OFFLINE_TTL_SECONDS = 172_800;
/** Mobile carriers drop idle NAT mappings after a few minutes; 30 s keeps them open and finds dead links within a minute. */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 30_000;
/** 64 KiB holds any chat message and keeps one frame from pinning much memory. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 65_536;

export const OFFLINE_STORE_DRIVERS = ['sqlite', 'memory'] as const;
export const SESSION_POLICIES = ['multi', 'replace'] as const;
export const LOG_LEVELS = ['debug', 'log', 'warn', 'error'] as const;
export const SQLITE_SYNCHRONOUS_MODES = ['full', 'normal'] as const;
/** Unacknowledged messages per connection: keeps a phone draining a huge inbox from drowning (and us with it). */
export const DEFAULT_MAX_INFLIGHT_PER_CONNECTION = 256;
