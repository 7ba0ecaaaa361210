// Redis figures of a window of cluster traffic, per message delivered. The nodes use Redis even
// with nobody sending (presence refreshes every few seconds, a bus probe per node every second),
// so a window of the same length with the pairs connected and idle is measured first, and its
// rate is subtracted: what is left is what the messages cost. The background is reported too.
import { RedisObserver, redisBetween, total } from './redis-observer.mjs';
import { sleep } from './wait.mjs';

const MICROS_PER_SECOND = 1e6;

/**
 * One window: commands Redis ran (script steps included) and its CPU time; with `countSent`,
 * also the commands clients sent, by name (MONITOR, which costs Redis a little per command, so
 * a saturating workload leaves it off).
 * @param {RedisObserver} redis
 * @param {boolean} countSent
 */
export async function startRedisWindow(redis, countSent) {
  const counter = countSent ? await redis.countSent() : null;
  const start = await redis.sample();
  return {
    /** @param {number} seconds the window's length, from the caller's own clock */
    async finish(seconds) {
      const end = await redis.sample();
      return { seconds, ...redisBetween(start, end), sent: counter?.stop() ?? null };
    },
  };
}

/** The idle window: nothing sent for `seconds`. */
export async function redisBackground(redis, seconds, countSent) {
  const window = await startRedisWindow(redis, countSent);
  const startedAt = performance.now();
  await sleep(seconds * 1000);
  return window.finish((performance.now() - startedAt) / 1000);
}

/**
 * Per message: commands Redis ran and commands the nodes sent, each net of the background and
 * by name; Redis CPU time in microseconds; and the background itself, per second.
 * @param {Awaited<ReturnType<Awaited<ReturnType<typeof startRedisWindow>>['finish']>>} window
 * @param {typeof window} background
 * @param {number} delivered messages delivered in the window
 */
export function redisFigures(window, background, delivered) {
  const net = (counts, idle) => {
    if (counts === null) return null;
    const byCommand = {};
    for (const name of new Set([...counts.keys(), ...(idle?.keys() ?? [])])) {
      const rate = (idle?.get(name) ?? 0) / background.seconds;
      byCommand[name] = ((counts.get(name) ?? 0) - rate * window.seconds) / delivered;
    }
    const perMessage = Object.values(byCommand).reduce((sum, value) => sum + value, 0);
    return { perMessage, byCommand: sortedByValue(byCommand) };
  };
  const idleCpuRate = background.cpuSeconds / background.seconds;
  return {
    commands: net(window.calls, background.calls),
    sent: net(window.sent, background.sent),
    cpuMicrosPerMessage: ((window.cpuSeconds - idleCpuRate * window.seconds) / delivered) * MICROS_PER_SECOND,
    background: {
      seconds: background.seconds,
      commandsPerSecond: total(background.calls) / background.seconds,
      sentPerSecond: background.sent === null ? null : total(background.sent) / background.seconds,
    },
  };
}

function sortedByValue(byName) {
  return Object.fromEntries(Object.entries(byName).sort(([, a], [, b]) => b - a));
}

export { RedisObserver };
