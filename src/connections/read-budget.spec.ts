import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Connection } from './connection.js';
import { FRAME_COST_BYTES, ReadBudget } from './read-budget.js';

/** The part of a connection the budget drives, recording what it was told. */
function reader() {
  const calls: string[] = [];
  const connection = {
    pauseForTurn: () => calls.push('pause') > 0,
    resumeReading: (reason: string) => calls.push(`resume:${reason}`),
  } as unknown as Connection;
  return { connection, calls };
}

describe('ReadBudget', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('pauses the connections that send past the budget in one turn, and resumes them in the next', () => {
    const budget = new ReadBudget(1_000);
    const quiet = reader();
    const busy = reader();
    budget.charge(quiet.connection, 500 - FRAME_COST_BYTES);
    budget.charge(busy.connection, 500 - FRAME_COST_BYTES);
    expect(busy.calls).toEqual([]);
    budget.charge(busy.connection, 1);
    expect(busy.calls).toEqual(['pause']);
    expect(quiet.calls).toEqual([]);
    vi.runOnlyPendingTimers();
    expect(busy.calls).toEqual(['pause', 'resume:turn']);
    // A new turn starts with the whole budget.
    budget.charge(busy.connection, 900);
    expect(busy.calls).toEqual(['pause', 'resume:turn']);
  });

  it('counts empty frames too', () => {
    const budget = new ReadBudget(10 * FRAME_COST_BYTES);
    const flooder = reader();
    for (let i = 0; i < 10; i++) budget.charge(flooder.connection, 0);
    expect(flooder.calls).toEqual([]);
    budget.charge(flooder.connection, 0);
    expect(flooder.calls).toEqual(['pause']);
  });
});
