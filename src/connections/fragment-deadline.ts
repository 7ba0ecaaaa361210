import { CloseCode } from './close-code.js';

/**
 * A message split into fragments must be complete this long after it was first seen. `ws` keeps
 * every fragment until the last one arrives (up to the frame ceiling, 4 × MAX_PAYLOAD_BYTES), and
 * the heartbeat cannot end a stalled one because pongs may travel between fragments. A real
 * client sends its fragments back to back; 10 s is what an upgrade gets for its headers.
 */
export const FRAGMENT_DEADLINE_MS = 10_000;
/** How often unfinished messages are looked for: a stalled one is closed within this of its deadline. */
export const FRAGMENT_SWEEP_MS = 1_000;
export const FRAGMENT_DEADLINE_REASON = 'fragmented message not finished in time';

/** What the deadline needs of a connection; structural so a spec can supply a stub. */
export interface FragmentClient {
  readonly socket: object;
  readonly isOpen: boolean;
  close(code: number, reason: string): void;
}

/** Where a `ws` socket keeps a message it is receiving in fragments (see `unfinishedMessageOf`). */
interface WsReceiverState {
  readonly _receiver?: { readonly _fragmented: number; readonly _fragments: readonly unknown[] } | null;
}

/**
 * The message `ws` is still receiving in fragments on `socket` (an object that stays the same
 * until that message completes), or undefined when there is none. The only place that reads
 * `ws` internals, checked against ws 8.22.0 (lib/receiver.js): `_fragmented` holds the opcode of
 * a message whose first frame had FIN=0 and is reset to 0 by its final frame, which also swaps
 * `_fragments` for a new array; `fragment-deadline.spec.ts` runs this against a real `ws` pair.
 */
export function unfinishedMessageOf(socket: object): object | undefined {
  const receiver = (socket as WsReceiverState)._receiver;
  if (receiver == null || receiver._fragmented === 0) return undefined;
  return receiver._fragments;
}

/**
 * Every FRAGMENT_SWEEP_MS, closes with 1008 each open client whose unfinished fragmented message
 * has been pending for `deadlineMs`; its fragments are freed with the socket. The timer never
 * keeps the process alive.
 */
export function startFragmentDeadline<T extends FragmentClient>(
  clients: () => Iterable<T>,
  onClose: (client: T) => void,
  deadlineMs: number = FRAGMENT_DEADLINE_MS,
  unfinished: (client: T) => object | undefined = (client) => unfinishedMessageOf(client.socket),
): { stop(): void } {
  const pending = new WeakMap<T, { readonly message: object; readonly since: number }>();
  const timer = setInterval(() => {
    const now = Date.now();
    for (const client of clients()) {
      if (!client.isOpen) continue;
      const message = unfinished(client);
      if (message === undefined) continue;
      const first = pending.get(client);
      if (first?.message !== message) {
        pending.set(client, { message, since: now });
        continue;
      }
      if (now - first.since < deadlineMs) continue;
      pending.delete(client);
      client.close(CloseCode.POLICY_VIOLATION, FRAGMENT_DEADLINE_REASON);
      onClose(client);
    }
  }, FRAGMENT_SWEEP_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
