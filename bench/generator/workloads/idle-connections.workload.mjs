// Idle connections: how fast the server accepts a crowd of handshakes, and what each connection
// that then sits idle costs it in resident memory.
import { connect, connectMany } from '../client-connection.mjs';
import { residentBytes, sample, between } from '../process-stats.mjs';
import { sleep } from '../wait.mjs';

const OPEN = 1;

/**
 * @param {{ url: string, serverPid: number, connections: number, concurrency: number,
 *   warmupConnections: number, settleMs: number }} options
 */
export async function runIdleConnections(options) {
  const { url, serverPid, connections, concurrency } = options;

  // Warm the handshake path and the server's pools, then let the warm-up sockets go.
  const warm = await connectMany(options.warmupConnections, concurrency, (i) => connect(url, `warm${i}`));
  for (const ws of warm) ws.terminate();
  await sleep(options.settleMs);
  const rssBefore = residentBytes(serverPid);

  const start = sample(serverPid);
  let failed = 0;
  const sockets = await connectMany(connections, concurrency, (i) =>
    connect(url, `idle${i}`).catch(() => {
      failed++;
      return null;
    }),
  );
  const end = sample(serverPid);

  await sleep(options.settleMs);
  const rssAfter = residentBytes(serverPid);
  const opened = sockets.filter(Boolean);
  const dropped = opened.filter((ws) => ws.readyState !== OPEN).length;
  for (const ws of opened) ws.terminate();

  const handshakes = between(start, end);
  return {
    connections,
    handshakesPerSecond: opened.length / handshakes.seconds,
    rssBeforeBytes: rssBefore,
    rssAfterBytes: rssAfter,
    rssPerConnectionBytes: (rssAfter - rssBefore) / Math.max(1, opened.length - dropped),
    serverCpu: handshakes.serverCpu,
    generatorCpu: handshakes.generatorCpu,
    correctness: { failedConnections: failed, droppedConnections: dropped },
  };
}
