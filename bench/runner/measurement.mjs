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
import { redisLaunch, serverLaunch } from './servers.mjs';

/** Loopback only: the benchmark measures the server, not a network. */
const HOST = '127.0.0.1';
/** Slack on top of a workload's own deadlines for process start-up and connection set-up. */
const GENERATOR_SLACK_MS = 60_000;

/**
 * Gateway processes of each cluster side. `same-node` is a one-node cluster, so a message takes
 * the cluster's own path (presence lookup, Redis inbox) and only the crossing differs.
 */
export const CLUSTER_TOPOLOGIES = Object.freeze({ 'same-node': 1, 'cross-node': 2 });

/** Every node of a run shares this prefix; the run's Redis is private, so it needs no more. */
const CLUSTER_KEY_PREFIX = 'im-bench:';

/**
 * @param {{ server: string, workload: string, protocol: string, env?: Record<string, string> }}
 *   measurement a server kind of servers.mjs, or a cluster topology
 * @param {{ profile: object, gatewayEnv: Record<string, string> }} options
 * @param {ReturnType<import('./process-placement.mjs').detectPlacement>} placement
 * @returns {Promise<object>} the generator's result line
 */
export async function runMeasurement(measurement, options, placement) {
  if (Object.hasOwn(CLUSTER_TOPOLOGIES, measurement.server)) {
    return runClusterMeasurement(measurement, options, placement);
  }
  const port = await freePort(HOST);
  const gatewayEnv = { ...options.gatewayEnv, ...measurement.env };
  const launch = serverLaunch(measurement.server, { host: HOST, port, gatewayEnv });
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

/**
 * A cluster measurement: a private Redis, then its nodes; senders connect to the first node and
 * receivers to the last (the same one on the same-node side). The nodes share the server's core,
 * so both sides have one core of gateway; Redis shares the generator's, so the server core's
 * figures are the gateway's alone. The nodes boot on both cores side by side (a boot is a second
 * or two of CPU) and move to the server's core once ready, before any traffic.
 */
async function runClusterMeasurement(measurement, options, placement) {
  const ports = await distinctFreePorts(1 + CLUSTER_TOPOLOGIES[measurement.server]);
  const redisPort = ports.shift();
  const redisSpec = redisLaunch({ host: HOST, port: redisPort });
  const redis = new ServerProcess({
    ...redisSpec,
    label: 'redis-server',
    argv: placement.command(placement.generatorCpu, redisSpec.argv),
    host: HOST,
    port: redisPort,
  });
  const nodes = [];
  try {
    await redis.ready();
    const redisUrl = `redis://${HOST}:${redisPort}`;
    for (const [index, port] of ports.entries()) {
      const nodeId = `node${index + 1}`;
      const launch = serverLaunch('cluster-node', {
        host: HOST,
        port,
        gatewayEnv: options.gatewayEnv,
        cluster: { redisUrl, keyPrefix: CLUSTER_KEY_PREFIX, nodeId },
      });
      nodes.push(
        new ServerProcess({
          label: `gateway ${nodeId}`,
          argv: placement.unpinned(launch.argv),
          cwd: launch.cwd,
          env: launch.env,
          host: HOST,
          port,
        }),
      );
    }
    await Promise.all(nodes.map((node) => node.ready()));
    for (const node of nodes) placement.pin(node.pid, placement.serverCpu);
    const urls = nodes.map((node) => `ws://${HOST}:${node.spec.port}${node.spec.env.WS_PATH}`);
    const pids = nodes.map((node) => node.pid).join(',');
    const args = generatorArgs(measurement, options.profile, urls[0], pids, placement);
    const backgroundSeconds = options.profile.clusterBackgroundSeconds ?? options.profile.measureSeconds;
    args.push('--receiver-url', urls.at(-1), '--redis-port', String(redisPort));
    args.push('--background', String(backgroundSeconds));
    const gone = () => [redis, ...nodes].find((child) => child.exit);
    const result = await runGenerator({
      pin: (argv) => placement.command(placement.generatorCpu, argv),
      args,
      // The idle window that measures the background comes on top of the workload's own time.
      timeoutMs: generatorTimeoutMs(measurement.workload, options.profile) + backgroundSeconds * 1000,
    }).catch((error) => {
      throw gone() ? crashed(gone()) : error;
    });
    if (gone()) throw crashed(gone());
    return result;
  } finally {
    await Promise.all(nodes.map((node) => node.stop()));
    await redis.stop();
    redisSpec.cleanup();
  }
}

/** `count` free ports, all different: the kernel may hand out a port just released again. */
async function distinctFreePorts(count) {
  const ports = new Set();
  while (ports.size < count) ports.add(await freePort(HOST));
  return [...ports];
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
