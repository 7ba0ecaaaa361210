import { PayloadTooLargeException } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ADMIN_PATH_PREFIX } from './admin.constants.js';
import { AdminTokenCheck, type AuthorizedRequest, type ChallengeReply } from './admin-token.check.js';

/** JSON writes a character in at most 6 bytes (`\u0001`), so n bytes of UTF-8 escape to at most 6n. */
const JSON_ESCAPE_MAX_BYTES = 6;
/** `from`, `to` and `id`, escaped, take under 4 KiB; the rest is room for keys and whitespace. */
const ADMIN_ENVELOPE_BYTES = 64 * 1024;
/**
 * How long the connection of a refused upload stays open, unread, before it is destroyed: closing
 * it with the body unread sends a TCP reset, which can overtake the 401 (RFC 9112, 9.6).
 */
const REFUSED_UPLOAD_LINGER_MS = 1_000;
/** Fastify's error for a body over the route's limit, declared or streamed. */
const BODY_TOO_LARGE_CODE = 'FST_ERR_CTP_BODY_TOO_LARGE';

/** The largest admin request body: a message body of MAX_PAYLOAD_BYTES, every byte JSON-escaped, and its envelope. */
export function adminBodyLimit(maxPayloadBytes: number): number {
  return JSON_ESCAPE_MAX_BYTES * maxPayloadBytes + ADMIN_ENVELOPE_BYTES;
}

/** The parts of Fastify's route options the hook reads and sets; structural, like the guard's types. */
export interface AdminRouteOptions {
  readonly url: string;
  bodyLimit?: number;
  onRequest?: unknown;
  errorHandler?: unknown;
}

/** The parts of Fastify's request and reply the request hook uses. */
interface HookRequest extends AuthorizedRequest {
  readonly raw: IncomingMessage;
}
interface HookReply extends ChallengeReply {
  readonly raw: ServerResponse;
  removeHeader(name: string): unknown;
}
type RequestHook = (request: HookRequest, reply: HookReply, done: (error?: Error) => void) => void;

/**
 * A refused body up to this size is left to Node, which reads and drops it so that the connection
 * stays usable for the next request; past it (or of unknown length), the body is not read at all.
 */
const DRAINED_BODY_MAX_BYTES = 64 * 1024;

/** Whether a refused request's body is worth closing the connection over rather than draining. */
function announcesLargeBody(headers: AuthorizedRequest['headers']): boolean {
  if (headers['transfer-encoding'] !== undefined) return true;
  const length = Number(headers['content-length'] ?? 0);
  return !(length <= DRAINED_BODY_MAX_BYTES);
}

/**
 * Once the refusal is written, stops reading the connection and destroys it after a linger. Node
 * would otherwise read and discard the rest of the body to keep the connection alive, megabytes
 * for nothing; the client, kept from writing, reads its answer meanwhile.
 */
function closeUnread(request: IncomingMessage, response: ServerResponse): void {
  const socket = request.socket;
  response.once('finish', () => {
    if (request.complete) return;
    // After Node's own 'finish' handling, which resumes the request to drain it.
    setImmediate(() => socket.pause());
    const timer = setTimeout(() => socket.destroy(), REFUSED_UPLOAD_LINGER_MS).unref();
    socket.once('close', () => clearTimeout(timer));
  });
}

function isAdminPath(url: string): boolean {
  return url === ADMIN_PATH_PREFIX || url.startsWith(`${ADMIN_PATH_PREFIX}/`);
}

/**
 * A Fastify `onRoute` hook that gives every admin route, as Nest registers it:
 * - the bearer check as a request hook, so a request without the token gets its 401 before any
 *   byte of its body is read or parsed, and its connection is closed rather than drained;
 * - a body limit of its own, `adminBodyLimit(MAX_PAYLOAD_BYTES)`, while every other route keeps
 *   the server's small one;
 * - a 413 that names that limit, whether the body declared its length or grew past it.
 */
export function adminRouteHook(token: string, maxPayloadBytes: number): (route: AdminRouteOptions) => void {
  const check = new AdminTokenCheck(token);
  const bodyLimit = adminBodyLimit(maxPayloadBytes);
  const tooLarge = `request body: larger than ${bodyLimit} bytes (${JSON_ESCAPE_MAX_BYTES} × MAX_PAYLOAD_BYTES + ${ADMIN_ENVELOPE_BYTES})`;

  const authenticate: RequestHook = (request, reply, done) => {
    const refusal = check.refusal(request, reply);
    if (refusal && announcesLargeBody(request.headers)) closeUnread(request.raw, reply.raw);
    done(refusal);
  };
  // A throw hands the error on to the application's handler (Nest's exception layer).
  const errorHandler = (error: { readonly code?: unknown }, request: HookRequest, reply: HookReply): never => {
    if (error.code !== BODY_TOO_LARGE_CODE) throw error;
    // Fastify marks the answer `Connection: close`, and Node then closes the socket the moment
    // the 413 is written, with the body unread: the reset can overtake the 413. The refused
    // body is left unread as a refused token's is, and the connection closed after the linger.
    reply.removeHeader('connection');
    closeUnread(request.raw, reply.raw);
    throw new PayloadTooLargeException(tooLarge);
  };

  return (route) => {
    if (!isAdminPath(route.url)) return;
    if (route.onRequest !== undefined || route.errorHandler !== undefined) {
      throw new Error(`admin route ${route.url} already has request hooks or an error handler`);
    }
    route.bodyLimit = bodyLimit;
    route.onRequest = authenticate;
    route.errorHandler = errorHandler;
  };
}
