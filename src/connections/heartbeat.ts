/** What the heartbeat needs of a connection; structural so a spec can supply a stub. */
export interface HeartbeatClient {
  isAlive: boolean;
  ping(): void;
  terminate(): void;
}

/**
 * The canonical `ws` heartbeat: every tick, a client that did not answer the previous ping is
 * terminated, and every other client is pinged. A pong sets `isAlive` again.
 */
export function startHeartbeat<T extends HeartbeatClient>(
  clients: () => Iterable<T>,
  intervalMs: number,
  onTerminate: (client: T) => void,
): { stop(): void } {
  const timer = setInterval(() => {
    for (const client of clients()) {
      if (!client.isAlive) {
        client.terminate();
        onTerminate(client);
        continue;
      }
      client.isAlive = false;
      client.ping();
    }
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
