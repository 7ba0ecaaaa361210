// Loaded into a child gateway through NODE_OPTIONS (see wall-clock.ts) before any of its code:
// makes the process's wall clock (`Date.now`) read what a test needs, as after an NTP step or on
// a host that boots without a real-time clock. Timers are untouched.
const realNow = Date.now;
const frozenAt = process.env.WALL_CLOCK_FROZEN_AT;
const offsetMs = Number(process.env.WALL_CLOCK_OFFSET_MS ?? '0');

Date.now = frozenAt === undefined ? () => realNow() + offsetMs : () => Number(frozenAt);
