import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import type WebSocket from 'ws';

/** Resident memory of a process, in MiB, as the kernel reports it. */
export function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  if (line === undefined) throw new Error(`no VmRSS for process ${pid}`);
  return Number(line.replace(/\D+/g, '')) / 1024;
}

/** How long `GET /health/live` takes to answer, in ms. */
export async function liveLatencyMs(httpUrl: string): Promise<number> {
  const started = performance.now();
  const res = await fetch(`${httpUrl}/health/live`);
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`/health/live answered ${res.status}`);
  return performance.now() - started;
}

export interface AttackFigures {
  /** Highest RSS seen during the attack, in MiB (when a pid was given). */
  maxRssMiB: number;
  /** Slowest `/health/live` answer during the attack, in ms. */
  maxLiveMs: number;
  samples: number;
}

/**
 * Samples the gateway's RSS and `/health/live` latency every `everyMs` until `done` resolves:
 * the two things an operator sees while a client attacks.
 */
export async function watchDuring(
  httpUrl: string,
  pid: number | undefined,
  done: Promise<unknown>,
  everyMs = 100,
): Promise<AttackFigures> {
  const figures: AttackFigures = { maxRssMiB: 0, maxLiveMs: 0, samples: 0 };
  let finished = false;
  void done.finally(() => (finished = true));
  while (!finished) {
    figures.maxLiveMs = Math.max(figures.maxLiveMs, await liveLatencyMs(httpUrl));
    if (pid !== undefined) figures.maxRssMiB = Math.max(figures.maxRssMiB, rssMiB(pid));
    figures.samples++;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return figures;
}

/** Resolves after `ms`; for an attack's duration, never to wait for a state. */
export const attackFor = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * One client frame as it goes on the wire: FIN, `opcode`, the mask bit with an all-zero key (so
 * the payload is sent as is). Built once, a flood of them costs the attacker almost nothing.
 */
export function clientFrame(opcode: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const length = payload.length;
  const header =
    length < 126
      ? Buffer.from([0x80 | opcode, 0x80 | length])
      : Buffer.from([0x80 | opcode, 0x80 | 126, length >> 8, length & 0xff]);
  if (length > 0xffff) throw new Error('frame too long for this helper');
  return Buffer.concat([header, Buffer.alloc(4), payload]);
}

/**
 * Writes `chunk` to the socket under an open `ws` client, as fast as TCP takes it, until
 * `stopped()` or the connection ends: the kernel, not the attacker's event loop, does the work.
 */
export async function floodRaw(client: WebSocket, chunk: Buffer, stopped: () => boolean): Promise<void> {
  const tcp = (client as unknown as { _socket: Socket })._socket;
  tcp.on('error', () => undefined);
  while (!stopped() && tcp.writable) {
    if (!tcp.write(chunk)) await Promise.race([once(tcp, 'drain'), once(tcp, 'close'), attackFor(50)]);
  }
}
