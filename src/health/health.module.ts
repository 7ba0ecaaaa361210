import { Module } from '@nestjs/common';
import { OfflineModule } from '../offline/offline.module.js';
import { HealthController } from './health.controller.js';

@Module({ imports: [OfflineModule], controllers: [HealthController] })
export class HealthModule {}
