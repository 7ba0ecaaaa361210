import { Injectable, Logger } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { Authenticator } from '../auth/authenticator.js';
import { type OriginMatcher, originMatcher } from '../config/origin-matcher.js';
import { AppConfig } from '../config/app-config.js';
import { ConnectionPool } from '../connections/connection-pool.service.js';
import { GatewayMetrics } from '../metrics/gateway.metrics.js';
import { MessageRouter } from '../routing/message-router.service.js';
import { JSON_SUBPROTOCOL } from './gateway.constants.js';
import { setUpgradeIdentity, type UpgradeIdentity } from './upgrade-identity.js';

export type UpgradeDecision =
  | { readonly accept: true; readonly identity: UpgradeIdentity }
  | { readonly accept: false; readonly status: number; readonly reason: string; readonly metric: string };

function refuse(status: number, reason: string, metric: string): UpgradeDecision {
  return { accept: false, status, reason, metric };
}

/**
 * Decides, before any socket exists, whether an upgrade request becomes a connection: origin,
 * subprotocol, identity, then capacity. A refusal is an HTTP status with a short reason.
 */
@Injectable()
export class UpgradePolicy {
  private readonly logger = new Logger(UpgradePolicy.name);
  private accepting = true;
  private readonly allowsOrigin: OriginMatcher | undefined;

  constructor(
    private readonly authenticator: Authenticator,
    private readonly pool: ConnectionPool,
    private readonly router: MessageRouter,
    private readonly metrics: GatewayMetrics,
    private readonly config: AppConfig,
  ) {
    this.allowsOrigin = originMatcher(config.auth.allowedOrigins);
  }

  /** From now on every upgrade is refused with 503 (the process is shutting down). */
  stopAccepting(): void {
    this.accepting = false;
  }

  async decide(request: IncomingMessage): Promise<UpgradeDecision> {
    const decision = await this.evaluate(request);
    if (decision.accept) setUpgradeIdentity(request, decision.identity);
    else {
      this.metrics.upgradesRefused.labels(decision.metric).inc();
      this.logger.log(`Upgrade refused (${decision.status} ${decision.reason}) from ${request.socket.remoteAddress}`);
    }
    return decision;
  }

  private async evaluate(request: IncomingMessage): Promise<UpgradeDecision> {
    if (!this.accepting) return refuse(503, 'server shutting down', 'shutting_down');
    const origin = request.headers.origin;
    // Browsers always send Origin; other clients (servers, mobile apps) are not CSWSH vectors.
    if (this.allowsOrigin !== undefined && origin !== undefined && !this.allowsOrigin(origin)) {
      return refuse(403, 'origin not allowed', 'origin');
    }
    const protocol = this.protocolOf(request.headers['sec-websocket-protocol']);
    if (protocol === undefined) {
      return refuse(400, `unsupported subprotocol (this server speaks ${JSON_SUBPROTOCOL} or none)`, 'bad_subprotocol');
    }
    const auth = await this.authenticator.authenticate(request);
    if (!auth.ok) return refuse(auth.status, auth.reason, auth.status === 401 ? 'unauthorized' : 'bad_user');
    const multi = this.config.ws.sessionPolicy === 'multi';
    let elsewhere = 0;
    try {
      // In a cluster the user's connections on other nodes count too (as presence last saw them).
      if (multi) elsewhere = await this.router.connectionsElsewhere(auth.user);
    } catch {
      return refuse(503, 'cluster unavailable, try again later', 'cluster_unavailable');
    }
    // Capacity is checked last and synchronously: the connection joins the pool in this same turn.
    const { maxConnections, maxConnectionsPerUser } = this.config.limits;
    if (!this.accepting) return refuse(503, 'server shutting down', 'shutting_down');
    if (this.pool.size >= maxConnections) return refuse(503, 'server at connection capacity', 'capacity');
    const mine = (this.pool.connectionsOf(auth.user)?.size ?? 0) + elsewhere;
    if (multi && mine >= maxConnectionsPerUser) {
      return refuse(429, `too many connections for this user (limit ${maxConnectionsPerUser})`, 'user_limit');
    }
    return { accept: true, identity: { user: auth.user, protocol, expiresAt: auth.expiresAt } };
  }

  /** No offer means the seed's plain text; an offer must include the JSON protocol. */
  private protocolOf(header: string | undefined): UpgradeIdentity['protocol'] | undefined {
    if (header === undefined || header.trim() === '') return 'text';
    const offered = header.split(',').map((p) => p.trim());
    return offered.includes(JSON_SUBPROTOCOL) ? 'json' : undefined;
  }
}
