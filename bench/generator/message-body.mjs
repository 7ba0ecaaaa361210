// The body of every benchmark message: `pair.seq.sentAtMicros.` padded with `x` to a fixed size.
// Carrying the pair and the sequence number lets the receiver detect loss, reordering and
// misrouting; carrying the send time (same process, same monotonic clock) gives the latency.
// Digits, dots and `x` need no escaping in JSON, so both protocols carry the body as is.
import { MESSAGE_BYTES } from '../bench.constants.mjs';

const FIELD_SEPARATOR = '.';
const DOT_CODE = 0x2e;
const ZERO_CODE = 0x30;
const NINE_CODE = 0x39;
const PADDING = 'x'.repeat(MESSAGE_BYTES);

/** Microseconds on the monotonic clock: integers keep encoding and parsing allocation-free. */
export function nowMicros() {
  return Math.round(performance.now() * 1000);
}

/** The id part `pair.seq.sentAtMicros`; the JSON protocol also uses it as the client message id. */
export function messageId(pair, seq, sentAtMicros) {
  return pair + FIELD_SEPARATOR + seq + FIELD_SEPARATOR + sentAtMicros;
}

/** A body of exactly MESSAGE_BYTES bytes that starts with the given id. */
export function messageBody(id) {
  const head = id + FIELD_SEPARATOR;
  return head + PADDING.slice(0, Math.max(0, MESSAGE_BYTES - head.length));
}

/**
 * Reads `pair.seq.sentAtMicros` from the start of a body or an id into `into`, which the caller
 * reuses so the hot path allocates nothing.
 * @param {string} text
 * @param {{ pair: number, seq: number, sentAtMicros: number }} into
 * @returns {boolean} false when the text is not a benchmark body (garbled or misrouted frame)
 */
export function parseMessageId(text, into) {
  const pair = readNumber(text, 0);
  if (pair < 0 || text.charCodeAt(cursor) !== DOT_CODE) return false;
  const seq = readNumber(text, cursor + 1);
  if (seq < 0 || text.charCodeAt(cursor) !== DOT_CODE) return false;
  const sentAtMicros = readNumber(text, cursor + 1);
  if (sentAtMicros < 0) return false;
  into.pair = pair;
  into.seq = seq;
  into.sentAtMicros = sentAtMicros;
  return true;
}

/** Where readNumber stopped; module state instead of a returned tuple, to avoid an allocation. */
let cursor = 0;

/** The decimal number at `start`, or -1 when there is no digit there. */
function readNumber(text, start) {
  let index = start;
  let value = 0;
  let code = text.charCodeAt(index);
  while (code >= ZERO_CODE && code <= NINE_CODE) {
    value = value * 10 + (code - ZERO_CODE);
    code = text.charCodeAt(++index);
  }
  cursor = index;
  return index === start ? -1 : value;
}
