import { UnauthorizedException } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';

/** The parts of a request and a reply the check uses; structural, whatever the HTTP platform. */
export interface AuthorizedRequest {
  readonly headers: Record<string, string | string[] | undefined>;
}
export interface ChallengeReply {
  header(name: string, value: string): unknown;
}

/** Equal-length digests, so the comparison time says nothing about the token's length or content. */
function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/** The token of an `Authorization: Bearer <token>` header (scheme case-insensitive, RFC 7235). */
function bearerToken(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const match = /^bearer +(\S+) *$/i.exec(header);
  return match?.[1];
}

/**
 * `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time. One check for the admin
 * routes' request hook (which refuses before the body is read) and for their guard.
 */
export class AdminTokenCheck {
  private readonly expected: Buffer;

  constructor(token: string) {
    this.expected = digest(token);
  }

  /** Undefined when the request carries the token; otherwise the 401 to answer, its challenge set on `reply`. */
  refusal(request: AuthorizedRequest, reply: ChallengeReply): UnauthorizedException | undefined {
    const token = bearerToken(request.headers.authorization);
    if (token !== undefined && timingSafeEqual(digest(token), this.expected)) return undefined;
    reply.header('WWW-Authenticate', 'Bearer realm="admin"');
    return new UnauthorizedException(token === undefined ? 'missing bearer token' : 'invalid bearer token');
  }
}
