// Idle connections: how fast the server accepts a crowd of handshakes, and what each connection
// that then sits idle costs it in resident memory.
import { connectMany } from '../connect-many.mjs';
import { between, cpuFigures, residentBytes, sample } from '../process-stats.mjs';
import { openIdleConnection } from '../raw-handshake.mjs';
import { sleep } from '../wait.mjs';

/**
 * @param {{ url: string, server: { pid: number, pids: number[], cpu?: string }, connections: number, concurrency: number,
 *   warmupConnections: number, settleMs: number }} options
 */
export async function runIdleConnections(options) {
  const { server, connections, concurrency } = options;
  const url = new URL(options.url);

  // Warm the handshake path and the server's pools, then let the warm-up sockets go.
  const warm = await connectMany(options.warmupConnections, concurrency, (i) => openIdleConnection(url, `warm${i}`));
  for (const connection of warm) connection.close();
  await sleep(options.settleMs);
  const rssBefore = residentBytes(server.pid);

  const start = sample(server);
  let failed = 0;
  let firstFailure = null;
  const sockets = await connectMany(connections, concurrency, (i) =>
    openIdleConnection(url, `idle${i}`).catch((error) => {
      failed++;
      firstFailure ??= error.message;
      return null;
    }),
  );
  const end = sample(server);

  await sleep(options.settleMs);
  const rssAfter = residentBytes(server.pid);
  const opened = sockets.filter(Boolean);
  const dropped = opened.filter((connection) => connection.closed).length;
  for (const connection of opened) connection.close();

  const handshakes = between(start, end, server);
  return {
    connections,
    handshakesPerSecond: opened.length / handshakes.seconds,
    rssBeforeBytes: rssBefore,
    rssAfterBytes: rssAfter,
    rssPerConnectionBytes: (rssAfter - rssBefore) / Math.max(1, opened.length - dropped),
    ...cpuFigures(handshakes),
    correctness: { failedConnections: failed, firstFailure, droppedConnections: dropped },
  };
}
