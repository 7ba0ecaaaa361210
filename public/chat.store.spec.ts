import { describe, expect, it } from 'vitest';
import { ChatStore } from './chat.store.js';

/** `localStorage` as the store uses it. */
function memoryStorage(): Storage {
  const items = new Map<string, string>();
  return {
    getItem: (key: string) => items.get(key) ?? null,
    setItem: (key: string, value: string) => void items.set(key, value),
    removeItem: (key: string) => void items.delete(key),
    clear: () => items.clear(),
    key: (index: number) => [...items.keys()][index] ?? null,
    get length() {
      return items.size;
    },
  };
}

const message = (id: string, from: string, body: string, ts = 1) => ({ id, from, to: 'alice', body, ts });

describe('ChatStore', () => {
  it('keeps one conversation per peer, the most recent first', () => {
    const store = new ChatStore('alice', undefined);
    store.addReceived(message('m1', 'bob', 'hi', 1));
    store.addReceived(message('m2', 'carol', 'yo', 2));
    store.addReceived(message('m3', 'bob', 'again', 3));
    expect(store.peers()).toEqual(['bob', 'carol']);
    expect(store.messages('bob').map((m) => m.body)).toEqual(['hi', 'again']);
  });

  it('shows a redelivered message once', () => {
    const store = new ChatStore('alice', undefined);
    expect(store.addReceived(message('m1', 'bob', 'hi'))).toBe(true);
    expect(store.addReceived(message('m1', 'bob', 'hi'))).toBe(false);
    expect(store.messages('bob')).toHaveLength(1);
  });

  it('moves a sent message from sending to queued to delivered, and never back', () => {
    const store = new ChatStore('alice', undefined);
    store.addSent('bob', 'c1', 'hello');
    expect(store.messages('bob')[0]!.state).toBe('sending');
    store.setState('c1', 'queued');
    store.setState('c1', 'delivered');
    store.setState('c1', 'queued');
    expect(store.messages('bob')[0]!.state).toBe('delivered');
  });

  it('comes back after a reload, with what was still sending marked not confirmed', () => {
    const storage = memoryStorage();
    const before = new ChatStore('alice', storage);
    before.addSent('bob', 'c1', 'confirmed');
    before.setState('c1', 'queued');
    before.addSent('bob', 'c2', 'in flight');
    before.addReceived(message('m1', 'bob', 'hi'));
    const after = new ChatStore('alice', storage);
    expect(after.messages('bob').map((m) => [m.body, m.state])).toEqual([
      ['confirmed', 'queued'],
      ['in flight', 'failed'],
      ['hi', 'received'],
    ]);
    expect(after.addReceived(message('m1', 'bob', 'hi'))).toBe(false);
    expect(new ChatStore('bob', storage).peers()).toEqual([]);
  });

  it('keeps the last 200 messages of a conversation', () => {
    const store = new ChatStore('alice', undefined);
    for (let i = 0; i < 205; i++) store.addReceived(message(`m${i}`, 'bob', `b${i}`, i));
    expect(store.messages('bob')).toHaveLength(200);
    expect(store.messages('bob')[0]!.body).toBe('b5');
    // An id that fell out of the conversation is new again.
    expect(store.addReceived(message('m0', 'bob', 'b0'))).toBe(true);
  });
});
