import type { IncomingMessage } from 'node:http';
import { userIdProblem } from '../connections/user-id.js';
import { type AuthResult, Authenticator, queryOf } from './authenticator.js';

/** The seed's scheme: the client names itself with `?user=ID`. Trusts anyone; for development. */
export class QueryAuthenticator extends Authenticator {
  async authenticate(request: IncomingMessage): Promise<AuthResult> {
    const user = queryOf(request).get('user');
    const problem = userIdProblem(user);
    if (problem !== undefined) return { ok: false, status: 400, reason: problem };
    return { ok: true, user: user! };
  }

  async refresh(): Promise<AuthResult> {
    return { ok: false, status: 400, reason: 'refresh needs AUTH_MODE=jwt' };
  }
}
