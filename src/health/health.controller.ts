import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { OfflineMessageService } from '../offline/offline-message.service.js';

@Controller('health')
export class HealthController {
  constructor(private readonly offline: OfflineMessageService) {}

  /** 200 once the offline store is open: the gateway can accept and keep messages. */
  @Get()
  check(): { status: 'ok' } {
    if (!this.offline.isOpen) throw new ServiceUnavailableException({ status: 'unavailable', reason: 'offline store is not open' });
    return { status: 'ok' };
  }
}
