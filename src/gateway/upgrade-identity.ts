import type { IncomingMessage } from 'node:http';
import type { WireProtocol } from '../connections/connection.js';

/** Who an accepted upgrade belongs to, which protocol it speaks, and until when its token holds. */
export interface UpgradeIdentity {
  readonly user: string;
  readonly protocol: WireProtocol;
  /** ms since the epoch (AUTH_MODE=jwt with `exp`). */
  readonly expiresAt?: number;
}

const identities = new WeakMap<IncomingMessage, UpgradeIdentity>();

export function setUpgradeIdentity(request: IncomingMessage, identity: UpgradeIdentity): void {
  identities.set(request, identity);
}

/** The identity the upgrade policy accepted for this request. */
export function upgradeIdentityOf(request: IncomingMessage): UpgradeIdentity {
  const identity = identities.get(request);
  if (!identity) throw new Error('WebSocket connection without an accepted upgrade');
  return identity;
}
