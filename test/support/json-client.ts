import { TestClient } from './ws-client.js';

export interface Frame {
  readonly event: string;
  // biome-ignore lint/suspicious/noExplicitAny: a frame's fields depend on its event; tests read the ones they expect.
  readonly data: Record<string, any>;
}

/** A real `ws` client speaking the JSON protocol (`im.v1.json`), with helpers to read frames by event. */
export class JsonClient {
  private cursor = 0;

  private constructor(readonly raw: TestClient) {}

  static async open(url: string): Promise<JsonClient> {
    return new JsonClient(await TestClient.open(url, { protocols: ['im.v1.json'] }));
  }

  private readonly parsed: Frame[] = [];

  /** Every frame received so far, parsed once each (a drain of large messages is thousands of them). */
  get frames(): Frame[] {
    const received = this.raw.received;
    for (let i = this.parsed.length; i < received.length; i++) this.parsed.push(JSON.parse(received[i]!) as Frame);
    return this.parsed;
  }

  emit(event: string, data: unknown): void {
    this.raw.send(JSON.stringify({ event, data }));
  }

  send(id: string, to: string, body: string): void {
    this.emit('send', { id, to, body });
  }

  ack(...ids: string[]): void {
    this.emit('ack', { ids });
  }

  /** Acks every message, those already here and each as it arrives, as the SDK does once the app has handled it. */
  ackAll(): this {
    // A drain can start in the same read as the upgrade's answer, before this is called.
    for (const frame of this.frames) if (frame.event === 'message') this.ack(frame.data.id as string);
    this.raw.socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Frame;
      if (frame.event === 'message') this.ack(frame.data.id as string);
    });
    return this;
  }

  /** The next frame of `event` (skipping none: frames of other events before it are consumed too). */
  async next(event: string): Promise<Frame['data']> {
    for (;;) {
      const raw = await this.raw.waitFor(this.cursor + 1);
      const frame = JSON.parse(raw[this.cursor++]!) as Frame;
      if (frame.event === event) return frame.data;
    }
  }

  /** Waits until `count` frames of `event` have arrived; answers their data. */
  async all(event: string, count: number): Promise<Array<Frame['data']>> {
    for (let n = this.raw.received.length + 1; this.of(event).length < count; n++) await this.raw.waitFor(n);
    return this.of(event);
  }

  of(event: string): Array<Frame['data']> {
    return this.frames.filter((f) => f.event === event).map((f) => f.data);
  }

  close(): Promise<void> {
    return this.raw.close();
  }
}
