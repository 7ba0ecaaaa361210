import { afterEach, describe, expect, it } from 'vitest';
import { ChildGateway } from './support/child-gateway.js';
import { FrameFlood } from './support/frame-flood.js';
import { withTimeout } from './support/ws-client.js';

/** SHUTDOWN_DRAIN_MS for these tests: short, so the deadline is mostly the close budget. */
const DRAIN_MS = 500;
/** README: the drain plus up to 4.5 s of closing. */
const DOCUMENTED_DEADLINE_MS = DRAIN_MS + 4_500;
/** Scheduling slack between the watchdog thread's timer and this process seeing the exit. */
const MARGIN_MS = 1_000;
/** Enough JSON floods to keep the gateway's event loop busy for seconds per turn on 2 cores. */
const FLOOD_CONNECTIONS = 100;
/** A `/health/live` this slow means the event loop is not turning. */
const SATURATED_MS = 1_000;

describe('the shutdown deadline', () => {
  const cleanup: Array<() => void> = [];
  afterEach(() => {
    for (const stop of cleanup.splice(0)) stop();
  });

  /** Resolves once `/health/live` takes longer than SATURATED_MS to answer. */
  async function untilSaturated(port: number): Promise<void> {
    for (;;) {
      const answered = await fetch(`http://127.0.0.1:${port}/health/live`, { signal: AbortSignal.timeout(SATURATED_MS) }).then(
        () => true,
        () => false,
      );
      if (!answered) return;
    }
  }

  it('holds when the event loop is saturated: the process is gone within the drain plus 4.5 s of SIGTERM', async () => {
    const gateway = await ChildGateway.start({
      OFFLINE_STORE: 'memory',
      SHUTDOWN_DRAIN_MS: String(DRAIN_MS),
      RATE_LIMIT_PER_SECOND: '1000000000',
      RATE_LIMIT_BURST: '1000000000',
      LOG_LEVEL: 'warn',
    });
    cleanup.push(() => gateway.process.kill('SIGKILL'));
    const flood = await FrameFlood.start(`ws://127.0.0.1:${gateway.port}/ws`, FLOOD_CONNECTIONS);
    cleanup.push(() => flood.stop());
    await withTimeout(untilSaturated(gateway.port), 'a saturated event loop', 15_000);

    const signalled = Date.now();
    gateway.process.kill('SIGTERM');
    const exit = await withTimeout(gateway.exited, 'exit after SIGTERM', DOCUMENTED_DEADLINE_MS + MARGIN_MS);
    const elapsed = Date.now() - signalled;

    expect(exit.signal).toBe('SIGKILL');
    expect(elapsed).toBeLessThan(DOCUMENTED_DEADLINE_MS + MARGIN_MS);
    expect(gateway.output).toContain('Shutdown did not finish in time; exiting');
  });
});
