import { ImClient } from '../im.client.js';
import type { ImClientError } from '../im-client.error.js';
import type { ImClientState, ImCloseInfo, ImReceipt } from '../im-client.events.js';
import type { ImClientOptions } from '../im-client.options.js';
import { fakeWebSocketFactory, type FakeWebSocket, type FakeWebSocketFactory } from './fake-web-socket.js';

export const TEST_URL = 'ws://gateway.test/ws';

/** Everything a client emitted, except messages (tests register their own listeners for those). */
export interface RecordedEvents {
  readonly errors: ImClientError[];
  readonly closes: ImCloseInfo[];
  readonly states: ImClientState[];
  readonly receipts: ImReceipt[];
  opens: number;
}

export interface Harness {
  readonly client: ImClient;
  readonly factory: FakeWebSocketFactory;
  readonly events: RecordedEvents;
  /** The socket created last. */
  socket(): FakeWebSocket;
}

/** A client for user `alice` on fake sockets, with jitter fixed at half the ceiling. */
export function createHarness(options: Partial<ImClientOptions> = {}): Harness {
  const factory = fakeWebSocketFactory();
  const client = new ImClient({
    url: TEST_URL,
    ...(options.token === undefined && options.getToken === undefined ? { user: 'alice' } : {}),
    WebSocket: factory.WebSocket,
    ...options,
    reconnect: { random: () => 0.5, ...options.reconnect },
  });
  const events: RecordedEvents = { errors: [], closes: [], states: [], receipts: [], opens: 0 };
  client.on('error', (error) => events.errors.push(error));
  client.on('close', (info) => events.closes.push(info));
  client.on('state', (state) => events.states.push(state));
  client.on('receipt', (receipt) => events.receipts.push(receipt));
  client.on('open', () => {
    events.opens++;
  });
  return { client, factory, events, socket: () => factory.last() };
}

/** A harness whose client is connected: the first socket has been accepted by the "server". */
export async function connectedHarness(options: Partial<ImClientOptions> = {}): Promise<Harness> {
  const harness = createHarness(options);
  const connected = harness.client.connect();
  harness.socket().serverOpen();
  await connected;
  return harness;
}

/** Lets queued microtasks run, such as the batched ack and awaited listeners. */
export async function flushMicrotasks(): Promise<void> {
  for (let round = 0; round < 10; round++) await Promise.resolve();
}
