import type { IncomingMessage } from 'node:http';

export type AuthResult =
  | {
      readonly ok: true;
      readonly user: string /** ms since the epoch; the connection closes then. Absent: never (query mode, or JWT_ALLOW_NO_EXP=true). */;
      readonly expiresAt?: number;
    }
  | { readonly ok: false; readonly status: 400 | 401; readonly reason: string };

/**
 * Says who an upgrade request belongs to. Also the DI token: inject `Authenticator`. Built by
 * `createAuthenticator` from AUTH_MODE.
 */
export abstract class Authenticator {
  abstract authenticate(request: IncomingMessage): Promise<AuthResult>;
  /** Verifies a replacement token for an open connection of `user` (JSON `refresh`). */
  abstract refresh(user: string, token: string): Promise<AuthResult>;
}

/** The request's query parameters; the base only makes a relative URL parseable. */
export function queryOf(request: IncomingMessage): URLSearchParams {
  return new URL(request.url ?? '/', 'ws://gateway').searchParams;
}
