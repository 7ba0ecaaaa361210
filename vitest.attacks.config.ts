import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * The hostile-client suites measure the gateway's memory and `/health/live` latency under attack,
 * so they run on their own, one file at a time, after the rest: another suite's load on the
 * same cores would be measured as the gateway's.
 */
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ['test/**/*.attack-spec.ts'],
    fileParallelism: false,
  },
});
