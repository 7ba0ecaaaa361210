import { Injectable } from '@nestjs/common';
import { type HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { ClusterLink } from '../cluster/cluster-link.js';
import { OfflineMessageService } from '../offline/offline-message.service.js';
import { ReadinessState } from './readiness.state.js';

/** The gateway's own health indicators, in the terminus result format. */
@Injectable()
export class GatewayHealthIndicator {
  constructor(
    private readonly indicator: HealthIndicatorService,
    private readonly offline: OfflineMessageService,
    private readonly readiness: ReadinessState,
    private readonly cluster: ClusterLink,
  ) {}

  /** The process answers at all: its event loop is turning. */
  process(): HealthIndicatorResult<'process'> {
    return this.indicator.check('process').up();
  }

  /** Messages can be accepted and kept. */
  offlineStore(): HealthIndicatorResult<'offline_store'> {
    const check = this.indicator.check('offline_store');
    return this.offline.isOpen ? check.up() : check.down({ reason: 'offline store is not open' });
  }

  /** Presence and the node bus work (always, alone): false while Redis is away or the bus is deaf. */
  clusterLink(): HealthIndicatorResult<'cluster'> {
    const check = this.indicator.check('cluster');
    return this.cluster.isHealthy() ? check.up() : check.down({ reason: 'Redis unreachable or node bus deaf' });
  }

  /** New clients are welcome (not draining before a shutdown). */
  accepting(): HealthIndicatorResult<'accepting'> {
    const check = this.indicator.check('accepting');
    return this.readiness.draining ? check.down({ reason: 'draining before shutdown' }) : check.up();
  }
}
