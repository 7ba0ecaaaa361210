// One line per finished measurement, so a long run shows where it is and what it has seen.
import { formatValue } from './report-table.mjs';

const percent = (share) => (share === null || share === undefined ? '-' : `${Math.round(share * 100)}%`);

export function summarizeResult(result) {
  const cpu = (figures) => `server cpu ${percent(figures.serverCpu)}, core idle ${percent(figures.serverCoreIdle)}`;
  // A cluster's Redis: what it ran per message (script steps included), and what it was sent.
  const redis = (figures) =>
    figures
      ? `; Redis ${formatValue(figures.commands.perMessage, 'count')} calls/msg` +
        (figures.sent ? `, ${formatValue(figures.sent.perMessage, 'count')} commands sent/msg` : '')
      : '';
  switch (result.workload) {
    case 'throughput':
      return `${formatValue(result.deliveredPerSecond, 'rate')} msg/s delivered (${cpu(result)}${redis(result.redis)})`;
    case 'latency': {
      const { p50, p99, p999 } = result.latencyMs;
      return `p50 ${formatValue(p50, 'ms')} / p99 ${formatValue(p99, 'ms')} / p99.9 ${formatValue(p999, 'ms')} ms (${cpu(result)}${redis(result.redis)})`;
    }
    case 'idle':
      return `${formatValue(result.handshakesPerSecond, 'rate')} handshakes/s, ${formatValue(result.rssPerConnectionBytes, 'bytes')} per connection`;
    case 'offline':
      return `${result.messages} stored in ${formatValue(result.storeSeconds, 'seconds')} s, drained in ${formatValue(result.drainSeconds, 'seconds')} s`;
    default:
      return JSON.stringify(result);
  }
}
