import { describe, expect, it } from 'vitest';
import { MessageSequence } from './message-sequence.js';

describe('MessageSequence', () => {
  it('follows the clock and never repeats within a millisecond', () => {
    const seq = new MessageSequence();
    const a = seq.next(1_000);
    const b = seq.next(1_000);
    const c = seq.next(1_001);
    expect(b).toBe(a + 1);
    expect(c).toBeGreaterThan(b);
    expect(c).toBe(1_001 * 1024);
  });

  it('never goes backwards when the wall clock does', () => {
    const seq = new MessageSequence();
    const a = seq.next(5_000);
    const b = seq.next(4_000);
    expect(b).toBe(a + 1);
  });

  it('numbers above what is already stored, even when the clock was set back', () => {
    const seq = new MessageSequence();
    seq.advancePast(9_000 * 1024);
    expect(seq.next(1_000)).toBe(9_000 * 1024 + 1);
  });

  it('sorts after a restart: a new process starts from the clock', () => {
    const before = new MessageSequence().next(10_000);
    const after = new MessageSequence().next(10_001);
    expect(after).toBeGreaterThan(before);
  });
});

describe('PlainMessageIds', () => {
  it('never repeats within a process, nor across processes started above each other', async () => {
    const { PlainMessageIds } = await import('./message-id.js');
    const first = new PlainMessageIds();
    first.startAbove(1_000);
    const a = [first.next(), first.next()];
    const second = new PlainMessageIds();
    second.startAbove(1_002); // above every seq the first process stored
    const b = [second.next(), second.next()];
    expect(new Set([...a, ...b]).size).toBe(4);
  });
});
