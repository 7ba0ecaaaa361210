import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { AppConfig } from '../config/app-config.js';
import { GatewayMetrics } from '../metrics/gateway.metrics.js';
import { connectRedis, onDropped, redisAddress, watchRedis, whenReady } from '../redis/redis-connection.js';
import { LocalNodeBus, type NodeBus } from './node-bus.js';
import { LocalPresence, type Presence } from './presence.js';
import { RedisNodeBus } from './redis-node-bus.js';
import { RedisPresence } from './redis-presence.js';

interface RedisParts {
  readonly commands: Redis;
  readonly subscriber: Redis;
  readonly presence: RedisPresence;
  readonly bus: RedisNodeBus;
}

/**
 * The cluster as the rest of the gateway sees it: presence and the node bus, built for
 * CLUSTER (an exhaustive switch), connected at boot and let go at shutdown. Alone (CLUSTER=none)
 * both are in-process and nothing is connected.
 */
@Injectable()
export class ClusterLink implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Cluster');
  readonly presence: Presence;
  readonly bus: NodeBus;
  private readonly redis: RedisParts | undefined;

  constructor(
    private readonly config: AppConfig,
    metrics: GatewayMetrics,
  ) {
    const { mode, nodeId, presenceTtlSeconds } = config.cluster;
    switch (mode) {
      case 'none':
        this.presence = new LocalPresence(nodeId);
        this.bus = new LocalNodeBus();
        return;
      case 'redis': {
        const { url, keyPrefix } = config.redis;
        const commands = connectRedis(url, `im-gateway:${nodeId}`);
        const subscriber = connectRedis(url, `im-gateway:${nodeId}:bus`);
        const onError = () => metrics.redisErrors.inc();
        watchRedis(commands, 'Cluster', this.logger, onError);
        watchRedis(subscriber, 'Node bus subscription', this.logger, onError);
        const presence = new RedisPresence(commands, keyPrefix, nodeId, presenceTtlSeconds);
        const bus = new RedisNodeBus(commands, subscriber, keyPrefix, nodeId, {
          roundTrip: (seconds) => metrics.busRoundTrip.observe(seconds),
          error: onError,
          deaf: () => presence.lost(),
        });
        // Either connection dropped, however briefly: presence may have gone stale (commands),
        // or what was published meanwhile is lost (the subscription).
        onDropped(commands, () => presence.lost());
        onDropped(subscriber, () => presence.lost());
        this.redis = { commands, subscriber, presence, bus };
        this.presence = presence;
        this.bus = bus;
        return;
      }
      default: {
        const unknown: never = mode;
        throw new Error(`Unknown CLUSTER mode: ${String(unknown)}`);
      }
    }
  }

  async onModuleInit(): Promise<void> {
    if (this.redis === undefined) return;
    const { url } = this.config.redis;
    await Promise.all([
      whenReady(this.redis.commands, url, 'Cluster (CLUSTER=redis)'),
      whenReady(this.redis.subscriber, url, 'Cluster (CLUSTER=redis)'),
    ]);
    await this.redis.bus.start();
    this.redis.presence.start();
    this.logger.log(`Node ${this.config.cluster.nodeId} joined the cluster on Redis at ${redisAddress(url)}`);
  }

  /** After the gateway closed its connections: the node leaves presence, then lets Redis go. */
  async onApplicationShutdown(): Promise<void> {
    if (this.redis === undefined) return;
    const { commands, subscriber, presence, bus } = this.redis;
    bus.stop();
    presence.stop();
    await Promise.allSettled(presence.heldUsers().map((user) => presence.remove(user)));
    commands.disconnect();
    subscriber.disconnect();
  }

  /** Presence and the bus work: false while Redis is away or the bus has gone deaf. */
  isHealthy(): boolean {
    return this.presence.isHealthy() && this.bus.isHealthy();
  }
}
