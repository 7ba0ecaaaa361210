import { Logger } from '@nestjs/common';
import { createLocalJWKSet, errors, importSPKI, type JSONWebKeySet, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { AppConfig, JwtKeySource } from '../config/app-config.js';
import { userIdProblem } from '../connections/user-id.js';
import { type AuthResult, Authenticator, queryOf } from './authenticator.js';

type JwtConfig = NonNullable<AppConfig['auth']['jwt']>;

/** Algorithms per key kind; `none` and algorithm confusion are impossible by construction. */
const SECRET_ALGORITHMS = ['HS256'];
const PUBLIC_KEY_ALGORITHMS = ['RS256', 'ES256'];

const BEARER = /^Bearer\s+(\S+)$/i;

/** The refusal of a token that would never expire (JWT_ALLOW_NO_EXP=false, the default). */
const NO_EXP = 'token has no "exp" claim';

/** The token from `Authorization: Bearer` (servers, mobile apps) or `?token=` (browsers cannot set headers). */
function tokenOf(request: IncomingMessage): string | undefined {
  const header = request.headers.authorization;
  const fromHeader = header === undefined ? undefined : BEARER.exec(header)?.[1];
  return fromHeader ?? queryOf(request).get('token') ?? undefined;
}

/** Says why verification failed, without echoing the token. */
function reasonOf(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'token expired';
  if (error instanceof errors.JWTClaimValidationFailed) return `token claim "${error.claim}" is not accepted`;
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'token signature is invalid';
  if (error instanceof errors.JOSEAlgNotAllowed) return 'token algorithm is not accepted';
  if (error instanceof errors.JWKSNoMatchingKey) return 'token key is unknown';
  return 'token is malformed';
}

/**
 * AUTH_MODE=jwt: the user is the token's `sub`. Keys: an HS256 secret, a PEM public key (RS256 or
 * ES256), or a JWKS file that is read again on `reload()` (SIGHUP).
 */
export class JwtAuthenticator extends Authenticator {
  private readonly logger = new Logger(JwtAuthenticator.name);
  private key!: Uint8Array | JWTVerifyGetKey;
  private readonly algorithms: string[];

  constructor(private readonly config: JwtConfig) {
    super();
    this.algorithms = config.key.kind === 'secret' ? SECRET_ALGORITHMS : PUBLIC_KEY_ALGORITHMS;
    this.key = this.loadKey(config.key);
  }

  /** Reads the JWKS file again; a broken file keeps the previous keys. */
  reload(): void {
    if (this.config.key.kind !== 'jwksFile') return;
    try {
      this.key = this.loadKey(this.config.key);
      this.logger.log(`Reloaded JWKS from ${this.config.key.path}`);
    } catch (error) {
      this.logger.error(`JWKS reload failed, keeping the previous keys: ${String(error)}`);
    }
  }

  async authenticate(request: IncomingMessage): Promise<AuthResult> {
    const token = tokenOf(request);
    if (token === undefined) return { ok: false, status: 401, reason: 'missing token' };
    return this.verify(token);
  }

  async refresh(user: string, token: string): Promise<AuthResult> {
    const result = await this.verify(token);
    if (result.ok && result.user !== user) return { ok: false, status: 401, reason: 'token is for another user' };
    return result;
  }

  private async verify(token: string): Promise<AuthResult> {
    try {
      const { payload } = await jwtVerify(token, this.key as JWTVerifyGetKey, {
        algorithms: this.algorithms,
        issuer: this.config.issuer,
        audience: this.config.audience,
        clockTolerance: this.config.clockSkewSeconds,
      });
      const problem = userIdProblem(payload.sub);
      if (problem !== undefined) return { ok: false, status: 401, reason: `token subject: ${problem}` };
      if (payload.exp === undefined) {
        // Such a token never expires: a leaked one would open connections, and keep them, forever.
        if (!this.config.allowNoExp) return { ok: false, status: 401, reason: NO_EXP };
        return { ok: true, user: payload.sub! };
      }
      return { ok: true, user: payload.sub!, expiresAt: (payload.exp + this.config.clockSkewSeconds) * 1000 };
    } catch (error) {
      return { ok: false, status: 401, reason: reasonOf(error) };
    }
  }

  private loadKey(source: JwtKeySource): Uint8Array | JWTVerifyGetKey {
    switch (source.kind) {
      case 'secret':
        return new TextEncoder().encode(source.secret);
      case 'publicKey': {
        const imported = new Map<string, ReturnType<typeof importSPKI>>();
        return async (header) => {
          const alg = header.alg;
          if (!PUBLIC_KEY_ALGORITHMS.includes(alg)) throw new errors.JOSEAlgNotAllowed('algorithm not allowed');
          let key = imported.get(alg);
          if (!key) {
            key = importSPKI(source.pem, alg);
            imported.set(alg, key);
          }
          return key;
        };
      }
      case 'jwksFile':
        return createLocalJWKSet(JSON.parse(readFileSync(source.path, 'utf8')) as JSONWebKeySet);
    }
  }
}
