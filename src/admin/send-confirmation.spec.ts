import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SendConfirmation } from './send-confirmation.js';

describe('SendConfirmation', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('answers a confirmation that came before the wait', async () => {
    const c = new SendConfirmation();
    c.confirm('c-1', 'm-1', 'queued');
    await expect(c.wait(1_000)).resolves.toEqual({ ok: true, messageId: 'm-1', status: 'queued' });
  });

  it('answers the first outcome during the wait and ignores later ones', async () => {
    const c = new SendConfirmation();
    const waited = c.wait(1_000);
    c.confirm('c-1', 'm-1', 'queued');
    c.confirm('c-1', 'm-1', 'delivered');
    c.fail('c-1', 'STORE_UNAVAILABLE', 'x');
    await expect(waited).resolves.toEqual({ ok: true, messageId: 'm-1', status: 'queued' });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('answers a refusal', async () => {
    const c = new SendConfirmation();
    const waited = c.wait(1_000);
    c.fail('c-1', 'INBOX_FULL', 'inbox of bob is full');
    await expect(waited).resolves.toEqual({ ok: false, failure: 'INBOX_FULL', reason: 'inbox of bob is full' });
  });

  it('answers undefined when nothing comes within the wait, and ignores what comes after', async () => {
    const c = new SendConfirmation();
    const waited = c.wait(1_000);
    vi.advanceTimersByTime(999);
    c.confirm('c-1', 'm-1', 'delivered');
    await expect(waited).resolves.toMatchObject({ status: 'delivered' });

    const late = new SendConfirmation();
    const timedOut = late.wait(1_000);
    vi.advanceTimersByTime(1_000);
    await expect(timedOut).resolves.toBeUndefined();
    expect(() => late.confirm('c-1', 'm-1', 'delivered')).not.toThrow();
  });
});
