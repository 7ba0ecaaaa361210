import { describe, expect, it } from 'vitest';
import type { AppConfig, SessionPolicy } from '../config/app-config.js';
import { ConnectionPool } from './connection-pool.service.js';
import { plainTextOutbound } from '../gateway/plain-text.codec.js';
import { Connection, type SocketLike } from './connection.js';

const socket = (): SocketLike => ({
  readyState: 1,
  bufferedAmount: 0,
  send: () => undefined,
  ping: () => undefined,
  pong: () => undefined,
  pause: () => undefined,
  resume: () => undefined,
  close: () => undefined,
  terminate: () => undefined,
});
const LIMITS = {
  window: 256,
  windowBytes: 1 << 29,
  slowConsumerBytes: 1 << 30,
  backlogMessages: 2048,
  ratePerSecond: 1e9,
  rateBurst: 1e9,
};
const conn = (user: string) =>
  new Connection(socket(), user, 'text', plainTextOutbound, LIMITS, {
    settled: () => undefined,
    overloaded: () => undefined,
  });
const pool = (sessionPolicy: SessionPolicy = 'multi') =>
  new ConnectionPool({ ws: { sessionPolicy } } as unknown as AppConfig);

describe('ConnectionPool', () => {
  it('holds several connections per user under the multi policy', () => {
    const p = pool();
    const a = conn('bob');
    const b = conn('bob');
    expect(p.add(a)).toEqual([]);
    expect(p.add(b)).toEqual([]);
    expect([...p.connectionsOf('bob')!]).toEqual([a, b]);
    expect(p.size).toBe(2);
  });

  it('answers the replaced connections under the replace policy', () => {
    const p = pool('replace');
    const a = conn('bob');
    const b = conn('bob');
    p.add(a);
    expect(p.add(b)).toEqual([a]);
    expect([...p.connectionsOf('bob')!]).toEqual([b]);
    expect([...p.connections()]).toEqual([b]);
    expect(p.size).toBe(1);
  });

  it('forgets a user with the last connection, and removal is idempotent', () => {
    const p = pool();
    const a = conn('bob');
    p.add(a);
    p.remove(a);
    p.remove(a);
    expect(p.connectionsOf('bob')).toBeUndefined();
    expect(p.size).toBe(0);
  });

  it('does not let a replaced connection remove its successor', () => {
    const p = pool('replace');
    const a = conn('bob');
    const b = conn('bob');
    p.add(a);
    p.add(b);
    p.remove(a);
    expect([...p.connectionsOf('bob')!]).toEqual([b]);
  });
});
