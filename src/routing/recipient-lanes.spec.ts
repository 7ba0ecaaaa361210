import { describe, expect, it } from 'vitest';
import { RecipientLanes } from './recipient-lanes.js';

describe('RecipientLanes', () => {
  it('applies outcomes in the order places were taken, whatever order they become known in', () => {
    const lanes = new RecipientLanes(() => undefined);
    const applied: string[] = [];
    const first = lanes.reserve('bob');
    const second = lanes.reserve('bob');
    const third = lanes.reserve('bob');
    third(() => applied.push('third'));
    second(() => applied.push('second'));
    expect(applied).toEqual([]);
    first(() => applied.push('first'));
    expect(applied).toEqual(['first', 'second', 'third']);
    expect(lanes.size).toBe(0);
  });

  it('keeps recipients apart: one slow message holds back only its own recipient', () => {
    const lanes = new RecipientLanes(() => undefined);
    const applied: string[] = [];
    const slow = lanes.reserve('bob');
    lanes.reserve('carol')(() => applied.push('carol'));
    expect(applied).toEqual(['carol']);
    expect(lanes.size).toBe(1);
    slow();
    expect(lanes.size).toBe(0);
  });

  it('reports an outcome that throws and goes on with the next', () => {
    const errors: unknown[] = [];
    const lanes = new RecipientLanes((error) => errors.push(error));
    const applied: string[] = [];
    lanes.reserve('bob')(() => {
      throw new Error('boom');
    });
    lanes.reserve('bob')(() => applied.push('next'));
    expect(errors).toHaveLength(1);
    expect(applied).toEqual(['next']);
  });
});
