import { type CanActivate, type ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import { AppConfig } from '../config/app-config.js';

/** The parts of a request and a reply the guard uses; structural, whatever the HTTP platform. */
interface AuthorizedRequest {
  readonly headers: Record<string, string | string[] | undefined>;
}
interface ChallengeReply {
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

/** Every admin route needs `Authorization: Bearer <ADMIN_TOKEN>`. */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  private readonly expected: Buffer;

  constructor(config: AppConfig) {
    if (config.admin.token === undefined) throw new Error('AdminTokenGuard needs ADMIN_TOKEN');
    this.expected = digest(config.admin.token);
  }

  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    const token = bearerToken(http.getRequest<AuthorizedRequest>().headers.authorization);
    if (token !== undefined && timingSafeEqual(digest(token), this.expected)) return true;
    http.getResponse<ChallengeReply>().header('WWW-Authenticate', 'Bearer realm="admin"');
    throw new UnauthorizedException(token === undefined ? 'missing bearer token' : 'invalid bearer token');
  }
}
