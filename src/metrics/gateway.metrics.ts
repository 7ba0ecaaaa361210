import { Injectable } from '@nestjs/common';
import {
  Counter,
  Gauge,
  Histogram,
  type MetricObjectWithValues,
  type MetricValueWithName,
  Registry,
  collectDefaultMetrics,
} from 'prom-client';

const PREFIX = 'im_gateway_';

/** Seconds from accept to the frame being handed to the recipient's socket; chat latency lives in ms. */
const DELIVERY_LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5];

/**
 * The delivery latency histogram, kept for the hot path: a delivery costs a bucket search and two
 * additions (`record`), and a scrape folds them into prom-client's samples, instead of an
 * `observe` each (label hashing and a bound search, per message). Messages written to their
 * recipient in the turn that accepted them (the plain-text fast path) cost less still: the hot
 * path bumps `immediate`, and a scrape adds those to every bucket (a latency of 0 falls in all of
 * them) and to the count.
 */
export class DeliveryLatencyHistogram extends Histogram<string> {
  /** Messages delivered in the accepting turn, never observed one by one. */
  immediate = 0;
  /** The bucket bounds, ascending (`+Inf` not included). */
  private readonly bounds: readonly number[];
  /** Deliveries recorded per bucket (not cumulative); the last slot is over the highest bound. */
  private readonly recorded: Float64Array;
  private recordedSum = 0;

  constructor(config: { name: string; help: string; buckets: readonly number[]; registers: Registry[] }) {
    super({ ...config, buckets: [...config.buckets] });
    this.bounds = [...config.buckets].sort((a, b) => a - b);
    this.recorded = new Float64Array(this.bounds.length + 1);
  }

  /** One delivery that took `seconds`. */
  record(seconds: number): void {
    const { bounds } = this;
    let i = 0;
    while (i < bounds.length && seconds > bounds[i]!) i++;
    this.recorded[i]!++;
    this.recordedSum += seconds;
  }

  /** Registry.resetMetrics: what was recorded goes too, and the series stays, at zero. */
  override reset(): void {
    super.reset();
    // prom-client's constructor calls this too, before the fields below exist.
    if (this.recorded === undefined) return;
    this.zero({});
    this.immediate = 0;
    this.recorded.fill(0);
    this.recordedSum = 0;
  }

  /**
   * What the registry's text output reads (prom-client 15 calls it when present, and `get` goes
   * through it too): the histogram's samples, with what `record` and `immediate` counted added.
   */
  async getForPromString(): Promise<MetricObjectWithValues<MetricValueWithName<string>>> {
    const base = (Histogram.prototype as unknown as PromStringSource).getForPromString;
    const metric = await base.call(this);
    const immediate = this.immediate;
    const total = this.recorded.reduce((sum, n) => sum + n, 0);
    if (immediate === 0 && total === 0) return metric;
    const values = metric.values.map((sample) => {
      if (sample.metricName?.endsWith('_bucket')) {
        return { ...sample, value: sample.value + immediate + this.recordedUpTo(sample.labels.le) };
      }
      if (sample.metricName?.endsWith('_count')) return { ...sample, value: sample.value + immediate + total };
      if (sample.metricName?.endsWith('_sum')) return { ...sample, value: sample.value + this.recordedSum };
      return sample;
    });
    return { ...metric, values };
  }

  /** Recorded deliveries in the bucket with upper bound `le` (cumulative, as Prometheus buckets are). */
  private recordedUpTo(le: string | number | undefined): number {
    const bound = le === '+Inf' || le === undefined ? Number.POSITIVE_INFINITY : Number(le);
    let count = 0;
    let i = 0;
    for (; i < this.bounds.length && this.bounds[i]! <= bound; i++) count += this.recorded[i]!;
    // Past the highest bound: only `+Inf` holds those.
    return i === this.bounds.length && bound === Number.POSITIVE_INFINITY ? count + this.recorded[i]! : count;
  }
}

/** prom-client's own method, present on its histograms though not in its type declarations. */
interface PromStringSource {
  getForPromString(this: Histogram<string>): Promise<MetricObjectWithValues<MetricValueWithName<string>>>;
}

/**
 * Every counter the gateway keeps, on a registry of its own (so several gateways can live in one
 * test process). Hot paths hold pre-labelled children so an increment is a field update.
 */
@Injectable()
export class GatewayMetrics {
  readonly registry = new Registry();

  readonly connections = new Gauge({
    name: `${PREFIX}connections`,
    help: 'Live WebSocket connections on this process',
    labelNames: ['protocol'] as const,
    registers: [this.registry],
  });
  readonly connectionsOpened = new Counter({
    name: `${PREFIX}connections_opened_total`,
    help: 'WebSocket connections accepted',
    registers: [this.registry],
  });
  readonly upgradesRefused = new Counter({
    name: `${PREFIX}upgrades_refused_total`,
    help: 'WebSocket upgrades refused before a socket was opened, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  /** Per-message counts are plain fields on the hot path, folded into Prometheus at scrape time. */
  readonly routed = { local: 0, remote: 0, inbox: 0 };
  private readonly routedReported = { local: 0, remote: 0, inbox: 0 };
  readonly messagesRouted = new Counter({
    name: `${PREFIX}messages_routed_total`,
    help: 'Messages accepted and routed, by path (local: a live connection here; remote: a live connection on another node; inbox: stored)',
    labelNames: ['path'] as const,
    registers: [this.registry],
    collect: () => this.foldRouted(),
  });
  readonly framesDropped = new Counter({
    name: `${PREFIX}frames_dropped_total`,
    help: 'Client frames dropped without routing, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly inboxWrites = new Counter({
    name: `${PREFIX}inbox_writes_total`,
    help: 'Messages written to the offline inbox',
    registers: [this.registry],
  });
  /** Messages delivered from the inbox: a plain field on the drain's path, folded in at scrape time. */
  inboxDelivered = 0;
  private inboxDeliveredReported = 0;
  readonly inboxDeliveries = new Counter({
    name: `${PREFIX}inbox_deliveries_total`,
    help: 'Messages delivered from the offline inbox to a connection',
    registers: [this.registry],
    collect: () => {
      this.inboxDeliveries.inc(this.inboxDelivered - this.inboxDeliveredReported);
      this.inboxDeliveredReported = this.inboxDelivered;
    },
  });
  readonly expiredMessages = new Counter({
    name: `${PREFIX}expired_messages_total`,
    help: 'Offline messages purged after OFFLINE_TTL_SECONDS without delivery',
    registers: [this.registry],
  });
  readonly heartbeatTerminations = new Counter({
    name: `${PREFIX}heartbeat_terminations_total`,
    help: 'Connections terminated for not answering a heartbeat ping',
    registers: [this.registry],
  });
  readonly rateLimitedFrames = new Counter({
    name: `${PREFIX}rate_limited_frames_total`,
    help: 'Frames refused by the per-connection rate limit',
    registers: [this.registry],
  });
  readonly slowConsumerCloses = new Counter({
    name: `${PREFIX}slow_consumer_closes_total`,
    help: 'Connections closed with 1013 for not reading what was sent to them',
    registers: [this.registry],
  });
  readonly deliveryLatency = new DeliveryLatencyHistogram({
    name: `${PREFIX}delivery_latency_seconds`,
    help: 'Time from accepting a message to its delivery (acked by a JSON recipient, written to a plain-text one); plain text written straight through in the accepting turn counts as 0',
    buckets: DELIVERY_LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly busRoundTrip = new Histogram({
    name: `${PREFIX}bus_round_trip_seconds`,
    help: "Time for a probe to go round this node's own channel on the node bus (CLUSTER=redis)",
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly redisErrors = new Counter({
    name: `${PREFIX}redis_errors_total`,
    help: 'Failed Redis commands and lost Redis connections of the cluster (CLUSTER=redis)',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    // Both paths exist from the start, so rate() works before the first inbox write.
    for (const path of ['local', 'remote', 'inbox'] as const) this.messagesRouted.labels(path).inc(0);
    // Its buckets exist before the first observation, for the fast path's counts to be added to.
    this.deliveryLatency.zero({});
  }

  private foldRouted(): void {
    for (const path of ['local', 'remote', 'inbox'] as const) {
      const delta = this.routed[path] - this.routedReported[path];
      if (delta > 0) this.messagesRouted.labels(path).inc(delta);
      this.routedReported[path] = this.routed[path];
    }
  }
}
