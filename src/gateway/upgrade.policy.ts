import { Injectable, Logger } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { userIdProblem } from '../connections/user-id.js';
import { GatewayMetrics } from '../metrics/gateway.metrics.js';
import { JSON_SUBPROTOCOL } from './gateway.constants.js';
import { setUpgradeIdentity, type UpgradeIdentity } from './upgrade-identity.js';

export type UpgradeDecision =
  | { readonly accept: true; readonly identity: UpgradeIdentity }
  | { readonly accept: false; readonly status: number; readonly reason: string; readonly metric: string };

function refuse(status: number, reason: string, metric: string): UpgradeDecision {
  return { accept: false, status, reason, metric };
}

/**
 * Decides, before any socket exists, whether an upgrade request becomes a connection: who the
 * user is and which protocol they speak. A refusal is an HTTP status with a short reason.
 */
@Injectable()
export class UpgradePolicy {
  private readonly logger = new Logger(UpgradePolicy.name);
  private accepting = true;

  constructor(private readonly metrics: GatewayMetrics) {}

  /** From now on every upgrade is refused with 503 (the process is shutting down). */
  stopAccepting(): void {
    this.accepting = false;
  }

  decide(request: IncomingMessage): UpgradeDecision {
    const decision = this.evaluate(request);
    if (decision.accept) setUpgradeIdentity(request, decision.identity);
    else {
      this.metrics.upgradesRefused.labels(decision.metric).inc();
      this.logger.log(`Upgrade refused (${decision.status} ${decision.reason}) from ${request.socket.remoteAddress}`);
    }
    return decision;
  }

  private evaluate(request: IncomingMessage): UpgradeDecision {
    if (!this.accepting) return refuse(503, 'server shutting down', 'shutting_down');
    const protocol = this.protocolOf(request.headers['sec-websocket-protocol']);
    if (protocol === undefined) {
      return refuse(400, `unsupported subprotocol (this server speaks ${JSON_SUBPROTOCOL} or none)`, 'bad_subprotocol');
    }
    const user = new URL(request.url ?? '/', 'ws://gateway').searchParams.get('user');
    const problem = userIdProblem(user);
    if (problem !== undefined) return refuse(400, problem, 'bad_user');
    return { accept: true, identity: { user: user!, protocol } };
  }

  /** No offer means the seed's plain text; an offer must include the JSON protocol. */
  private protocolOf(header: string | undefined): UpgradeIdentity['protocol'] | undefined {
    if (header === undefined || header.trim() === '') return 'text';
    const offered = header.split(',').map((p) => p.trim());
    return offered.includes(JSON_SUBPROTOCOL) ? 'json' : undefined;
  }
}
