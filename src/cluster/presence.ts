/**
 * Which nodes hold a live connection of which user. Also the DI token: inject `Presence`.
 * The router registers a user on its first local connection and unregisters it with the last;
 * `nodesOf` is where a message for that user must go.
 */
export abstract class Presence {
  /** True when other nodes may hold users: routing must ask `nodesOf` instead of its own pool. */
  abstract readonly shared: boolean;
  /** This node, as other nodes and the admin API name it. */
  abstract readonly nodeId: string;
  /** This node now holds a connection of `user`; resolves once other nodes can see it. */
  abstract add(user: string): Promise<void>;
  /** This node no longer holds any connection of `user`. */
  abstract remove(user: string): Promise<void>;
  /** Every live node holding a connection of `user`, this one included. */
  abstract nodesOf(user: string): Promise<string[]>;
  /** False while presence cannot be read or written: /health/ready turns 503. */
  isHealthy(): boolean {
    return true;
  }
}

/** One process: presence is the users it holds, and nothing is shared. */
export class LocalPresence extends Presence {
  readonly shared = false;
  private readonly users = new Set<string>();

  constructor(readonly nodeId: string) {
    super();
  }

  async add(user: string): Promise<void> {
    this.users.add(user);
  }

  async remove(user: string): Promise<void> {
    this.users.delete(user);
  }

  async nodesOf(user: string): Promise<string[]> {
    return this.users.has(user) ? [this.nodeId] : [];
  }
}
