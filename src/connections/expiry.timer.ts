/** setTimeout cannot wait longer than this (about 24.8 days); longer waits are chained. */
const MAX_TIMER_MS = 2_147_483_647;

/** Calls `onExpire` at `at` (ms since the epoch); the timer never keeps the process alive. */
export function scheduleExpiry(at: number, onExpire: () => void, now: () => number = Date.now): { stop(): void } {
  let timer: NodeJS.Timeout;
  const arm = (): void => {
    const wait = at - now();
    if (wait <= 0) {
      onExpire();
      return;
    }
    timer = setTimeout(arm, Math.min(wait, MAX_TIMER_MS));
    timer.unref();
  };
  arm();
  return { stop: () => clearTimeout(timer) };
}
