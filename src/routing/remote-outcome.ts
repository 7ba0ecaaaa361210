import type { DeliveryStatus, SendListener } from '../messages/send-listener.js';

/**
 * The `sent` answer for a stored message sent on to other nodes: `delivered` as soon as one of
 * them (or a connection here) reports a device has it; `queued` once every one of them reported
 * it stays in the inbox, or when none answered in time (a lost envelope, a dead node) — true
 * either way, since the inbox holds it.
 */
export class RemoteOutcome implements SendListener {
  private answered = false;
  private pending: number;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly listeners: SendListener[],
    private readonly clientId: string,
    private readonly id: string,
    holders: number,
    timeoutMs: number,
    private readonly onDone: () => void,
  ) {
    this.pending = holders;
    this.timer = setTimeout(() => this.finish('queued'), timeoutMs);
    this.timer.unref();
  }

  /** A resend of the same message waits for the same answer. */
  add(listener: SendListener): void {
    this.listeners.push(listener);
  }

  confirm(_clientId: string, _id: string, status: DeliveryStatus): void {
    if (status === 'delivered') this.finish('delivered');
    else if (--this.pending <= 0) this.finish('queued');
  }

  /** Nothing fails once the message is stored. */
  fail(): void {}

  private finish(status: DeliveryStatus): void {
    if (this.answered) return;
    this.answered = true;
    clearTimeout(this.timer);
    this.onDone();
    for (const listener of this.listeners) listener.confirm(this.clientId, this.id, status);
  }
}
