import { Injectable } from '@nestjs/common';
import { AppConfig, type SessionPolicy } from '../config/app-config.js';
import type { Connection } from './connection.js';

const NONE: readonly Connection[] = [];

/**
 * Live connections by user. Single-threaded by construction (the event loop), so there is no
 * shared-dictionary race; a connection leaves the moment its socket closes.
 */
@Injectable()
export class ConnectionPool {
  private readonly byUser = new Map<string, Set<Connection>>();
  private readonly all = new Set<Connection>();
  private readonly policy: SessionPolicy;

  constructor(config: AppConfig) {
    this.policy = config.ws.sessionPolicy;
  }

  /** SESSION_POLICY=replace: a user's new connection closes the older ones. */
  get replacesOlder(): boolean {
    return this.policy === 'replace';
  }

  /** Adds `connection`; under the `replace` policy answers the user's older connections, now removed. */
  add(connection: Connection): readonly Connection[] {
    let mine = this.byUser.get(connection.user);
    let replaced = NONE;
    if (mine && this.policy === 'replace') {
      replaced = [...mine];
      for (const old of replaced) this.all.delete(old);
      mine.clear();
    }
    if (!mine) {
      mine = new Set();
      this.byUser.set(connection.user, mine);
    }
    mine.add(connection);
    this.all.add(connection);
    return replaced;
  }

  /** Removes `connection`; false (a no-op) if it already left: closing twice is harmless. */
  remove(connection: Connection): boolean {
    if (!this.all.delete(connection)) return false;
    const mine = this.byUser.get(connection.user);
    if (!mine) return true;
    mine.delete(connection);
    if (mine.size === 0) this.byUser.delete(connection.user);
    return true;
  }

  /** The user's live connections, or `undefined` when there are none. */
  connectionsOf(user: string): ReadonlySet<Connection> | undefined {
    return this.byUser.get(user);
  }

  connections(): IterableIterator<Connection> {
    return this.all.values();
  }

  get size(): number {
    return this.all.size;
  }
}
