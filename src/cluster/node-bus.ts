import type { ImMessage } from '../messages/im-message.js';
import type { DeliveryStatus } from '../messages/send-listener.js';

/** What one node tells another. Short keys: every routed message pays for them. */
export type BusEnvelope =
  /**
   * Deliver `m` to the node's connections of `m.to`. `stored`: it is in the inbox already, so a
   * node without a connection leaves it there; otherwise that node stores it. `o`: the node
   * whose sender waits for a `sent` answer.
   */
  | { readonly t: 'msg'; readonly m: ImMessage; readonly stored: boolean; readonly o?: string }
  /** The outcome of message `id`, for the sender `f` waiting on the origin node. */
  | { readonly t: 'ans'; readonly id: string; readonly cid: string; readonly f: string; readonly s: DeliveryStatus }
  /** Message `id`, which user `u` sent and was told `queued`, has been delivered. */
  | { readonly t: 'rcpt'; readonly u: string; readonly id: string }
  /** Close the node's connections of `u`: with 4001 (`replace`, a newer one opened elsewhere) or 4003 (`kick`). */
  | { readonly t: 'replace' | 'kick'; readonly u: string }
  /**
   * Look in the inbox of `u` for message `id`, which its connections here may have missed. Sent by
   * nodes of earlier versions; a node now sends such a message on itself, in its recipient's lane.
   */
  | { readonly t: 'poke'; readonly u: string; readonly id: string };

export type BusHandler = (envelope: BusEnvelope) => void;

/**
 * Node-to-node delivery. Also the DI token: inject `NodeBus`. Fire and forget: an envelope can
 * be lost (a node dies, a link drops), so nothing acknowledged may depend on one arriving; the
 * inbox catches what a lost envelope missed.
 */
export abstract class NodeBus {
  /** Registers the one handler of envelopes addressed to this node (the router). */
  abstract onEnvelope(handler: BusHandler): void;
  /** Sends `envelope` to `node`; never throws, never waits. */
  abstract send(node: string, envelope: BusEnvelope): void;
  /** False while envelopes cannot be sent or received: /health/ready turns 503. */
  isHealthy(): boolean {
    return true;
  }
}

/** One process: there is no other node to send to. */
export class LocalNodeBus extends NodeBus {
  onEnvelope(): void {}

  send(node: string): void {
    throw new Error(`no node ${node}: this gateway runs alone (CLUSTER=none)`);
  }
}
