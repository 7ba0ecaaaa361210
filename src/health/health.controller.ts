import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import {
  HealthCheck,
  type HealthCheckResult,
  HealthCheckService,
  type HealthIndicatorFunction,
} from '@nestjs/terminus';
import { OfflineMessageService } from '../offline/offline-message.service.js';
import { GatewayHealthIndicator } from './gateway.health.js';

/**
 * Probes for the Docker HEALTHCHECK and for orchestrators. `/health/live` and `/health/ready`
 * answer in the terminus format and, like every terminus check, 503 `shutting_down` once the
 * application is closing.
 */
@Controller('health')
export class HealthController {
  /** Everything that must hold before new clients are sent here; one line per indicator. */
  private readonly readiness: HealthIndicatorFunction[];

  constructor(
    private readonly offline: OfflineMessageService,
    private readonly health: HealthCheckService,
    private readonly indicators: GatewayHealthIndicator,
  ) {
    this.readiness = [
      () => this.indicators.offlineStore(),
      () => this.indicators.clusterLink(),
      () => this.indicators.accepting(),
    ];
  }

  /** 200 once the offline store is open: the gateway can accept and keep messages. */
  @Get()
  check(): { status: 'ok' } {
    if (!this.offline.isOpen)
      throw new ServiceUnavailableException({ status: 'unavailable', reason: 'offline store is not open' });
    return { status: 'ok' };
  }

  /**
   * 200 while the process runs. Answering is the test: a blocked event loop answers nothing, and
   * the probe's own timeout catches it. Nothing external is checked, so a failing dependency
   * never gets a healthy process restarted.
   */
  @Get('live')
  @HealthCheck()
  live(): Promise<HealthCheckResult> {
    return this.health.check([() => this.indicators.process()]);
  }

  /** 200 when this process should receive new clients: the store is open, the cluster (if any) reachable, and it is not draining. */
  @Get('ready')
  @HealthCheck()
  ready(): Promise<HealthCheckResult> {
    return this.health.check(this.readiness);
  }
}
