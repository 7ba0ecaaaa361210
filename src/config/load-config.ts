import { AppConfig } from './app-config.js';
import { envSchema } from './env.schema.js';

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
    log: { level: e.LOG_LEVEL },
  };
}
