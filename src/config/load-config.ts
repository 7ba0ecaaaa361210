import type { AppConfig, JwtKeySource } from './app-config.js';
import { DEFAULT_SLOW_CONSUMER_BYTES, SLOW_CONSUMER_PAYLOADS } from './config.constants.js';
import { type Env, envSchema } from './env.schema.js';

/** A configuration problem, worded for the operator: one line naming the variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** An empty variable means "not set", as in most process managers and compose files. */
function withoutEmpty(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && value !== '') out[key] = value;
  }
  return out;
}

/** Validates the environment once and maps it to the nested, typed `AppConfig`. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = envSchema.safeParse(withoutEmpty(env));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0]);
    throw new ConfigError(`Invalid ${name}=${JSON.stringify(env[name] ?? '')}: expected ${issue.message}`);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  const authMode = e.AUTH_MODE ?? (production ? 'jwt' : 'query');
  if (production && authMode === 'query' && !e.ALLOW_INSECURE_AUTH) {
    throw new ConfigError(
      'Invalid AUTH_MODE="query" with NODE_ENV=production: anyone could connect as anyone; use AUTH_MODE=jwt or set ALLOW_INSECURE_AUTH=true',
    );
  }
  if (production && e.ALLOWED_ORIGINS === undefined) {
    throw new ConfigError('Missing ALLOWED_ORIGINS: required with NODE_ENV=production (comma-separated origins, or *)');
  }
  const origins = e.ALLOWED_ORIGINS;
  const { slowConsumerBytes } = consistentLimits(e);
  return {
    http: { port: e.PORT, host: e.HOST },
    ws: {
      path: e.WS_PATH,
      maxPayloadBytes: e.MAX_PAYLOAD_BYTES,
      sessionPolicy: e.SESSION_POLICY,
      heartbeatIntervalMs: e.HEARTBEAT_INTERVAL_MS,
      maxInflightPerConnection: e.MAX_INFLIGHT_PER_CONNECTION,
    },
    offline: {
      driver: e.OFFLINE_STORE,
      sqlitePath: e.SQLITE_PATH,
      sqliteSynchronous: e.SQLITE_SYNCHRONOUS,
      ttlSeconds: e.OFFLINE_TTL_SECONDS,
    },
    log: { level: e.LOG_LEVEL, format: e.LOG_FORMAT ?? (production ? 'json' : 'pretty') },
    production,
    auth: {
      mode: authMode,
      jwt: authMode === 'jwt' ? { ...jwtKey(e), issuer: e.JWT_ISSUER, audience: e.JWT_AUDIENCE, clockSkewSeconds: e.JWT_CLOCK_SKEW_SECONDS, allowNoExp: e.JWT_ALLOW_NO_EXP } : undefined,
      allowedOrigins: origins === undefined || origins.includes('*') ? undefined : origins,
    },
    limits: {
      ratePerSecond: e.RATE_LIMIT_PER_SECOND,
      rateBurst: e.RATE_LIMIT_BURST,
      rateCloseAfterSeconds: e.RATE_LIMIT_CLOSE_AFTER_SECONDS,
      maxConnectionsPerUser: e.MAX_CONNECTIONS_PER_USER,
      maxConnections: e.MAX_CONNECTIONS,
      inboxMaxMessages: e.INBOX_MAX_MESSAGES,
      inboxMaxBytes: e.INBOX_MAX_BYTES,
      slowConsumerBytes,
    },
    admin: { token: e.ADMIN_TOKEN },
    shutdown: { drainMs: e.SHUTDOWN_DRAIN_MS },
  };
}

/**
 * Limits that must fit together, checked once so that no honest client is ever cut off by their
 * combination: the largest message must fit an inbox, and a connection's slow-consumer budget
 * must hold a full byte window of the largest messages.
 */
function consistentLimits(e: Env): { slowConsumerBytes: number } {
  const payload = e.MAX_PAYLOAD_BYTES;
  if (e.INBOX_MAX_BYTES < payload) {
    throw new ConfigError(
      `Invalid INBOX_MAX_BYTES=${e.INBOX_MAX_BYTES}: expected at least MAX_PAYLOAD_BYTES (${payload}), or a message of the largest accepted size could never be queued`,
    );
  }
  const least = SLOW_CONSUMER_PAYLOADS * payload;
  const slowConsumerBytes = e.SLOW_CONSUMER_BYTES ?? Math.max(DEFAULT_SLOW_CONSUMER_BYTES, least);
  if (slowConsumerBytes < least) {
    throw new ConfigError(
      `Invalid SLOW_CONSUMER_BYTES=${slowConsumerBytes}: expected at least ${SLOW_CONSUMER_PAYLOADS} × MAX_PAYLOAD_BYTES (${least}), or a client reading as fast as it can would be closed as a slow consumer`,
    );
  }
  return { slowConsumerBytes };
}

/** AUTH_MODE=jwt needs exactly one key source. */
function jwtKey(e: Env): { key: JwtKeySource } {
  const sources = [
    e.JWT_SECRET !== undefined && { kind: 'secret' as const, secret: e.JWT_SECRET },
    e.JWT_PUBLIC_KEY !== undefined && { kind: 'publicKey' as const, pem: e.JWT_PUBLIC_KEY.replace(/\\n/g, '\n') },
    e.JWT_JWKS_FILE !== undefined && { kind: 'jwksFile' as const, path: e.JWT_JWKS_FILE },
  ].filter((s) => s !== false);
  if (sources.length !== 1) {
    throw new ConfigError(
      'Invalid JWT_SECRET / JWT_PUBLIC_KEY / JWT_JWKS_FILE: AUTH_MODE=jwt needs exactly one of them',
    );
  }
  return { key: sources[0]! };
}
