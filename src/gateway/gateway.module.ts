import { Module } from '@nestjs/common';
import { ConnectionsModule } from '../connections/connections.module.js';
import { RoutingModule } from '../routing/routing.module.js';
import { ImGateway } from './im.gateway.js';
import { UpgradePolicy } from './upgrade.policy.js';

@Module({ imports: [ConnectionsModule, RoutingModule], providers: [ImGateway, UpgradePolicy], exports: [UpgradePolicy] })
export class GatewayModule {}
