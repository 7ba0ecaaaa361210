import { once } from 'node:events';
import type { Socket } from 'node:net';
import type WebSocket from 'ws';
import { probeRepeatedly, rssBytes, watchPeakRss } from './process-watch.js';

export interface AttackFigures {
  /** Highest RSS seen during the attack, in MiB. */
  readonly maxRssMiB: number;
  /** Slowest `/health/live` answer during the attack, in ms. */
  readonly maxLiveMs: number;
  /** 95th percentile of the `/health/live` answers, in ms. */
  readonly p95LiveMs: number;
  readonly probes: number;
}

/** The gateway's RSS, in MiB. */
export const rssMiB = (pid: number): number => rssBytes(pid) / 2 ** 20;

/**
 * What an operator sees while a client attacks, sampled until `done` settles: the gateway's peak
 * RSS and its slowest `/health/live` answer.
 */
export async function watchDuring(httpUrl: string, pid: number, done: Promise<unknown>): Promise<AttackFigures> {
  const rss = watchPeakRss(pid);
  const live = probeRepeatedly(`${httpUrl}/health/live`);
  await done.catch(() => undefined);
  const peak = rss.stop();
  const { count, maxMs, p95Ms, statuses } = await live.stop();
  if ([...statuses].some((status) => status !== 200))
    throw new Error(`/health/live answered ${[...statuses].join(', ')}`);
  return { maxRssMiB: peak / 2 ** 20, maxLiveMs: maxMs, p95LiveMs: p95Ms, probes: count };
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
  // The gateway cuts a flooder off; the resets that follow are expected, not test failures.
  tcp.on('error', () => undefined);
  client.on('error', () => undefined);
  while (!stopped() && tcp.writable) {
    // `once` rejects on an 'error' event: a reset ends the flood like a close does.
    if (!tcp.write(chunk))
      await Promise.race([once(tcp, 'drain'), once(tcp, 'close'), attackFor(50)]).catch(() => undefined);
  }
}
