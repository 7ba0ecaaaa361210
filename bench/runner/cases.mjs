// The benchmark cases: what each one runs on which server, which figures it compares, and the
// goal each figure is held to. A case has two sides, reference and gateway; each side is one or
// more measurements (a workload run against a fresh server) whose results the metrics read.

/** A goal on gateway/reference: the gateway figure is at least `value` times the reference's. */
const atLeast = (value) => ({ kind: 'min-ratio', value });
/** A goal on gateway/reference: the gateway figure is at most `value` times the reference's. */
const atMost = (value) => ({ kind: 'max-ratio', value });
/** A goal on gateway - reference: the gateway figure exceeds the reference's by at most `value`. */
const plusAtMost = (value) => ({ kind: 'max-delta', value });

/** `env` is extra gateway environment for this measurement alone, on top of `--gateway-env`. */
const measure = (server, workload, protocol = 'plain', env = {}) => ({ server, workload, protocol, env });

/** The reference every gateway figure is held to: bare `ws` batching its writes per turn. */
const REFERENCE = 'reference-batched';

/** The JSON case against the reference's plain text, with the gateway's inbox set by `env`. */
function jsonCase(name, title, env) {
  return {
    name,
    title,
    sides: {
      reference: [measure(REFERENCE, 'throughput'), measure(REFERENCE, 'latency')],
      gateway: [measure('gateway', 'throughput', 'json', env), measure('gateway', 'latency', 'json', env)],
    },
    metrics: [
      {
        label: 'delivered msg/s (acked)',
        format: 'rate',
        pick: (s) => s.throughput.deliveredPerSecond,
        goal: atLeast(0.25),
      },
      { label: 'server CPU us/msg', format: 'micros', pick: (s) => s.throughput.serverCpuMicrosPerMessage },
      { label: 'p50 ms', format: 'ms', pick: (s) => s.latency.latencyMs.p50 },
      { label: 'p99 ms', format: 'ms', pick: (s) => s.latency.latencyMs.p99, goal: plusAtMost(1) },
      { label: 'p99.9 ms', format: 'ms', pick: (s) => s.latency.latencyMs.p999 },
      { label: 'send to `sent` p99 ms', format: 'ms', pick: (s) => s.latency.confirmationMs?.p99 ?? null },
    ],
  };
}

/**
 * One cluster side: both protocols, each with the throughput and latency workloads, named by
 * protocol and workload (`as`) since one side runs each workload twice. `--quick` runs the
 * throughput ones only (`quick: false`): enough to see every message cross nodes intact in
 * both protocols within the smoke run's time.
 */
const clusterSide = (server) =>
  ['plain', 'json'].flatMap((protocol) => [
    { ...measure(server, 'throughput', protocol), as: `${protocol}Throughput` },
    { ...measure(server, 'latency', protocol), as: `${protocol}Latency`, quick: false },
  ]);

/** The cluster figures of one protocol; latency and commands sent come from the latency workload. */
function clusterMetrics(protocol, label) {
  const saturated = `${protocol}Throughput`;
  const paced = `${protocol}Latency`;
  const metrics = [
    { label: `${label}: delivered msg/s`, format: 'rate', pick: (s) => s[saturated].deliveredPerSecond },
    {
      label: `${label}: gateway CPU us/msg`,
      format: 'micros',
      pick: (s) => s[saturated].serverCpuMicrosPerMessage,
    },
    { label: `${label}: p50 ms`, format: 'ms', pick: (s) => s[paced]?.latencyMs.p50 ?? null },
    { label: `${label}: p99 ms`, format: 'ms', pick: (s) => s[paced]?.latencyMs.p99 ?? null },
  ];
  if (protocol === 'json') {
    metrics.push({
      label: `${label}: send to \`sent\` p99 ms`,
      format: 'ms',
      pick: (s) => s[paced]?.confirmationMs?.p99 ?? null,
    });
  }
  metrics.push(
    {
      label: `${label}: Redis commands sent/msg`,
      format: 'count',
      pick: (s) => s[paced]?.redis?.sent?.perMessage ?? null,
    },
    {
      label: `${label}: Redis calls/msg, saturated`,
      format: 'count',
      pick: (s) => s[saturated].redis?.commands.perMessage ?? null,
    },
    {
      label: `${label}: Redis CPU us/msg`,
      format: 'micros',
      pick: (s) => s[saturated].redis?.cpuMicrosPerMessage ?? null,
    },
  );
  return metrics;
}

/**
 * @typedef {{ label: string, format: 'rate' | 'ms' | 'bytes' | 'seconds',
 *   pick: (side: Record<string, object>) => number | null, goal?: object }} Metric
 */

export const CASES = Object.freeze([
  {
    name: 'references',
    title: 'the two yardsticks: bare ws, and bare ws batching its writes per event-loop turn',
    columns: ['ws', 'ws batching'],
    sides: {
      reference: [measure('reference', 'throughput'), measure('reference', 'latency')],
      gateway: [measure(REFERENCE, 'throughput'), measure(REFERENCE, 'latency')],
    },
    metrics: [
      { label: 'delivered msg/s', format: 'rate', pick: (s) => s.throughput.deliveredPerSecond },
      { label: 'server CPU us/msg', format: 'micros', pick: (s) => s.throughput.serverCpuMicrosPerMessage },
      { label: 'p99 ms', format: 'ms', pick: (s) => s.latency.latencyMs.p99 },
    ],
  },
  {
    name: 'throughput',
    title: '50 pairs, 64-byte messages, 64 unreceived per pair',
    sides: {
      reference: [measure(REFERENCE, 'throughput')],
      gateway: [measure('gateway', 'throughput')],
    },
    metrics: [
      { label: 'delivered msg/s', format: 'rate', pick: (s) => s.throughput.deliveredPerSecond, goal: atLeast(0.9) },
      // The fair figure when the generator, not the server, sets the pace.
      {
        label: 'server CPU us/msg',
        format: 'micros',
        pick: (s) => s.throughput.serverCpuMicrosPerMessage,
        goal: atMost(1.1),
      },
    ],
  },
  {
    name: 'latency',
    title: '1,000 msg/s open loop over 50 pairs',
    sides: {
      reference: [measure(REFERENCE, 'latency')],
      gateway: [measure('gateway', 'latency')],
    },
    metrics: [
      { label: 'p50 ms', format: 'ms', pick: (s) => s.latency.latencyMs.p50 },
      { label: 'p99 ms', format: 'ms', pick: (s) => s.latency.latencyMs.p99, goal: plusAtMost(0.5) },
      { label: 'p99.9 ms', format: 'ms', pick: (s) => s.latency.latencyMs.p999 },
    ],
  },
  {
    name: 'idle',
    title: 'idle connections, 200 handshakes in flight',
    sides: {
      // Nothing is written while connections sit idle: the plain reference is the same relay.
      reference: [measure('reference', 'idle')],
      gateway: [measure('gateway', 'idle')],
    },
    metrics: [
      { label: 'handshakes/s', format: 'rate', pick: (s) => s.idle.handshakesPerSecond, goal: atLeast(0.7) },
      { label: 'RSS per connection', format: 'bytes', pick: (s) => s.idle.rssPerConnectionBytes, goal: atMost(1.5) },
    ],
  },
  {
    name: 'offline',
    title: 'backlog to offline users, then drained on connect (reference inbox in memory)',
    sides: {
      reference: [measure(REFERENCE, 'offline')],
      gateway: [measure('gateway', 'offline')],
    },
    metrics: [
      { label: 'stored msg/s', format: 'rate', pick: (s) => s.offline.storedPerSecond },
      { label: 'drained msg/s', format: 'rate', pick: (s) => s.offline.drainedPerSecond, goal: atLeast(0.5) },
      { label: 'time to drain s', format: 'seconds', pick: (s) => s.offline.drainSeconds },
    ],
  },
  {
    name: 'store',
    title: 'the same backlog against a bare batched SQLite insert (same schema and synchronous)',
    sides: {
      reference: [measure('reference-durable', 'offline')],
      gateway: [measure('gateway', 'offline')],
    },
    metrics: [
      { label: 'stored msg/s', format: 'rate', pick: (s) => s.offline.storedPerSecond, goal: atLeast(0.6) },
      { label: 'time to store s', format: 'seconds', pick: (s) => s.offline.storeSeconds },
    ],
  },
  jsonCase('json', 'gateway JSON protocol with acks (SQLite inbox) vs reference plain text', {}),
  jsonCase('json-memory', 'the same with OFFLINE_STORE=memory', { OFFLINE_STORE: 'memory' }),
  {
    name: 'cluster',
    title: 'two nodes on one Redis: sender on node 1, recipient on node 2, against both on one node',
    // Both sides are gateways: the columns are the two placements, and the ratio is cross/same.
    columns: ['same node', 'cross node'],
    gatewayOnly: true,
    sides: {
      reference: clusterSide('same-node'),
      gateway: clusterSide('cross-node'),
    },
    metrics: [
      ...clusterMetrics('plain', 'plain'),
      ...clusterMetrics('json', 'json+acks'),
      {
        label: 'idle: Redis calls/s',
        format: 'decimal',
        pick: (s) => s.plainThroughput.redis?.background.commandsPerSecond ?? null,
      },
    ],
  },
]);

export const CASE_NAMES = Object.freeze(CASES.map((c) => c.name));

/** Column titles of a case's two sides, unless it says otherwise. */
export const DEFAULT_COLUMNS = Object.freeze(['reference', 'gateway']);

/**
 * The case as this run measures it: without the measurements `--quick` leaves out, or null when
 * nothing of it can run (`--reference-only` and a case made of gateways alone).
 * @param {(typeof CASES)[number]} benchCase
 * @param {{ quick: boolean, referenceOnly: boolean }} options
 */
export function planCase(benchCase, { quick, referenceOnly }) {
  if (referenceOnly && benchCase.gatewayOnly) return null;
  const keep = (measurement) => !(quick && measurement.quick === false);
  const sides = Object.fromEntries(
    Object.entries(benchCase.sides).map(([side, measurements]) => [side, measurements.filter(keep)]),
  );
  return { ...benchCase, columns: benchCase.columns ?? DEFAULT_COLUMNS, sides };
}

/** Where a measurement's result sits in a round: its `as` name, or its workload's. */
export function resultName(measurement) {
  return measurement.as ?? measurement.workload;
}

/** Identifies a measurement, so a case can reuse one another case already made in this run. */
export function measurementKey({ server, workload, protocol, env = {} }) {
  const extra = Object.entries(env).map(([key, value]) => `${key}=${value}`);
  return [`${server}/${workload}/${protocol}`, ...extra].join(' ');
}
