// Builds the package into dist/: ES modules with declarations (tsc) for Node and bundlers, and
// one minified ES module with everything in it (esbuild) for browsers without a build step.
// Run by `npm pack` (prepack) and by the gateway's `npm run build`, which serves the bundle.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = fileURLToPath(new URL('.', import.meta.url));
const require = createRequire(import.meta.url);

/** The file the gateway serves at /sdk/im-client.js, and the package's `./browser` export. */
export const BROWSER_BUNDLE = fileURLToPath(new URL('dist/im-client.min.js', import.meta.url));

/**
 * Browsers released since 2021 (ES2022 syntax: class fields, top-level await); newer library
 * calls the SDK makes have no syntax to lower.
 */
const BROWSER_TARGET = 'es2022';

export async function buildClient() {
  rmSync(new URL('dist', import.meta.url), { recursive: true, force: true });
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    cwd: here,
    stdio: 'inherit',
  });
  await build({
    entryPoints: [fileURLToPath(new URL('index.ts', import.meta.url))],
    outfile: BROWSER_BUNDLE,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: BROWSER_TARGET,
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildClient();
