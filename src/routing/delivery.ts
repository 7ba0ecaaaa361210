import type { SendListener } from '../messages/send-listener.js';
import type { ImMessage } from '../messages/im-message.js';

/** A message some connections hold and none has settled yet (or just settled). */
export interface Delivery {
  readonly message: ImMessage;
  /** Connections that hold it: written and unsettled, or waiting in their backlog. */
  holders: number;
  /** A recipient connection acked it (JSON) or wrote it out (plain text). */
  done: boolean;
  /** It also sits in the inbox: remove it there once delivered; nothing to restore if not. */
  fromInbox: boolean;
  /**
   * Its sender waits for the answer on another node (`notify` sends it there), or here for a
   * stored message sent on to other nodes too: no receipts, and `queued` when it is let go.
   */
  origin: boolean;
  /** Who waits for this message's `sent` answer. */
  notify: SendListener | undefined;
}
