import { writeSync } from 'node:fs';
import { constants } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

/** What the watchdog thread is told at boot. */
interface WatchdogOptions {
  /** From the first SIGTERM or SIGINT to the forced end of the process. */
  readonly deadlineMs: number;
  /** LOG_FORMAT=json: the last line is a JSON object like every other log line. */
  readonly json: boolean;
}

/** The signals that start a graceful shutdown in `main.ts`. */
const SHUTDOWN_SIGNALS = ['SIGTERM', 'SIGINT'] as const;
/** Marks this module's own thread, so that importing it in any other thread starts nothing. */
const WATCHDOG_THREAD = 'im-gateway shutdown watchdog';

interface WatchdogThreadData {
  readonly role: typeof WATCHDOG_THREAD;
  readonly options: WatchdogOptions;
}
const MESSAGE = 'Shutdown did not finish in time; exiting';

/**
 * Enforces the shutdown deadline from a thread of its own. The main thread's timers (and its
 * signal handlers) only run when its event loop turns, and a flood of frames can keep one turn
 * busy for many seconds: the deadline would then pass unnoticed. The thread is started at boot,
 * never keeps the process alive, and is ended with it on a clean exit.
 *
 * `arm()` starts the deadline from the main thread; the thread also starts it by itself on the
 * signal (see `watchSignals`), whichever comes first.
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
  watchSignals(arm);
}

/**
 * Node hands signals to JavaScript only on the main thread's event loop, so under a flood the
 * SIGTERM handler itself runs late (measured 23 s after the signal under a flood like the one in
 * test/shutdown-deadline.e2e-spec.ts). libuv delivers a signal to every loop that watches it, so this
 * thread watches SIGTERM and SIGINT on its own loop through the binding behind
 * `process.on(signal)`, which Node does not wire up in workers (checked on Node 20.20). Where a
 * Node version no longer offers it, `arm()` from the main thread still starts the deadline.
 */
function watchSignals(onSignal: () => void): void {
  // The binding is deprecated for applications (DEP0111); without this its warning would be
  // printed as a stray, non-JSON log line at every boot.
  process.noDeprecation = true;
  let binding: { Signal: new () => SignalHandle };
  try {
    binding = (process as unknown as { binding(name: string): typeof binding }).binding('signal_wrap');
  } catch {
    return;
  }
  const handles = SHUTDOWN_SIGNALS.map((name) => {
    const handle = new binding.Signal();
    handle.onsignal = () => {
      // Let go at once: a second Ctrl-C must still end the process the default way once the
      // main thread has dropped its own one-shot handler.
      for (const h of handles) h.close();
      onSignal();
    };
    handle.start(constants.signals[name]);
    return handle;
  });
}

interface SignalHandle {
  onsignal: (signum: number) => void;
  start(signum: number): number;
  close(): void;
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
    ? JSON.stringify({ level: 'error', pid: process.pid, timestamp: Date.now(), message: MESSAGE, context: 'ShutdownWatchdog' })
    : `[Nest] ${process.pid}  - ERROR [ShutdownWatchdog] ${MESSAGE}`;
  writeSync(2, `${line}\n`);
  process.kill(process.pid, 'SIGKILL');
}

const thread = workerData as WatchdogThreadData | null;
if (!isMainThread && thread?.role === WATCHDOG_THREAD) watch(thread.options);
