// Every default and limit of the benchmark, each with the reason it has this value.

// --- Wire ---------------------------------------------------------------------------------

/** The gateway's default WebSocket path; the reference listens on the same one. */
export const DEFAULT_WS_PATH = '/ws';

/** The gateway's default frame limit, so the yardstick accepts exactly what the gateway accepts. */
export const MAX_PAYLOAD_BYTES = 65_536;

/** Server `error` frames quoted verbatim in a run's report; the rest are only counted. */
export const KEPT_SERVER_ERROR_SAMPLES = 5;

/** Subprotocol that switches the gateway to JSON frames with ids and acks. */
export const JSON_SUBPROTOCOL = 'im.v1.json';

/** Event names of the JSON protocol, as the gateway spells them. */
export const JSON_EVENTS = Object.freeze({
  send: 'send',
  message: 'message',
  ack: 'ack',
  sent: 'sent',
  error: 'error',
});

/** `sent` status meaning a recipient device acked the message. */
export const STATUS_DELIVERED = 'delivered';

/** `sent` status meaning the message is durably in the recipient's offline inbox. */
export const STATUS_QUEUED = 'queued';

/** Separator of the seed protocol: a text frame `to|content`. */
export const PLAIN_TEXT_SEPARATOR = '|';

/** Size of every message body, as in the brief: a typical short chat line. */
export const MESSAGE_BYTES = 64;

/** The gateway's default inbox lifetime (OFFLINE_TTL_SECONDS), so the durable reference's rows carry the same expiry values. */
export const INBOX_TTL_MS = 2 * 24 * 60 * 60 * 1000;

// --- Processes and CPUs ---------------------------------------------------------------------

/** The server gets a core of its own, so what is measured is the server, not the scheduler. */
export const SERVER_CPU = '0';

/** The load generator gets the other core, so it never competes with the server for CPU time. */
export const GENERATOR_CPU = '1';

/** A cold Nest boot that opens SQLite can take a few seconds on a loaded machine. */
export const SERVER_READY_TIMEOUT_MS = 30_000;

/** Health polling interval: short enough that boot time is not padded noticeably. */
export const SERVER_READY_POLL_MS = 50;

/** Time a server gets to shut down on SIGTERM before it is killed; shutdown is not measured. */
export const SERVER_STOP_GRACE_MS = 5_000;

/** Lines of server stderr kept to explain a crash without flooding the terminal. */
export const SERVER_LOG_TAIL_LINES = 40;

/** Big enough that the gateway's rate limiter never throttles the benchmark. */
export const UNLIMITED_RATE = '1000000000';

/** Linux reports process CPU time in clock ticks of 1/100 s (USER_HZ) on every common build. */
export const CLOCK_TICKS_PER_SECOND = 100;

/**
 * Above this idle share of its core during a saturating workload, the server was waiting for
 * work: the generator set the pace, and the figure says little about the server.
 */
export const SATURATION_MAX_SERVER_CORE_IDLE = 0.1;

/**
 * Above this share of the server's core taken by other processes, the machine was not quiet
 * and a run's figures carry that noise.
 */
export const FOREIGN_LOAD_WARNING = 0.05;

// --- Workloads ------------------------------------------------------------------------------

/** Sender/receiver pairs: enough sockets that per-connection costs show, as in the brief. */
export const PAIRS = 50;

/** Unreceived messages per pair: deep enough to keep the server busy, bounded so queues stay sane. */
export const THROUGHPUT_WINDOW = 64;

/** Open-loop rate of the latency workload: a busy but not saturated server. */
export const LATENCY_RATE_PER_SECOND = 1_000;

/** Pacing tick of the open-loop sender; Node timers do not resolve below one millisecond. */
export const LATENCY_TICK_MS = 1;

/** Connections held open by the idle workload, as in the brief. */
export const IDLE_CONNECTIONS = 10_000;

/** Handshakes in flight at once: a realistic reconnect storm, and it keeps the listen backlog sane. */
export const HANDSHAKE_CONCURRENCY = 200;

/** Connections opened and closed before the idle baseline, so JIT and pools are warm. */
export const IDLE_WARMUP_CONNECTIONS = 500;

/** Pause before reading RSS: lets in-flight handshakes and frees settle (no global.gc there). */
export const RSS_SETTLE_MS = 1_500;

/** Offline recipients and messages to each: 50,000 stored messages, as in the brief. */
export const OFFLINE_USERS = 100;
export const OFFLINE_MESSAGES_PER_USER = 500;

/** Share of the offline volume replayed first to warm the store and delivery paths. */
export const OFFLINE_WARMUP_FRACTION = 0.1;

/** Longest wait for the last messages of a run before the missing ones count as lost. */
export const DRAIN_TIMEOUT_MS = 30_000;

/** Longest wait for one connection to open; a healthy loopback handshake takes milliseconds. */
export const CONNECT_TIMEOUT_MS = 15_000;

/** Seconds of traffic before the measured window, so JIT and socket buffers are warm. */
export const WARMUP_SECONDS = 2;

/** Seconds of the measured window, as in the brief. */
export const MEASURE_SECONDS = 8;

// --- Quick smoke run ------------------------------------------------------------------------

/** `--quick` must finish in well under a minute on two cores, gateway boots included. */
export const QUICK = Object.freeze({
  warmupSeconds: 0.5,
  measureSeconds: 1.5,
  idleConnections: 2_000,
  idleWarmupConnections: 200,
  rssSettleMs: 700,
  offlineUsers: 20,
  offlineMessagesPerUser: 250,
  // A cluster's idle window is as long as its measured one in a full run; here it only has to work.
  clusterBackgroundSeconds: 0.5,
});
