// The servers a benchmark can start, and the environment each one gets. Every start is a fresh
// process with fresh storage, so no run inherits another run's state.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_WS_PATH, UNLIMITED_RATE } from '../bench.constants.mjs';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const REFERENCE_SCRIPT = fileURLToPath(new URL('../reference-server.mjs', import.meta.url));
export const GATEWAY_ENTRY = join(REPO_ROOT, 'dist', 'main.js');

export const SERVER_KINDS = Object.freeze([
  'reference',
  'reference-batched',
  'reference-durable',
  'gateway',
  'cluster-node',
]);

/** The Debian package's binary, found on PATH; a private one is started for every cluster run. */
const REDIS_SERVER = 'redis-server';

/** Settings every gateway gets, whatever its inbox. */
const GATEWAY_COMMON = Object.freeze({
  // The seed's `?user=ID` identification, as the reference does it.
  AUTH_MODE: 'query',
  RATE_LIMIT_PER_SECOND: UNLIMITED_RATE,
  RATE_LIMIT_BURST: UNLIMITED_RATE,
  // Connection logs at `log` level would cost the gateway a write per handshake.
  LOG_LEVEL: 'warn',
  // No load balancer to wait for: shutdown is not measured and would only slow the run.
  SHUTDOWN_DRAIN_MS: '0',
});

/**
 * What it takes to start a server of `kind` on `port`: command line, environment, and a cleanup
 * for the storage it was given. A `cluster-node` is one gateway of a cluster on `cluster.redisUrl`.
 * @param {(typeof SERVER_KINDS)[number]} kind
 * @param {{ host: string, port: number, gatewayEnv: Record<string, string>,
 *   cluster?: { redisUrl: string, keyPrefix: string, nodeId: string } }} options
 */
export function serverLaunch(kind, { host, port, gatewayEnv, cluster }) {
  const common = { HOST: host, PORT: String(port), WS_PATH: DEFAULT_WS_PATH };
  switch (kind) {
    case 'reference':
      return { argv: [process.execPath, REFERENCE_SCRIPT], cwd: REPO_ROOT, env: common, cleanup() {} };
    case 'reference-batched':
      return {
        argv: [process.execPath, REFERENCE_SCRIPT],
        cwd: REPO_ROOT,
        env: { ...common, BATCH_WRITES: 'turn' },
        cleanup() {},
      };
    case 'reference-durable': {
      // The gateway's file format and durability: its schema, and its `synchronous` unless the
      // run sets another for both.
      const storage = mkdtempSync(join(tmpdir(), 'im-gateway-bench-'));
      const env = {
        ...common,
        BATCH_WRITES: 'turn',
        INBOX: 'sqlite',
        SQLITE_PATH: join(storage, 'reference.db'),
        SQLITE_SYNCHRONOUS: gatewayEnv.SQLITE_SYNCHRONOUS ?? 'full',
      };
      return {
        argv: [process.execPath, REFERENCE_SCRIPT],
        cwd: REPO_ROOT,
        env,
        cleanup: () => rmSync(storage, { recursive: true, force: true }),
      };
    }
    case 'gateway': {
      const storage = mkdtempSync(join(tmpdir(), 'im-gateway-bench-'));
      const env = {
        ...common,
        OFFLINE_STORE: 'sqlite',
        SQLITE_PATH: join(storage, 'offline.db'),
        ...GATEWAY_COMMON,
        ...gatewayEnv,
      };
      return {
        argv: [process.execPath, GATEWAY_ENTRY],
        cwd: REPO_ROOT,
        env,
        cleanup: () => rmSync(storage, { recursive: true, force: true }),
      };
    }
    case 'cluster-node': {
      const env = {
        ...common,
        CLUSTER: 'redis',
        OFFLINE_STORE: 'redis',
        REDIS_URL: cluster.redisUrl,
        REDIS_KEY_PREFIX: cluster.keyPrefix,
        NODE_ID: cluster.nodeId,
        ...GATEWAY_COMMON,
        ...gatewayEnv,
      };
      return { argv: [process.execPath, GATEWAY_ENTRY], cwd: REPO_ROOT, env, cleanup() {} };
    }
    default:
      throw new Error(`unknown server kind "${kind}"; expected one of ${SERVER_KINDS.join(', ')}`);
  }
}

/**
 * A private Redis for one cluster run: loopback only, nothing kept on disk (no RDB snapshot, no
 * AOF), its working folder a fresh temporary one. Nobody else's commands reach it, so its
 * command counts are the nodes' alone, and stopping it leaves no key behind anywhere.
 * @param {{ host: string, port: number }} options
 */
export function redisLaunch({ host, port }) {
  const dir = mkdtempSync(join(tmpdir(), 'im-gateway-bench-redis-'));
  return {
    argv: [
      REDIS_SERVER,
      ...['--bind', host, '--port', String(port), '--save', '', '--appendonly', 'no'],
      ...['--dir', dir, '--daemonize', 'no', '--loglevel', 'warning'],
    ],
    cwd: dir,
    env: {},
    answers: redisAnswersPing,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A loopback PING takes well under a millisecond; a Redis still loading may not answer at all. */
const REDIS_PING_TIMEOUT_MS = 1_000;

/** True once Redis answers PING with PONG. */
function redisAnswersPing(host, port) {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => done(false), REDIS_PING_TIMEOUT_MS);
    const done = (answer) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    socket.setEncoding('latin1');
    socket.once('error', () => done(false));
    socket.once('data', (reply) => done(reply.startsWith('+PONG')));
    socket.write('PING\r\n');
  });
}

/** True when the gateway has been built (`npm run build`). */
export function gatewayBuilt() {
  return existsSync(GATEWAY_ENTRY);
}
