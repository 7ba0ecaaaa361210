import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { forLog } from '../logging/log-escape.js';
import { GatewayMetrics } from '../metrics/gateway.metrics.js';
import { ConnectionPool } from './connection-pool.service.js';
import type { Connection } from './connection.js';
import { startHeartbeat } from './heartbeat.js';

/** Finds links that died silently (a phone's screen went off, a network vanished) and drops them. */
@Injectable()
export class HeartbeatScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(HeartbeatScheduler.name);
  private heartbeat?: { stop(): void };

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
  }

  onModuleDestroy(): void {
    this.heartbeat?.stop();
  }
}
