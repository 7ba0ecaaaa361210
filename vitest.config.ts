import { defineConfig } from 'vitest/config';

/**
 * Two projects: `unit` (specs beside the code they test: no sockets, no child processes, seconds)
 * and `e2e` (real `ws` clients against an in-process Nest app or a child `dist/main.js`).
 * `npm run test:unit`, `npm run test:e2e` and `npm test` pick them; the hostile-client suites have
 * their own config (vitest.attacks.config.ts).
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
        test: { name: 'unit', include: ['src/**/*.spec.ts', 'client/**/*.spec.ts', 'public/**/*.spec.ts'] },
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
    ],
  },
});
