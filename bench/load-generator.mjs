// The load generator: drives one workload against one running server and prints one JSON line
// with the result on stdout. It runs in its own process (pinned to its own core by run.mjs), so
// the server is measured without the generator's work on its CPU.
//
// node bench/load-generator.mjs --workload throughput --protocol plain \
//   --url ws://127.0.0.1:8080/ws --server-pid 1234 [--warmup 2 --duration 8 ...]
// A cluster: --receiver-url of another node, --server-pid of every node (comma-separated), and
// --redis-port of their Redis, whose use per message is then measured too.
import { parseArgs } from 'node:util';
import * as defaults from './bench.constants.mjs';
import { PROTOCOLS } from './generator/pairs/open-pairs.mjs';
import { runIdleConnections } from './generator/workloads/idle-connections.workload.mjs';
import { runLatency } from './generator/workloads/latency.workload.mjs';
import { RedisObserver } from './generator/redis-observer.mjs';
import { DURABILITY_PROBES, runOffline } from './generator/workloads/offline.workload.mjs';
import { runThroughput } from './generator/workloads/throughput.workload.mjs';

export const WORKLOADS = Object.freeze(['throughput', 'latency', 'idle', 'offline']);

const { values } = parseArgs({
  options: {
    workload: { type: 'string' },
    protocol: { type: 'string', default: 'plain' },
    url: { type: 'string' },
    'receiver-url': { type: 'string' },
    'redis-port': { type: 'string' },
    background: { type: 'string' },
    'server-pid': { type: 'string' },
    'server-cpu': { type: 'string' },
    warmup: { type: 'string', default: String(defaults.WARMUP_SECONDS) },
    duration: { type: 'string', default: String(defaults.MEASURE_SECONDS) },
    pairs: { type: 'string', default: String(defaults.PAIRS) },
    window: { type: 'string', default: String(defaults.THROUGHPUT_WINDOW) },
    rate: { type: 'string', default: String(defaults.LATENCY_RATE_PER_SECOND) },
    connections: { type: 'string', default: String(defaults.IDLE_CONNECTIONS) },
    concurrency: { type: 'string', default: String(defaults.HANDSHAKE_CONCURRENCY) },
    'warmup-connections': { type: 'string', default: String(defaults.IDLE_WARMUP_CONNECTIONS) },
    'settle-ms': { type: 'string', default: String(defaults.RSS_SETTLE_MS) },
    users: { type: 'string', default: String(defaults.OFFLINE_USERS) },
    'per-user': { type: 'string', default: String(defaults.OFFLINE_MESSAGES_PER_USER) },
    'durability-probe': { type: 'string', default: 'none' },
  },
});

function required(name) {
  if (values[name] === undefined) fail(`--${name} is required`);
  return values[name];
}

function positiveNumber(name) {
  const value = Number(values[name]);
  if (!(value > 0)) fail(`--${name} must be a positive number, got "${values[name]}"`);
  return value;
}

function oneOf(name, accepted) {
  if (!accepted.includes(values[name])) fail(`--${name} must be one of ${accepted.join(', ')}`);
  return values[name];
}

function fail(message) {
  process.stderr.write(`load-generator: ${message}\n`);
  process.exit(2);
}

const workload = required('workload');
const protocol = oneOf('protocol', PROTOCOLS);
const pids = required('server-pid').split(',').map(Number);
if (!pids.every((pid) => pid > 0)) fail(`--server-pid must be one pid or several, comma-separated`);
/** `pid` is the first process, the one an idle or offline workload connects to. */
const server = { pid: pids[0], pids, cpu: values['server-cpu'] };
const common = { url: required('url'), server };
const timing = { warmupSeconds: positiveNumber('warmup'), measureSeconds: positiveNumber('duration') };
const redisPort = values['redis-port'];
const cluster = {
  receiverUrl: values['receiver-url'],
  redis: redisPort === undefined ? undefined : await RedisObserver.open(positiveNumber('redis-port')),
  // The idle window measuring Redis's background: as long as the measured one unless told.
  backgroundSeconds: values.background === undefined ? timing.measureSeconds : positiveNumber('background'),
};

function run() {
  switch (workload) {
    case 'throughput':
      return runThroughput({
        ...common,
        ...timing,
        ...cluster,
        protocol,
        pairs: positiveNumber('pairs'),
        window: positiveNumber('window'),
      });
    case 'latency':
      return runLatency({
        ...common,
        ...timing,
        ...cluster,
        protocol,
        pairs: positiveNumber('pairs'),
        rate: positiveNumber('rate'),
      });
    case 'idle':
      return runIdleConnections({
        ...common,
        connections: positiveNumber('connections'),
        concurrency: positiveNumber('concurrency'),
        warmupConnections: positiveNumber('warmup-connections'),
        settleMs: positiveNumber('settle-ms'),
      });
    case 'offline':
      return runOffline({
        ...common,
        users: positiveNumber('users'),
        perUser: positiveNumber('per-user'),
        warmupFraction: defaults.OFFLINE_WARMUP_FRACTION,
        durabilityProbe: oneOf('durability-probe', DURABILITY_PROBES),
      });
    default:
      return fail(`--workload must be one of ${WORKLOADS.join(', ')}, got "${workload}"`);
  }
}

const result = await run();
process.stdout.write(`${JSON.stringify({ workload, protocol, ...result })}\n`);
// Sockets were terminated; exit now rather than wait for their close handshakes to time out.
process.exit(0);
