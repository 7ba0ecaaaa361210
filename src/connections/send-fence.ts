import type { RetryableFailure } from '../messages/send-listener.js';

/**
 * How long a connection's sends after a refused one are refused too, unless the refused one comes
 * back first: long enough for every send the client made before it read the refusal to arrive.
 */
export const SEND_FENCE_MS = 10_000;

/** Why a send was refused by the fence: the code of the refusal it waits behind, and a reason. */
export interface FenceRefusal {
  readonly code: RetryableFailure;
  readonly reason: string;
}

/**
 * Keeps one connection's sends in order around a retryable refusal (RATE_LIMITED,
 * STORE_UNAVAILABLE). The client may have sent more before it read the refusal; let through, those
 * would go ahead of the refused send when it comes again. So once a send is refused, the sends
 * after it are refused too, with the same code, until one of the refused sends comes again (the
 * client resends in order, from the first refused one) or `SEND_FENCE_MS` passes (a client that
 * gave up on it).
 */
export class SendFence {
  /** Client ids refused since the fence went up; undefined while it is down. */
  private refused: Set<string> | undefined;
  /** The earliest refused send: its client id and its place among the connection's sends. */
  private first = '';
  private floor = 0;
  private code: RetryableFailure = 'STORE_UNAVAILABLE';
  private until = 0;

  /**
   * Send `clientId`, number `order` among the connection's sends, was refused with `code`: the
   * sends after it wait until it comes again.
   */
  raise(clientId: string, code: RetryableFailure, now: number, order: number): void {
    if (!this.isUp(now)) {
      this.refused = new Set();
      this.first = clientId;
      this.floor = order;
      this.code = code;
      this.until = now + SEND_FENCE_MS;
    } else if (order < this.floor) {
      this.first = clientId;
      this.floor = order;
    }
    this.refused!.add(clientId);
  }

  /** True when send number `order` came after a refused one that has not come again. */
  holds(order: number): boolean {
    return this.refused !== undefined && order > this.floor && this.isUp(Date.now());
  }

  /** True while a send routed now could go ahead of a refused one. */
  isUp(now: number): boolean {
    if (this.refused === undefined) return false;
    if (now < this.until) return true;
    this.refused = undefined;
    return false;
  }

  /**
   * Passes send `clientId` (`undefined`), or refuses it while the fence is up. A refused send
   * coming again takes the fence down: the client is resending, in order.
   */
  check(clientId: string, now: number): FenceRefusal | undefined {
    if (this.refused === undefined || !this.isUp(now)) return undefined;
    if (this.refused.has(clientId)) {
      this.refused = undefined;
      return undefined;
    }
    this.refused.add(clientId);
    return {
      code: this.code,
      reason: `send "${this.first}" was refused (${this.code}): send it again before the sends made after it`,
    };
  }
}
