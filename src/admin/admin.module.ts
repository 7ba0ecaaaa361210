import { type DynamicModule, Module } from '@nestjs/common';
import type { AppConfig } from '../config/app-config.js';
import { AdminApiModule } from './admin-api.module.js';
import { AdminOpenApiController } from './admin-openapi.controller.js';

/**
 * The admin API, registered only when ADMIN_TOKEN is set: without it the routes do not exist
 * (404), so there is no way in to guess at.
 */
@Module({})
export class AdminModule {
  static register(config: AppConfig): DynamicModule {
    if (config.admin.token === undefined) return { module: AdminModule };
    return { module: AdminModule, imports: [AdminApiModule], controllers: [AdminOpenApiController] };
  }
}
