import { describe, expect, it } from 'vitest';
import { isValidUserId, MAX_USER_ID_CHARS, userIdProblem } from './user-id.js';

describe('user ids', () => {
  it.each([
    'a',
    'alice@example.com',
    'Zoë 山田',
    '🙂'.repeat(128),
    'x'.repeat(128),
    'ا'.repeat(128),
    'e\u0301z', // a combining mark is visible with its base
    'a\u00a0b', // a no-break space inside is whitespace, not a format character
  ])('accepts %j', (id) => {
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
    ['k\ud800', 'lone surrogate (U+D800 at index 1)'],
    ['\udbffk', 'lone surrogate (U+DBFF at index 0)'],
    ['😀\udc00', 'lone surrogate (U+DC00 at index 2)'],
    ['a\u2028b', 'U+2028, a line or paragraph separator'],
    ['\u2029b', 'U+2029, a line or paragraph separator'],
    ['a\u202eb', 'U+202E, a bidirectional text control'],
    ['a\u061cb', 'U+061C, a bidirectional text control'],
    ['a\u200eb', 'U+200E, a bidirectional text control'],
    ['a\u200fb', 'U+200F, a bidirectional text control'],
    ['a\u202ab', 'U+202A, a bidirectional text control'],
    ['a\u2066b', 'U+2066, a bidirectional text control'],
    ['a\u2069b', 'U+2069, a bidirectional text control'],
    ['a\u200bb', 'U+200B, an invisible format character (Unicode category Cf)'],
    ['\ufeffbob', 'U+FEFF, an invisible format character'],
    ['a\u200db', 'U+200D, an invisible format character'],
    ['a\u00adb', 'U+00AD, an invisible format character'],
    ['a\u{e0041}b', 'U+E0041, an invisible format character'],
  ])('refuses %j', (id, problem) => {
    expect(userIdProblem(id)).toContain(problem);
    if (id) expect(isValidUserId(id)).toBe(false);
  });

  it('counts the length limit in code points, so a refused character is named even in a long id', () => {
    expect(isValidUserId('😀'.repeat(MAX_USER_ID_CHARS))).toBe(true);
    expect(userIdProblem(`${'x'.repeat(MAX_USER_ID_CHARS + 10)}\u202e`)).toContain('U+202E');
  });

  it('never echoes the refused id in its reason', () => {
    expect(userIdProblem('secret\u202eid')).not.toContain('secret');
  });
});
