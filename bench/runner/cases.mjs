// The benchmark cases: what each one runs on which server, which figures it compares, and the
// goal each figure is held to. A case has two sides, reference and gateway; each side is one or
// more measurements (a workload run against a fresh server) whose results the metrics read.

/** A goal on gateway/reference: the gateway figure is at least `value` times the reference's. */
const atLeast = (value) => ({ kind: 'min-ratio', value });
/** A goal on gateway/reference: the gateway figure is at most `value` times the reference's. */
const atMost = (value) => ({ kind: 'max-ratio', value });
/** A goal on gateway - reference: the gateway figure exceeds the reference's by at most `value`. */
const plusAtMost = (value) => ({ kind: 'max-delta', value });

const measure = (server, workload, protocol = 'plain') => ({ server, workload, protocol });

/**
 * @typedef {{ label: string, format: 'rate' | 'ms' | 'bytes' | 'seconds',
 *   pick: (side: Record<string, object>) => number | null, goal?: object }} Metric
 */

export const CASES = Object.freeze([
  {
    name: 'throughput',
    title: '50 pairs, 64-byte messages, 64 unreceived per pair',
    sides: {
      reference: [measure('reference', 'throughput')],
      gateway: [measure('gateway', 'throughput')],
    },
    metrics: [
      { label: 'delivered msg/s', format: 'rate', pick: (s) => s.throughput.deliveredPerSecond, goal: atLeast(0.9) },
      { label: 'msg per server CPU-second', format: 'rate', pick: (s) => s.throughput.deliveredPerServerCpuSecond },
    ],
  },
  {
    name: 'latency',
    title: '1,000 msg/s open loop over 50 pairs',
    sides: {
      reference: [measure('reference', 'latency')],
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
      reference: [measure('reference', 'offline')],
      gateway: [measure('gateway', 'offline')],
    },
    metrics: [
      { label: 'stored msg/s', format: 'rate', pick: (s) => s.offline.storedPerSecond, goal: atLeast(0.5) },
      { label: 'time to store s', format: 'seconds', pick: (s) => s.offline.storeSeconds },
      { label: 'drained msg/s', format: 'rate', pick: (s) => s.offline.drainedPerSecond, goal: atLeast(0.5) },
      { label: 'time to drain s', format: 'seconds', pick: (s) => s.offline.drainSeconds },
    ],
  },
  {
    name: 'json',
    title: 'gateway JSON protocol with acks vs reference plain text',
    sides: {
      reference: [measure('reference', 'throughput'), measure('reference', 'latency')],
      gateway: [measure('gateway', 'throughput', 'json'), measure('gateway', 'latency', 'json')],
    },
    metrics: [
      {
        label: 'delivered msg/s (acked)',
        format: 'rate',
        pick: (s) => s.throughput.deliveredPerSecond,
        goal: atLeast(0.5),
      },
      { label: 'msg per server CPU-second', format: 'rate', pick: (s) => s.throughput.deliveredPerServerCpuSecond },
      { label: 'p50 ms', format: 'ms', pick: (s) => s.latency.latencyMs.p50 },
      { label: 'p99 ms', format: 'ms', pick: (s) => s.latency.latencyMs.p99 },
      { label: 'p99.9 ms', format: 'ms', pick: (s) => s.latency.latencyMs.p999 },
      { label: 'send to `sent` p99 ms', format: 'ms', pick: (s) => s.latency.confirmationMs?.p99 ?? null },
    ],
  },
]);

export const CASE_NAMES = Object.freeze(CASES.map((c) => c.name));

/** Identifies a measurement, so a case can reuse one another case already made in this run. */
export function measurementKey({ server, workload, protocol }) {
  return `${server}/${workload}/${protocol}`;
}
