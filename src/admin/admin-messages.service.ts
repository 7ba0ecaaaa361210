import {
  ConflictException,
  type HttpException,
  Injectable,
  Logger,
  PayloadTooLargeException,
  ServiceUnavailableException,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AppConfig } from '../config/app-config.js';
import type { SendFailure } from '../messages/send-listener.js';
import { STORE_UNAVAILABLE_TEXT } from '../messages/error-code.js';
import { forLog } from '../logging/log-escape.js';
import { messageIdFor } from '../routing/message-id.js';
import { MessageRouter } from '../routing/message-router.service.js';
import { SEND_WAIT_MS, SYSTEM_SENDER } from './admin.constants.js';
import { SendConfirmation } from './send-confirmation.js';
import type { SendMessageDto, SendResult } from './send-message.dto.js';

/**
 * The HTTP answer to a refused send. A full inbox is the recipient's state, not a fault of the
 * gateway: 409, so it does not count as a server error.
 */
function refusal(failure: SendFailure, reason: string): HttpException {
  switch (failure) {
    case 'INBOX_FULL':
      return new ConflictException(reason);
    case 'STORE_UNAVAILABLE':
      return new ServiceUnavailableException(STORE_UNAVAILABLE_TEXT);
    default:
      throw new Error(`unknown send failure ${String(failure satisfies never)}`);
  }
}

/** Sends on behalf of the operator, routed and confirmed exactly like a JSON client's `send`. */
@Injectable()
export class AdminMessagesService {
  private readonly logger = new Logger(AdminMessagesService.name);
  private readonly maxBodyBytes: number;

  constructor(
    private readonly router: MessageRouter,
    config: AppConfig,
  ) {
    this.maxBodyBytes = config.ws.maxPayloadBytes;
  }

  /**
   * Answers once the message is queued or delivered, or `pending` when a live recipient has not
   * acked within `SEND_WAIT_MS`. Idempotent per (from, id): a repeat answers the same messageId
   * and the current status.
   */
  async send({ from = SYSTEM_SENDER, to, body, id = randomUUID() }: SendMessageDto): Promise<SendResult> {
    if (Buffer.byteLength(body, 'utf8') > this.maxBodyBytes) {
      throw new PayloadTooLargeException(`body: larger than ${this.maxBodyBytes} bytes (MAX_PAYLOAD_BYTES)`);
    }
    const confirmation = new SendConfirmation();
    try {
      await this.router.sendTracked(from, id, to, body, confirmation);
    } catch (error) {
      this.logger.warn(`Admin send from ${forLog(from)} to ${forLog(to)} failed: ${String(error)}`);
      throw new ServiceUnavailableException(STORE_UNAVAILABLE_TEXT);
    }
    const outcome = await confirmation.wait(SEND_WAIT_MS);
    if (outcome?.ok === false) throw refusal(outcome.failure, outcome.reason);
    const messageId = outcome?.messageId ?? messageIdFor(from, id);
    const status = outcome?.status ?? 'pending';
    this.logger.debug(`Admin send ${messageId} from ${forLog(from)} to ${forLog(to)}: ${status}`);
    return { id, messageId, status };
  }
}
