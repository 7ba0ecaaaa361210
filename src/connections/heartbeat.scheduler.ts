import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { forLog } from '../logging/log-escape.js';
import { GatewayMetrics } from '../metrics/gateway.metrics.js';
import { ConnectionPool } from './connection-pool.service.js';
import type { Connection } from './connection.js';
import { startFragmentDeadline } from './fragment-deadline.js';
import { startHeartbeat } from './heartbeat.js';

/**
 * Finds links that died silently (a phone's screen went off, a network vanished) and drops them;
 * likewise clients that hold a fragmented message open without finishing it.
 */
@Injectable()
export class HeartbeatScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(HeartbeatScheduler.name);
  private heartbeat?: { stop(): void };
  private fragmentDeadline?: { stop(): void };

  constructor(
    private readonly pool: ConnectionPool,
    private readonly metrics: GatewayMetrics,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.heartbeat = startHeartbeat(
      () => this.pool.connections(),
      this.config.ws.heartbeatIntervalMs,
      (connection: Connection) => {
        this.metrics.heartbeatTerminations.inc();
        this.logger.log(`Heartbeat lost: terminated connection ${connection.id} of user ${forLog(connection.user)}`);
      },
    );
    this.fragmentDeadline = startFragmentDeadline(
      () => this.pool.connections(),
      (connection: Connection) => {
        this.metrics.framesDropped.labels('unfinished_fragments').inc();
        this.logger.log(
          `Fragmented message not finished in time: closed connection ${connection.id} of user ${connection.user}`,
        );
      },
    );
  }

  onModuleDestroy(): void {
    this.heartbeat?.stop();
    this.fragmentDeadline?.stop();
  }
}
