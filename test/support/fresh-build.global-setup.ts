import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = join(ROOT, 'dist', 'main.js');

/** Every compiled source file under `dir`, recursively (specs are not built). */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

/**
 * The child-process suites run `dist/main.js`, as operators do. A build older than the sources
 * would test yesterday's gateway and pass, so the e2e run stops here with what to do instead.
 */
export default function setup(): void {
  if (!existsSync(MAIN))
    throw new Error('dist/main.js is missing: run `npm run build` (npm run test:e2e builds first)');
  const built = statSync(MAIN).mtimeMs;
  const newer = sources(join(ROOT, 'src')).find((file) => statSync(file).mtimeMs > built);
  if (newer !== undefined) {
    throw new Error(
      `dist/ is older than ${relative(ROOT, newer)}: run \`npm run build\` (npm run test:e2e builds first)`,
    );
  }
}
