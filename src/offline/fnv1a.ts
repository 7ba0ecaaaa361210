const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * FNV-1a over the UTF-16 code units of `text`, continuing from `hash`: several strings chained
 * hash as their concatenation. Cheap, and spread well enough for an in-memory index (`mixed`).
 */
export function fnv1a(text: string, hash = FNV_OFFSET): number {
  let h = hash;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), FNV_PRIME);
  return h;
}

/**
 * A final avalanche over an FNV-1a hash, as an unsigned 32-bit number: FNV's low bits alone mix
 * poorly for keys that differ in their last character, and a bitmap or a table indexes by them.
 */
export function mixed(hash: number): number {
  let h = hash ^ (hash >>> 15);
  h = Math.imul(h, 0x2c1b3c6d);
  return (h ^ (h >>> 12)) >>> 0;
}

/** A (sender, client id) pair's 32-bit hash: FNV-1a over both with a newline between (user ids hold none). */
export function pairHash(sender: string, clientId: string): number {
  return mixed(fnv1a(clientId, fnv1a('\n', fnv1a(sender))));
}
