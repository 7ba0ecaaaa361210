import { vi } from 'vitest';
import { WAIT_MS } from './ws-client.js';

/** Often enough that a wait ends a few ms after its state arrives, seldom enough to cost nothing. */
const POLL_INTERVAL_MS = 10;

/**
 * Runs `check` — an assertion that throws until the state it expects is there — every
 * POLL_INTERVAL_MS until it passes, and answers what it returned. After `timeoutMs` it fails,
 * naming `what` it waited for and how the last check failed.
 */
export async function eventually<T>(what: string, check: () => T | Promise<T>, timeoutMs = WAIT_MS): Promise<T> {
  try {
    return await vi.waitFor(check, { timeout: timeoutMs, interval: POLL_INTERVAL_MS });
  } catch (error) {
    const last = error instanceof Error ? error.message : String(error);
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last check: ${last})`, { cause: error });
  }
}
