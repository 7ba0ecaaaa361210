import { describe, expect, it } from 'vitest';
import { isValidUserId, userIdProblem } from './user-id.js';

describe('user ids', () => {
  it.each(['a', 'alice@example.com', 'Zoë 山田', '🙂'.repeat(128), 'x'.repeat(128)])('accepts %j', (id) => {
    expect(userIdProblem(id)).toBeUndefined();
    expect(isValidUserId(id)).toBe(true);
  });

  it.each([
    [null, 'missing'],
    ['', 'missing'],
    ['a|b', '"|"'],
    ['a\u0000b', 'control'],
    ['a\u0085b', 'control'],
    ['x'.repeat(129), '1-128'],
    [' a', 'whitespace'],
  ])('refuses %j', (id, problem) => {
    expect(userIdProblem(id)).toContain(problem);
    if (id) expect(isValidUserId(id)).toBe(false);
  });
});
