import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type HeartbeatClient, startHeartbeat } from './heartbeat.js';

function client(): HeartbeatClient & { pings: number; terminated: boolean } {
  return {
    isAlive: true,
    pings: 0,
    terminated: false,
    ping() {
      this.pings++;
    },
    terminate() {
      this.terminated = true;
    },
  };
}

describe('startHeartbeat', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('pings every interval and terminates a client that missed the previous pong', () => {
    const answering = client();
    const silent = client();
    const terminated: HeartbeatClient[] = [];
    const hb = startHeartbeat(
      () => [answering, silent],
      1_000,
      (c) => terminated.push(c),
    );

    vi.advanceTimersByTime(1_000);
    expect(answering.pings).toBe(1);
    expect(silent.pings).toBe(1);
    answering.isAlive = true; // the pong

    vi.advanceTimersByTime(1_000);
    expect(silent.terminated).toBe(true);
    expect(terminated).toEqual([silent]);
    expect(answering.terminated).toBe(false);
    expect(answering.pings).toBe(2);
    hb.stop();
  });

  it('does nothing after stop()', () => {
    const c = client();
    const hb = startHeartbeat(
      () => [c],
      1_000,
      () => undefined,
    );
    hb.stop();
    vi.advanceTimersByTime(10_000);
    expect(c.pings).toBe(0);
  });
});
