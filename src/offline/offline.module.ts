import { Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { OfflineMessageService } from './offline-message.service.js';
import { OfflineMessageStore } from './offline-message.store.js';
import { createOfflineStore } from './offline-store.factory.js';

@Module({
  providers: [
    {
      provide: OfflineMessageStore,
      useFactory: (config: AppConfig) => createOfflineStore(config),
      inject: [AppConfig],
    },
    OfflineMessageService,
  ],
  exports: [OfflineMessageService],
})
export class OfflineModule {}
