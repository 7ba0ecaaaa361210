// Open-loop latency: messages leave on a fixed schedule whatever the server does, spread
// round-robin over the pairs, and each one's latency is receipt time minus the send time carried
// in its body. Both stamps come from this process's monotonic clock, so no clock sync is involved.
import { DRAIN_TIMEOUT_MS, LATENCY_TICK_MS } from '../../bench.constants.mjs';
import { LatencyRecorder } from '../latency-recorder.mjs';
import { nowMicros } from '../message-body.mjs';
import { allSettled, closePairs, openPairs, sumReports } from '../pairs/open-pairs.mjs';
import { between, cpuFigures, sample } from '../process-stats.mjs';
import { sleep, waitUntil } from '../wait.mjs';

const MICROS_PER_SECOND = 1e6;

/**
 * @param {{ protocol: 'plain' | 'json', url: string, server: { pid: number, cpu?: string }, pairs: number,
 *   rate: number, warmupSeconds: number, measureSeconds: number }} options
 */
export async function runLatency(options) {
  const { protocol, url, server, rate } = options;
  const delivery = new LatencyRecorder();
  // Sender-side round trip (send to `sent`), which only the JSON protocol has.
  const confirmation = protocol === 'json' ? new LatencyRecorder() : null;
  let measureFrom = Infinity;
  let measureTo = Infinity;
  const inWindow = (sentAtMicros) => sentAtMicros >= measureFrom && sentAtMicros < measureTo;

  const listener = {
    onDelivered(_pair, sentAtMicros) {
      if (inWindow(sentAtMicros)) delivery.record(nowMicros() - sentAtMicros);
    },
    onConfirmed(_pair, sentAtMicros) {
      if (confirmation && inWindow(sentAtMicros)) confirmation.record(nowMicros() - sentAtMicros);
    },
  };

  const pairs = await openPairs(protocol, url, options.pairs, listener);
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
  const start = sample(server);
  await sleep(options.measureSeconds * 1000);
  const end = sample(server);

  const settled = await waitUntil(() => issued === total && allSettled(pairs), DRAIN_TIMEOUT_MS);
  clearInterval(pacer);
  const correctness = sumReports(pairs);
  closePairs(pairs);

  const measured = between(start, end, server);
  return {
    ratePerSecond: rate,
    latencyMs: delivery.summary(),
    confirmationMs: confirmation?.summary() ?? null,
    ...cpuFigures(measured),
    correctness: { ...correctness, settled },
  };
}
