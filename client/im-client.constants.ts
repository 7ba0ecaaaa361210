/** The only subprotocol this SDK speaks; a server that selects it answers in JSON frames. */
export const SUBPROTOCOL = 'im.v1.json';

/** Events the client sends. */
export const ClientEvent = {
  Send: 'send',
  Ack: 'ack',
  Ping: 'ping',
  Refresh: 'refresh',
} as const;

/** Events the server sends; any other event name is ignored so a newer server stays compatible. */
export const ServerEvent = {
  Message: 'message',
  Sent: 'sent',
  Receipt: 'receipt',
  Error: 'error',
  Pong: 'pong',
} as const;

/** Close codes the client reacts to or uses itself. */
export const CloseCode = {
  /** The only code below 3000 a browser lets a page send. */
  Normal: 1000,
  /** IANA-registered "Timeout": used when the client gives up on a silent link. */
  Timeout: 3008,
  /** Another connection of the same session took over; reconnecting would fight it. */
  Replaced: 4001,
  /** An administrator removed the user; only a fresh token may come back. */
  Kicked: 4003,
  /** The token expired; only a fresh token may come back. */
  TokenExpired: 4401,
} as const;

/** `readyState` of an open socket; implementations expose this standard constant in different places. */
export const READY_STATE_OPEN = 1;

/** First reconnect comes soon after a blip, yet never in a tight loop. */
export const DEFAULT_RECONNECT_INITIAL_DELAY_MS = 250;
/** Doubling keeps a fleet of clients from hammering a server that is restarting. */
export const DEFAULT_RECONNECT_FACTOR = 2;
/** Bounds how long a user waits once the server is back. */
export const DEFAULT_RECONNECT_MAX_DELAY_MS = 10_000;
/** A connection that lived this long proves the server healthy, so the next reconnect starts from the initial delay. */
export const BACKOFF_RESET_AFTER_MS = 10_000;

/** A handshake that hangs (black-holed mobile link) is abandoned well before a browser would give up on its own. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** Below the 30-60 s idle timeouts of common proxies and mobile NATs; browsers cannot see protocol-level pings. */
export const DEFAULT_PING_INTERVAL_MS = 15_000;
/** Long enough for a slow mobile round trip, short enough that a dead link is noticed within one ping cycle. */
export const DEFAULT_PING_TIMEOUT_MS = 10_000;

/** Covers the redelivery window of a busy conversation while staying a few hundred kilobytes of ids. */
export const DEFAULT_DEDUP_CAPACITY = 10_000;
/** How many queued messages the client remembers so a later receipt can name the send it belongs to. */
export const RECEIPT_MEMORY_CAPACITY = 10_000;

/** Keeps one ack frame far below a server's maximum payload, even with 64-character ids. */
export const ACK_BATCH_MAX_IDS = 256;
/** The server accepts client message ids of 1 to 64 characters. */
export const CLIENT_ID_MAX_LENGTH = 64;

/** The gateway's default MAX_PAYLOAD_BYTES: a larger send could never be accepted, only resent. */
export const DEFAULT_MAX_FRAME_BYTES = 65_536;
