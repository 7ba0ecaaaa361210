/** 16 random bytes: the same entropy as a UUID, so collisions between clients stay negligible. */
const RANDOM_ID_BYTES = 16;

/**
 * A fresh client message id. `randomUUID` exists only in secure contexts (https, localhost), so a
 * page served over plain http falls back to `getRandomValues`, and a runtime without Web Crypto to
 * time plus `Math.random`.
 */
export function generateClientId(): string {
  const crypto = globalThis.crypto as Crypto | undefined;
  if (typeof crypto?.randomUUID === 'function') return crypto.randomUUID();
  if (typeof crypto?.getRandomValues === 'function') {
    const bytes = crypto.getRandomValues(new Uint8Array(RANDOM_ID_BYTES));
    return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
  }
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}-${Math.random().toString(36).slice(2)}`;
}
