import { expect } from 'vitest';
import type { SendStatus } from '../../client/index.js';
import { FAST_RECONNECT, SdkUser, until } from './sdk-user.js';
import { sleep } from './ws-client.js';

/** One send and what became of it. */
interface Send {
  readonly from: string;
  readonly to: string;
  readonly body: string;
  status?: SendStatus;
  error?: unknown;
}

/**
 * SDK users in a ring, each sending to the next through one URL (a load balancer over the
 * nodes): the traffic that faults are injected into. `check()` then holds the cluster to its
 * promise: every acknowledged send is handled exactly once by its recipient, in per-sender order.
 */
export class ClusterTraffic {
  readonly users: SdkUser[];
  readonly sends: Send[] = [];
  private sending: Promise<void> | undefined;

  constructor(wsUrl: (user: string) => string, count: number, tag: string) {
    this.users = Array.from({ length: count }, (_, i) => {
      const user = `${tag}-${i}`;
      return new SdkUser(wsUrl(user), user, { reconnect: FAST_RECONNECT });
    });
  }

  async connect(): Promise<void> {
    await Promise.all(this.users.map((user) => user.connect()));
  }

  /** Each user sends `perUser` messages to the next, one every `gapMs`, without waiting for answers. */
  start(perUser: number, gapMs: number): void {
    this.sending = (async () => {
      for (let k = 1; k <= perUser; k++) {
        this.users.forEach((sender, i) => {
          const to = this.users[(i + 1) % this.users.length]!.user;
          const send: Send = { from: sender.user, to, body: `${sender.user}#${k}` };
          this.sends.push(send);
          sender.send(to, send.body).then(
            (status) => (send.status = status),
            (error: unknown) => (send.error = error),
          );
        });
        await sleep(gapMs);
      }
    })();
  }

  /** Resolves once every send has its answer. */
  async settled(timeoutMs: number): Promise<void> {
    await this.sending;
    await until(
      () => this.sends.every((s) => s.status !== undefined || s.error !== undefined),
      `every send answered (${this.sends.filter((s) => s.status === undefined && s.error === undefined).length} still waiting)`,
      timeoutMs,
    );
  }

  /** Resolves once `count` sends are acknowledged: traffic is flowing, a fault now lands mid-stream. */
  async underway(count: number, timeoutMs = 10_000): Promise<void> {
    await until(() => this.acknowledged().length >= count, `${count} sends acknowledged`, timeoutMs);
  }

  acknowledged(): Send[] {
    return this.sends.filter((s) => s.status !== undefined);
  }

  /**
   * Every acknowledged message handled exactly once by its recipient, and each sender's messages
   * in the order sent. Answers how many were acknowledged and lost/duplicated (both must be 0).
   */
  async check(timeoutMs: number): Promise<{ acknowledged: number; lost: number; duplicated: number }> {
    const acknowledged = this.acknowledged();
    const byUser = new Map(this.users.map((u) => [u.user, u]));
    const handledOnce = () =>
      acknowledged.every((s) => byUser.get(s.to)!.handled.some((m) => m.body === s.body && m.from === s.from));
    await until(handledOnce, 'every acknowledged message handled', timeoutMs).catch(() => undefined);
    let lost = 0;
    let duplicated = 0;
    for (const send of acknowledged) {
      const copies = byUser.get(send.to)!.handled.filter((m) => m.body === send.body && m.from === send.from).length;
      if (copies === 0) lost++;
      if (copies > 1) duplicated++;
    }
    for (const user of this.users) {
      const bySender = new Map<string, number[]>();
      for (const message of user.handled) {
        const k = Number(message.body.slice(message.body.indexOf('#') + 1));
        bySender.set(message.from, [...(bySender.get(message.from) ?? []), k]);
      }
      for (const [sender, ks] of bySender) {
        expect(ks, `order of ${sender}'s messages at ${user.user}`).toEqual([...ks].sort((x, y) => x - y));
      }
    }
    return { acknowledged: acknowledged.length, lost, duplicated };
  }

  close(): void {
    for (const user of this.users) user.close();
  }
}
