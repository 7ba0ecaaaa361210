import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { Presence } from './presence.js';

/**
 * Sets this node's entry (`deadline:connections`) in a user's presence hash, drops the entries of
 * nodes that missed their deadline, and makes the key expire with its latest deadline: a dead
 * node's entries vanish by themselves, and so does the key once nobody refreshes it.
 * KEYS[1] the user's presence hash; ARGV node id, deadline (ms), connections, now (ms).
 */
const TOUCH = `
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ':' .. ARGV[3])
local latest = tonumber(ARGV[2])
local entries = redis.call('HGETALL', KEYS[1])
for i = 1, #entries, 2 do
  local deadline = tonumber(string.match(entries[i + 1], '^(%d+)'))
  if deadline <= tonumber(ARGV[4]) then
    redis.call('HDEL', KEYS[1], entries[i])
  elseif deadline > latest then
    latest = deadline
  end
end
redis.call('PEXPIREAT', KEYS[1], latest)
`;

/** Refreshes per TTL: two may be missed in a row before a live node's users look gone. */
const REFRESHES_PER_TTL = 3;

type PresenceClient = Redis & {
  presenceTouch(key: string, node: string, deadline: number, connections: number, now: number): Promise<unknown>;
};

/**
 * Presence in Redis: per user a hash `{user}:nodes` of node id -> `deadline:connections`. Each node
 * re-arms the deadlines of the users it holds every third of PRESENCE_TTL_SECONDS; a reader
 * ignores entries past their deadline, so a node killed with `kill -9` stops receiving within
 * the TTL, and its entries are gone from Redis by then too.
 */
export class RedisPresence extends Presence {
  readonly shared = true;
  private readonly logger = new Logger(RedisPresence.name);
  /** Users held here, with their connection count. */
  private readonly held = new Map<string, number>();
  private readonly client: PresenceClient;
  private readonly ttlMs: number;
  private timer: NodeJS.Timeout | undefined;
  private failing = false;
  /** When this node's entries were last re-armed: past the TTL, other nodes took its users for gone. */
  private lastRefreshed = Date.now();

  constructor(
    client: Redis,
    private readonly keyPrefix: string,
    readonly nodeId: string,
    ttlSeconds: number,
  ) {
    super();
    client.defineCommand('presenceTouch', { numberOfKeys: 1, lua: TOUCH });
    this.client = client as PresenceClient;
    this.ttlMs = ttlSeconds * 1000;
  }

  start(): void {
    this.timer = setInterval(() => void this.refresh(), this.ttlMs / REFRESHES_PER_TTL);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async add(user: string, connections: number): Promise<void> {
    this.held.set(user, connections);
    const now = Date.now();
    await this.client.presenceTouch(this.key(user), this.nodeId, now + this.ttlMs, connections, now);
  }

  async remove(user: string): Promise<void> {
    this.held.delete(user);
    await this.client.hdel(this.key(user), this.nodeId);
  }

  async connectionsOf(user: string): Promise<Record<string, number>> {
    const entries = await this.client.hgetall(this.key(user));
    const now = Date.now();
    const live: Record<string, number> = {};
    for (const [node, entry] of Object.entries(entries)) {
      const colon = entry.indexOf(':');
      if (Number(entry.slice(0, colon)) > now) live[node] = Number(entry.slice(colon + 1));
    }
    return live;
  }

  override isHealthy(): boolean {
    return !this.failing && this.client.status === 'ready';
  }

  /** Users held by this node; for the shutdown, which takes them out of presence at once. */
  heldUsers(): string[] {
    return [...this.held.keys()];
  }

  private key(user: string): string {
    return `${this.keyPrefix}{${user}}:nodes`;
  }

  /** One pipeline for every user held: a round trip per refresh, whatever the number of users. */
  private async refresh(): Promise<void> {
    if (this.held.size === 0) {
      this.lastRefreshed = Date.now();
      return;
    }
    const now = Date.now();
    const pipeline = this.client.pipeline();
    for (const [user, connections] of this.held) {
      (pipeline as unknown as PresenceClient).presenceTouch(
        this.key(user),
        this.nodeId,
        now + this.ttlMs,
        connections,
        now,
      );
    }
    try {
      const results = (await pipeline.exec()) ?? [];
      const failed = results.find(([error]) => error !== null);
      if (failed) throw failed[0];
      if (this.failing) this.logger.log(`Presence refreshed again for ${this.held.size} users`);
      this.failing = false;
      const expiredMeanwhile = now - this.lastRefreshed >= this.ttlMs;
      this.lastRefreshed = now;
      if (expiredMeanwhile) this.lost();
    } catch (error) {
      if (!this.failing)
        this.logger.warn(`Presence refresh failed: ${String(error)}; other nodes may stop routing here`);
      this.failing = true;
    }
  }
}
