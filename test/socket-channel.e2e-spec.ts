import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { SocketChannel } from '../src/connections/socket-channel.js';

/**
 * `SocketChannel` frames a turn's text frames itself, into one buffer and one TCP write: checked
 * here against the installed `ws`, a real client on loopback reading what it wrote.
 */
describe('SocketChannel, against the installed ws', () => {
  let server: WebSocketServer | undefined;
  const clients: WebSocket[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) client.terminate();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  /** A server socket in a channel, its TCP writes counted, and a client that records what it reads. */
  const connect = async (slowConsumerBytes = 1 << 30) => {
    server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false, autoPong: false });
    await new Promise((resolve) => server!.once('listening', resolve));
    const accepted = new Promise<WebSocket>((resolve) => server!.once('connection', resolve));
    const { port } = server.address() as AddressInfo;
    const client = new WebSocket(`ws://127.0.0.1:${port}`, { maxPayload: 1 << 30 });
    clients.push(client);
    const socket = await accepted;
    await new Promise((resolve) => client.once('open', resolve));
    const tcp = (socket as unknown as { _socket: Socket })._socket;
    const writes = { count: 0 };
    const write = tcp.write.bind(tcp) as (...args: unknown[]) => boolean;
    tcp.write = ((...args: unknown[]) => {
      writes.count++;
      return write(...args);
    }) as typeof tcp.write;
    let slow = 0;
    const channel = new SocketChannel(socket, slowConsumerBytes, () => slow++);
    const received: string[] = [];
    client.on('message', (data: Buffer, isBinary: boolean) => received.push(isBinary ? '<binary>' : data.toString()));
    const closed = new Promise<number>((resolve) => client.once('close', (code: number) => resolve(code)));
    return { socket, client, channel, writes, received, closed, slowCalls: () => slow };
  };
  const until = async (done: () => boolean, ms = 5_000): Promise<void> => {
    const deadline = Date.now() + ms;
    while (!done()) {
      if (Date.now() > deadline) throw new Error('timed out');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };

  it('writes a turn of frames of every header size and of multi-byte text in one TCP write, intact and in order', async () => {
    const { channel, writes, received } = await connect();
    const frames = [
      '',
      'a'.repeat(125),
      'b'.repeat(126),
      '消'.repeat(42), // 126 bytes in 42 characters
      'c'.repeat(65_535),
      'd'.repeat(65_536),
      `emoji 😀 and text ${'é'.repeat(50_000)}`,
      'e'.repeat(300_000),
    ];
    const before = writes.count;
    const called: number[] = [];
    for (const [i, frame] of frames.entries()) channel.send(frame, (error) => called.push(error ? -1 : i));
    expect(writes.count).toBe(before); // nothing written until the turn ends
    await until(() => received.length === frames.length);
    expect(received).toEqual(frames);
    expect(writes.count - before).toBe(1);
    // Every callback, in write order, after the one write.
    expect(called).toEqual(frames.map((_, i) => i));
  });

  it('writes each turn apart: what is sent in a later turn is a later write', async () => {
    const { channel, writes, received } = await connect();
    const before = writes.count;
    channel.send('one');
    channel.send('two');
    await new Promise((resolve) => setImmediate(resolve));
    channel.send('three');
    await until(() => received.length === 3);
    expect(received).toEqual(['one', 'two', 'three']);
    expect(writes.count - before).toBe(2);
  });

  it("starts a turn after a large one at under 4 KiB (from the buffer pool), not at the large one's size", async () => {
    const { channel, received } = await connect();
    // A large turn (a drain's page, say), then turns of one small frame each: a message to each
    // of a crowd of such connections must not cost a large buffer per connection.
    for (let i = 0; i < 200; i++) channel.send('x'.repeat(1_000));
    await until(() => received.length === 200);
    const allocations = vi.spyOn(Buffer, 'allocUnsafe');
    try {
      channel.send('small');
      await until(() => received.length === 201);
      channel.send('small again');
      await until(() => received.length === 202);
      const sizes = allocations.mock.calls.map(([size]) => size);
      expect(sizes.length).toBeGreaterThanOrEqual(2);
      expect(Math.max(...sizes)).toBeLessThan(4 * 1024);
    } finally {
      allocations.mockRestore();
    }
    expect(received.slice(-2)).toEqual(['small', 'small again']);
  });

  it('writes a pong in its turn, between the text frames around it, in the same TCP write', async () => {
    const { client, channel, writes, received } = await connect();
    const events: string[] = [];
    client.on('pong', (data: Buffer) => events.push(`pong ${data.toString()} after ${received.length}`));
    const before = writes.count;
    channel.send('first');
    channel.pong(Buffer.from('p-1'));
    channel.send('second');
    await until(() => received.length === 2 && events.length === 1);
    expect(events).toEqual(['pong p-1 after 1']);
    expect(writes.count - before).toBe(1);
  });

  it('writes what is pending before a ping, a pong and its own close frame', async () => {
    const { socket, client, channel, received, closed } = await connect();
    const events: string[] = [];
    client.on('ping', () => events.push(`ping after ${received.length}`));
    client.on('pong', () => events.push(`pong after ${received.length}`));
    channel.send('before ping');
    channel.ping();
    channel.send('before pong');
    channel.pong(Buffer.from('p'));
    channel.send('before close');
    channel.close(4000, 'done');
    expect(await closed).toBe(4000);
    expect(received).toEqual(['before ping', 'before pong', 'before close']);
    expect(events).toEqual(['ping after 1', 'pong after 2']);
    expect(socket.readyState).not.toBe(WebSocket.OPEN);
  });

  it("never writes a data frame after ws answered the peer's close: the pending frames' callbacks hear an error", async () => {
    const { socket, client, channel, received } = await connect();
    const outcome: Array<string> = [];
    // The peer's close frame arrives while frames of this turn are pending.
    socket.once('close', () => undefined);
    const closing = new Promise<void>((resolve) => {
      const tcp = (socket as unknown as { _socket: Socket })._socket;
      tcp.prependOnceListener('data', () => {
        channel.send('too late', (error) => outcome.push(error ? 'error' : 'written'));
        resolve();
      });
    });
    client.close(1000, 'bye');
    await closing;
    await until(() => outcome.length === 1);
    expect(outcome).toEqual(['error']);
    await until(() => socket.readyState === WebSocket.CLOSED);
    expect(received).toEqual([]);
  });

  it('counts pending bytes toward the slow-consumer check: a turn far over the limit closes with 1013, after its frames', async () => {
    const { channel, received, closed, slowCalls } = await connect(100_000);
    const frame = 'x'.repeat(50_000);
    let sent = 0;
    while (!channel.slowConsumer && sent < 20) {
      channel.send(frame);
      sent++;
    }
    // Closed in the turn that went past 4 × 100 kB (the grace of a burst starts at 100 kB).
    expect(sent).toBe(8);
    expect(await closed).toBe(1013);
    expect(received.length).toBe(8);
    await until(() => slowCalls() === 1);
  });

  it('hands a send on a socket that is no longer open to ws, which answers with an error', async () => {
    const { socket, channel } = await connect();
    socket.close(1000, 'bye');
    const error = await new Promise<Error | null | undefined>((resolve) => channel.send('after close', resolve));
    expect(error).toBeInstanceOf(Error);
  });
});
