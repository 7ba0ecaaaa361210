/**
 * Per recipient, the outcomes of routing applied in the order the messages were accepted. In a
 * cluster each message waits on Redis (presence, the inbox) for its own time; a lane makes the
 * second message to a user wait for the first one's outcome before its own is applied, so that
 * deliveries here and envelopes to other nodes leave in accept order.
 */
export class RecipientLanes {
  private readonly lanes = new Map<string, Array<{ apply?: () => void; ready: boolean }>>();

  constructor(private readonly onError: (error: unknown) => void) {}

  /**
   * Takes the next place in `user`'s lane; call the returned function exactly once, with what to
   * do (or nothing), when the message's outcome is known.
   */
  reserve(user: string): (apply?: () => void) => void {
    let lane = this.lanes.get(user);
    if (lane === undefined) {
      lane = [];
      this.lanes.set(user, lane);
    }
    const place: { apply?: () => void; ready: boolean } = { ready: false };
    lane.push(place);
    const own = lane;
    return (apply) => {
      place.apply = apply;
      place.ready = true;
      this.flush(user, own);
    };
  }

  /** Recipients with a message still waiting for its outcome. */
  get size(): number {
    return this.lanes.size;
  }

  private flush(user: string, lane: Array<{ apply?: () => void; ready: boolean }>): void {
    while (lane.length > 0 && lane[0]!.ready) {
      const { apply } = lane.shift()!;
      try {
        apply?.();
      } catch (error) {
        this.onError(error);
      }
    }
    if (lane.length === 0 && this.lanes.get(user) === lane) this.lanes.delete(user);
  }
}
