import { Module } from '@nestjs/common';
import { ConnectionsModule } from '../connections/connections.module.js';
import { OfflineModule } from '../offline/offline.module.js';
import { MessageRouter } from './message-router.service.js';

@Module({ imports: [ConnectionsModule, OfflineModule], providers: [MessageRouter], exports: [MessageRouter] })
export class RoutingModule {}
