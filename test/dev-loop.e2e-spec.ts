import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { freePort } from './support/child-gateway.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** What `npm run start:dev` needs from a checkout; node_modules is linked, not copied. */
const PROJECT_FILES = [
  'src',
  'client',
  'public',
  'scripts',
  'package.json',
  'nest-cli.json',
  'tsconfig.json',
  'tsconfig.build.json',
];
/** Built output the copy makes for itself. */
const NOT_COPIED = /[/\\](dist|build|node_modules)$/;
/** The first compile of the whole project, on a loaded CI machine. */
const FIRST_START_MS = 60_000;
/** "Rebuilds and restarts within a few seconds of a change." */
const RESTART_MS = 10_000;

const LISTENING = /im-gateway listening on/g;

/**
 * `npm run start:dev` (`nest start --watch`) in a copy of the project: a change to a source file
 * stops the running gateway and starts the rebuilt one on the same port, and Ctrl+C ends both.
 */
describe('npm run start:dev', () => {
  const dir = mkdtempSync(join(tmpdir(), 'im-gateway-dev-'));
  let child: ChildProcess;
  let output = '';
  let port: number;

  const listening = (): number => output.match(LISTENING)?.length ?? 0;
  const healthy = async (): Promise<boolean> => {
    const res = await fetch(`http://127.0.0.1:${port}/health/live`).catch(() => undefined);
    return res?.status === 200;
  };

  beforeAll(async () => {
    for (const file of PROJECT_FILES) {
      cpSync(join(ROOT, file), join(dir, file), { recursive: true, filter: (from) => !NOT_COPIED.test(from) });
    }
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    port = await freePort();
    child = spawn('npm', ['run', 'start:dev'], {
      cwd: dir,
      // Its own process group, so that a Ctrl+C reaches the CLI and the gateway it runs, as in a terminal.
      detached: true,
      env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: String(port), OFFLINE_STORE: 'memory', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await vi.waitFor(
      async () => {
        expect(listening(), `the first start:\n${output}`).toBe(1);
        expect(await healthy()).toBe(true);
      },
      { timeout: FIRST_START_MS, interval: 100 },
    );
  }, FIRST_START_MS + 5_000);

  afterAll(() => {
    try {
      // Whatever of the group is left, after a failed test.
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // The group is gone already.
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    'rebuilds and restarts within a few seconds of a change',
    async () => {
      const changed = Date.now();
      appendFileSync(join(dir, 'src/health/readiness.state.ts'), '\n// edited\n');
      await vi.waitFor(
        async () => {
          expect(listening(), `the restart:\n${output}`).toBe(2);
          expect(await healthy()).toBe(true);
        },
        { timeout: RESTART_MS, interval: 50 },
      );
      expect(Date.now() - changed).toBeLessThan(RESTART_MS);
      const restart = output.slice(output.indexOf('File change detected'));
      expect(restart).toMatch(/im-gateway stopped[\s\S]*im-gateway listening on/);
      expect(output).not.toMatch(/EADDRINUSE|already in use/);
    },
    RESTART_MS + 5_000,
  );

  it('stops at once on Ctrl+C, and says so last', async () => {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    process.kill(-child.pid!, 'SIGINT');
    await vi.waitFor(() => expect(child.exitCode !== null || child.signalCode !== null).toBe(true), {
      timeout: 3_000,
      interval: 20,
    });
    await exited;
    const gatewayLines = output.split('\n').filter((line) => line.includes('[Nest]'));
    expect(gatewayLines.at(-1)).toContain('im-gateway stopped');
    expect(await healthy()).toBe(false);
  });
});
