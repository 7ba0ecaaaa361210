/** A file URL (spaces escaped), so that NODE_OPTIONS, split on spaces, takes it whole. */
const PRELOAD = new URL('./wall-clock.preload.mjs', import.meta.url).href;

/** Env for a `ChildGateway` whose wall clock runs `offsetMs` off the host's (negative: behind). */
export function wallClockShiftedBy(offsetMs: number): Record<string, string> {
  return { NODE_OPTIONS: `--import ${PRELOAD}`, WALL_CLOCK_OFFSET_MS: String(offsetMs) };
}

/** Env for a `ChildGateway` whose wall clock stands at `at` (ms since the epoch): two boots read the same times. */
export function wallClockFrozenAt(at: number): Record<string, string> {
  return { NODE_OPTIONS: `--import ${PRELOAD}`, WALL_CLOCK_FROZEN_AT: String(at) };
}
