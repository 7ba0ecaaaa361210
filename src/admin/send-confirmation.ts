import type { DeliveryStatus, SendListener } from '../connections/outbound-codec.js';

export interface Confirmed {
  readonly messageId: string;
  readonly status: DeliveryStatus;
}

/**
 * A `SendListener` an HTTP request can await: the first confirmation counts. Later ones (a
 * message queued, then delivered) and those after the wait ended are ignored.
 */
export class SendConfirmation implements SendListener {
  private confirmed: Confirmed | undefined;
  private waiter: ((confirmed: Confirmed) => void) | undefined;

  confirm(_clientId: string, messageId: string, status: DeliveryStatus): void {
    if (this.confirmed !== undefined) return;
    this.confirmed = { messageId, status };
    this.waiter?.(this.confirmed);
  }

  /** The confirmation, or `undefined` if none came within `ms`. */
  wait(ms: number): Promise<Confirmed | undefined> {
    if (this.confirmed !== undefined) return Promise.resolve(this.confirmed);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        resolve(undefined);
      }, ms);
      timer.unref();
      this.waiter = (confirmed) => {
        clearTimeout(timer);
        this.waiter = undefined;
        resolve(confirmed);
      };
    });
  }
}
