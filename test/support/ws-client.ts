import WebSocket from 'ws';

/** How long any single wait in a test may take before it fails. */
export const WAIT_MS = 5_000;

export interface Closed {
  readonly code: number;
  readonly reason: string;
}

/** A real `ws` client that records what it receives, with a timeout on every wait. */
export class TestClient {
  readonly received: string[] = [];
  private waiters: Array<() => void> = [];
  private readonly closedPromise: Promise<Closed>;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      this.received.push(data.toString());
      this.wake();
    });
    // A reset after the gateway cut the connection shows in `closed()`; it is not a test failure.
    socket.on('error', () => undefined);
    this.closedPromise = new Promise((resolve) =>
      socket.on('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        this.wake();
      }),
    );
  }

  static open(
    url: string,
    options: WebSocket.ClientOptions & { protocols?: string | string[] } = {},
  ): Promise<TestClient> {
    const { protocols, ...rest } = options;
    const socket = new WebSocket(url, protocols, rest);
    const client = new TestClient(socket);
    return withTimeout(
      new Promise<TestClient>((resolve, reject) => {
        socket.once('open', () => resolve(client));
        socket.once('error', reject);
        socket.once('unexpected-response', (_req, res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => reject(new UpgradeRefused(res.statusCode ?? 0, body)));
        });
      }),
      `open ${url}`,
    );
  }

  send(frame: string | Buffer, options?: { binary?: boolean }): void {
    this.socket.send(frame, options ?? {});
  }

  /** Waits until `count` frames in total have arrived; answers all received so far. */
  async waitFor(count: number, timeoutMs = WAIT_MS): Promise<string[]> {
    await withTimeout(
      this.until(() => this.received.length >= count),
      `${count} frames`,
      timeoutMs,
    );
    return this.received;
  }

  /** Waits for the next frame after those already read with `next`. */
  private cursor = 0;
  async next(timeoutMs = WAIT_MS): Promise<string> {
    await this.waitFor(this.cursor + 1, timeoutMs);
    return this.received[this.cursor++]!;
  }

  closed(timeoutMs = WAIT_MS): Promise<Closed> {
    return withTimeout(this.closedPromise, 'close', timeoutMs);
  }

  async close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    this.socket.close();
    await this.closed();
  }

  private until(done: () => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (done()) resolve();
        else this.waiters.push(check);
      };
      check();
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

export class UpgradeRefused extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`upgrade refused with HTTP ${status}: ${body}`);
  }
}

export function withTimeout<T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Asserts that nothing arrives within `ms`. */
export async function expectSilence(client: TestClient, ms = 200): Promise<void> {
  const before = client.received.length;
  // A sleep, not a poll: there is no state to wait for, only time in which a frame could arrive.
  await sleep(ms);
  if (client.received.length !== before) {
    throw new Error(`expected no frame, got ${JSON.stringify(client.received.slice(before))}`);
  }
}
