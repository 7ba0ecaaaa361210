// Where and how the server and the generator run: pinned to different cores with taskset (or
// unpinned, with a warning, when that is impossible), and optionally at the highest scheduling
// priority so that other work on a shared machine takes less of their cores.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { GENERATOR_CPU, SERVER_CPU } from '../bench.constants.mjs';

/** Cores the two processes need to be measured apart. */
const CORES_NEEDED = 2;
/** The strongest claim on a core that `nice` can give; needs root or CAP_SYS_NICE. */
const HIGHEST_NICENESS = '-20';
/**
 * With autogroup scheduling (the default on most distributions) a process's nice value only
 * ranks it within its session; against other sessions the session's own nice value counts.
 * The server and the generator are children of the runner and share its session.
 */
const AUTOGROUP_ENABLED = '/proc/sys/kernel/sched_autogroup_enabled';
const OWN_AUTOGROUP = '/proc/self/autogroup';

/**
 * Decides once how processes are placed.
 * @param {{ highPriority: boolean }} options
 * @param {(message: string) => void} warn
 * `command` starts a process on a core; `unpinned` starts it on any core and `pin` moves it and
 * all its threads onto one later, so that several processes can boot side by side first.
 * @returns {{ pinned: boolean, serverCpu?: string, generatorCpu?: string, highPriority: boolean,
 *   command: (cpu: string | undefined, argv: string[]) => string[], unpinned: (argv: string[]) => string[],
 *   pin: (pid: number, cpu: string | undefined) => void }}
 */
export function detectPlacement({ highPriority }, warn) {
  const priority = highPriority && raiseSessionPriority(warn) ? ['nice', '-n', HIGHEST_NICENESS] : [];
  const placement = { highPriority: priority.length > 0, unpinned: (argv) => [...priority, ...argv], pin() {} };
  if (availableParallelism() < CORES_NEEDED) {
    warn(
      `only ${availableParallelism()} core(s): server and generator share the CPU; figures are not comparable to a 2-core run`,
    );
    return { ...placement, pinned: false, command: (_cpu, argv) => [...priority, ...argv] };
  }
  if (!succeeds('taskset', ['-c', SERVER_CPU, 'true'])) {
    warn('taskset is not available (util-linux): server and generator run unpinned and may share a core');
    return { ...placement, pinned: false, command: (_cpu, argv) => [...priority, ...argv] };
  }
  return {
    ...placement,
    pinned: true,
    serverCpu: SERVER_CPU,
    generatorCpu: GENERATOR_CPU,
    command: (cpu, argv) => [...priority, 'taskset', '-c', cpu, ...argv],
    pin(pid, cpu) {
      if (!succeeds('taskset', ['--all-tasks', '--pid', '--cpu-list', cpu, String(pid)])) {
        throw new Error(`taskset could not pin process ${pid} to cpu ${cpu}`);
      }
    },
  };
}

/**
 * Raises this session's autogroup to the highest priority until the runner exits (then puts
 * the old value back), and checks that `nice` may raise the processes' own priority.
 */
function raiseSessionPriority(warn) {
  const probe = spawnSync('nice', ['-n', HIGHEST_NICENESS, 'nice'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0 || probe.stdout.trim() !== HIGHEST_NICENESS) {
    warn('cannot raise scheduling priority (needs root or CAP_SYS_NICE): running at normal priority');
    return false;
  }
  if (!existsSync(AUTOGROUP_ENABLED) || readFileSync(AUTOGROUP_ENABLED, 'utf8').trim() !== '1') return true;
  try {
    const previous = /nice (-?\d+)/.exec(readFileSync(OWN_AUTOGROUP, 'utf8'))?.[1] ?? '0';
    writeFileSync(OWN_AUTOGROUP, HIGHEST_NICENESS);
    process.once('exit', () => writeFileSync(OWN_AUTOGROUP, previous));
    return true;
  } catch (error) {
    warn(`cannot raise this session's autogroup priority (${error.message}): other sessions still compete`);
    return true;
  }
}

function succeeds(command, args) {
  const probe = spawnSync(command, args, { stdio: 'ignore' });
  return !probe.error && probe.status === 0;
}
