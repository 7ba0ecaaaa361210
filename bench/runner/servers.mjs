// The servers a benchmark can start, and the environment each one gets. Every start is a fresh
// process with fresh storage, so no run inherits another run's state.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_WS_PATH, UNLIMITED_RATE } from '../bench.constants.mjs';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const REFERENCE_SCRIPT = fileURLToPath(new URL('../reference-server.mjs', import.meta.url));
export const GATEWAY_ENTRY = join(REPO_ROOT, 'dist', 'main.js');

export const SERVER_KINDS = Object.freeze(['reference', 'gateway']);

/**
 * What it takes to start a server of `kind` on `port`: command line, environment, and a cleanup
 * for the storage it was given.
 * @param {'reference' | 'gateway'} kind
 * @param {{ host: string, port: number, gatewayEnv: Record<string, string> }} options
 */
export function serverLaunch(kind, { host, port, gatewayEnv }) {
  const common = { HOST: host, PORT: String(port), WS_PATH: DEFAULT_WS_PATH };
  switch (kind) {
    case 'reference':
      return { argv: [process.execPath, REFERENCE_SCRIPT], cwd: REPO_ROOT, env: common, cleanup() {} };
    case 'gateway': {
      const storage = mkdtempSync(join(tmpdir(), 'im-gateway-bench-'));
      const env = {
        ...common,
        OFFLINE_STORE: 'sqlite',
        SQLITE_PATH: join(storage, 'offline.db'),
        // The seed's `?user=ID` identification, as the reference does it.
        AUTH_MODE: 'query',
        RATE_LIMIT_PER_SECOND: UNLIMITED_RATE,
        RATE_LIMIT_BURST: UNLIMITED_RATE,
        // Connection logs at `log` level would cost the gateway a write per handshake.
        LOG_LEVEL: 'warn',
        // No load balancer to wait for: shutdown is not measured and would only slow the run.
        SHUTDOWN_DRAIN_MS: '0',
        ...gatewayEnv,
      };
      return {
        argv: [process.execPath, GATEWAY_ENTRY],
        cwd: REPO_ROOT,
        env,
        cleanup: () => rmSync(storage, { recursive: true, force: true }),
      };
    }
    default:
      throw new Error(`unknown server kind "${kind}"; expected one of ${SERVER_KINDS.join(', ')}`);
  }
}

/** True when the gateway has been built (`npm run build`). */
export function gatewayBuilt() {
  return existsSync(GATEWAY_ENTRY);
}
