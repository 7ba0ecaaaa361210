import { Module } from '@nestjs/common';
import { ConnectionsModule } from '../connections/connections.module.js';
import { RoutingModule } from '../routing/routing.module.js';
import { AdminMessagesController } from './admin-messages.controller.js';
import { AdminMessagesService } from './admin-messages.service.js';
import { AdminUsersController } from './admin-users.controller.js';
import { AdminUsersService } from './admin-users.service.js';

/** The admin routes the OpenAPI document describes. Reached only through `AdminModule.register`. */
@Module({
  imports: [ConnectionsModule, RoutingModule],
  controllers: [AdminMessagesController, AdminUsersController],
  providers: [AdminMessagesService, AdminUsersService],
})
export class AdminApiModule {}
