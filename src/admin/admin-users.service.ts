import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { CloseCode } from '../connections/close-code.js';
import { ConnectionPool } from '../connections/connection-pool.service.js';
import type { Connection } from '../connections/connection.js';
import { forLog } from '../logging/log-escape.js';
import type { KickResult, Presence } from './presence.dto.js';

/**
 * Presence and kicks on this process. A connection that is already closing counts as gone: it
 * takes no new messages, and it leaves the pool once its close handshake ends.
 */
@Injectable()
export class AdminUsersService {
  private readonly logger = new Logger(AdminUsersService.name);

  private readonly nodeId: string;

  constructor(
    private readonly pool: ConnectionPool,
    config: AppConfig,
  ) {
    this.nodeId = config.cluster.nodeId;
  }

  presence(user: string): Presence {
    const open = this.openConnectionsOf(user);
    return {
      user,
      online: open.length > 0,
      connections: open.map((c) => ({ id: c.id, protocol: c.protocol, openedAt: new Date(c.openedAt).toISOString() })),
      nodes: open.length > 0 ? [this.nodeId] : [],
    };
  }

  /** Closes every open connection of `user` with 4003; what they held goes back through the normal close path. */
  kick(user: string): KickResult {
    const open = this.openConnectionsOf(user);
    for (const connection of open) connection.close(CloseCode.KICKED, 'kicked');
    if (open.length > 0) this.logger.log(`Kicked user ${forLog(user)}: closed ${open.length} connection(s)`);
    return { closed: open.length };
  }

  private openConnectionsOf(user: string): Connection[] {
    return [...(this.pool.connectionsOf(user) ?? [])].filter((c) => c.isOpen);
  }
}
