import { writeSync } from 'node:fs';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

/** What the watchdog thread is told at boot. */
interface WatchdogOptions {
  /** From the first SIGTERM or SIGINT to the forced end of the process. */
  readonly deadlineMs: number;
  /** LOG_FORMAT=json: the last line is a JSON object like every other log line. */
  readonly json: boolean;
}

/** Marks this module's own thread, so that importing it in any other thread starts nothing. */
const WATCHDOG_THREAD = 'im-gateway shutdown watchdog';

interface WatchdogThreadData {
  readonly role: typeof WATCHDOG_THREAD;
  readonly options: WatchdogOptions;
}
const MESSAGE = 'Shutdown did not finish in time; exiting';

/**
 * Enforces the shutdown deadline from a thread of its own, armed by the main thread's signal
 * handler. Client reads are shared out per event-loop turn (`ReadBudget`), so that handler runs
 * within a turn of the signal even under a flood; after it, the main thread may still be too busy
 * (closing thousands of connections, a store that hangs) to notice its own timer, and this one
 * does not depend on it. The thread is started at boot, never keeps the process alive, and is
 * ended with it on a clean exit.
 */
export function startShutdownWatchdog(options: WatchdogOptions, onError: (error: Error) => void): { arm(): void } {
  const worker = new Worker(new URL(import.meta.url), {
    workerData: { role: WATCHDOG_THREAD, options } satisfies WatchdogThreadData,
  });
  worker.unref();
  worker.on('error', onError);
  return { arm: () => worker.postMessage('arm') };
}

function watch({ deadlineMs, json }: WatchdogOptions): void {
  let armed = false;
  const arm = (): void => {
    if (armed) return;
    armed = true;
    // Ref'd on purpose: it keeps this thread alive; the thread itself is unref'd in the main one.
    setTimeout(() => forceExit(json), deadlineMs);
  };
  parentPort!.on('message', arm);
}

/**
 * The line is written straight to fd 2: the worker's `process.stderr` is relayed through the
 * main thread, which is the one not turning. SIGKILL because neither a busy nor a stuck main
 * thread can delay it (a worker's `process.exit` ends only the worker). Ending hard loses
 * nothing that was promised: a sender is told `queued` only after the inbox commit and
 * `delivered` only after the recipient's ack, so whatever is still in flight was never
 * acknowledged and the sender's SDK sends it again.
 */
function forceExit(json: boolean): void {
  const line = json
    ? JSON.stringify({
        level: 'error',
        pid: process.pid,
        timestamp: Date.now(),
        message: MESSAGE,
        context: 'ShutdownWatchdog',
      })
    : `[Nest] ${process.pid}  - ERROR [ShutdownWatchdog] ${MESSAGE}`;
  writeSync(2, `${line}\n`);
  process.kill(process.pid, 'SIGKILL');
}

const thread = workerData as WatchdogThreadData | null;
if (!isMainThread && thread?.role === WATCHDOG_THREAD) watch(thread.options);
