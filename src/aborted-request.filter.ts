import { type ArgumentsHost, Catch, Logger } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import type { IncomingMessage } from 'node:http';

/** Node's error code when a client closes its connection before the request body ended. */
const ABORTED_CODE = 'ECONNRESET';

/** The parts of Fastify's request the filter reads. */
interface AbortableRequest {
  readonly raw: IncomingMessage;
  readonly method: string;
}

/**
 * A client that closes its connection in the middle of its request body is no server fault, and
 * there is no one left to answer: it is logged at debug, with no stack trace. Fastify hands the
 * body stream's `aborted` error to Nest's exception layer, which would log it at error with a
 * stack, once per request anyone can make. Every other exception goes on to Nest's own handling.
 */
@Catch()
export class AbortedRequestFilter extends BaseExceptionFilter {
  private readonly logger = new Logger(AbortedRequestFilter.name);

  override catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<Partial<AbortableRequest>>();
    const aborted =
      (exception as NodeJS.ErrnoException | undefined)?.code === ABORTED_CODE && request.raw?.complete === false;
    if (!aborted) {
      super.catch(exception, host);
      return;
    }
    // The path only: a query string may carry a token.
    this.logger.debug(`${request.method} ${request.raw!.url?.split('?')[0]}: request body aborted by the client`);
    this.applicationRef!.end(http.getResponse());
  }
}
