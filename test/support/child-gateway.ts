import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { withTimeout } from './ws-client.js';

const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

/** Another user and group to run a gateway as. */
export interface RunAs {
  readonly uid: number;
  readonly gid: number;
}

/**
 * True when this process is root and `as` (another uid and gid) can read the build and its
 * dependencies: a checkout under a private folder (mode 0700) cannot be run as anyone else.
 */
export function canRunAs(as: RunAs): boolean {
  if (process.getuid?.() !== 0) return false;
  const probe = `require('node:fs').accessSync(${JSON.stringify(MAIN)}, require('node:fs').constants.R_OK)`;
  return spawnSync(process.execPath, ['-e', probe], { ...as, stdio: 'ignore' }).status === 0;
}

/** A free loopback port, chosen by the kernel. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** The built gateway (`dist/main.js`) as a separate process, as operators run it. */
export class ChildGateway {
  output = '';
  readonly exited: Promise<Exit>;

  private constructor(
    readonly process: ChildProcess,
    readonly port: number,
  ) {
    process.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    process.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = new Promise((resolve) => process.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /**
   * Spawns without waiting for readiness (for boot failures). `as`: another user and group to run
   * as (the test process must be root).
   */
  static spawn(env: Record<string, string>, port = 0, as?: RunAs): ChildGateway {
    const child = spawn(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: String(port), NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...as,
    });
    return new ChildGateway(child, port);
  }

  /** Spawns on a free port and waits until `/health` answers 200. */
  static async start(env: Record<string, string>, port?: number): Promise<ChildGateway> {
    const gateway = ChildGateway.spawn(env, port ?? (await freePort()));
    await withTimeout(gateway.ready(), `gateway ready on port ${gateway.port}\n${gateway.output}`, 15_000);
    return gateway;
  }

  wsUrl(user: string): string {
    return `ws://127.0.0.1:${this.port}/ws?user=${encodeURIComponent(user)}`;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 12_000): Promise<Exit> {
    if (this.process.exitCode === null && this.process.signalCode === null) this.process.kill(signal);
    return withTimeout(this.exited, `exit after ${signal}`, timeoutMs);
  }

  private async ready(): Promise<void> {
    for (;;) {
      if (this.process.exitCode !== null) throw new Error(`gateway exited early:\n${this.output}`);
      try {
        const res = await fetch(`http://127.0.0.1:${this.port}/health`);
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
