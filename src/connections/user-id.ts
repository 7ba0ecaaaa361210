/** Longest accepted user id, in characters: room for emails, UUIDs and namespaced ids. */
export const MAX_USER_ID_CHARS = 128;

/** 1-128 code points; no `|` (the plain-text separator) and no C0/C1 control characters. */
const USER_ID = new RegExp(`^[^\\p{Cc}|]{1,${MAX_USER_ID_CHARS}}$`, 'u');

/** Why `id` is not a valid user id, or `undefined` when it is. */
export function userIdProblem(id: string | null | undefined): string | undefined {
  if (id === undefined || id === null || id === '') return 'missing user id';
  if (id.trim() !== id) return 'user id must not start or end with whitespace';
  if (!USER_ID.test(id)) {
    return `user id must be 1-${MAX_USER_ID_CHARS} characters with no "|" and no control characters`;
  }
  return undefined;
}

export function isValidUserId(id: string): boolean {
  return userIdProblem(id) === undefined;
}
