import type { AppConfig } from '../config/app-config.js';
import type { Authenticator } from './authenticator.js';
import { JwtAuthenticator } from './jwt.authenticator.js';
import { QueryAuthenticator } from './query.authenticator.js';

/** Builds the AUTH_MODE authenticator; the switch is exhaustive so a new mode cannot be forgotten. */
export function createAuthenticator(config: AppConfig['auth']): Authenticator {
  const mode = config.mode;
  switch (mode) {
    case 'query':
      return new QueryAuthenticator();
    case 'jwt':
      return new JwtAuthenticator(config.jwt!);
    default: {
      const unknown: never = mode;
      throw new Error(`Unknown AUTH_MODE: ${String(unknown)}`);
    }
  }
}
