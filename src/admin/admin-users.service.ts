import { Injectable, Logger } from '@nestjs/common';
import { CloseCode } from '../connections/close-code.js';
import { ConnectionPool } from '../connections/connection-pool.service.js';
import type { Connection } from '../connections/connection.js';
import { forLog } from '../logging/log-escape.js';
import { MessageRouter } from '../routing/message-router.service.js';
import type { KickResult, Presence } from './presence.dto.js';

/**
 * Presence and kicks. A connection that is already closing counts as gone: it takes no new
 * messages, and it leaves the pool once its close handshake ends. In a cluster, `nodes` and kicks
 * reach every node; `connections` are this node's.
 */
@Injectable()
export class AdminUsersService {
  private readonly logger = new Logger(AdminUsersService.name);

  constructor(
    private readonly pool: ConnectionPool,
    private readonly router: MessageRouter,
  ) {}

  async presence(user: string): Promise<Presence> {
    const open = this.openConnectionsOf(user);
    const nodes = await this.router.nodesOf(user);
    return {
      user,
      online: open.length > 0 || nodes.length > 0,
      connections: open.map((c) => ({ id: c.id, protocol: c.protocol, openedAt: new Date(c.openedAt).toISOString() })),
      nodes: open.length > 0 || nodes.length > 0 ? nodes : [],
    };
  }

  /**
   * Closes every open connection of `user` here with 4003, and asks the other nodes holding one to
   * do the same; what they held goes back through the normal close path.
   */
  async kick(user: string): Promise<KickResult> {
    const closed = this.router.closeLocal(user, CloseCode.KICKED, 'kicked');
    const otherNodes = await this.router.kickElsewhere(user);
    if (closed > 0 || otherNodes > 0) {
      this.logger.log(
        `Kicked user ${forLog(user)}: closed ${closed} connection(s) here, asked ${otherNodes} other node(s)`,
      );
    }
    return { closed, otherNodes };
  }

  private openConnectionsOf(user: string): Connection[] {
    return [...(this.pool.connectionsOf(user) ?? [])].filter((c) => c.isOpen);
  }
}
