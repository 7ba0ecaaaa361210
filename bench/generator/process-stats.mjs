// What the generator reads about the server from /proc: resident memory; CPU time, which on a
// virtual machine whose host takes CPU away (steal) is a steadier cost measure than wall time;
// how long the server's core sat idle, which tells whether the server was the bottleneck; and how
// much of that core other processes took, which tells whether the figures can be trusted.
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

/**
 * Seconds the given core has spent so far idle (idle plus iowait) and running processes (user,
 * nice, system), from /proc/stat. Neither is inflated by steal: while the host has taken the
 * core away it is neither busy nor idle for the guest. Interrupt time is left out of "busy": it
 * is mostly the server's own network traffic, which the kernel does not bill to the server.
 * @param {string | undefined} cpu core number, or undefined when the server is not pinned
 */
export function coreSeconds(cpu) {
  if (cpu === undefined) return { idle: 0, busy: 0 };
  const line = readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .find((row) => row.startsWith(`cpu${cpu} `));
  if (!line) throw new Error(`no cpu${cpu} line in /proc/stat`);
  const [, user, nice, system, idle, iowait] = line.split(/\s+/).map(Number);
  return {
    idle: (idle + iowait) / CLOCK_TICKS_PER_SECOND,
    busy: (user + nice + system) / CLOCK_TICKS_PER_SECOND,
  };
}

/** CPU seconds used so far by this (the generator) process. */
export function ownCpuSeconds() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/**
 * A point in time to measure a window from: wall clock, the server's and the generator's CPU
 * time, and the idle time of the server's core. A server of several processes (the nodes of a
 * cluster, all on the server's core) counts the CPU time of all of them.
 * @param {{ pids: number[], cpu?: string }} server
 */
export function sample(server) {
  let serverCpu = 0;
  for (const pid of server.pids) serverCpu += cpuSeconds(pid);
  return {
    at: performance.now(),
    serverCpu,
    generatorCpu: ownCpuSeconds(),
    serverCore: coreSeconds(server.cpu),
  };
}

/**
 * The window between two samples: its length, the CPU seconds the server spent in it, each
 * process's share of a core, and two shares of the window for the server's core: idle (the
 * server was waiting for work) and taken by other processes (someone else ran on it). Both are
 * null when the server is not pinned, as it then has no core of its own.
 */
export function between(start, end, server) {
  const seconds = (end.at - start.at) / 1000;
  const serverCpuSeconds = end.serverCpu - start.serverCpu;
  const pinned = server.cpu !== undefined;
  const coreBusy = end.serverCore.busy - start.serverCore.busy;
  return {
    seconds,
    serverCpuSeconds,
    serverCpu: serverCpuSeconds / seconds,
    generatorCpu: (end.generatorCpu - start.generatorCpu) / seconds,
    serverCoreIdle: pinned ? (end.serverCore.idle - start.serverCore.idle) / seconds : null,
    serverCoreForeign: pinned ? Math.max(0, coreBusy - serverCpuSeconds) / seconds : null,
  };
}

/** The CPU picture of a window as it goes into a result line. */
export function cpuFigures(window) {
  return {
    serverCpuSeconds: window.serverCpuSeconds,
    serverCpu: window.serverCpu,
    serverCoreIdle: window.serverCoreIdle,
    serverCoreForeign: window.serverCoreForeign,
    generatorCpu: window.generatorCpu,
  };
}
