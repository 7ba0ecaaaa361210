import type {
  LOG_LEVELS,
  OFFLINE_STORE_DRIVERS,
  SESSION_POLICIES,
  SQLITE_SYNCHRONOUS_MODES,
} from './config.constants.js';

export type OfflineStoreDriver = (typeof OFFLINE_STORE_DRIVERS)[number];
export type SessionPolicy = (typeof SESSION_POLICIES)[number];
export type LogLevel = (typeof LOG_LEVELS)[number];
export type SqliteSynchronous = (typeof SQLITE_SYNCHRONOUS_MODES)[number];

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
    readonly ttlSeconds: number;
  };
  abstract readonly log: { readonly level: LogLevel };
}
