import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { scheduleExpiry } from './expiry.timer.js';

describe('scheduleExpiry', () => {
  beforeEach(() => vi.useFakeTimers({ now: 0 }));
  afterEach(() => vi.useRealTimers());

  it('fires at the given time, not before', () => {
    const fired = vi.fn();
    scheduleExpiry(1_000, fired);
    vi.advanceTimersByTime(999);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fired).toHaveBeenCalledOnce();
  });

  it('waits beyond the 24.8-day setTimeout ceiling', () => {
    const fired = vi.fn();
    const days40 = 40 * 86_400_000;
    scheduleExpiry(days40, fired);
    vi.advanceTimersByTime(days40 - 1);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fired).toHaveBeenCalledOnce();
  });

  it('fires at once for a time in the past, and never after stop()', () => {
    const past = vi.fn();
    scheduleExpiry(-5, past);
    expect(past).toHaveBeenCalledOnce();
    const stopped = vi.fn();
    scheduleExpiry(500, stopped).stop();
    vi.advanceTimersByTime(1_000);
    expect(stopped).not.toHaveBeenCalled();
  });
});
