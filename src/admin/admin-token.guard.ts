import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { AdminTokenCheck, type AuthorizedRequest, type ChallengeReply } from './admin-token.check.js';

/**
 * Every admin route needs `Authorization: Bearer <ADMIN_TOKEN>`. The admin route hook refuses a
 * request without it before its body is read; the guard states the rule on each controller and
 * holds it wherever the routes are mounted without that hook.
 */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  private readonly check: AdminTokenCheck;

  constructor(config: AppConfig) {
    if (config.admin.token === undefined) throw new Error('AdminTokenGuard needs ADMIN_TOKEN');
    this.check = new AdminTokenCheck(config.admin.token);
  }

  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    const refusal = this.check.refusal(http.getRequest<AuthorizedRequest>(), http.getResponse<ChallengeReply>());
    if (refusal) throw refusal;
    return true;
  }
}
