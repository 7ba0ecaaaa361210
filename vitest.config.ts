import { configDefaults, defineConfig } from 'vitest/config';

/** Specs beside the code that talk to the Redis at 127.0.0.1:6379: they run with the cluster suites. */
const REDIS_SPECS = 'src/**/redis-*.spec.ts';

/**
 * Four projects: `unit` (specs beside the code they test: no sockets, no child processes, seconds),
 * `e2e` (real `ws` clients against an in-process Nest app or a child `dist/main.js`), `cluster`
 * (the Redis drivers' specs against a real Redis, then several gateways on one Redis, with nodes
 * and Redis killed under traffic) and `browser` (the
 * chat page and the SDK package in headless Chromium). `npm run test:unit`, `test:e2e`,
 * `test:cluster`, `test:browser` and `npm test` pick them; `npm test` runs `browser` after `e2e`, not beside it,
 * so that Chromium's CPU use cannot starve the e2e suites that measure time. The hostile-client
 * suites have their own config (vitest.attacks.config.ts).
 */
export default defineConfig({
  // Nest's dependency injection reads constructor types from decorator metadata.
  oxc: { decorator: { legacy: true, emitDecoratorMetadata: true } },
  test: {
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['src/**/*.spec.ts', 'client/**/*.spec.ts', 'public/**/*.spec.ts'],
          exclude: [...configDefaults.exclude, REDIS_SPECS],
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/**/*.e2e-spec.ts'],
          // Child-process suites spawn dist/main.js: refuse to run them against a stale build.
          globalSetup: ['test/support/fresh-build.global-setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'cluster',
          include: [REDIS_SPECS, 'test/**/*.cluster-spec.ts'],
          // Each file runs three gateways (and sometimes its own Redis): one file at a time.
          fileParallelism: false,
          testTimeout: 90_000,
          hookTimeout: 30_000,
          globalSetup: ['test/support/fresh-build.global-setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          include: ['test/**/*.browser-spec.ts'],
          // They load the built page and bundle, and restart dist/main.js.
          globalSetup: ['test/support/fresh-build.global-setup.ts'],
        },
      },
    ],
  },
});
