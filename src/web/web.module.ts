import { type DynamicModule, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { WebAssets } from './web-assets.js';
import { WEB_ROOT } from './web.constants.js';
import { WebController } from './web.controller.js';

/**
 * The chat page and the SDK bundle, registered only with WEB_CLIENT on: off, the routes do not
 * exist (404), as with the admin API.
 */
@Module({})
export class WebModule {
  static register(config: AppConfig): DynamicModule {
    if (!config.web.enabled) return { module: WebModule };
    return {
      module: WebModule,
      controllers: [WebController],
      providers: [
        { provide: WebAssets, useFactory: (c: AppConfig) => new WebAssets(WEB_ROOT, c), inject: [AppConfig] },
      ],
    };
  }
}
