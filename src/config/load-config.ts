import { createPublicKey, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { AppConfig, JwtKeySource } from './app-config.js';
import {
  DEFAULT_DEV_SHUTDOWN_DRAIN_MS,
  DEFAULT_SHUTDOWN_DRAIN_MS,
  DEFAULT_SLOW_CONSUMER_BYTES,
  SLOW_CONSUMER_PAYLOADS,
} from './config.constants.js';
import { type Env, envSchema } from './env.schema.js';

/**
 * Every configuration problem found, worded for the operator: one line each, naming the variable
 * and the rule (and what implied it), never a secret's value.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
  }
}

/** Variables that hold (or may hold, as a URL's password) credentials: a problem names them and the rule, never the value. */
const SECRET_VARIABLES: ReadonlySet<string> = new Set(['JWT_SECRET', 'JWT_PUBLIC_KEY', 'ADMIN_TOKEN', 'REDIS_URL']);

/** `Invalid NAME="value": expected rule`, with the value left out for a credential. */
function invalid(name: string, value: unknown, rule: string): string {
  const shown = SECRET_VARIABLES.has(name) ? ' (value not shown)' : `=${JSON.stringify(value ?? '')}`;
  return `Invalid ${name}${shown}: expected ${rule}`;
}

/** An empty variable means "not set", as in most process managers and compose files. */
function withoutEmpty(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && value !== '') out[key] = value;
  }
  return out;
}

/**
 * Each variable on its own, so that every invalid one is reported at once; the valid ones (with
 * their defaults) still feed the rules that span several variables.
 */
function parseEach(raw: Record<string, string>, problems: string[]): Partial<Env> {
  const parsed: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(envSchema.shape)) {
    const result = schema.safeParse(raw[name]);
    if (result.success) parsed[name] = result.data;
    else problems.push(invalid(name, raw[name], result.error.issues[0]!.message));
  }
  return parsed as Partial<Env>;
}

/**
 * Validates the environment once and maps it to the nested, typed `AppConfig`; throws a
 * `ConfigError` listing every problem.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const problems: string[] = [];
  const e = parseEach(withoutEmpty(env), problems) as Env;
  const production = e.NODE_ENV === 'production';
  const authMode = e.AUTH_MODE ?? (production ? 'jwt' : 'query');
  // Said in every problem that follows from it, with the way out.
  const implied = e.AUTH_MODE === undefined && production ? ' (implied by NODE_ENV=production)' : '';
  if (production && authMode === 'query' && e.ALLOW_INSECURE_AUTH === false) {
    problems.push(
      'Invalid AUTH_MODE="query" with NODE_ENV=production: anyone could connect as anyone; use AUTH_MODE=jwt or set ALLOW_INSECURE_AUTH=true',
    );
  }
  if (production && e.ALLOWED_ORIGINS === undefined && !problems.some((p) => p.startsWith('Invalid ALLOWED_ORIGINS'))) {
    problems.push('Missing ALLOWED_ORIGINS: required with NODE_ENV=production (comma-separated origins, or *)');
  }
  const key = authMode === 'jwt' ? jwtKey(e, implied, problems) : undefined;
  const slowConsumerBytes = consistentLimits(e, problems);
  if (e.CLUSTER === 'redis' && e.OFFLINE_STORE !== 'redis') {
    problems.push(
      `Invalid CLUSTER="redis" with OFFLINE_STORE=${JSON.stringify(e.OFFLINE_STORE)}: the nodes of a cluster share one inbox; set OFFLINE_STORE=redis`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const origins = e.ALLOWED_ORIGINS;
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
      inboxCacheBytes: e.INBOX_CACHE_MB * 1024 * 1024,
      ttlSeconds: e.OFFLINE_TTL_SECONDS,
    },
    redis: { url: e.REDIS_URL, keyPrefix: e.REDIS_KEY_PREFIX },
    cluster: {
      mode: e.CLUSTER,
      nodeId: e.NODE_ID ?? defaultNodeId(),
      presenceTtlSeconds: e.PRESENCE_TTL_SECONDS,
    },
    log: { level: e.LOG_LEVEL, format: e.LOG_FORMAT ?? (production ? 'json' : 'pretty') },
    production,
    auth: {
      mode: authMode,
      jwt:
        key !== undefined
          ? {
              key,
              issuer: e.JWT_ISSUER,
              audience: e.JWT_AUDIENCE,
              clockSkewSeconds: e.JWT_CLOCK_SKEW_SECONDS,
              allowNoExp: e.JWT_ALLOW_NO_EXP,
            }
          : undefined,
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
      slowConsumerBytes: slowConsumerBytes!,
    },
    admin: { token: e.ADMIN_TOKEN },
    shutdown: {
      drainMs: e.SHUTDOWN_DRAIN_MS ?? (production ? DEFAULT_SHUTDOWN_DRAIN_MS : DEFAULT_DEV_SHUTDOWN_DRAIN_MS),
    },
    // A production gateway is an API for the operator's own frontends: the demo page and the
    // SDK route are opt-in there (README, "Chat page").
    web: { enabled: e.WEB_CLIENT ?? !production },
  };
}

/**
 * Unique per process, and readable in logs: the host (a container's id in Docker), the pid, and a
 * random part, since every container's gateway is pid 1 and a restarted one must not be taken
 * for its predecessor.
 */
function defaultNodeId(): string {
  const host =
    hostname()
      .replace(/[^A-Za-z0-9.-]/g, '')
      .slice(0, 40) || 'node';
  return `${host}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/**
 * Limits that must fit together, checked once so that no honest client is ever cut off by their
 * combination: the largest message must fit an inbox, and a connection's slow-consumer budget
 * must hold a full byte window of the largest messages. Skipped for limits that are invalid alone.
 */
function consistentLimits(e: Env, problems: string[]): number | undefined {
  const payload = e.MAX_PAYLOAD_BYTES;
  if (payload === undefined) return undefined;
  if (e.INBOX_MAX_BYTES !== undefined && e.INBOX_MAX_BYTES < payload) {
    problems.push(
      `Invalid INBOX_MAX_BYTES=${e.INBOX_MAX_BYTES}: expected at least MAX_PAYLOAD_BYTES (${payload}), or a message of the largest accepted size could never be queued`,
    );
  }
  const least = SLOW_CONSUMER_PAYLOADS * payload;
  const slowConsumerBytes = e.SLOW_CONSUMER_BYTES ?? Math.max(DEFAULT_SLOW_CONSUMER_BYTES, least);
  if (slowConsumerBytes < least) {
    problems.push(
      `Invalid SLOW_CONSUMER_BYTES=${slowConsumerBytes}: expected at least ${SLOW_CONSUMER_PAYLOADS} × MAX_PAYLOAD_BYTES (${least}), or a client reading as fast as it can would be closed as a slow consumer`,
    );
  }
  return slowConsumerBytes;
}

/** A public key, as a PEM the runtime can read: a private key, or a certificate, is not one. */
function isPublicKeyPem(pem: string): boolean {
  if (!pem.includes('-----BEGIN PUBLIC KEY-----')) return false;
  try {
    createPublicKey({ key: pem, format: 'pem' });
    return true;
  } catch {
    return false;
  }
}

/** Why the JWKS file cannot serve as the key set, in words; undefined when it can. */
function jwksFileProblem(path: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return `no such file (${resolve(path)})`;
    if (code === 'EISDIR') return 'it is a directory, not a file';
    if (code === 'EACCES') return `the process (uid ${process.getuid?.() ?? '?'}) may not read it`;
    return `cannot be read (${code ?? String(error)})`;
  }
  let set: unknown;
  try {
    set = JSON.parse(text);
  } catch {
    return 'expected a JWK set in JSON ({"keys": [...]}), and the file is not JSON';
  }
  const keys = (set as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) return 'expected a JWK set ({"keys": [...]}) with at least one key';
  return undefined;
}

/** AUTH_MODE=jwt needs exactly one key source. */
function jwtKey(e: Env, implied: string, problems: string[]): JwtKeySource | undefined {
  const pem = e.JWT_PUBLIC_KEY?.replace(/\\n/g, '\n');
  const publicKey = pem !== undefined && isPublicKeyPem(pem) ? pem : undefined;
  if (pem !== undefined && publicKey === undefined) {
    problems.push(
      'Invalid JWT_PUBLIC_KEY (value not shown): expected a PEM public key (-----BEGIN PUBLIC KEY-----, RSA or EC), with newlines written as they are or as \\n',
    );
  }
  const jwksProblem = e.JWT_JWKS_FILE === undefined ? undefined : jwksFileProblem(e.JWT_JWKS_FILE);
  if (jwksProblem !== undefined)
    problems.push(`Invalid JWT_JWKS_FILE=${JSON.stringify(e.JWT_JWKS_FILE)}: ${jwksProblem}`);
  const given = ['JWT_SECRET', 'JWT_PUBLIC_KEY', 'JWT_JWKS_FILE'].filter((name) =>
    problems.some((p) => p.startsWith(`Invalid ${name}`)),
  );
  const sources = [
    e.JWT_SECRET !== undefined && { kind: 'secret' as const, secret: e.JWT_SECRET },
    publicKey !== undefined && { kind: 'publicKey' as const, pem: publicKey },
    e.JWT_JWKS_FILE !== undefined && jwksProblem === undefined && { kind: 'jwksFile' as const, path: e.JWT_JWKS_FILE },
  ].filter((s) => s !== false);
  // A key that was given but is invalid has been reported already.
  if (sources.length + given.length === 1) return sources[0];
  problems.push(
    `Invalid JWT_SECRET / JWT_PUBLIC_KEY / JWT_JWKS_FILE: AUTH_MODE=jwt${implied} needs exactly one of them (${sources.length + given.length} set)${implied === '' ? '' : '; the alternative is AUTH_MODE=query with ALLOW_INSECURE_AUTH=true'}`,
  );
  return undefined;
}
