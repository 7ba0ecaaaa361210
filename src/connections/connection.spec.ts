import { describe, expect, it } from 'vitest';
import { jsonOutbound } from '../gateway/json.codec.js';
import { plainTextOutbound } from '../gateway/plain-text.codec.js';
import type { ImMessage } from '../messages/im-message.js';
import { Connection, type ConnectionLimits, heldBytes, type SocketLike } from './connection.js';

class StubSocket implements SocketLike {
  readyState = 1;
  bufferedAmount = 0;
  readonly frames: string[] = [];
  closedWith?: number;
  send(data: string): void {
    this.frames.push(data);
  }
  ping(): void {}
  pong(): void {}
  pause(): void {}
  resume(): void {}
  close(code?: number): void {
    this.closedWith = code;
    this.readyState = 2;
  }
  terminate(): void {
    this.readyState = 3;
  }
}

const LIMITS: ConnectionLimits = {
  window: 256,
  windowBytes: 2_000,
  slowConsumerBytes: 4_000,
  backlogMessages: 4,
  ratePerSecond: 1e9,
  rateBurst: 1e9,
};

let seq = 0;
const message = (bytes: number): ImMessage => ({
  id: `m${++seq}`,
  seq,
  from: 'alice',
  to: 'bob',
  body: 'x'.repeat(bytes),
  ts: 0,
});

function open(limits: Partial<ConnectionLimits> = {}) {
  const socket = new StubSocket();
  const overloaded: Connection[] = [];
  const connection = new Connection(
    socket,
    'bob',
    'json',
    jsonOutbound,
    { ...LIMITS, ...limits },
    {
      settled: () => undefined,
      overloaded: (c) => overloaded.push(c),
    },
  );
  connection.finishDrain();
  return { socket, connection, overloaded };
}

describe('Connection', () => {
  it('keeps the bytes in flight under the byte window, and sends more as acks free it', () => {
    const { socket, connection } = open();
    const messages = [message(1_000), message(1_000), message(1_000)];
    for (const m of messages) connection.hold(m);
    // Two of them with their envelopes fill the 2,000-byte window: the third waits.
    expect(heldBytes(messages[0]!)).toBeLessThan(LIMITS.windowBytes);
    expect(heldBytes(messages[0]!) * 2).toBeGreaterThan(LIMITS.windowBytes);
    expect(socket.frames).toHaveLength(2);
    connection.acknowledge(messages[0]!.id);
    expect(socket.frames).toHaveLength(3);
  });

  it('always sends one message, however large, when nothing is in flight', () => {
    const { socket, connection } = open();
    connection.hold(message(3_000));
    expect(socket.frames).toHaveLength(1);
    expect(socket.closedWith).toBeUndefined();
  });

  it('closes with 1013 a client whose backlog passes its limit, and hands everything it held on', async () => {
    const { socket, connection, overloaded } = open({ windowBytes: 100 });
    const held = Array.from({ length: 6 }, () => message(10));
    for (const m of held) connection.hold(m);
    // One in flight, four waiting is the limit; the fifth waiting makes the client slow.
    expect(socket.closedWith).toBe(1013);
    expect(connection.slowConsumer).toBe(true);
    await Promise.resolve();
    expect(overloaded).toEqual([connection]);
    expect(connection.takeUnsettled().map((m) => m.id)).toEqual(held.map((m) => m.id));
  });

  it('closes with 1013 a client whose backlog passes SLOW_CONSUMER_BYTES', () => {
    const { socket, connection } = open({ windowBytes: 100, backlogMessages: 1_000 });
    connection.hold(message(10));
    connection.hold(message(2_000));
    expect(socket.closedWith).toBeUndefined();
    connection.hold(message(2_000));
    expect(socket.closedWith).toBe(1013);
  });

  it('counts a pong toward the slow-consumer check', () => {
    const { socket, connection } = open();
    socket.bufferedAmount = 5 * LIMITS.slowConsumerBytes;
    connection.pong(Buffer.alloc(0));
    expect(socket.closedWith).toBe(1013);
  });
});

/** A socket that keeps each write's callback, to be fired as the kernel would take the bytes. */
class CallbackSocket extends StubSocket {
  readonly callbacks: (((error?: Error | null) => void) | undefined)[] = [];
  override send(data: string, cb?: (error?: Error | null) => void): void {
    super.send(data);
    this.callbacks.push(cb);
  }
}

function openPlainText() {
  const socket = new CallbackSocket();
  const settled: string[] = [];
  const connection = new Connection(socket, 'bob', 'text', plainTextOutbound, LIMITS, {
    settled: (_c, m) => settled.push(m.id),
    overloaded: () => undefined,
  });
  return { socket, connection, settled };
}

describe('Connection, plain text', () => {
  it('settles a written page from one callback on its last frame, in write order', () => {
    const { socket, connection, settled } = openPlainText();
    const page = [message(10), message(10), message(10)];
    connection.writeHeldAll(page);
    expect(socket.frames).toEqual(page.map((m) => m.body));
    expect(socket.callbacks.map((cb) => cb !== undefined)).toEqual([false, false, true]);
    expect(settled).toEqual([]);
    expect(page.every((m) => connection.holds(m.id))).toBe(true);

    socket.callbacks[2]!(null);
    expect(settled).toEqual(page.map((m) => m.id));
    expect(connection.unacked.size).toBe(0);
  });

  it('keeps a page held when its write fails, so that it goes back to be delivered again', () => {
    const { socket, connection, settled } = openPlainText();
    const page = [message(10), message(10)];
    connection.writeHeldAll(page);
    socket.callbacks[1]!(new Error('EPIPE'));
    expect(settled).toEqual([]);
    expect(connection.takeUnsettled().map((m) => m.id)).toEqual(page.map((m) => m.id));
  });

  it('writes what waited behind the drain as one page once the drain is over', () => {
    const { socket, connection, settled } = openPlainText();
    const waiting = [message(10), message(10), message(10)];
    for (const m of waiting) connection.hold(m);
    expect(socket.frames).toEqual([]);
    connection.finishDrain();
    expect(socket.callbacks.map((cb) => cb !== undefined)).toEqual([false, false, true]);
    socket.callbacks[2]!(null);
    expect(settled).toEqual(waiting.map((m) => m.id));
  });
});
