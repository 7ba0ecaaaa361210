import { Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ClusterModule } from '../cluster/cluster.module.js';
import { OfflineModule } from '../offline/offline.module.js';
import { GatewayHealthIndicator } from './gateway.health.js';
import { HealthController } from './health.controller.js';
import { ReadinessState } from './readiness.state.js';

/**
 * Global so the shutdown sequence can reach `ReadinessState`.
 * Terminus logs nothing: probes poll every few seconds and a 503 while draining is expected, so
 * its per-probe error log would flood; state changes are logged once, where they happen.
 */
@Global()
@Module({
  imports: [TerminusModule.forRoot({ logger: false }), OfflineModule, ClusterModule],
  controllers: [HealthController],
  providers: [ReadinessState, GatewayHealthIndicator],
  exports: [ReadinessState],
})
export class HealthModule {}
