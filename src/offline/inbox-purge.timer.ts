/** Expired rows are invisible to reads at once; deleting them once a minute only reclaims space. */
export const INBOX_PURGE_INTERVAL_MS = 60_000;

export interface Stoppable {
  stop(): void;
}

/** Calls `purge` every `intervalMs`; the timer never keeps the process alive. */
export function startInboxPurge(purge: () => Promise<unknown>, intervalMs = INBOX_PURGE_INTERVAL_MS): Stoppable {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    void purge().finally(() => (running = false));
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
