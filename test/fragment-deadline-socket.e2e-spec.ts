import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { unfinishedMessageOf } from '../src/connections/fragment-deadline.js';

describe('unfinishedMessageOf, against the installed ws', () => {
  let server: WebSocketServer;
  afterEach(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('sees a message from its first fragment until its last, and a new one as new', async () => {
    server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((resolve) => server.once('listening', resolve));
    const accepted = new Promise<WebSocket>((resolve) => server.once('connection', resolve));
    const { port } = server.address() as AddressInfo;
    const client = new WebSocket(`ws://127.0.0.1:${port}`);
    const socket = await accepted;
    await new Promise((resolve) => client.once('open', resolve));
    const received = (): Promise<string> =>
      new Promise((resolve) => socket.once('message', (data: Buffer) => resolve(data.toString())));
    const until = async (done: () => boolean): Promise<void> => {
      await vi.waitFor(() => expect(done()).toBe(true), { timeout: 2_000, interval: 5 });
    };

    expect(unfinishedMessageOf(socket)).toBeUndefined();
    client.send('first ', { fin: false });
    await until(() => unfinishedMessageOf(socket) !== undefined);
    const first = unfinishedMessageOf(socket);
    let message = received();
    client.send('part', { fin: true });
    expect(await message).toBe('first part');
    expect(unfinishedMessageOf(socket)).toBeUndefined();

    client.send('second ', { fin: false });
    await until(() => unfinishedMessageOf(socket) !== undefined);
    expect(unfinishedMessageOf(socket)).not.toBe(first);
    message = received();
    client.send('part', { fin: true });
    expect(await message).toBe('second part');
    client.terminate();
  });
});
