import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { forLog } from './log-escape.js';

/** Anything that could split a log line or reorder it on screen, if it reached the line raw. */
const RAW_HAZARD = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u;

describe('forLog', () => {
  it.each(['alice', 'bob@example.com', 'tenant:42/user_7', 'a.b+c-d'])('prints the plain token %j as is', (value) => {
    expect(forLog(value)).toBe(value);
  });

  it.each([
    ['a b', '"a b"'],
    ['', '""'],
    ['Zoë', '"Zoë"'],
    ['say "hi"\\', '"say \\"hi\\"\\\\"'],
    ['evil\nINFO forged line', '"evil\\nINFO forged line"'],
    ['a\rb', '"a\\rb"'],
    ['a\u2028b\u2029c', '"a\\u2028b\\u2029c"'],
    ['a\u0085b\u007fc', '"a\\u0085b\\u007fc"'],
    ['user\u202eftp.exe', '"user\\u202eftp.exe"'],
    ['\u2066a\u2069\u061c\u200e\u200f', '"\\u2066a\\u2069\\u061c\\u200e\\u200f"'],
    ['a\u200bb\ufeff', '"a\\u200bb\\ufeff"'],
    ['k\ud800', '"k\\ud800"'],
    ['tag\u{e0041}', '"tag\\udb40\\udc41"'],
  ])('quotes and escapes %j', (value, logged) => {
    expect(forLog(value)).toBe(logged);
  });

  it('never lets a hazard through raw, and reads back exactly', () => {
    const hazard = fc.constantFrom(
      '\n',
      '\r',
      '\u2028',
      '\u2029',
      '\u0085',
      '\u202e',
      '\u2067',
      '\u200b',
      '\ufeff',
      '\ud800',
      '\udc00',
      '"',
      '\\',
    );
    fc.assert(
      fc.property(
        fc.string({ unit: fc.oneof(hazard, fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })) }),
        (value) => {
          const logged = forLog(value);
          expect(logged).not.toMatch(RAW_HAZARD);
          expect(logged.startsWith('"') ? JSON.parse(logged) : logged).toBe(value);
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
