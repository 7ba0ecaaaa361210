import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { withTimeout } from './ws-client.js';

const SCRIPT = fileURLToPath(new URL('./frame-flood.mjs', import.meta.url));

/** A separate process keeping `connections` sockets of a gateway flooded (see frame-flood.mjs). */
export class FrameFlood {
  private constructor(private readonly process: ChildProcess) {}

  /** Resolves once every connection is open and sending. */
  static async start(wsUrl: string, connections: number): Promise<FrameFlood> {
    const child = spawn(process.execPath, [SCRIPT, wsUrl, String(connections)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const flood = new FrameFlood(child);
    const started = new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('flooding') && resolve());
      child.once('exit', (code) => reject(new Error(`flood exited early with ${code}`)));
    });
    await withTimeout(started, `${connections} flooding connections`, 15_000).catch((error: unknown) => {
      flood.stop();
      throw error;
    });
    return flood;
  }

  stop(): void {
    if (this.process.exitCode === null && this.process.signalCode === null) this.process.kill('SIGKILL');
  }
}
