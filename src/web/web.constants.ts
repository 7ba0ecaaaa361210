import { fileURLToPath } from 'node:url';

/**
 * Where `npm run build` puts the chat page and the SDK bundle. Two levels up is the project root
 * from both `src/web/` (tests run the sources) and `dist/web/` (the built gateway).
 */
export const WEB_ROOT = fileURLToPath(new URL('../../public/build/', import.meta.url));

/** The page's HTML: its asset names are content hashes, so only this file needs revalidating. */
export const PAGE_FILE = 'index.html';
/** The SDK's browser bundle, at a fixed URL that pages import. */
export const SDK_FILE = 'sdk/im-client.js';
/** The page's script, style and icon, named by content hash. */
export const ASSETS_DIR = 'assets';

/**
 * The page and the SDK keep a fixed URL: a browser may keep them but asks each time whether they
 * changed (ETag), so a new gateway version is picked up on the next load, for a 304 otherwise.
 */
export const REVALIDATE = 'no-cache';
/** Hashed assets never change under their name: a year, the longest caches honour. */
export const IMMUTABLE = 'public, max-age=31536000, immutable';

/** Placeholders in the built index.html, filled in from the configuration at boot. */
export const WS_PATH_PLACEHOLDER = '%WS_PATH%';
export const AUTH_MODE_PLACEHOLDER = '%AUTH_MODE%';

/** Headers that every file from this module carries. */
export const COMMON_HEADERS: Readonly<Record<string, string>> = {
  // A script or style is never taken for another type.
  'x-content-type-options': 'nosniff',
  // User ids may sit in the page's URL one day; they stay on this origin.
  'referrer-policy': 'no-referrer',
};

export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};
