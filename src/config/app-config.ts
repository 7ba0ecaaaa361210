import type {
  AUTH_MODES,
  CLUSTER_MODES,
  LOG_FORMATS,
  LOG_LEVELS,
  OFFLINE_STORE_DRIVERS,
  SESSION_POLICIES,
  SQLITE_SYNCHRONOUS_MODES,
} from './config.constants.js';

export type OfflineStoreDriver = (typeof OFFLINE_STORE_DRIVERS)[number];
export type SessionPolicy = (typeof SESSION_POLICIES)[number];
export type LogLevel = (typeof LOG_LEVELS)[number];
export type SqliteSynchronous = (typeof SQLITE_SYNCHRONOUS_MODES)[number];
export type AuthMode = (typeof AUTH_MODES)[number];
export type ClusterMode = (typeof CLUSTER_MODES)[number];
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Where the JWT verification key comes from; exactly one. */
export type JwtKeySource =
  | { readonly kind: 'secret'; readonly secret: string }
  | { readonly kind: 'publicKey'; readonly pem: string }
  | { readonly kind: 'jwksFile'; readonly path: string };

/**
 * The validated configuration, grouped by concern. It is also the DI token: inject `AppConfig`.
 * Built once at boot by `loadConfig`; nothing reads `process.env` after that.
 */
export abstract class AppConfig {
  abstract readonly http: { readonly port: number; readonly host: string };
  abstract readonly ws: {
    readonly path: string;
    readonly maxPayloadBytes: number;
    readonly sessionPolicy: SessionPolicy;
    readonly heartbeatIntervalMs: number;
    readonly maxInflightPerConnection: number;
  };
  abstract readonly offline: {
    readonly driver: OfflineStoreDriver;
    readonly sqlitePath: string;
    readonly sqliteSynchronous: SqliteSynchronous;
    /** Heap for inboxes the SQLite store keeps in memory as written (INBOX_CACHE_MB); 0: none. */
    readonly inboxCacheBytes: number;
    readonly ttlSeconds: number;
  };
  /** The Redis that the `redis` inbox and the cluster share (REDIS_URL, REDIS_KEY_PREFIX). */
  abstract readonly redis: { readonly url: string; readonly keyPrefix: string };
  abstract readonly cluster: {
    readonly mode: ClusterMode;
    /** This process in presence, logs and message ids; unique among the nodes of a cluster. */
    readonly nodeId: string;
    readonly presenceTtlSeconds: number;
  };
  abstract readonly log: { readonly level: LogLevel; readonly format: LogFormat };
  abstract readonly production: boolean;
  abstract readonly auth: {
    readonly mode: AuthMode;
    readonly jwt?: {
      readonly key: JwtKeySource;
      readonly issuer?: string;
      readonly audience?: string;
      readonly clockSkewSeconds: number;
      /** Accept tokens without `exp` (they never expire); otherwise they are refused. */
      readonly allowNoExp: boolean;
    };
    /** `undefined` = any origin (`*`). */
    readonly allowedOrigins?: readonly string[];
  };
  abstract readonly limits: {
    readonly ratePerSecond: number;
    readonly rateBurst: number;
    readonly rateCloseAfterSeconds: number;
    readonly maxConnectionsPerUser: number;
    readonly maxConnections: number;
    readonly inboxMaxMessages: number;
    readonly inboxMaxBytes: number;
    readonly slowConsumerBytes: number;
  };
  abstract readonly admin: { readonly token?: string };
  abstract readonly shutdown: { readonly drainMs: number };
  /** The chat page at `/` and the SDK bundle at `/sdk/im-client.js` (WEB_CLIENT). */
  abstract readonly web: { readonly enabled: boolean };
}
