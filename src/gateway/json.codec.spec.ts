import { describe, expect, it } from 'vitest';
import { decodeJsonFrame, tooLarge, wellFormedProblem } from './json.codec.js';
import { ProtocolError } from './protocol-error.js';
import { ErrorCode } from '../messages/error-code.js';

/** What `decodeJsonFrame` throws for `data` in a `send`, as the client would read it. */
function refusal(data: Record<string, unknown>): Pick<ProtocolError, 'code' | 'message' | 'id'> {
  try {
    decodeJsonFrame(JSON.stringify({ event: 'send', data }));
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw error;
    return { code: error.code, message: error.message, id: error.id };
  }
  throw new Error('the frame was accepted');
}

describe('well-formed text in a JSON send', () => {
  it.each(['k', 'k😀', 'k\ud83d\ude00', 'k\ufffd', ''])('finds nothing wrong with %j', (text) => {
    expect(wellFormedProblem(text)).toBeUndefined();
  });

  it.each([
    ['k\ud800', 'U+D800 at index 1'],
    ['k\udbff', 'U+DBFF at index 1'],
    ['\udc00k', 'U+DC00 at index 0'],
    ['😀\ud83d', 'U+D83D at index 2'],
  ])('names the lone surrogate in %j', (text, where) => {
    expect(wellFormedProblem(text)).toBe(`must be well-formed UTF-16; it has a lone surrogate (${where})`);
  });

  it('refuses client ids that UTF-8 would collapse into one, without echoing them', () => {
    for (const [id, unit] of [
      ['k\ud800', 'D800'],
      ['k\udbff', 'DBFF'],
    ]) {
      expect(refusal({ id, to: 'bob', body: 'x' })).toEqual({
        code: ErrorCode.BAD_FRAME,
        message: `send: "id" must be well-formed UTF-16; it has a lone surrogate (U+${unit} at index 1)`,
        id: undefined,
      });
    }
  });

  it('refuses a body with a lone surrogate, naming the client id', () => {
    expect(refusal({ id: 'c-1', to: 'bob', body: 'a\udfffb' })).toEqual({
      code: ErrorCode.BAD_FRAME,
      message: 'send: "body" must be well-formed UTF-16; it has a lone surrogate (U+DFFF at index 1)',
      id: 'c-1',
    });
  });

  it('accepts the same fields when well-formed', () => {
    expect(decodeJsonFrame(JSON.stringify({ event: 'send', data: { id: 'k😀', to: 'bob', body: '😀' } }))).toEqual({
      event: 'send',
      id: 'k😀',
      to: 'bob',
      body: '😀',
    });
  });

  it('leaves an ill-formed client id out of a TOO_LARGE answer too', () => {
    expect(tooLarge(JSON.stringify({ event: 'send', data: { id: 'k\ud800' } }), 10).id).toBeUndefined();
    expect(tooLarge(JSON.stringify({ event: 'send', data: { id: 'k-1' } }), 10).id).toBe('k-1');
  });
});
