import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { type BusEnvelope, type BusHandler, NodeBus } from './node-bus.js';

/** A probe goes round this node's own channel this often. */
export const BUS_PROBE_INTERVAL_MS = 1_000;
/** No probe back for this long while Redis answers commands: the subscription has gone deaf. */
export const BUS_DEAF_AFTER_MS = 5_000;
/** A probe is this prefix and the time it was sent; envelopes are JSON objects, so never start with it. */
const PROBE_PREFIX = 'probe:';

export interface BusObserver {
  /** A probe came back after `seconds`. */
  roundTrip(seconds: number): void;
  /** A Redis command or the subscription failed. */
  error(): void;
  /** The subscription went deaf: envelopes sent here meanwhile were lost. */
  deaf(): void;
}

/**
 * Node-to-node delivery over Redis pub/sub: each node subscribes to its own channel only, so a
 * message costs one PUBLISH to each node that holds its recipient, whatever the cluster's size.
 * The subscriber reconnects and resubscribes by itself (ioredis); a probe published to the
 * node's own channel every second proves the subscription still hears, and one that stops
 * coming back makes the node drop and rebuild the subscription.
 */
export class RedisNodeBus extends NodeBus {
  private readonly logger = new Logger(RedisNodeBus.name);
  private readonly channel: string;
  private handler: BusHandler = () => undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastProbeBack = Date.now();
  private deaf = false;
  /** Subscribed on the current connection: false from a drop until the subscription is confirmed again. */
  private subscribed = false;

  constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    private readonly keyPrefix: string,
    nodeId: string,
    private readonly observer: BusObserver,
    private readonly timing = { probeIntervalMs: BUS_PROBE_INTERVAL_MS, deafAfterMs: BUS_DEAF_AFTER_MS },
  ) {
    super();
    this.channel = this.channelOf(nodeId);
  }

  onEnvelope(handler: BusHandler): void {
    this.handler = handler;
  }

  async start(): Promise<void> {
    this.subscriber.on('message', (channel: string, text: string) => {
      if (channel === this.channel) this.receive(text);
    });
    await this.subscriber.subscribe(this.channel);
    this.subscribed = true;
    this.subscriber.on('close', () => (this.subscribed = false));
    // After every reconnect, whatever the client remembers of its subscriptions.
    this.subscriber.on('ready', () => {
      this.subscriber.subscribe(this.channel).then(
        () => (this.subscribed = true),
        () => this.observer.error(),
      );
    });
    this.lastProbeBack = Date.now();
    this.timer = setInterval(() => this.probe(), this.timing.probeIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  send(node: string, envelope: BusEnvelope): void {
    this.publisher.publish(this.channelOf(node), JSON.stringify(envelope)).catch(() => this.observer.error());
  }

  override isHealthy(): boolean {
    return !this.deaf && this.subscribed && this.publisher.status === 'ready' && this.subscriber.status === 'ready';
  }

  private channelOf(node: string): string {
    return `${this.keyPrefix}bus:${node}`;
  }

  private receive(text: string): void {
    if (text.startsWith(PROBE_PREFIX)) {
      this.lastProbeBack = Date.now();
      this.observer.roundTrip((performance.now() - Number(text.slice(PROBE_PREFIX.length))) / 1000);
      if (this.deaf) this.logger.log('Node bus hears its own probes again');
      this.deaf = false;
      return;
    }
    let envelope: BusEnvelope;
    try {
      envelope = JSON.parse(text) as BusEnvelope;
    } catch {
      this.logger.warn(`Node bus: dropped an envelope that is not JSON (${text.length} characters)`);
      return;
    }
    this.handler(envelope);
  }

  private probe(): void {
    if (this.publisher.status !== 'ready') return;
    if (this.subscriber.status === 'ready' && Date.now() - this.lastProbeBack > this.timing.deafAfterMs) {
      if (!this.deaf) {
        this.logger.warn(
          `Node bus: no probe came back for ${this.timing.deafAfterMs / 1000} s while Redis answers; resubscribing`,
        );
        this.observer.deaf();
      }
      this.deaf = true;
      this.lastProbeBack = Date.now();
      // A new connection, subscribed again once ready.
      this.subscriber.disconnect(true);
    }
    this.publisher.publish(this.channel, `${PROBE_PREFIX}${performance.now()}`).catch(() => this.observer.error());
  }
}
