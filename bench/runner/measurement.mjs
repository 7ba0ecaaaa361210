// One measurement: a fresh server on a fresh port, the generator driving one workload against
// it, the server stopped and its storage removed. Nothing carries over from one to the next.
import {
  DRAIN_TIMEOUT_MS,
  HANDSHAKE_CONCURRENCY,
  LATENCY_RATE_PER_SECOND,
  PAIRS,
  THROUGHPUT_WINDOW,
} from '../bench.constants.mjs';
import { freePort } from './free-port.mjs';
import { runGenerator } from './generator-process.mjs';
import { describeExit, ServerProcess } from './server-process.mjs';
import { serverLaunch } from './servers.mjs';

/** Loopback only: the benchmark measures the server, not a network. */
const HOST = '127.0.0.1';
/** Slack on top of a workload's own deadlines for process start-up and connection set-up. */
const GENERATOR_SLACK_MS = 60_000;

/**
 * @param {{ server: 'reference' | 'gateway', workload: string, protocol: string }} measurement
 * @param {{ profile: object, gatewayEnv: Record<string, string> }} options
 * @param {ReturnType<import('./process-placement.mjs').detectPlacement>} placement
 * @returns {Promise<object>} the generator's result line
 */
export async function runMeasurement(measurement, options, placement) {
  const port = await freePort(HOST);
  const launch = serverLaunch(measurement.server, { host: HOST, port, gatewayEnv: options.gatewayEnv });
  const server = new ServerProcess({
    label: measurement.server,
    argv: placement.command(placement.serverCpu, launch.argv),
    cwd: launch.cwd,
    env: launch.env,
    host: HOST,
    port,
  });
  try {
    await server.ready();
    const url = `ws://${HOST}:${port}${launch.env.WS_PATH}`;
    const result = await runGenerator({
      pin: (argv) => placement.command(placement.generatorCpu, argv),
      args: generatorArgs(measurement, options.profile, url, server.pid, placement),
      timeoutMs: generatorTimeoutMs(measurement.workload, options.profile),
    }).catch((error) => {
      // A generator that failed because the server died should say so, with the server's output.
      throw server.exit ? crashed(server) : error;
    });
    if (server.exit) throw crashed(server);
    return result;
  } finally {
    await server.stop();
    launch.cleanup();
  }
}

function crashed(server) {
  return server.failure(`exited during the run (${describeExit(server.exit)})`);
}

function generatorArgs({ server, workload, protocol }, profile, url, pid, placement) {
  const args = ['--workload', workload, '--protocol', protocol, '--url', url, '--server-pid', String(pid)];
  if (placement.serverCpu !== undefined) args.push('--server-cpu', placement.serverCpu);
  switch (workload) {
    case 'throughput':
    case 'latency':
      args.push('--warmup', String(profile.warmupSeconds), '--duration', String(profile.measureSeconds));
      args.push(
        '--pairs',
        String(PAIRS),
        '--window',
        String(THROUGHPUT_WINDOW),
        '--rate',
        String(LATENCY_RATE_PER_SECOND),
      );
      break;
    case 'idle':
      args.push('--connections', String(profile.idleConnections), '--concurrency', String(HANDSHAKE_CONCURRENCY));
      args.push(
        '--warmup-connections',
        String(profile.idleWarmupConnections),
        '--settle-ms',
        String(profile.rssSettleMs),
      );
      break;
    case 'offline':
      args.push('--users', String(profile.offlineUsers), '--per-user', String(profile.offlineMessagesPerUser));
      // The gateway commits inbox writes after routing them; only a JSON `queued` proves them durable.
      args.push('--durability-probe', server === 'gateway' ? 'json' : 'none');
      break;
    default:
      throw new Error(`unknown workload "${workload}"`);
  }
  return args;
}

/** Longest a generator may run: its own deadlines (one drain per phase) plus start-up slack. */
function generatorTimeoutMs(workload, profile) {
  const timed = (profile.warmupSeconds + profile.measureSeconds) * 1000;
  switch (workload) {
    case 'throughput':
    case 'latency':
      return timed + DRAIN_TIMEOUT_MS + GENERATOR_SLACK_MS;
    case 'idle':
      return 2 * profile.rssSettleMs + GENERATOR_SLACK_MS;
    case 'offline':
      // Two rounds (warm-up and measured), each with a store and a drain deadline.
      return 4 * DRAIN_TIMEOUT_MS + GENERATOR_SLACK_MS;
    default:
      throw new Error(`unknown workload "${workload}"`);
  }
}
