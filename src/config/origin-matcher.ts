/** Whether a browser's `Origin` is one of ALLOWED_ORIGINS. */
export type OriginMatcher = (origin: string) => boolean;

/**
 * ALLOWED_ORIGINS, ready to match: `undefined` when every origin is allowed (`*`). Origins compare
 * case-insensitively, as their scheme and host do. Built once; a match is one set lookup.
 */
export function originMatcher(allowed: readonly string[] | undefined): OriginMatcher | undefined {
  if (allowed === undefined) return undefined;
  const origins = new Set(allowed.map((o) => o.toLowerCase()));
  return (origin) => origins.has(origin.toLowerCase());
}
