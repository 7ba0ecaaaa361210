import { z } from 'zod';
import {
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  DEFAULT_HOST,
  DEFAULT_MAX_INFLIGHT_PER_CONNECTION,
  DEFAULT_MAX_PAYLOAD_BYTES,
  DEFAULT_OFFLINE_TTL_SECONDS,
  DEFAULT_PORT,
  DEFAULT_SQLITE_PATH,
  DEFAULT_WS_PATH,
  LOG_LEVELS,
  OFFLINE_STORE_DRIVERS,
  SESSION_POLICIES,
  SQLITE_SYNCHRONOUS_MODES,
} from './config.constants.js';

/** An integer in [min, max], written in decimal; the message says what is accepted. */
function integer(min: number, max: number, fallback: number) {
  const accepts = `an integer from ${min} to ${max}`;
  return z
    .string()
    .trim()
    .regex(/^\d+$/, { message: accepts })
    .transform(Number)
    .pipe(z.number().int().min(min, { message: accepts }).max(max, { message: accepts }))
    .default(fallback);
}

function oneOf<const T extends readonly [string, ...string[]]>(values: T, fallback: T[number]) {
  return z.enum(values, { message: `one of ${values.join(', ')}` }).default(fallback);
}

function nonEmpty(fallback: string) {
  return z.string().trim().min(1, { message: 'a non-empty string' }).default(fallback);
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
  OFFLINE_TTL_SECONDS: integer(1, 31_536_000, DEFAULT_OFFLINE_TTL_SECONDS),
  HEARTBEAT_INTERVAL_MS: integer(100, 3_600_000, DEFAULT_HEARTBEAT_INTERVAL_MS),
  MAX_PAYLOAD_BYTES: integer(16, 16_777_216, DEFAULT_MAX_PAYLOAD_BYTES),
  MAX_INFLIGHT_PER_CONNECTION: integer(1, 65_536, DEFAULT_MAX_INFLIGHT_PER_CONNECTION),
  SESSION_POLICY: oneOf(SESSION_POLICIES, 'multi'),
  LOG_LEVEL: oneOf(LOG_LEVELS, 'log'),
});

export type Env = z.infer<typeof envSchema>;
