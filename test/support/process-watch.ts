import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { withTimeout } from './ws-client.js';

/** Often enough to catch a body being buffered and parsed, which takes tens of milliseconds. */
const RSS_SAMPLE_INTERVAL_MS = 10;
/** A probe every 25 ms: many samples during an attack, without becoming a load of its own. */
const PROBE_INTERVAL_MS = 25;
/** A probe that has not answered by then counts as this long; the process is as good as dead. */
const PROBE_TIMEOUT_MS = 15_000;

/** Resident set size of a process, from /proc/<pid>/status (VmRSS), in bytes. */
export function rssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) * 1024;
}

/** Samples a process's RSS until stopped; `stop()` returns the highest value seen. */
export function watchPeakRss(pid: number): { stop(): number } {
  let peak = rssBytes(pid);
  const timer = setInterval(() => {
    peak = Math.max(peak, rssBytes(pid));
  }, RSS_SAMPLE_INTERVAL_MS);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(peak, rssBytes(pid));
    },
  };
}

/** One GET on a fresh connection, as a load balancer's probe makes it; resolves with its duration. */
function timedGet(url: string): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
      res.resume();
      res.once('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }));
    });
    req.once('error', reject);
    req.end();
  });
}

export interface ProbeReport {
  readonly count: number;
  readonly maxMs: number;
  /** The 95th percentile of the answer times. */
  readonly p95Ms: number;
  readonly statuses: ReadonlySet<number>;
}

/**
 * Probes `url` every 25 ms, one probe at a time, until stopped; `stop()` waits for the probe in
 * flight and reports the slowest answer.
 */
export function probeRepeatedly(url: string): { stop(): Promise<ProbeReport> } {
  let count = 0;
  let maxMs = 0;
  const times: number[] = [];
  const statuses = new Set<number>();
  let inFlight: Promise<void> | undefined;
  const probe = async (): Promise<void> => {
    try {
      const { status, ms } = await withTimeout(timedGet(url), `GET ${url}`, PROBE_TIMEOUT_MS);
      statuses.add(status);
      maxMs = Math.max(maxMs, ms);
      times.push(ms);
    } catch {
      statuses.add(0);
      maxMs = Math.max(maxMs, PROBE_TIMEOUT_MS);
    }
    count += 1;
  };
  const timer = setInterval(() => {
    inFlight ??= probe().finally(() => (inFlight = undefined));
  }, PROBE_INTERVAL_MS);
  return {
    stop: async () => {
      clearInterval(timer);
      await inFlight;
      const sorted = times.sort((a, b) => a - b);
      const p95Ms = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))] ?? 0;
      return { count, maxMs, p95Ms, statuses };
    },
  };
}
