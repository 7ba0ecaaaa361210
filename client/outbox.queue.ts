import type { SendStatus } from './im-client.events.js';
import { ImClientError } from './im-client.error.js';
import { LocalErrorCode } from './im-error-code.enum.js';

export interface PendingSend {
  readonly id: string;
  /** Encoded once, so each resend after a reconnect costs no serialisation. */
  readonly frame: string;
  readonly promise: Promise<SendStatus>;
}

interface Entry extends PendingSend {
  readonly resolve: (status: SendStatus) => void;
  readonly reject: (error: ImClientError) => void;
  readonly timer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * Sends the server has not confirmed yet, in the order they were made (a Map keeps insertion
 * order): the client sends them all again, in that order, on every new connection.
 */
export class Outbox {
  private readonly entries = new Map<string, Entry>();

  /** With a `timeoutMs`, each send gets a timer; without one, a send waits until confirmed. */
  constructor(private readonly timeoutMs: number | undefined) {}

  get(id: string): PendingSend | undefined {
    return this.entries.get(id);
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  values(): IterableIterator<PendingSend> {
    return this.entries.values();
  }

  add(id: string, frame: string): PendingSend {
    let resolve!: (status: SendStatus) => void;
    let reject!: (error: ImClientError) => void;
    const promise = new Promise<SendStatus>((onResolve, onReject) => {
      resolve = onResolve;
      reject = onReject;
    });
    const timer =
      this.timeoutMs === undefined
        ? undefined
        : setTimeout(() => this.reject(id, new ImClientError(LocalErrorCode.SendTimeout, { id })), this.timeoutMs);
    const entry: Entry = { id, frame, promise, resolve, reject, timer };
    this.entries.set(id, entry);
    return entry;
  }

  /** Returns false when the id is not pending, as for a second confirmation of the same send. */
  confirm(id: string, status: SendStatus): boolean {
    const entry = this.take(id);
    entry?.resolve(status);
    return entry !== undefined;
  }

  reject(id: string, error: ImClientError): boolean {
    const entry = this.take(id);
    entry?.reject(error);
    return entry !== undefined;
  }

  rejectAll(error: ImClientError): void {
    for (const id of [...this.entries.keys()]) {
      this.reject(id, new ImClientError(error.code, { message: error.message, id, closeCode: error.closeCode }));
    }
  }

  private take(id: string): Entry | undefined {
    const entry = this.entries.get(id);
    if (entry === undefined) return undefined;
    this.entries.delete(id);
    clearTimeout(entry.timer);
    return entry;
  }
}
