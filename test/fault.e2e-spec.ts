import { afterEach, describe, expect, it } from 'vitest';
import type { ImMessage, SendStatus } from '../client/index.js';
import { ChildGateway } from './support/child-gateway.js';
import { eventually } from './support/eventually.js';
import { tempDir } from './support/gateway.js';
import { FAST_RECONNECT, SdkUser, until, type SdkUserOptions } from './support/sdk-user.js';
import { wallClockFrozenAt, wallClockShiftedBy } from './support/wall-clock.js';
import { sleep, withTimeout } from './support/ws-client.js';

/** 4 senders x 1,000 messages, alternating between 2 receivers: 4,000 messages in all. */
const SENDERS = 4;
const RECEIVERS = 2;
const PER_SENDER = 1_000;
const TOTAL = SENDERS * PER_SENDER;
/**
 * Each sender sends in bursts spread over several seconds (125 messages/s each). A kill fires as
 * a burst crosses its threshold, so about BATCH x SENDERS messages are on their way when it lands.
 */
const BATCH = 25;
const BATCH_PAUSE_MS = 200;
/** Each message takes the receiving app about this long, so a burst is still being acked when the gateway dies. */
const HANDLER_MS = 1;
/** Kill after about a third, and again after about two thirds, of the messages were sent. */
const KILL_AFTER_SENT = [Math.round(TOTAL / 3), Math.round((2 * TOTAL) / 3)];
/**
 * Sends confirmed while every client was connected before the next kill: the kill hits live
 * traffic, not only the resend burst after a restart.
 */
const LIVE_BEFORE_KILL = 200;
/**
 * Like an app that stops taking input when too much is unconfirmed, a sender waits past this many
 * pending sends. While the gateway is down it fills its outbox up to here, so however slow a
 * restart is, sending resumes live afterwards and each kill finds this much in flight.
 */
const MAX_UNCONFIRMED_PER_SENDER = 150;
/** Upper bound on any phase of the run; the whole test must stay far below CI's two minutes. */
const PHASE_TIMEOUT_MS = 30_000;
/**
 * After everything arrived: long enough for a late duplicate or a stray redelivery to show. A
 * sleep, not a poll: it proves that nothing more arrives.
 */
const QUIET_MS = 500;
/** A single wait on a child gateway: generous, as a busy CI machine may take seconds to boot one. */
const CHILD_WAIT_MS = 10_000;
/** How far an NTP step may set a clock back; any amount longer than the restart shows the same. */
const CLOCK_STEP_BACK_MS = 60 * 60 * 1000;

/**
 * Fast reconnects and a short app-level ping. The ping timeout stays well above any pause of a
 * busy CI machine: a spurious timeout would open a second connection while the gateway still holds
 * the first, which may reorder (as documented), and this suite is about kills.
 */
const CLIENT_OPTIONS: SdkUserOptions = {
  reconnect: FAST_RECONNECT,
  pingIntervalMs: 1_000,
  pingTimeoutMs: 5_000,
  connectTimeoutMs: 5_000,
};

/** This suite tests durability, not policy: the rate limit must never refuse a frame. */
const UNLIMITED_RATE = { RATE_LIMIT_PER_SECOND: '1000000000', RATE_LIMIT_BURST: '1000000000' };

/** What one receiving app saw: how often each (sender, seq), and whether each sender's seqs only grew. */
class ReceiverLedger {
  readonly copies = new Map<string, number>();
  readonly orderViolations: string[] = [];
  private readonly lastSeq = new Map<string, number>();

  record(message: ImMessage): void {
    const [sender, seqText] = message.body.split(':') as [string, string];
    const seq = Number(seqText);
    this.copies.set(message.body, (this.copies.get(message.body) ?? 0) + 1);
    const last = this.lastSeq.get(sender) ?? -1;
    if (seq <= last) this.orderViolations.push(`${sender}:${seq} after ${sender}:${last}`);
    this.lastSeq.set(sender, Math.max(seq, last));
  }
}

/** What the sending apps were told. */
class SendLedger {
  sent = 0;
  /** Sends made and not settled yet, per sender. */
  readonly pending = new Map<string, number>();
  readonly statuses: Record<SendStatus, number> = { delivered: 0, queued: 0 };
  readonly rejected: string[] = [];
  readonly promises: Promise<unknown>[] = [];

  track(sender: string, body: string, promise: Promise<SendStatus>): void {
    this.sent++;
    this.pending.set(sender, this.pendingOf(sender) + 1);
    this.promises.push(
      promise
        .then(
          (status) => this.statuses[status]++,
          (error: unknown) => this.rejected.push(`${body}: ${String(error)}`),
        )
        .finally(() => this.pending.set(sender, this.pendingOf(sender) - 1)),
    );
  }

  pendingOf(sender: string): number {
    return this.pending.get(sender) ?? 0;
  }

  get confirmed(): number {
    return this.statuses.delivered + this.statuses.queued;
  }
}

describe('the delivery promise under kill -9', () => {
  const users: SdkUser[] = [];
  let gateway: ChildGateway | undefined;
  let dir: { path: string; remove(): void } | undefined;
  afterEach(async () => {
    for (const user of users.splice(0)) user.close();
    await gateway?.stop('SIGKILL');
    gateway = undefined;
    dir?.remove();
    dir = undefined;
  });

  it(`loses, duplicates and reorders none of ${TOTAL} messages across two SIGKILLs and restarts`, async () => {
    dir = tempDir();
    const env = { SQLITE_PATH: `${dir.path}/offline.db`, LOG_LEVEL: 'warn', ...UNLIMITED_RATE };
    gateway = await ChildGateway.start(env);
    // Every restart reuses this port, so the clients reconnect to the URL they already have.
    const { port } = gateway;
    const url = `ws://127.0.0.1:${port}/ws`;

    const ledgers = new Map<string, ReceiverLedger>();
    const receivers = await Promise.all(
      Array.from({ length: RECEIVERS }, (_, r) => {
        const ledger = new ReceiverLedger();
        ledgers.set(`r${r}`, ledger);
        const receiver = new SdkUser(url, `r${r}`, {
          ...CLIENT_OPTIONS,
          handler: (message) => {
            ledger.record(message);
            // A sleep, not a poll: the app's work takes time; there is no state to wait for.
            return sleep(HANDLER_MS);
          },
        });
        users.push(receiver);
        return receiver.connect(CHILD_WAIT_MS);
      }),
    );
    const senders = await Promise.all(
      Array.from({ length: SENDERS }, (_, s) => {
        const sender = new SdkUser(url, `s${s}`, { ...CLIENT_OPTIONS, handler: false });
        users.push(sender);
        return sender.connect(CHILD_WAIT_MS);
      }),
    );

    const sends = new SendLedger();
    const sendAll = async (sender: SdkUser): Promise<void> => {
      for (let seq = 0; seq < PER_SENDER; seq++) {
        const body = `${sender.user}:${seq}`;
        sends.track(
          sender.user,
          body,
          sender.client.send(`r${seq % RECEIVERS}`, body, { id: `${sender.user}-${seq}` }),
        );
        if ((seq + 1) % BATCH !== 0) continue;
        // A sleep, not a poll: it spreads the sends over time, so the kills land mid-stream.
        await sleep(BATCH_PAUSE_MS);
        await until(
          () => sends.pendingOf(sender.user) < MAX_UNCONFIRMED_PER_SENDER,
          `${sender.user} below ${MAX_UNCONFIRMED_PER_SENDER} unconfirmed sends`,
          PHASE_TIMEOUT_MS,
        );
      }
    };
    const started = Date.now();
    const sending = Promise.all(senders.map(sendAll));

    const everyone = [...receivers, ...senders];
    let kills = 0;
    const killedAt: string[] = [];
    for (const threshold of KILL_AFTER_SENT) {
      // Counted from the moment every client is connected again.
      let confirmedWhenAllOpen: number | undefined;
      await until(
        () => {
          if (!everyone.every((u) => u.client.state === 'open')) {
            confirmedWhenAllOpen = undefined;
            return false;
          }
          confirmedWhenAllOpen ??= sends.confirmed;
          return sends.sent >= threshold && sends.confirmed - confirmedWhenAllOpen >= LIVE_BEFORE_KILL;
        },
        `${threshold} sends made and ${LIVE_BEFORE_KILL} confirmed live before kill ${kills + 1}`,
        PHASE_TIMEOUT_MS,
      );
      const inFlight = sends.sent - sends.confirmed - sends.rejected.length;
      killedAt.push(`${Date.now() - started} ms, ${sends.sent} sent, ${inFlight} unconfirmed`);
      expect((await gateway.stop('SIGKILL')).signal).toBe('SIGKILL');
      kills++;
      gateway = await ChildGateway.start(env, port);
    }

    await withTimeout(sending, 'every send made', PHASE_TIMEOUT_MS);
    await withTimeout(Promise.all(sends.promises), 'every send settled', PHASE_TIMEOUT_MS);
    const seen = () => receivers.reduce((n, r) => n + r.seen.length, 0);
    await until(() => seen() >= TOTAL, `receivers handling ${TOTAL} messages`, PHASE_TIMEOUT_MS);
    await until(() => receivers.every((r) => r.handled.length === r.seen.length), 'every handler finished');
    await sleep(QUIET_MS);
    const elapsedMs = Date.now() - started;

    const wire = receivers.reduce((n, r) => n + r.wireMessages, 0);
    const reconnects = everyone.reduce((n, u) => n + u.opens - 1, 0);
    const receipts = senders.reduce((n, s) => n + s.receipts.length, 0);
    console.log(
      [
        `fault run: ${TOTAL} messages, ${SENDERS} senders x ${RECEIVERS} receivers, ${elapsedMs} ms`,
        `  kills mid-stream: ${kills} (at ${killedAt.join('; at ')}); one more follows, idle`,
        `  sent: ${sends.sent}; resolved delivered ${sends.statuses.delivered}, queued ${sends.statuses.queued}; rejected ${sends.rejected.length}`,
        `  received by the apps: ${seen()}; message frames on the wire: ${wire}; copies dropped by the SDK: ${wire - seen()}`,
        `  receipts: ${receipts}; reconnects: ${reconnects}`,
      ].join('\n'),
    );

    expect(sends.rejected).toEqual([]);
    expect(sends.sent).toBe(TOTAL);
    expect(sends.confirmed).toBe(TOTAL);
    for (const [receiver, ledger] of ledgers) {
      const missing: string[] = [];
      const duplicated: string[] = [];
      for (let s = 0; s < SENDERS; s++) {
        for (let seq = 0; seq < PER_SENDER; seq++) {
          if (`r${seq % RECEIVERS}` !== receiver) continue;
          const copies = ledger.copies.get(`s${s}:${seq}`) ?? 0;
          if (copies === 0) missing.push(`s${s}:${seq}`);
          if (copies > 1) duplicated.push(`s${s}:${seq} x${copies}`);
        }
      }
      expect({ receiver, missing, duplicated, outOfOrder: ledger.orderViolations }).toEqual({
        receiver,
        missing: [],
        duplicated: [],
        outOfOrder: [],
      });
      expect(ledger.copies.size).toBe(TOTAL / RECEIVERS);
    }

    // Idle now, and everything acked: a kill must not bring any message back, to the app or the wire.
    const opensBefore = receivers.map((r) => r.opens);
    await gateway.stop('SIGKILL');
    gateway = await ChildGateway.start(env, port);
    await until(
      () => receivers.every((r, i) => r.opens > opensBefore[i]!),
      'receivers back after the idle kill',
      CHILD_WAIT_MS,
    );
    await sleep(QUIET_MS);
    expect(receivers.reduce((n, r) => n + r.wireMessages, 0)).toBe(wire);
    expect(seen()).toBe(TOTAL);
  }, 110_000);

  /**
   * The restarted process's wall clock may read earlier than the one that filled the inbox: an NTP
   * step at boot, a host without a real-time clock, a volume moved to a host whose clock is behind.
   * Alice queues a message for offline bob, the gateway is killed and restarted with `restartClock`,
   * alice queues a second one, then bob connects: answers bob once his inbox drained.
   */
  async function queueAcrossRestart(firstClock: Record<string, string>, restartClock: Record<string, string>) {
    dir = tempDir();
    const env = { SQLITE_PATH: `${dir.path}/offline.db`, LOG_LEVEL: 'warn', ...UNLIMITED_RATE };
    gateway = await ChildGateway.start({ ...env, ...firstClock });
    const { port } = gateway;
    const url = `ws://127.0.0.1:${port}/ws`;
    const alice = new SdkUser(url, 'alice', CLIENT_OPTIONS);
    users.push(alice);
    await alice.connect(CHILD_WAIT_MS);
    expect(await withTimeout(alice.send('bob', 'before restart'), 'queued before the kill', CHILD_WAIT_MS)).toBe(
      'queued',
    );
    await gateway.stop('SIGKILL');
    gateway = await ChildGateway.start({ ...env, ...restartClock }, port);
    expect(await withTimeout(alice.send('bob', 'after restart'), 'queued after the restart', CHILD_WAIT_MS)).toBe(
      'queued',
    );
    const bob = new SdkUser(url, 'bob', CLIENT_OPTIONS);
    users.push(bob);
    await bob.connect(CHILD_WAIT_MS);
    await eventually('bob handling both queued messages', () => expect(bob.bodies()).toHaveLength(2), CHILD_WAIT_MS);
    await sleep(QUIET_MS);
    return bob;
  }

  it('delivers in accept order what was queued before and after a restart whose clock was set back', async () => {
    const bob = await queueAcrossRestart({}, wallClockShiftedBy(-CLOCK_STEP_BACK_MS));
    expect(bob.bodies()).toEqual(['before restart', 'after restart']);
  }, 60_000);

  it('keeps a message queued after a restart whose clock reads the same times as before', async () => {
    // A clock that stands still makes both boots read the same millisecond, every run.
    const at = Date.now();
    const bob = await queueAcrossRestart(wallClockFrozenAt(at), wallClockFrozenAt(at));
    expect(bob.bodies()).toEqual(['before restart', 'after restart']);
  }, 60_000);
});
