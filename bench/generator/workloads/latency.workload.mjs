// Open-loop latency: messages leave on a fixed schedule whatever the server does, spread
// round-robin over the pairs, and each one's latency is receipt time minus the send time carried
// in its body. Both stamps come from this process's monotonic clock, so no clock sync is involved.
import { DRAIN_TIMEOUT_MS, LATENCY_TICK_MS } from '../../bench.constants.mjs';
import { LatencyRecorder } from '../latency-recorder.mjs';
import { nowMicros } from '../message-body.mjs';
import { allSettled, closePairs, openPairs, sumReports } from '../pairs/open-pairs.mjs';
import { between, cpuFigures, sample } from '../process-stats.mjs';
import { redisBackground, redisFigures, startRedisWindow } from '../redis-window.mjs';
import { sleep, waitUntil } from '../wait.mjs';

const MICROS_PER_SECOND = 1e6;
/** At a fixed, moderate rate MONITOR costs Redis little, and it tells sent commands from script steps. */
const COUNT_SENT = true;

/**
 * With `redis` (a cluster's), receivers connect to `receiverUrl` and the Redis figures of the
 * measured window are reported per message, net of an idle window (`backgroundSeconds`) before it.
 * @param {{ protocol: 'plain' | 'json', url: string, receiverUrl?: string,
 *   server: { pid: number, pids: number[], cpu?: string }, pairs: number, rate: number,
 *   warmupSeconds: number, measureSeconds: number, backgroundSeconds?: number,
 *   redis?: import('../redis-observer.mjs').RedisObserver }} options
 */
export async function runLatency(options) {
  const { protocol, url, server, rate } = options;
  const delivery = new LatencyRecorder();
  // Sender-side round trip (send to `sent`), which only the JSON protocol has.
  const confirmation = protocol === 'json' ? new LatencyRecorder() : null;
  let measureFrom = Infinity;
  let measureTo = Infinity;
  const inWindow = (sentAtMicros) => sentAtMicros >= measureFrom && sentAtMicros < measureTo;

  let delivered = 0;
  const listener = {
    onDelivered(_pair, sentAtMicros) {
      delivered++;
      if (inWindow(sentAtMicros)) delivery.record(nowMicros() - sentAtMicros);
    },
    onConfirmed(_pair, sentAtMicros) {
      if (confirmation && inWindow(sentAtMicros)) confirmation.record(nowMicros() - sentAtMicros);
    },
  };

  const { redis } = options;
  const pairs = await openPairs(protocol, url, options.pairs, listener, options.receiverUrl);
  const background = redis && (await redisBackground(redis, options.backgroundSeconds, COUNT_SENT));
  const totalSeconds = options.warmupSeconds + options.measureSeconds;
  const total = Math.round(rate * totalSeconds);
  const startedAt = performance.now();
  measureFrom = Math.round(startedAt * 1000 + options.warmupSeconds * MICROS_PER_SECOND);
  measureTo = measureFrom + Math.round(options.measureSeconds * MICROS_PER_SECOND);

  let issued = 0;
  const pacer = setInterval(() => {
    const due = Math.min(total, Math.floor(((performance.now() - startedAt) * rate) / 1000));
    for (; issued < due; issued++) pairs[issued % pairs.length].send(1);
    if (issued === total) clearInterval(pacer);
  }, LATENCY_TICK_MS);

  await sleep(options.warmupSeconds * 1000);
  const redisWindow = redis && (await startRedisWindow(redis, COUNT_SENT));
  const start = sample(server);
  const deliveredAtStart = delivered;
  await sleep(options.measureSeconds * 1000);
  const end = sample(server);
  const deliveredInWindow = delivered - deliveredAtStart;
  const redisUse = redis && (await redisWindow.finish((end.at - start.at) / 1000));

  const settled = await waitUntil(() => issued === total && allSettled(pairs), DRAIN_TIMEOUT_MS);
  clearInterval(pacer);
  const correctness = sumReports(pairs);
  closePairs(pairs);

  const measured = between(start, end, server);
  return {
    ratePerSecond: rate,
    latencyMs: delivery.summary(),
    confirmationMs: confirmation?.summary() ?? null,
    serverCpuMicrosPerMessage: (measured.serverCpuSeconds / deliveredInWindow) * MICROS_PER_SECOND,
    redis: redis ? redisFigures(redisUse, background, deliveredInWindow) : null,
    ...cpuFigures(measured),
    correctness: { ...correctness, settled },
  };
}
