import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = join(ROOT, 'dist', 'main.js');
/** The chat page and SDK bundle that the gateway serves (scripts/build-web.mjs). */
const PAGE = join(ROOT, 'public', 'build', 'index.html');

/** Every built source file under `dir`, recursively (specs, build output and test doubles are not built). */
function sources(dir: string, pattern = /\.ts$/): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return ['build', 'dist', 'testing'].includes(entry.name) ? [] : sources(path, pattern);
    return pattern.test(entry.name) && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

/** Throws when `output` is missing or older than one of `inputs`. */
function requireFresh(output: string, inputs: string[]): void {
  if (!existsSync(output))
    throw new Error(`${relative(ROOT, output)} is missing: run \`npm run build\` (npm run test:e2e builds first)`);
  const built = statSync(output).mtimeMs;
  const newer = inputs.find((file) => statSync(file).mtimeMs > built);
  if (newer !== undefined) {
    throw new Error(
      `${relative(ROOT, output)} is older than ${relative(ROOT, newer)}: run \`npm run build\` (npm run test:e2e builds first)`,
    );
  }
}

/**
 * The child-process suites run `dist/main.js`, as operators do, and the browser suites load the
 * built page. A build older than the sources would test yesterday's gateway and pass, so the e2e
 * run stops here with what to do instead.
 */
export default function setup(): void {
  requireFresh(MAIN, sources(join(ROOT, 'src')));
  requireFresh(PAGE, [...sources(join(ROOT, 'public'), /\.(ts|css|html|svg)$/), ...sources(join(ROOT, 'client'))]);
}
