// What the generator reads about the server process from /proc: resident memory, and CPU time
// to tell whether the server (and not the generator) was the bottleneck.
import { readFileSync } from 'node:fs';
import { CLOCK_TICKS_PER_SECOND } from '../bench.constants.mjs';

const KIB = 1024;
/** Fields 14 and 15 of /proc/<pid>/stat (utime, stime), counted after the `)` that ends comm. */
const UTIME_FIELD_AFTER_COMM = 11;

/** Resident set size of `pid` in bytes, from VmRSS in /proc/<pid>/status. */
export function residentBytes(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!match) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]) * KIB;
}

/** User plus system CPU seconds used so far by `pid`. */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[UTIME_FIELD_AFTER_COMM]) + Number(fields[UTIME_FIELD_AFTER_COMM + 1]);
  return ticks / CLOCK_TICKS_PER_SECOND;
}

/** CPU seconds used so far by this (the generator) process. */
export function ownCpuSeconds() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/**
 * A point in time to measure a window from: wall clock and both processes' CPU time.
 * @param {number} serverPid
 */
export function sample(serverPid) {
  return { at: performance.now(), serverCpu: cpuSeconds(serverPid), generatorCpu: ownCpuSeconds() };
}

/** Share of one core each process used between two samples, and the window's length. */
export function between(start, end) {
  const seconds = (end.at - start.at) / 1000;
  return {
    seconds,
    serverCpu: (end.serverCpu - start.serverCpu) / seconds,
    generatorCpu: (end.generatorCpu - start.generatorCpu) / seconds,
  };
}
