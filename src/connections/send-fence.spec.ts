import { describe, expect, it } from 'vitest';
import { SEND_FENCE_MS, SendFence } from './send-fence.js';

describe('SendFence', () => {
  it('passes every send while nothing was refused', () => {
    const fence = new SendFence();
    expect(fence.check('c1', 0)).toBeUndefined();
    expect(fence.isUp(0)).toBe(false);
    expect(fence.holds(1)).toBe(false);
  });

  it('refuses the sends after a refused one with its code, until the refused one comes again', () => {
    const fence = new SendFence();
    fence.raise('c1', 'RATE_LIMITED', 1_000, 1);
    expect(fence.isUp(1_000)).toBe(true);
    expect(fence.check('c2', 1_001)).toEqual({ code: 'RATE_LIMITED', reason: expect.stringContaining('"c1"') });
    expect(fence.check('c3', 1_002)?.code).toBe('RATE_LIMITED');
    // The client resends from the first refused send: the fence comes down, and what follows goes.
    expect(fence.check('c1', 1_200)).toBeUndefined();
    expect(fence.isUp(1_200)).toBe(false);
    expect(fence.check('c2', 1_201)).toBeUndefined();
    expect(fence.check('c3', 1_202)).toBeUndefined();
  });

  it('holds back the sends numbered after the earliest refused one, not those before it', () => {
    const fence = new SendFence();
    fence.raise('c5', 'RATE_LIMITED', Date.now(), 5);
    expect(fence.holds(4)).toBe(false);
    expect(fence.holds(5)).toBe(false);
    expect(fence.holds(6)).toBe(true);
    // An earlier send refused later (its outcome came after) moves the floor down, and names it.
    fence.raise('c3', 'STORE_UNAVAILABLE', Date.now(), 3);
    expect(fence.holds(4)).toBe(true);
    expect(fence.check('c9', Date.now())?.reason).toContain('"c3"');
  });

  it('comes down when any send it refused comes again, as after the first refused one gave up', () => {
    const fence = new SendFence();
    fence.raise('c1', 'STORE_UNAVAILABLE', 0, 1);
    expect(fence.check('c2', 1)?.code).toBe('STORE_UNAVAILABLE');
    expect(fence.check('c2', 300)).toBeUndefined();
  });

  it('keeps the first refusal’s code while it stands', () => {
    const fence = new SendFence();
    fence.raise('c1', 'STORE_UNAVAILABLE', 0, 1);
    fence.raise('c2', 'RATE_LIMITED', 10, 2);
    expect(fence.check('c3', 20)).toEqual({ code: 'STORE_UNAVAILABLE', reason: expect.stringContaining('"c1"') });
  });

  it('comes down by itself after SEND_FENCE_MS, for a client that gave up on the refused send', () => {
    const fence = new SendFence();
    fence.raise('c1', 'RATE_LIMITED', 0, 1);
    expect(fence.check('c2', SEND_FENCE_MS - 1)).toBeDefined();
    expect(fence.isUp(SEND_FENCE_MS)).toBe(false);
    expect(fence.check('c3', SEND_FENCE_MS)).toBeUndefined();
    // A refusal after that raises a new fence, with its own code.
    fence.raise('c4', 'STORE_UNAVAILABLE', SEND_FENCE_MS + 1, 4);
    expect(fence.check('c5', SEND_FENCE_MS + 2)?.code).toBe('STORE_UNAVAILABLE');
  });
});
