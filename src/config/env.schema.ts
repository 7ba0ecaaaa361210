import { z } from 'zod';
import {
  AUTH_MODES,
  CLUSTER_MODES,
  DEFAULT_INBOX_MAX_BYTES,
  DEFAULT_PRESENCE_TTL_SECONDS,
  DEFAULT_REDIS_KEY_PREFIX,
  DEFAULT_REDIS_URL,
  DEFAULT_INBOX_MAX_MESSAGES,
  DEFAULT_JWT_CLOCK_SKEW_SECONDS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_CONNECTIONS_PER_USER,
  DEFAULT_RATE_LIMIT_BURST,
  DEFAULT_RATE_LIMIT_CLOSE_AFTER_SECONDS,
  DEFAULT_RATE_LIMIT_PER_SECOND,
  LOG_FORMATS,
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  DEFAULT_HOST,
  DEFAULT_MAX_INFLIGHT_PER_CONNECTION,
  DEFAULT_MAX_PAYLOAD_BYTES,
  DEFAULT_OFFLINE_TTL_SECONDS,
  DEFAULT_PORT,
  DEFAULT_SQLITE_PATH,
  DEFAULT_INBOX_CACHE_MB,
  DEFAULT_WS_PATH,
  LOG_LEVELS,
  OFFLINE_STORE_DRIVERS,
  SESSION_POLICIES,
  SQLITE_SYNCHRONOUS_MODES,
} from './config.constants.js';

/** An integer in [min, max], written in decimal; the message says what is accepted. */
function integer(min: number, max: number, fallback: number) {
  return optionalInteger(min, max).default(fallback);
}

/** `integer` whose default is derived from other variables after validation. */
function optionalInteger(min: number, max: number) {
  const accepts = `an integer from ${min} to ${max}`;
  return z
    .string()
    .trim()
    .regex(/^\d+$/, { message: accepts })
    .transform(Number)
    .pipe(z.number().int().min(min, { message: accepts }).max(max, { message: accepts }))
    .optional();
}

function oneOf<const T extends readonly [string, ...string[]]>(values: T, fallback: T[number]) {
  return z.enum(values, { message: `one of ${values.join(', ')}` }).default(fallback);
}

function nonEmpty(fallback: string) {
  return z.string().trim().min(1, { message: 'a non-empty string' }).default(fallback);
}

function optional() {
  return z.string().trim().min(1, { message: 'a non-empty string' }).optional();
}

function flag() {
  return z
    .enum(['true', 'false', '1', '0'], { message: 'true or false' })
    .transform((v) => v === 'true' || v === '1')
    .default(false);
}

/** `flag` whose default depends on other variables (set in `loadConfig`). */
function optionalFlag() {
  return z
    .enum(['true', 'false', '1', '0'], { message: 'true or false' })
    .transform((v) => v === 'true' || v === '1')
    .optional();
}

/** Comma-separated origins, or `*`; each origin is scheme://host[:port] as browsers send it. */
function origins() {
  return z
    .string()
    .trim()
    .transform((v) =>
      v
        .split(',')
        .map((o) => o.trim().replace(/\/+$/, ''))
        .filter((o) => o !== ''),
    )
    .pipe(
      z
        .array(
          z.string().regex(/^(\*|[a-z][a-z0-9+.-]*:\/\/[^\s/]+)$/i, {
            message:
              'origins as browsers send them, scheme://host[:port] (https://app.example.com), comma-separated, or *',
          }),
        )
        .min(1, { message: 'a comma-separated list of origins (https://app.example.com) or *' }),
    )
    .optional();
}

/** The flat environment, exactly as operators write it. */
export const envSchema = z.object({
  PORT: integer(0, 65_535, DEFAULT_PORT),
  HOST: nonEmpty(DEFAULT_HOST),
  WS_PATH: nonEmpty(DEFAULT_WS_PATH).pipe(
    z.string().regex(/^\/[^\s?#]*$/, { message: 'a path starting with / (no spaces, ? or #)' }),
  ),
  OFFLINE_STORE: oneOf(OFFLINE_STORE_DRIVERS, 'sqlite'),
  SQLITE_PATH: nonEmpty(DEFAULT_SQLITE_PATH),
  SQLITE_SYNCHRONOUS: oneOf(SQLITE_SYNCHRONOUS_MODES, 'full'),
  INBOX_CACHE_MB: integer(0, 65_536, DEFAULT_INBOX_CACHE_MB),
  REDIS_URL: nonEmpty(DEFAULT_REDIS_URL).pipe(
    z.string().regex(/^rediss?:\/\/[^\s]+$/i, { message: 'a redis:// or rediss:// URL (redis://host:6379/0)' }),
  ),
  REDIS_KEY_PREFIX: nonEmpty(DEFAULT_REDIS_KEY_PREFIX).pipe(
    z.string().regex(/^[^\s{}]{1,64}$/, { message: 'up to 64 characters, without spaces or braces' }),
  ),
  CLUSTER: oneOf(CLUSTER_MODES, 'none'),
  /** Default: unique per process, in `loadConfig`. */
  NODE_ID: optional().pipe(
    z
      .string()
      .regex(/^[A-Za-z0-9._:-]{1,64}$/, { message: 'up to 64 letters, digits, dots, dashes, colons or underscores' })
      .optional(),
  ),
  PRESENCE_TTL_SECONDS: integer(3, 3_600, DEFAULT_PRESENCE_TTL_SECONDS),
  OFFLINE_TTL_SECONDS: integer(1, 31_536_000, DEFAULT_OFFLINE_TTL_SECONDS),
  HEARTBEAT_INTERVAL_MS: integer(100, 3_600_000, DEFAULT_HEARTBEAT_INTERVAL_MS),
  MAX_PAYLOAD_BYTES: integer(16, 16_777_216, DEFAULT_MAX_PAYLOAD_BYTES),
  MAX_INFLIGHT_PER_CONNECTION: integer(1, 65_536, DEFAULT_MAX_INFLIGHT_PER_CONNECTION),
  SESSION_POLICY: oneOf(SESSION_POLICIES, 'multi'),
  LOG_LEVEL: oneOf(LOG_LEVELS, 'log'),
  LOG_FORMAT: z.enum(LOG_FORMATS, { message: `one of ${LOG_FORMATS.join(', ')}` }).optional(),
  NODE_ENV: z.string().trim().optional(),
  AUTH_MODE: z.enum(AUTH_MODES, { message: `one of ${AUTH_MODES.join(', ')}` }).optional(),
  ALLOW_INSECURE_AUTH: flag(),
  JWT_SECRET: z.string().min(32, { message: 'a secret of at least 32 characters (HS256)' }).optional(),
  JWT_PUBLIC_KEY: optional(),
  JWT_JWKS_FILE: optional(),
  JWT_ISSUER: optional(),
  JWT_AUDIENCE: optional(),
  JWT_CLOCK_SKEW_SECONDS: integer(0, 3_600, DEFAULT_JWT_CLOCK_SKEW_SECONDS),
  /** Off by default: a token without `exp` would be valid forever, and a leaked one with it. */
  JWT_ALLOW_NO_EXP: flag(),
  ALLOWED_ORIGINS: origins(),
  RATE_LIMIT_PER_SECOND: integer(1, 1_000_000_000, DEFAULT_RATE_LIMIT_PER_SECOND),
  RATE_LIMIT_BURST: integer(1, 1_000_000_000, DEFAULT_RATE_LIMIT_BURST),
  RATE_LIMIT_CLOSE_AFTER_SECONDS: integer(1, 3_600, DEFAULT_RATE_LIMIT_CLOSE_AFTER_SECONDS),
  MAX_CONNECTIONS_PER_USER: integer(1, 1_000_000, DEFAULT_MAX_CONNECTIONS_PER_USER),
  MAX_CONNECTIONS: integer(1, 10_000_000, DEFAULT_MAX_CONNECTIONS),
  INBOX_MAX_MESSAGES: integer(1, 100_000_000, DEFAULT_INBOX_MAX_MESSAGES),
  INBOX_MAX_BYTES: integer(1_024, 1_099_511_627_776, DEFAULT_INBOX_MAX_BYTES),
  /** Default derived from MAX_PAYLOAD_BYTES in `loadConfig`. */
  SLOW_CONSUMER_BYTES: optionalInteger(1_024, 1_073_741_824),
  ADMIN_TOKEN: z.string().min(16, { message: 'a token of at least 16 characters' }).optional(),
  /** Default depends on NODE_ENV, in `loadConfig`. */
  SHUTDOWN_DRAIN_MS: optionalInteger(0, 60_000),
  /** Default derived from NODE_ENV in `loadConfig`: on in development, off in production. */
  WEB_CLIENT: optionalFlag(),
});

export type Env = z.infer<typeof envSchema>;
