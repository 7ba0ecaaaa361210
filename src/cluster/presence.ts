/**
 * Which nodes hold a live connection of which user. Also the DI token: inject `Presence`.
 * The router registers a user on its first local connection and unregisters it with the last;
 * `nodesOf` is where a message for that user must go.
 */
export abstract class Presence {
  private readonly lostHandlers: Array<() => void> = [];

  /** True when other nodes may hold users: routing must ask `nodesOf` instead of its own pool. */
  abstract readonly shared: boolean;
  /** This node, as other nodes and the admin API name it. */
  abstract readonly nodeId: string;
  /** This node now holds `connections` (at least one) of `user`; resolves once other nodes can see it. */
  abstract add(user: string, connections: number): Promise<void>;
  /** This node no longer holds any connection of `user`. */
  abstract remove(user: string): Promise<void>;
  /** Every live node holding a connection of `user`, this one included. */
  async nodesOf(user: string): Promise<string[]> {
    return Object.keys(await this.connectionsOf(user));
  }
  /** How many connections of `user` each live node holds, this one included. */
  abstract connectionsOf(user: string): Promise<Record<string, number>>;
  /** False while presence cannot be read or written: /health/ready turns 503. */
  isHealthy(): boolean {
    return true;
  }

  /**
   * Registers what to do when this node's place in presence can no longer be trusted (Redis was
   * lost, or the node stopped hearing the bus): other nodes may have sent its users' messages to
   * the inbox meanwhile, which only a new drain delivers.
   */
  onLost(handler: () => void): void {
    this.lostHandlers.push(handler);
  }

  /** Reports the loss to every handler. */
  lost(): void {
    for (const handler of this.lostHandlers) handler();
  }
}

/** One process: presence is the users it holds, and nothing is shared. */
export class LocalPresence extends Presence {
  readonly shared = false;
  private readonly users = new Map<string, number>();

  constructor(readonly nodeId: string) {
    super();
  }

  async add(user: string, connections: number): Promise<void> {
    this.users.set(user, connections);
  }

  async remove(user: string): Promise<void> {
    this.users.delete(user);
  }

  async connectionsOf(user: string): Promise<Record<string, number>> {
    const connections = this.users.get(user);
    return connections === undefined ? {} : { [this.nodeId]: connections };
  }
}
