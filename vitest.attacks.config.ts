import { defineConfig } from 'vitest/config';

/**
 * The hostile-client suites measure the gateway's memory and `/health/live` latency under attack,
 * so they run on their own, one file at a time, after the rest: another suite's load on the
 * same cores would be measured as the gateway's.
 */
export default defineConfig({
  oxc: { decorator: { legacy: true, emitDecoratorMetadata: true } },
  test: {
    include: ['test/**/*.attack-spec.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    fileParallelism: false,
    globalSetup: ['test/support/fresh-build.global-setup.ts'],
  },
});
