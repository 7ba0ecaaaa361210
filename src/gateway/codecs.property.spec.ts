import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeJsonFrame, encodeMessage, encodeSent, tooLarge } from './json.codec.js';
import { decodePlainText } from './plain-text.codec.js';
import { ProtocolError } from './protocol-error.js';
import { ErrorCode } from '../messages/error-code.js';

const CODES = new Set<string>(Object.values(ErrorCode));

/** Arbitrary JSON-ish frames, including the shapes attackers try. */
const hostileJson = fc.oneof(
  fc.json(),
  fc.jsonValue().map((data) => JSON.stringify({ event: 'send', data })),
  fc.jsonValue().map((data) => JSON.stringify({ event: 'ack', data })),
  fc
    .record({ id: fc.jsonValue(), to: fc.jsonValue(), body: fc.jsonValue() })
    .map((data) => JSON.stringify({ event: 'send', data })),
  fc.constantFrom(
    '{"event":"send","data":{"__proto__":{"polluted":true},"id":"c","to":"b","body":"x"}}',
    '{"__proto__":{"event":"send"},"data":{}}',
    '{"event":"constructor","data":{}}',
    '{"event":"toString","data":{}}',
    `${'['.repeat(10_000)}${']'.repeat(10_000)}`,
    `{"event":"send","data":${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}}`,
  ),
);

describe('codec properties', () => {
  it('decodePlainText is total and splits on the first |', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (frame) => {
        const { to, body } = decodePlainText(frame);
        const bar = frame.indexOf('|');
        if (bar === -1) expect(body).toBe(frame);
        else {
          expect(body).toBe(frame.slice(bar + 1));
          expect(to).toBe(frame.slice(0, bar).trim());
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('decodeJsonFrame either answers a valid frame or throws a ProtocolError with a stable code', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), hostileJson), (text) => {
        try {
          const frame = decodeJsonFrame(text);
          expect(['send', 'ack', 'ping', 'refresh']).toContain(frame.event);
          if (frame.event === 'send') {
            expect(typeof frame.id).toBe('string');
            expect(typeof frame.to).toBe('string');
            expect(typeof frame.body).toBe('string');
          }
          if (frame.event === 'ack') expect(frame.ids.every((id) => typeof id === 'string')).toBe(true);
        } catch (error) {
          expect(error).toBeInstanceOf(ProtocolError);
          expect(CODES.has((error as ProtocolError).code)).toBe(true);
        }
      }),
      { numRuns: 3_000 },
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('tooLarge never throws, whatever the frame', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), hostileJson), (text) => {
        expect(tooLarge(text, 10).code).toBe('TOO_LARGE');
      }),
    );
  });

  it('encodeMessage round-trips any body and user ids', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string(), fc.string(), (body, from, to) => {
        const message = { id: 'i', seq: 1, from, to, body, ts: 5 };
        expect(JSON.parse(encodeMessage(message))).toEqual({
          event: 'message',
          data: { id: 'i', from, to, body, ts: 5 },
        });
      }),
    );
  });

  it('encodeMessage and encodeSent write what JSON.stringify writes, for strings made of what it escapes', () => {
    // Quotes, backslashes, every control, lone and paired surrogates, U+2028, among plain text.
    const tricky = fc
      .array(
        fc.oneof(
          fc.constantFrom('"', '\\', '\u2028', '\ud800', '\udfff', '😀', '\ud83d', 'é', 'ab'),
          fc.integer({ min: 0, max: 0x1f }).map((code) => String.fromCharCode(code)),
        ),
        { maxLength: 12 },
      )
      .map((parts) => parts.join(''));
    fc.assert(
      fc.property(tricky, tricky, tricky, (body, from, id) => {
        expect(encodeMessage({ id, seq: 1, from, to: from, body, ts: 7 })).toBe(
          JSON.stringify({ event: 'message', data: { id, from, to: from, body, ts: 7 } }),
        );
        expect(encodeSent(body, id, 'queued')).toBe(
          JSON.stringify({ event: 'sent', data: { id: body, messageId: id, status: 'queued' } }),
        );
      }),
      { numRuns: 3_000 },
    );
  });

  it('encodeMessage and encodeSent write exactly what JSON.stringify writes for the frame', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary' }),
        fc.string(),
        fc.string(),
        fc.string(),
        fc.nat(),
        fc.constantFrom('queued' as const, 'delivered' as const),
        (body, from, to, id, ts, status) => {
          expect(encodeMessage({ id, seq: 1, from, to, body, ts })).toBe(
            JSON.stringify({ event: 'message', data: { id, from, to, body, ts } }),
          );
          expect(encodeSent(from, id, status)).toBe(
            JSON.stringify({ event: 'sent', data: { id: from, messageId: id, status } }),
          );
        },
      ),
    );
  });
});
