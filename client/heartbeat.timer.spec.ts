import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startHeartbeat } from './heartbeat.timer.js';

describe('startHeartbeat', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('pings every interval and reports a link silent for the timeout after a ping', () => {
    const ping = vi.fn();
    const onDead = vi.fn();
    startHeartbeat({ intervalMs: 1_000, timeoutMs: 500, ping, onDead });
    vi.advanceTimersByTime(1_000);
    expect(ping).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(499);
    expect(onDead).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(onDead).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(5_000);
    expect(ping).toHaveBeenCalledTimes(1);
  });

  it('keeps a link alive that answers each ping', () => {
    const onDead = vi.fn();
    const heartbeat = startHeartbeat({ intervalMs: 1_000, timeoutMs: 500, ping: () => {}, onDead });
    for (let tick = 0; tick < 10; tick++) {
      vi.advanceTimersByTime(1_000);
      heartbeat.alive();
    }
    expect(onDead).not.toHaveBeenCalled();
  });

  it('leaves no timer behind once stopped', () => {
    const heartbeat = startHeartbeat({ intervalMs: 1_000, timeoutMs: 500, ping: () => {}, onDead: () => {} });
    vi.advanceTimersByTime(1_000);
    heartbeat.stop();
    expect(vi.getTimerCount()).toBe(0);
  });
});
