import { Body, Controller, HttpCode, HttpStatus, Post, Res, UseGuards, UsePipes } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ADMIN_SECURITY_SCHEME } from './admin.constants.js';
import { AdminMessagesService } from './admin-messages.service.js';
import { AdminTokenGuard } from './admin-token.guard.js';
import { httpErrorSchema } from './http-error.dto.js';
import { schemaValidation } from './schema-validation.pipe.js';
import { sendMessageSchema, type SendMessageDto, type SendResult, sendResultSchema } from './send-message.dto.js';

/** The part of the reply this controller sets; structural, whatever the HTTP platform. */
interface StatusReply {
  status(code: number): unknown;
}

@ApiTags('messages')
@ApiBearerAuth(ADMIN_SECURITY_SCHEME)
@ApiUnauthorizedResponse({ description: 'Missing or wrong bearer token', standardSchema: httpErrorSchema })
@UseGuards(AdminTokenGuard)
@UsePipes(schemaValidation)
@Controller('admin/messages')
export class AdminMessagesController {
  constructor(private readonly messages: AdminMessagesService) {}

  @Post()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Send a message to a user, routed exactly like a WebSocket send' })
  @ApiOkResponse({ description: 'Queued in the inbox, or delivered', standardSchema: sendResultSchema })
  @ApiAcceptedResponse({
    description:
      'A live recipient holds it and has not acked yet: it will be delivered, or returned to the inbox if that connection closes',
    standardSchema: sendResultSchema,
  })
  @ApiBadRequestResponse({ description: 'Invalid input; `message` says why', standardSchema: httpErrorSchema })
  @ApiConflictResponse({
    description: "The recipient's inbox is at INBOX_MAX_MESSAGES or INBOX_MAX_BYTES; nothing was stored",
    standardSchema: httpErrorSchema,
  })
  @ApiPayloadTooLargeResponse({
    description:
      '`body` is larger than MAX_PAYLOAD_BYTES, or the request body larger than 6 × MAX_PAYLOAD_BYTES + 64 KiB',
    standardSchema: httpErrorSchema,
  })
  @ApiServiceUnavailableResponse({
    description: 'The offline store failed; nothing was stored',
    standardSchema: httpErrorSchema,
  })
  async send(
    @Body({ schema: sendMessageSchema }) input: SendMessageDto,
    @Res({ passthrough: true }) reply: StatusReply,
  ): Promise<SendResult> {
    const result = await this.messages.send(input);
    if (result.status === 'pending') reply.status(HttpStatus.ACCEPTED);
    return result;
  }
}
