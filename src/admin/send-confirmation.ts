import type { DeliveryStatus, SendFailure, SendListener } from '../messages/send-listener.js';

/** What became of a send: confirmed (`queued` or `delivered`), or refused by the inbox. */
export type SendOutcome =
  | { readonly ok: true; readonly messageId: string; readonly status: DeliveryStatus }
  | { readonly ok: false; readonly failure: SendFailure; readonly reason: string };

/**
 * A `SendListener` an HTTP request can await: the first outcome counts. Later ones (a message
 * queued, then delivered) and those after the wait ended are ignored.
 */
export class SendConfirmation implements SendListener {
  private outcome: SendOutcome | undefined;
  private waiter: ((outcome: SendOutcome) => void) | undefined;

  confirm(_clientId: string, messageId: string, status: DeliveryStatus): void {
    this.settle({ ok: true, messageId, status });
  }

  fail(_clientId: string, failure: SendFailure, reason: string): void {
    this.settle({ ok: false, failure, reason });
  }

  /** The outcome, or `undefined` if none came within `ms`. */
  wait(ms: number): Promise<SendOutcome | undefined> {
    if (this.outcome !== undefined) return Promise.resolve(this.outcome);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        resolve(undefined);
      }, ms);
      timer.unref();
      this.waiter = (outcome) => {
        clearTimeout(timer);
        this.waiter = undefined;
        resolve(outcome);
      };
    });
  }

  private settle(outcome: SendOutcome): void {
    if (this.outcome !== undefined) return;
    this.outcome = outcome;
    this.waiter?.(outcome);
  }
}
