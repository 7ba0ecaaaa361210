import { ACK_BATCH_MAX_IDS } from './im-client.constants.js';
import { encodeAck } from './wire.codec.js';

/**
 * Collects the ids acked during one task and sends them as one `ack` frame in a microtask, so a
 * backlog delivered in a burst costs a few frames instead of one per message.
 */
export class AckBatcher {
  private ids: string[] = [];
  private scheduled = false;

  /** `sendFrame` may drop the frame when there is no open socket: the server redelivers unacked messages. */
  constructor(private readonly sendFrame: (frame: string) => void) {}

  add(id: string): void {
    this.ids.push(id);
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(this.flush);
  }

  private readonly flush = (): void => {
    const ids = this.ids;
    this.ids = [];
    this.scheduled = false;
    for (let start = 0; start < ids.length; start += ACK_BATCH_MAX_IDS) {
      this.sendFrame(encodeAck(ids.slice(start, start + ACK_BATCH_MAX_IDS)));
    }
  };
}
