import type { OutboundCodec } from '../connections/outbound-codec.js';

/** The seed's separator between recipient and content. */
export const PLAIN_TEXT_SEPARATOR = '|';

export interface PlainTextFrame {
  /** Trimmed recipient; empty when the frame names none (the last recipient applies). */
  readonly to: string;
  readonly body: string;
}

/**
 * `to|content`: only the first `|` separates, so `bob|a|b` carries `a|b`. A frame with no `|`
 * is all content for the last recipient.
 */
export function decodePlainText(frame: string): PlainTextFrame {
  const bar = frame.indexOf(PLAIN_TEXT_SEPARATOR);
  if (bar === -1) return { to: '', body: frame };
  return { to: frame.slice(0, bar).trim(), body: frame.slice(bar + 1) };
}

/** A plain-text client receives the bare content, as in the seed. */
export function encodePlainText(message: { readonly body: string }): string {
  return message.body;
}

/** Plain text carries bodies only: no answers, no receipts. */
export const plainTextOutbound: OutboundCodec = {
  message: encodePlainText,
  sent: () => undefined,
  receipt: () => undefined,
  failed: () => undefined,
};
