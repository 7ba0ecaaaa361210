/** Longest accepted user id, in characters: room for emails, UUIDs and namespaced ids. */
export const MAX_USER_ID_CHARS = 128;

/**
 * 1-128 code points; no `|` (the plain-text separator), no control characters (Cc), no invisible
 * format characters (Cf, which includes every bidi control), no line or paragraph separators
 * (Zl, Zp) and no lone surrogates (Cs). This one test is the hot path: the reasons below are only
 * looked for once it fails.
 */
const USER_ID = new RegExp(`^[^\\p{Cc}\\p{Cf}\\p{Cs}\\p{Zl}\\p{Zp}|]{1,${MAX_USER_ID_CHARS}}$`, 'u');

/** An unpaired UTF-16 half: UTF-8 (logs, SQLite, hashes) turns every one of them into U+FFFD. */
const LONE_SURROGATE = /\p{Cs}/u;
/** U+2028 and U+2029 end a line in JavaScript, JSON viewers and many log tools. */
const LINE_SEPARATOR = /[\u2028\u2029]/u;
/** Controls that reorder the text around them, so a log line or a UI shows something else. */
const BIDI_CONTROL = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;
/** Invisible characters (U+200B, U+FEFF, ...): two ids that look alike would name two users. */
const FORMAT_CHARACTER = /\p{Cf}/u;

/** `U+202E`: how a refused character is named, since printing it would defeat the point. */
function codePointOf(match: RegExpExecArray): string {
  return `U+${match[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Why `id` is not a valid user id, or `undefined` when it is. */
export function userIdProblem(id: string | null | undefined): string | undefined {
  if (id === undefined || id === null || id === '') return 'missing user id';
  if (USER_ID.test(id) && id.trim() === id) return undefined;
  let found = LONE_SURROGATE.exec(id);
  if (found !== null) {
    return `user id must be well-formed UTF-16; it has a lone surrogate (${codePointOf(found)} at index ${found.index})`;
  }
  found = LINE_SEPARATOR.exec(id);
  if (found !== null) return `user id must not contain ${codePointOf(found)}, a line or paragraph separator`;
  found = BIDI_CONTROL.exec(id);
  if (found !== null) return `user id must not contain ${codePointOf(found)}, a bidirectional text control`;
  found = FORMAT_CHARACTER.exec(id);
  if (found !== null)
    return `user id must not contain ${codePointOf(found)}, an invisible format character (Unicode category Cf)`;
  if (id.trim() !== id) return 'user id must not start or end with whitespace';
  return `user id must be 1-${MAX_USER_ID_CHARS} characters with no "|" and no control characters`;
}

export function isValidUserId(id: string): boolean {
  return userIdProblem(id) === undefined;
}
