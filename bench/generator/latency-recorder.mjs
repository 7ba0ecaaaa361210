// Latency samples of a measured window and their percentiles. Every sample is kept (a 1,000 msg/s
// run of 8 s is 8,000 numbers), so percentiles are exact rather than bucketed.

const INITIAL_CAPACITY = 16_384;
const MICROS_PER_MS = 1000;

export class LatencyRecorder {
  samples = new Float64Array(INITIAL_CAPACITY);
  count = 0;

  /** @param {number} micros */
  record(micros) {
    if (this.count === this.samples.length) {
      const grown = new Float64Array(this.samples.length * 2);
      grown.set(this.samples);
      this.samples = grown;
    }
    this.samples[this.count++] = micros;
  }

  /** p50, p99, p99.9 and max in milliseconds; nearest-rank, so every figure is a real sample. */
  summary() {
    const sorted = this.samples.slice(0, this.count).sort();
    const at = (quantile) => {
      if (sorted.length === 0) return null;
      const rank = Math.min(sorted.length - 1, Math.ceil(quantile * sorted.length) - 1);
      return sorted[Math.max(0, rank)] / MICROS_PER_MS;
    };
    return { samples: this.count, p50: at(0.5), p99: at(0.99), p999: at(0.999), max: at(1) };
  }
}
