import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { ConnectionsModule } from '../connections/connections.module.js';
import { RoutingModule } from '../routing/routing.module.js';
import { ImGateway } from './im.gateway.js';
import { UpgradePolicy } from './upgrade.policy.js';

@Module({
  imports: [AuthModule, ConnectionsModule, RoutingModule],
  providers: [ImGateway, UpgradePolicy],
  exports: [UpgradePolicy],
})
export class GatewayModule {}
