import type { ImMessage } from './im-client.events.js';
import { LruCache } from './lru.cache.js';

export type MessageHandler = (message: ImMessage) => unknown;

export interface DeliveryPipelineHooks {
  /** The app's `message` listeners, read per message so listeners added later are used. */
  handlers(): readonly MessageHandler[];
  ack(id: string): void;
  fail(message: ImMessage, cause: unknown): void;
}

/**
 * Hands incoming messages to the app exactly once and in arrival order: one message at a time,
 * every listener awaited, the id acked only after all of them succeeded. A message whose listener
 * failed is neither acked nor remembered, so the server's redelivery gives the app another try.
 */
export class DeliveryPipeline {
  /** Ids the app has handled; a redelivery of one is acked again without reaching the app. */
  private readonly seen: LruCache<string, true>;
  private readonly waiting: ImMessage[] = [];
  /** Ids waiting or being handled, so a redelivery that overtakes its first copy is not handled twice. */
  private readonly pending = new Set<string>();
  private draining = false;

  constructor(
    capacity: number,
    private readonly hooks: DeliveryPipelineHooks,
  ) {
    this.seen = new LruCache(capacity);
  }

  receive(message: ImMessage): void {
    const { id } = message;
    if (this.seen.get(id) !== undefined) {
      this.hooks.ack(id);
      return;
    }
    if (this.pending.has(id)) return;
    this.pending.add(id);
    this.waiting.push(message);
    this.resume();
  }

  /** Messages wait, unacked, while the app has no listener: acking them would lose them. */
  resume(): void {
    if (!this.draining) void this.drain();
  }

  /** Drops messages not handed to the app yet; unacked, they come back on the next connection. */
  clear(): void {
    for (const message of this.waiting) this.pending.delete(message.id);
    this.waiting.length = 0;
  }

  private async drain(): Promise<void> {
    this.draining = true;
    while (this.waiting.length > 0 && this.hooks.handlers().length > 0) {
      const message = this.waiting.shift() as ImMessage;
      const outcome = this.deliver(message);
      const handled = typeof outcome === 'boolean' ? outcome : await outcome;
      this.pending.delete(message.id);
      if (!handled) continue;
      this.seen.set(message.id, true);
      this.hooks.ack(message.id);
    }
    this.draining = false;
  }

  /** Synchronous listeners cost no promise; the first promise returned switches to the async path. */
  private deliver(message: ImMessage): boolean | Promise<boolean> {
    const handlers = this.hooks.handlers();
    for (let index = 0; index < handlers.length; index++) {
      let result: unknown;
      try {
        result = handlers[index](message);
      } catch (error) {
        this.hooks.fail(message, error);
        return false;
      }
      if (isThenable(result)) return this.deliverAsync(message, result, handlers, index + 1);
    }
    return true;
  }

  private async deliverAsync(
    message: ImMessage,
    first: PromiseLike<unknown>,
    handlers: readonly MessageHandler[],
    next: number,
  ): Promise<boolean> {
    try {
      await first;
      for (let index = next; index < handlers.length; index++) await handlers[index](message);
      return true;
    } catch (error) {
      this.hooks.fail(message, error);
      return false;
    }
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
