/**
 * Printed as is: a value made only of these cannot be taken for the text around it, so the
 * usual user id (`alice`, `bob@example.com`, `tenant:42`) stays greppable without quotes.
 */
const PLAIN = /^[\w.@+:/-]+$/;

/**
 * What `JSON.stringify` leaves raw but a log line must not carry: DEL and C1 controls (U+0085
 * ends a line for some tools), invisible format characters (Cf, every bidi control included:
 * they reorder the line on screen) and U+2028/U+2029 (line breaks for JavaScript and editors).
 */
const UNSAFE_FOR_LOG = /[\u007f-\u009f\p{Cf}\u2028\u2029]/gu;

/** `\u202e`, with both halves of a character beyond the BMP, as JSON writes them. */
function escapeUnits(character: string): string {
  let out = '';
  for (let i = 0; i < character.length; i++) out += `\\u${character.charCodeAt(i).toString(16).padStart(4, '0')}`;
  return out;
}

/**
 * A value someone outside the gateway controls (a user id, a close reason, an error about a
 * client's frame), made safe to put in a log line: printed as is when it is plainly a token,
 * otherwise as a JSON string whose every control, format and separator character is a `\u`
 * escape. Either way the line cannot be split, forged or visually reordered, and a quoted value
 * reads back exactly with `JSON.parse`.
 */
export function forLog(value: string): string {
  if (PLAIN.test(value)) return value;
  return JSON.stringify(value).replace(UNSAFE_FOR_LOG, escapeUnits);
}
