import WebSocket from 'ws';
import {
  ImClient,
  type ImClientError,
  type ImClientOptions,
  type ImMessage,
  type ImReceipt,
  type SendOptions,
  type SendStatus,
  type WebSocketConstructor,
} from '../../client/index.js';
import { eventually } from './eventually.js';
import { sleep, WAIT_MS, withTimeout } from './ws-client.js';

/**
 * Reconnect delays for tests that kill the gateway: a restart takes about a second, and the
 * default ceilings (250 ms growing to 10 s) would spend most of a test waiting.
 */
export const FAST_RECONNECT = { initialDelayMs: 20, maxDelayMs: 200 } as const;

/** What the app does with a message; the SDK acks it only after this returns or resolves. */
export type AppHandler = (message: ImMessage) => void | Promise<void>;

export interface SdkUserOptions extends Omit<ImClientOptions, 'url' | 'user' | 'token' | 'getToken' | 'WebSocket'> {
  /** Runs for every message after it is recorded in `seen`; `false` registers no message listener. */
  handler?: AppHandler | false;
}

/**
 * One user's app on the real SDK (`ImClient` over `ws` sockets): records what the app saw, what
 * reached the socket, receipts and errors, so a test can compare the wire with the app.
 */
export class SdkUser {
  readonly client: ImClient;
  /** Messages handed to the app, in the order its listener was called. */
  readonly seen: ImMessage[] = [];
  /** Messages whose handler finished: the SDK acks exactly these. */
  readonly handled: ImMessage[] = [];
  readonly receipts: ImReceipt[] = [];
  readonly errors: ImClientError[] = [];
  /** `message` frames that reached the socket, redeliveries included. */
  wireMessages = 0;
  /** Connections opened, the first one included. */
  opens = 0;

  constructor(
    url: string,
    readonly user: string,
    options: SdkUserOptions = {},
  ) {
    const { handler, ...clientOptions } = options;
    this.client = new ImClient({
      ...clientOptions,
      url,
      user,
      WebSocket: countingWebSocket(() => this.wireMessages++),
    });
    this.client.on('receipt', (receipt) => this.receipts.push(receipt));
    this.client.on('error', (error) => this.errors.push(error));
    this.client.on('open', () => {
      this.opens++;
    });
    if (handler !== false) this.listen(handler);
  }

  /** Registers the app's message listener (messages wait, unacked, until there is one). */
  listen(handler?: AppHandler): void {
    this.client.on('message', async (message) => {
      this.seen.push(message);
      await handler?.(message);
      this.handled.push(message);
    });
  }

  async connect(timeoutMs = WAIT_MS): Promise<this> {
    await withTimeout(this.client.connect(), `${this.user} connected`, timeoutMs);
    return this;
  }

  /**
   * `client.send`, with the rejection marked handled so that a send a test leaves pending cannot
   * fail the run when the client is closed; awaiting the returned promise still throws.
   */
  send(to: string, body: string, options?: SendOptions): Promise<SendStatus> {
    const promise = this.client.send(to, body, options);
    promise.catch(() => undefined);
    return promise;
  }

  bodies(): string[] {
    return this.handled.map((m) => m.body);
  }

  close(): void {
    this.client.close();
  }
}

/** A `ws` client class that counts `message` frames before the SDK sees them. */
function countingWebSocket(onMessageFrame: () => void): WebSocketConstructor {
  return class CountingWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      this.on('message', (data: WebSocket.RawData) => {
        if (isMessageFrame(data.toString())) onMessageFrame();
      });
    }
  };
}

function isMessageFrame(text: string): boolean {
  try {
    return (JSON.parse(text) as { event?: unknown }).event === 'message';
  } catch {
    return false;
  }
}

/** Polls `done` until it holds; fails naming `what` after `timeoutMs`. */
export async function until(done: () => boolean, what: string, timeoutMs = WAIT_MS): Promise<void> {
  await eventually(
    what,
    () => {
      if (!done()) throw new Error('still false');
    },
    timeoutMs,
  );
}

/** `pending` if `promise` has not settled within `ms`, otherwise how it settled. */
export async function settledWithin(
  promise: Promise<unknown>,
  ms: number,
): Promise<'pending' | 'resolved' | 'rejected'> {
  const outcome = promise.then(
    () => 'resolved' as const,
    () => 'rejected' as const,
  );
  // A sleep, not a poll: the answer is about what does not happen within `ms`.
  return Promise.race([outcome, sleep(ms).then(() => 'pending' as const)]);
}

/** A promise the test resolves when it chooses: an app handler that is still busy. */
export function gate(): { wait: () => Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { wait: () => opened, open };
}
