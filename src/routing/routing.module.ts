import { Module } from '@nestjs/common';
import { ClusterModule } from '../cluster/cluster.module.js';
import { ConnectionsModule } from '../connections/connections.module.js';
import { OfflineModule } from '../offline/offline.module.js';
import { MessageRouter } from './message-router.service.js';

@Module({
  imports: [ConnectionsModule, OfflineModule, ClusterModule],
  providers: [MessageRouter],
  exports: [MessageRouter],
})
export class RoutingModule {}
