// One line per finished measurement, so a long run shows where it is and what it has seen.
import { formatValue } from './report-table.mjs';

const percent = (share) => (share === null || share === undefined ? '-' : `${Math.round(share * 100)}%`);

export function summarizeResult(result) {
  const cpu = (figures) => `server cpu ${percent(figures.serverCpu)}, core idle ${percent(figures.serverCoreIdle)}`;
  switch (result.workload) {
    case 'throughput':
      return `${formatValue(result.deliveredPerSecond, 'rate')} msg/s delivered (${cpu(result)})`;
    case 'latency': {
      const { p50, p99, p999 } = result.latencyMs;
      return `p50 ${formatValue(p50, 'ms')} / p99 ${formatValue(p99, 'ms')} / p99.9 ${formatValue(p999, 'ms')} ms (${cpu(result)})`;
    }
    case 'idle':
      return `${formatValue(result.handshakesPerSecond, 'rate')} handshakes/s, ${formatValue(result.rssPerConnectionBytes, 'bytes')} per connection`;
    case 'offline':
      return `${result.messages} stored in ${formatValue(result.storeSeconds, 'seconds')} s, drained in ${formatValue(result.drainSeconds, 'seconds')} s`;
    default:
      return JSON.stringify(result);
  }
}
