import type { Connection } from './connection.js';

/**
 * Bytes of client frames handled in one event-loop turn before the connections still sending are
 * paused until the next turn: about 5-10 ms of parsing and routing, so timers, signals and health
 * probes never wait long behind a flood, while a busy gateway still reads in large batches.
 */
export const READ_BYTES_PER_TURN = 1024 * 1024;
/** What a frame costs beyond its payload (header, event, handler call): empty frames are not free. */
export const FRAME_COST_BYTES = 64;

/**
 * Shares each event-loop turn between connections. `ws` parses everything a socket read hands it
 * in one go, and libuv reads a busy socket many times per turn, so without a budget a few clients
 * sending at full speed could keep one turn busy for seconds. Past the budget, each connection
 * that delivers another frame stops being read until the next turn; one read per connection is
 * the most a turn can then take.
 */
export class ReadBudget {
  private spent = 0;
  private scheduled = false;
  private paused: Connection[] = [];

  constructor(private readonly bytesPerTurn = READ_BYTES_PER_TURN) {}

  /** Counts a frame of `bytes` from `connection`. */
  charge(connection: Connection, bytes: number): void {
    this.spent += bytes + FRAME_COST_BYTES;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.nextTurn);
    }
    if (this.spent <= this.bytesPerTurn || !connection.pauseForTurn()) return;
    this.paused.push(connection);
  }

  private readonly nextTurn = (): void => {
    this.scheduled = false;
    this.spent = 0;
    const paused = this.paused;
    this.paused = [];
    for (const connection of paused) connection.resumeReading('turn');
  };
}
