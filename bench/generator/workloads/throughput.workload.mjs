// Closed-loop throughput: every pair keeps `window` messages unconfirmed, and each confirmation
// lets the pair send one more. The server is the only thing between confirmations, so with enough
// pairs and window it runs flat out, and delivered messages per second is its capacity.
import { DRAIN_TIMEOUT_MS } from '../../bench.constants.mjs';
import { allSettled, closePairs, openPairs, sumReports } from '../pairs/open-pairs.mjs';
import { between, cpuFigures, sample } from '../process-stats.mjs';
import { redisBackground, redisFigures, startRedisWindow } from '../redis-window.mjs';
import { sleep, waitUntil } from '../wait.mjs';

const MICROS_PER_SECOND = 1e6;
/** Saturating traffic: MONITOR would cost Redis a little per command and lower the figure. */
const COUNT_SENT = false;

/**
 * With `redis` (a cluster's), receivers connect to `receiverUrl` and the Redis figures of the
 * measured window are reported per message, net of an idle window (`backgroundSeconds`) before it.
 * @param {{ protocol: 'plain' | 'json', url: string, receiverUrl?: string,
 *   server: { pid: number, pids: number[], cpu?: string }, pairs: number, window: number,
 *   warmupSeconds: number, measureSeconds: number, backgroundSeconds?: number,
 *   redis?: import('../redis-observer.mjs').RedisObserver }} options
 */
export async function runThroughput(options) {
  const { protocol, url, server, window } = options;
  let running = true;
  let delivered = 0;
  /** Pairs that got confirmations in the current read, refilled together after it. */
  let refillQueue = [];
  let refillQueued;

  const refill = () => {
    const queue = refillQueue;
    refillQueue = [];
    for (const pair of queue) {
      refillQueued[pair.index] = 0;
      if (running) pair.send(window - (pair.sent - pair.confirmed));
    }
  };
  const listener = {
    onDelivered() {
      delivered++;
    },
    onConfirmed(pair) {
      if (refillQueued[pair.index]) return;
      refillQueued[pair.index] = 1;
      if (refillQueue.length === 0) queueMicrotask(refill);
      refillQueue.push(pair);
    },
  };

  const { redis } = options;
  const pairs = await openPairs(protocol, url, options.pairs, listener, options.receiverUrl);
  const background = redis && (await redisBackground(redis, options.backgroundSeconds, COUNT_SENT));
  refillQueued = new Uint8Array(pairs.length);
  for (const pair of pairs) pair.send(window);

  await sleep(options.warmupSeconds * 1000);
  const redisWindow = redis && (await startRedisWindow(redis, COUNT_SENT));
  const start = sample(server);
  const deliveredAtStart = delivered;
  await sleep(options.measureSeconds * 1000);
  const end = sample(server);
  const deliveredInWindow = delivered - deliveredAtStart;
  const redisUse = redis && (await redisWindow.finish((end.at - start.at) / 1000));
  running = false;

  const settled = await waitUntil(() => allSettled(pairs), DRAIN_TIMEOUT_MS);
  const correctness = sumReports(pairs);
  closePairs(pairs);

  const measured = between(start, end, server);
  return {
    deliveredPerSecond: deliveredInWindow / measured.seconds,
    measuredSeconds: measured.seconds,
    // Cost per message: time the host takes the core away (steal) counts in wall time, not here.
    deliveredPerServerCpuSecond: deliveredInWindow / measured.serverCpuSeconds,
    serverCpuMicrosPerMessage: (measured.serverCpuSeconds / deliveredInWindow) * MICROS_PER_SECOND,
    redis: redis ? redisFigures(redisUse, background, deliveredInWindow) : null,
    ...cpuFigures(measured),
    correctness: { ...correctness, settled },
  };
}
