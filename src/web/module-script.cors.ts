import type { OriginMatcher } from '../config/origin-matcher.js';

/**
 * CORS headers for the SDK bundle. A module script from another origin is fetched in CORS mode
 * and runs only when the answer allows that origin: every origin when ALLOWED_ORIGINS is `*`
 * (`allows` undefined), otherwise the listed ones, named back one at a time. Caches are told the
 * answer depends on `Origin`. No credentials: the file is the same for everyone.
 */
export function moduleScriptCors(
  origin: string | undefined,
  allows: OriginMatcher | undefined,
): Record<string, string> {
  if (allows === undefined) return { 'access-control-allow-origin': '*' };
  const headers: Record<string, string> = { vary: 'Origin' };
  if (origin !== undefined && allows(origin)) headers['access-control-allow-origin'] = origin;
  return headers;
}
