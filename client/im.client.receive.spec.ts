import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ImMessage } from './im-client.events.js';
import { connectedHarness, flushMicrotasks } from './testing/im-client.harness.js';

function message(id: string, body = `body of ${id}`): ImMessage {
  return { id, from: 'bob', to: 'alice', body, ts: 1_700_000_000_000 };
}

function ackedIds(frames: { ids: string[] }[]): string[] {
  return frames.flatMap((data) => data.ids);
}

describe('ImClient receive', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('hands a message to every listener, then acks it', async () => {
    const { client, socket } = await connectedHarness();
    const first: ImMessage[] = [];
    const second: ImMessage[] = [];
    client.on('message', (received) => void first.push(received));
    client.on('message', (received) => void second.push(received));
    socket().serverSend('message', message('m1'));
    expect(first).toEqual([message('m1')]);
    expect(second).toEqual([message('m1')]);
    await flushMicrotasks();
    expect(socket().dataOf('ack')).toEqual([{ ids: ['m1'] }]);
  });

  it('acks a burst of messages in one frame', async () => {
    const { client, socket } = await connectedHarness();
    client.on('message', () => {});
    for (const id of ['m1', 'm2', 'm3']) socket().serverSend('message', message(id));
    await flushMicrotasks();
    expect(socket().dataOf('ack')).toEqual([{ ids: ['m1', 'm2', 'm3'] }]);
  });

  it('hands a redelivered message to the app once and acks it again', async () => {
    const { client, socket } = await connectedHarness();
    const seen: string[] = [];
    client.on('message', (received) => void seen.push(received.id));
    socket().serverSend('message', message('m1'));
    await flushMicrotasks();
    socket().serverClose(1006);
    await vi.advanceTimersByTimeAsync(125);
    socket().serverOpen();
    socket().serverSend('message', message('m1'));
    socket().serverSend('message', message('m2'));
    await flushMicrotasks();
    expect(seen).toEqual(['m1', 'm2']);
    expect(ackedIds(socket().dataOf('ack'))).toEqual(['m1', 'm2']);
  });

  it('acks only after an async listener resolves, one message at a time, in arrival order', async () => {
    const { client, socket } = await connectedHarness();
    const started: string[] = [];
    const finish = new Map<string, () => void>();
    client.on('message', (received) => {
      started.push(received.id);
      return new Promise<void>((resolve) => finish.set(received.id, resolve));
    });
    socket().serverSend('message', message('m1'));
    socket().serverSend('message', message('m2'));
    await flushMicrotasks();
    expect(started).toEqual(['m1']);
    expect(socket().dataOf('ack')).toEqual([]);
    finish.get('m1')?.();
    await flushMicrotasks();
    expect(started).toEqual(['m1', 'm2']);
    expect(ackedIds(socket().dataOf('ack'))).toEqual(['m1']);
    finish.get('m2')?.();
    await flushMicrotasks();
    expect(ackedIds(socket().dataOf('ack'))).toEqual(['m1', 'm2']);
  });

  it('does not hand a redelivery to the app while the first copy is still being handled', async () => {
    const { client, socket } = await connectedHarness();
    const started: string[] = [];
    let finish: () => void = () => {};
    client.on('message', (received) => {
      started.push(received.id);
      return new Promise<void>((resolve) => (finish = resolve));
    });
    socket().serverSend('message', message('m1'));
    socket().serverSend('message', message('m1'));
    finish();
    await flushMicrotasks();
    expect(started).toEqual(['m1']);
    expect(ackedIds(socket().dataOf('ack'))).toEqual(['m1']);
  });

  it('does not ack a message whose listener throws, reports it, and hands the redelivery over again', async () => {
    const { client, socket, events } = await connectedHarness();
    const failure = new Error('database is locked');
    let attempts = 0;
    client.on('message', () => {
      attempts++;
      if (attempts === 1) throw failure;
    });
    socket().serverSend('message', message('m1'));
    await flushMicrotasks();
    expect(socket().dataOf('ack')).toEqual([]);
    expect(events.errors).toMatchObject([{ code: 'HANDLER_FAILED', messageId: 'm1', cause: failure }]);
    socket().serverClose(1006);
    await vi.advanceTimersByTimeAsync(125);
    socket().serverOpen();
    socket().serverSend('message', message('m1'));
    await flushMicrotasks();
    expect(attempts).toBe(2);
    expect(socket().dataOf('ack')).toEqual([{ ids: ['m1'] }]);
  });

  it('does not ack a message whose async listener rejects, and goes on with the next one', async () => {
    const { client, socket, events } = await connectedHarness();
    client.on('message', async (received) => {
      if (received.id === 'm1') throw new Error('no');
    });
    socket().serverSend('message', message('m1'));
    socket().serverSend('message', message('m2'));
    await flushMicrotasks();
    expect(ackedIds(socket().dataOf('ack'))).toEqual(['m2']);
    expect(events.errors.map((error) => error.code)).toEqual(['HANDLER_FAILED']);
  });

  it('keeps messages unacked until a message listener is added', async () => {
    const { client, socket } = await connectedHarness();
    socket().serverSend('message', message('m1'));
    await flushMicrotasks();
    expect(socket().dataOf('ack')).toEqual([]);
    const seen: string[] = [];
    client.on('message', (received) => void seen.push(received.id));
    await flushMicrotasks();
    expect(seen).toEqual(['m1']);
    expect(socket().dataOf('ack')).toEqual([{ ids: ['m1'] }]);
  });

  it('stops handing messages over once the listener is removed', async () => {
    const { client, socket } = await connectedHarness();
    const seen: string[] = [];
    const unsubscribe = client.on('message', (received) => void seen.push(received.id));
    socket().serverSend('message', message('m1'));
    unsubscribe();
    socket().serverSend('message', message('m2'));
    await flushMicrotasks();
    expect(seen).toEqual(['m1']);
    expect(ackedIds(socket().dataOf('ack'))).toEqual(['m1']);
  });

  it('remembers no more than dedupCapacity ids, forgetting the least recent first', async () => {
    const { client, socket } = await connectedHarness({ dedupCapacity: 2 });
    const seen: string[] = [];
    client.on('message', (received) => void seen.push(received.id));
    for (const id of ['m1', 'm2', 'm3', 'm3', 'm2', 'm1']) socket().serverSend('message', message(id));
    await flushMicrotasks();
    expect(seen).toEqual(['m1', 'm2', 'm3', 'm1']);
  });

  it('reports a frame it cannot read and keeps the connection', async () => {
    const { client, socket, events } = await connectedHarness();
    socket().serverSendRaw('bob|hi');
    socket().serverSend('message', { id: 'm1', from: 'bob' });
    expect(events.errors.map((error) => error.code)).toEqual(['BAD_SERVER_FRAME', 'BAD_SERVER_FRAME']);
    expect(client.state).toBe('open');
  });

  it('does not hand messages still waiting to the app once closed; they stay unacked', async () => {
    const { client, socket } = await connectedHarness();
    const seen: string[] = [];
    let finish: () => void = () => {};
    client.on('message', (received) => {
      seen.push(received.id);
      return new Promise<void>((resolve) => (finish = resolve));
    });
    socket().serverSend('message', message('m1'));
    socket().serverSend('message', message('m2'));
    client.close();
    finish();
    await flushMicrotasks();
    expect(seen).toEqual(['m1']);
    expect(socket().dataOf('ack')).toEqual([]);
  });
});
