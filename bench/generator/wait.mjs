// Waiting with a deadline: every wait of the generator ends, so a stuck server fails the run
// with counts instead of hanging it.
import { setTimeout as sleep } from 'node:timers/promises';

export { sleep };

/** How often a condition is polled: fine enough for drain times in the tens of milliseconds. */
const POLL_MS = 5;

/**
 * Resolves true once `condition()` holds, or false when `timeoutMs` passed first.
 * @param {() => boolean} condition
 * @param {number} timeoutMs
 */
export async function waitUntil(condition, timeoutMs) {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() >= deadline) return false;
    await sleep(POLL_MS);
  }
  return true;
}
