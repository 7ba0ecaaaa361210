import { describe, expect, it } from 'vitest';
import { originMatcher } from '../config/origin-matcher.js';
import { moduleScriptCors } from './module-script.cors.js';

describe('moduleScriptCors', () => {
  it('allows every origin when ALLOWED_ORIGINS is *', () => {
    expect(moduleScriptCors('https://a.example', undefined)).toEqual({ 'access-control-allow-origin': '*' });
    expect(moduleScriptCors(undefined, undefined)).toEqual({ 'access-control-allow-origin': '*' });
  });

  it('names a listed origin back, whatever its case, and says the answer varies by origin', () => {
    expect(moduleScriptCors('https://App.example', originMatcher(['https://app.example']))).toEqual({
      vary: 'Origin',
      'access-control-allow-origin': 'https://App.example',
    });
  });

  it('allows no other origin', () => {
    expect(moduleScriptCors('https://evil.example', originMatcher(['https://app.example']))).toEqual({
      vary: 'Origin',
    });
    expect(moduleScriptCors(undefined, originMatcher(['https://app.example']))).toEqual({ vary: 'Origin' });
  });
});
