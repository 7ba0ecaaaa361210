import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { DeliveryLatencyHistogram } from './gateway.metrics.js';

const BUCKETS = [0.001, 0.01, 0.1, 1];

/** The exposition text of one histogram, under a common name so that two can be compared. */
async function exposition(register: (registry: Registry) => void): Promise<string> {
  const registry = new Registry();
  register(registry);
  return registry.metrics();
}

describe('DeliveryLatencyHistogram', () => {
  const latencies = [0, 0.0005, 0.001, 0.002, 0.01, 0.05, 0.1, 0.5, 1, 3, 120];

  it('exposes recorded deliveries exactly as prom-client exposes the same observations', async () => {
    const recorded = await exposition((registry) => {
      const h = new DeliveryLatencyHistogram({ name: 'latency', help: 'h', buckets: BUCKETS, registers: [registry] });
      for (const seconds of latencies) h.record(seconds);
    });
    const observed = await exposition((registry) => {
      const h = new Histogram({ name: 'latency', help: 'h', buckets: BUCKETS, registers: [registry] });
      for (const seconds of latencies) h.observe(seconds);
    });
    expect(recorded).toBe(observed);
    expect(recorded).toContain('latency_bucket{le="0.001"} 3');
    expect(recorded).toContain('latency_bucket{le="+Inf"} 11');
  });

  it('adds recorded, observed and immediate deliveries together, and forgets them all on reset', async () => {
    const registry = new Registry();
    const h = new DeliveryLatencyHistogram({ name: 'latency', help: 'h', buckets: BUCKETS, registers: [registry] });
    h.record(0.05);
    h.observe(2);
    h.immediate = 4;
    const text = await registry.metrics();
    expect(text).toContain('latency_bucket{le="0.001"} 4');
    expect(text).toContain('latency_bucket{le="0.1"} 5');
    expect(text).toContain('latency_bucket{le="1"} 5');
    expect(text).toContain('latency_bucket{le="+Inf"} 6');
    expect(text).toContain('latency_sum 2.05');
    expect(text).toContain('latency_count 6');

    registry.resetMetrics();
    const empty = await registry.metrics();
    expect(empty).toContain('latency_bucket{le="+Inf"} 0');
    expect(empty).toContain('latency_count 0');
    h.record(0.5);
    expect(await registry.metrics()).toContain('latency_bucket{le="1"} 1');
  });
});
