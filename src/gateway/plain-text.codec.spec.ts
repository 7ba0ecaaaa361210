import { describe, expect, it } from 'vitest';
import { decodePlainText, encodePlainText } from './plain-text.codec.js';

describe('plain-text codec', () => {
  it.each([
    ['bob|hello', 'bob', 'hello'],
    ['bob|a|b', 'bob', 'a|b'],
    ['  bob \t|x', 'bob', 'x'],
    ['bob|', 'bob', ''],
    ['|body only', '', 'body only'],
    ['no separator', '', 'no separator'],
    ['', '', ''],
  ])('decodes %j', (frame, to, body) => {
    expect(decodePlainText(frame)).toEqual({ to, body });
  });

  it('encodes the bare body', () => {
    expect(encodePlainText({ body: 'a|b' })).toBe('a|b');
  });
});
