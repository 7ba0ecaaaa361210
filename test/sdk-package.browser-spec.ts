import { execFile } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appServer, BrowserTab, launchChromium, PAGE_WAIT_MS } from './support/browser.js';
import { startGateway, tempDir, type TestGateway } from './support/gateway.js';

const run = promisify(execFile);
const CLIENT = fileURLToPath(new URL('../client/', import.meta.url));
const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc');

/** Packing builds the SDK (tsc and esbuild), installing copies it: seconds each on a busy machine. */
const PACKAGE_MS = 120_000;

/** An app of ours that uses the installed package: connects two users and sends one message. */
const APP = `import { ImClient } from '@im-gateway/client';

export async function exchange(url) {
  const bob = new ImClient({ url, user: 'pkg-bob' });
  const alice = new ImClient({ url, user: 'pkg-alice' });
  const received = new Promise((resolve) => bob.on('message', (m) => resolve(m.from + ': ' + m.body)));
  await Promise.all([bob.connect(), alice.connect()]);
  const status = await alice.send('pkg-bob', 'from the package');
  const message = await received;
  alice.close();
  bob.close();
  return { status, message };
}
`;

/** The same app in TypeScript, type-checked against the package's declarations. */
const TYPED_APP = `import { ImClient, type ImMessage, type SendStatus } from '@im-gateway/client';

const client = new ImClient({ url: 'ws://localhost:8080/ws', user: 'alice' });
client.on('message', (message: ImMessage) => console.log(message.from, message.body));
export const sent: Promise<SendStatus> = client.send('bob', 'hello');
`;

/**
 * The SDK as an app gets it: `npm pack` in client/, the tarball installed into an empty project
 * with no registry, then imported by its package name from Node, from TypeScript, and from a
 * bundle that a browser runs.
 */
describe('@im-gateway/client installed from its tarball', { timeout: PACKAGE_MS }, () => {
  const dir = tempDir();
  const app = dir.path;
  let gw: TestGateway;
  let browser: Browser | undefined;

  beforeAll(async () => {
    await run('npm', ['pack', '--silent', '--pack-destination', app], { cwd: CLIENT });
    const tarball = readdirSync(app).find((name) => name.endsWith('.tgz'))!;
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'sdk-user-app', private: true, type: 'module' }));
    await run('npm', ['install', '--offline', '--no-audit', '--no-fund', `./${tarball}`], { cwd: app });
    writeFileSync(join(app, 'app.mjs'), APP);
    gw = await startGateway();
  }, PACKAGE_MS);

  afterAll(async () => {
    await browser?.close();
    await gw?.close();
    dir.remove();
  });

  it('ships ES modules, declarations and the browser bundle, and no sources or tests', async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: CLIENT });
    const files: string[] = JSON.parse(stdout)[0].files.map((f: { path: string }) => f.path);
    expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts']));
    expect(files).toContain('dist/im-client.min.js');
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
  });

  it('works from Node by its package name', async () => {
    const script = `import { exchange } from './app.mjs';
console.log(JSON.stringify(await exchange(process.argv[1])));`;
    // Node 22 and later have a global WebSocket; Node 20 has it behind a flag.
    const flags = typeof globalThis.WebSocket === 'function' ? [] : ['--experimental-websocket'];
    const { stdout } = await run(
      process.execPath,
      [...flags, '--input-type=module', '-e', script, `ws://127.0.0.1:${gw.port}/ws`],
      {
        cwd: app,
      },
    );
    expect(JSON.parse(stdout)).toEqual({ status: 'delivered', message: 'pkg-alice: from the package' });
  });

  it('type-checks an app written in TypeScript against its declarations', async () => {
    writeFileSync(join(app, 'typed-app.ts'), TYPED_APP);
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'es2022',
          module: 'nodenext',
          moduleResolution: 'nodenext',
          lib: ['es2022', 'dom'],
          types: [],
          strict: true,
          noEmit: true,
        },
        files: ['typed-app.ts'],
      }),
    );
    await expect(run(process.execPath, [TSC, '-p', app])).resolves.toBeDefined();
  });

  it('works in Chromium from an app bundled with esbuild', async () => {
    const page = await build({
      stdin: {
        contents: `import { exchange } from './app.mjs';
const result = await exchange(document.body.dataset.url);
document.body.dataset.result = result.status + ' / ' + result.message;`,
        resolveDir: app,
      },
      bundle: true,
      format: 'esm',
      platform: 'browser',
      write: false,
      logLevel: 'silent',
    });
    const server = await appServer(
      `<body data-url="ws://127.0.0.1:${gw.port}/ws"><script type="module" src="/app.js"></script></body>`,
      {
        '/app.js': page.outputFiles[0]!.text,
      },
    );
    try {
      browser = await launchChromium();
      const tab = await BrowserTab.open(browser, `${server.origin}/`);
      await tab.page
        .locator('body[data-result="delivered / pkg-alice: from the package"]')
        .waitFor({ state: 'attached', timeout: PAGE_WAIT_MS });
      await tab.screenshot('sdk-package-bundled');
      expect(tab.problems.console).toEqual([]);
      await tab.close();
    } finally {
      server.close();
    }
  });
});
