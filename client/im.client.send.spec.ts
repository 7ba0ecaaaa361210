import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { connectedHarness, createHarness, flushMicrotasks } from './testing/im-client.harness.js';

describe('ImClient send', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('sends a frame and resolves with the status of the first confirmation', async () => {
    const { client, socket } = await connectedHarness();
    const sending = client.send('bob', 'hello', { id: 'c1' });
    expect(socket().dataOf('send')).toEqual([{ id: 'c1', to: 'bob', body: 'hello' }]);
    socket().serverSend('sent', { id: 'c1', messageId: 'm1', status: 'queued' });
    socket().serverSend('sent', { id: 'c1', messageId: 'm1', status: 'delivered' });
    await expect(sending).resolves.toBe('queued');
  });

  it('rejects at once a send the server could never accept, and never puts it on the wire', async () => {
    const { client, socket } = await connectedHarness({ maxFrameBytes: 200 });
    await expect(client.send('bob', 'é'.repeat(100), { id: 'big' })).rejects.toMatchObject({
      code: 'FRAME_TOO_LARGE',
      id: 'big',
    });
    expect(socket().dataOf('send')).toEqual([]);
    const fits = client.send('bob', 'é'.repeat(50), { id: 'fits' });
    expect(socket().dataOf('send')).toHaveLength(1);
    socket().serverSend('sent', { id: 'fits', messageId: 'm', status: 'queued' });
    await expect(fits).resolves.toBe('queued');
  });

  it('generates a distinct client id per send', async () => {
    const { client, socket } = await connectedHarness();
    void client.send('bob', 'one');
    void client.send('bob', 'two');
    const [first, second] = socket()
      .dataOf<{ id: string }>('send')
      .map((data) => data.id);
    expect(first).toMatch(/^[\w-]{1,64}$/);
    expect(second).not.toBe(first);
  });

  it('rejects a send the server refuses, with the server code and message', async () => {
    const { client, socket, events } = await connectedHarness();
    const sending = client.send('nobody', 'hello', { id: 'c1' });
    socket().serverSend('error', { code: 'BAD_RECIPIENT', message: 'unknown user', id: 'c1' });
    await expect(sending).rejects.toMatchObject({
      name: 'ImClientError',
      code: 'BAD_RECIPIENT',
      message: 'unknown user',
      id: 'c1',
    });
    expect(events.errors).toEqual([]);
  });

  it('treats an error code it does not know as a permanent failure of the send', async () => {
    const { client, socket } = await connectedHarness();
    const sending = client.send('bob', 'hello', { id: 'c1' });
    socket().serverSend('error', { code: 'SOMETHING_NEW', message: 'no', id: 'c1' });
    await expect(sending).rejects.toMatchObject({ code: 'SOMETHING_NEW' });
    socket().serverClose(1001);
    await vi.advanceTimersByTimeAsync(125);
    socket().serverOpen();
    expect(socket().dataOf('send')).toEqual([]);
  });

  it('reports server errors that belong to no pending send on the error event', async () => {
    const { socket, events } = await connectedHarness();
    socket().serverSend('error', { code: 'UNKNOWN_EVENT', message: 'what is that' });
    expect(events.errors.map((error) => [error.code, error.message])).toEqual([['UNKNOWN_EVENT', 'what is that']]);
  });

  it('keeps sends made while offline and sends them in order once connected', async () => {
    const { client, socket } = createHarness();
    const sends = ['a', 'b', 'c'].map((body) => client.send('bob', body, { id: body }));
    const connected = client.connect();
    expect(socket().sent).toEqual([]);
    socket().serverOpen();
    await connected;
    expect(
      socket()
        .dataOf<{ body: string }>('send')
        .map((data) => data.body),
    ).toEqual(['a', 'b', 'c']);
    for (const id of ['a', 'b', 'c']) socket().serverSend('sent', { id, messageId: `m-${id}`, status: 'delivered' });
    await expect(Promise.all(sends)).resolves.toEqual(['delivered', 'delivered', 'delivered']);
  });

  it('resends every unconfirmed send, in its original order, after a reconnect', async () => {
    const { client, socket } = await connectedHarness();
    const sends = ['a', 'b', 'c', 'd'].map((id) => client.send('bob', id, { id }));
    socket().serverSend('sent', { id: 'b', messageId: 'm-b', status: 'queued' });
    socket().serverClose(1006);
    const offline = client.send('bob', 'e', { id: 'e' });
    await vi.advanceTimersByTimeAsync(125);
    socket().serverOpen();
    expect(
      socket()
        .dataOf<{ id: string }>('send')
        .map((data) => data.id),
    ).toEqual(['a', 'c', 'd', 'e']);
    for (const id of ['a', 'c', 'd', 'e']) socket().serverSend('sent', { id, messageId: `m-${id}`, status: 'queued' });
    await expect(Promise.all([...sends, offline])).resolves.toEqual(['queued', 'queued', 'queued', 'queued', 'queued']);
  });

  it("sends an open listener's message after the older unconfirmed ones", async () => {
    const { client, socket } = createHarness();
    void client.send('bob', 'older', { id: 'older' });
    client.on('open', () => void client.send('bob', 'newer', { id: 'newer' }));
    const connected = client.connect();
    socket().serverOpen();
    await connected;
    expect(
      socket()
        .dataOf<{ id: string }>('send')
        .map((data) => data.id),
    ).toEqual(['older', 'newer']);
  });

  it('returns the pending promise when the same id is sent again, without a second frame', async () => {
    const { client, socket } = await connectedHarness();
    const first = client.send('bob', 'hello', { id: 'c1' });
    const again = client.send('bob', 'hello', { id: 'c1' });
    expect(again).toBe(first);
    expect(socket().dataOf('send')).toHaveLength(1);
  });

  it('emits a receipt naming the send when a queued message is delivered', async () => {
    const { client, socket, events } = await connectedHarness();
    const sending = client.send('bob', 'hello', { id: 'c1' });
    socket().serverSend('sent', { id: 'c1', messageId: 'm1', status: 'queued' });
    await expect(sending).resolves.toBe('queued');
    socket().serverSend('receipt', { messageId: 'm1', status: 'delivered' });
    socket().serverSend('receipt', { messageId: 'm-from-an-earlier-session', status: 'delivered' });
    expect(events.receipts).toEqual([
      { messageId: 'm1', status: 'delivered', id: 'c1' },
      { messageId: 'm-from-an-earlier-session', status: 'delivered' },
    ]);
  });

  it.each(['RATE_LIMITED', 'STORE_UNAVAILABLE'])('holds a %s send back, then resends the outbox', async (code) => {
    const { client, socket, events } = await connectedHarness();
    const first = client.send('bob', 'one', { id: 'c1' });
    socket().serverSend('error', { code, message: 'retry later', id: 'c1' });
    const second = client.send('bob', 'two', { id: 'c2' });
    expect(
      socket()
        .dataOf<{ id: string }>('send')
        .map((data) => data.id),
    ).toEqual(['c1']);
    await vi.advanceTimersByTimeAsync(124);
    expect(socket().dataOf('send')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(
      socket()
        .dataOf<{ id: string }>('send')
        .map((data) => data.id),
    ).toEqual(['c1', 'c1', 'c2']);
    socket().serverSend('sent', { id: 'c1', messageId: 'm1', status: 'delivered' });
    socket().serverSend('sent', { id: 'c2', messageId: 'm2', status: 'delivered' });
    await expect(Promise.all([first, second])).resolves.toEqual(['delivered', 'delivered']);
    expect(events.errors).toEqual([]);
  });

  it('resends from the first refused send, leaving the ones ahead of it to the answers still on their way', async () => {
    const { client, socket } = await connectedHarness();
    const sends = ['c0', 'c1', 'c2', 'c3'].map((id) => client.send('bob', id, { id }));
    // c1 is refused, and the server refuses c2 and c3 behind it; c0 is still being handled.
    for (const id of ['c2', 'c1', 'c3']) {
      socket().serverSend('error', { code: 'STORE_UNAVAILABLE', message: 'retry later', id });
    }
    const later = client.send('bob', 'c4', { id: 'c4' });
    await vi.advanceTimersByTimeAsync(125);
    expect(
      socket()
        .dataOf<{ id: string }>('send')
        .map((data) => data.id),
    ).toEqual(['c0', 'c1', 'c2', 'c3', 'c1', 'c2', 'c3', 'c4']);
    for (const [i, id] of ['c0', 'c1', 'c2', 'c3', 'c4'].entries()) {
      socket().serverSend('sent', { id, messageId: `m${i}`, status: 'delivered' });
    }
    await expect(Promise.all([...sends, later])).resolves.toHaveLength(5);
  });

  it('waits longer after each RATE_LIMITED in a row', async () => {
    const { client, socket } = await connectedHarness();
    void client.send('bob', 'one', { id: 'c1' });
    socket().serverSend('error', { code: 'RATE_LIMITED', message: 'slow down', id: 'c1' });
    await vi.advanceTimersByTimeAsync(125);
    socket().serverSend('error', { code: 'RATE_LIMITED', message: 'slow down', id: 'c1' });
    await vi.advanceTimersByTimeAsync(249);
    expect(socket().dataOf('send')).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(socket().dataOf('send')).toHaveLength(3);
  });

  it('rejects a send with SEND_TIMEOUT when sendTimeoutMs passes unconfirmed', async () => {
    const { client } = await connectedHarness({ sendTimeoutMs: 5_000 });
    const sending = client.send('bob', 'hello', { id: 'c1' });
    const outcome = expect(sending).rejects.toMatchObject({ code: 'SEND_TIMEOUT', id: 'c1' });
    await vi.advanceTimersByTimeAsync(5_000);
    await outcome;
  });

  it('waits for confirmation as long as it takes when no sendTimeoutMs is set', async () => {
    const { client, socket } = await connectedHarness();
    const sending = client.send('bob', 'hello', { id: 'c1' });
    // An hour of pings, each answered.
    for (let tick = 0; tick < 240; tick++) {
      await vi.advanceTimersByTimeAsync(15_000);
      socket().serverSend('pong', { ts: Date.now() });
    }
    socket().serverSend('sent', { id: 'c1', messageId: 'm1', status: 'delivered' });
    await expect(sending).resolves.toBe('delivered');
  });

  it('rejects invalid arguments with INVALID_ARGUMENT', async () => {
    const { client, socket } = await connectedHarness();
    await expect(client.send('', 'hello')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(client.send('bob', 42 as unknown as string)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const tooLongId = 'x'.repeat(65);
    await expect(client.send('bob', 'hello', { id: tooLongId })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(socket().sent).toEqual([]);
  });

  it('rejects pending sends with CLIENT_CLOSED on close(), and sends made after it', async () => {
    const { client } = await connectedHarness();
    const pending = client.send('bob', 'hello', { id: 'c1' });
    const outcome = expect(pending).rejects.toMatchObject({ code: 'CLIENT_CLOSED', id: 'c1' });
    client.close();
    await outcome;
    await expect(client.send('bob', 'late')).rejects.toMatchObject({ code: 'CLIENT_CLOSED' });
  });

  it('rejects sends made before connect() when the client is closed', async () => {
    const { client } = createHarness();
    const pending = client.send('bob', 'hello');
    client.close();
    await expect(pending).rejects.toMatchObject({ code: 'CLIENT_CLOSED' });
    await flushMicrotasks();
  });
});
