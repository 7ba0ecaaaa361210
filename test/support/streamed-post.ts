import { connect } from 'node:net';

/** One filler chunk, written again and again: the client never holds the body it sends. */
const FILLER_CHUNK_BYTES = 64 * 1024;
const FILLER = Buffer.alloc(FILLER_CHUNK_BYTES, 'x');
const HEADERS_END = '\r\n\r\n';

export interface StreamedPostOptions {
  readonly headers?: Record<string, string>;
  /** The declared body size; the body is `{"to":"bob","body":"xxx…"}`, valid JSON of exactly this length. */
  readonly bodyBytes: number;
  /** Declare the length (`Content-Length`), or stream it chunked. */
  readonly chunked?: boolean;
  /**
   * Destroy the connection once this many bytes have left for the kernel, without waiting for an
   * answer. Past the socket buffers (a few MiB on loopback), the server has begun reading.
   */
  readonly abortAfterBytes?: number;
  /** Keep writing after the answer arrives, to see whether the server still reads. */
  readonly keepWritingAfterAnswer?: boolean;
  /**
   * Keep the connection until the server closes it, instead of hanging up once the answer is
   * read: an attacker who makes the server pay for every refused connection as long as it can.
   */
  readonly holdUntilClosed?: boolean;
}

export interface StreamedPostResult {
  /** Undefined when the connection ended without an answer. */
  readonly status: number | undefined;
  /** Lower-cased names. */
  readonly headers: Record<string, string>;
  readonly body: string;
  /** From the first byte written to the answer's headers. */
  readonly msToAnswer: number | undefined;
  /** Body bytes this client got to write before it stopped or the connection was closed. */
  readonly bytesWritten: number;
  /** Whether the whole declared body was written: false when the server closed the connection first. */
  readonly bodySent: boolean;
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** An HTTP/1.1 answer, once its headers and its Content-Length of body have arrived. */
function parseAnswer(received: string): Answer | undefined {
  const end = received.indexOf(HEADERS_END);
  if (end === -1) return undefined;
  const [statusLine, ...lines] = received.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const body = received.slice(end + HEADERS_END.length);
  if (Buffer.byteLength(body) < Number(headers['content-length'] ?? 0)) return undefined;
  return { status: Number(statusLine!.split(' ')[1]), headers, body };
}

/**
 * POSTs a large JSON body over one TCP connection, chunk by chunk with back-pressure, so a test
 * can stream tens of megabytes at a server without holding them in memory. It reads while it
 * writes, as curl does, so an answer the server sends early is seen even when the server then
 * closes the connection; Node's http client, busy with the request body, misses it.
 */
export async function streamedPost(url: string, options: StreamedPostOptions): Promise<StreamedPostResult> {
  const { hostname, port, pathname } = new URL(url);
  const prefix = Buffer.from('{"to":"bob","body":"');
  const suffix = Buffer.from('"}');
  const fillerBytes = options.bodyBytes - prefix.length - suffix.length;
  if (fillerBytes < 0) throw new Error(`bodyBytes must be at least ${prefix.length + suffix.length}`);
  const chunked = options.chunked === true;
  const head = [
    `POST ${pathname} HTTP/1.1`,
    `Host: ${hostname}:${port}`,
    'Content-Type: application/json',
    chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${options.bodyBytes}`,
    ...Object.entries(options.headers ?? {}).map(([name, value]) => `${name}: ${value}`),
  ].join('\r\n');

  const socket = connect(Number(port), hostname);
  const started = performance.now();
  let received = '';
  let answer: Answer | undefined;
  let msToAnswer: number | undefined;
  const answered = new Promise<void>((resolve) => {
    socket.on('data', (data: Buffer) => {
      if (answer) return;
      received += data.toString('latin1');
      answer = parseAnswer(received);
      if (!answer) return;
      msToAnswer = performance.now() - started;
      resolve();
    });
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => {
    // A server that stops reading closes or resets the connection; the outcome is in the result.
  });

  let written = 0;
  /** Settles once the last chunk written has left for the kernel. */
  let flushed: Promise<unknown> = Promise.resolve();
  const send = async (data: Buffer | string): Promise<void> => {
    let ok = true;
    flushed = new Promise((resolve) => (ok = socket.write(data, resolve)));
    // Yielding to the event loop after every write is what lets the client read while it sends.
    if (!ok) {
      // An answer ends the wait too, unless the caller holds on or writes on: a server that has
      // answered may stop reading without closing the connection.
      const drained = new Promise((resolve) => socket.once('drain', resolve));
      const holds = options.holdUntilClosed === true || options.keepWritingAfterAnswer === true;
      await Promise.race(holds ? [drained, closed] : [drained, closed, answered]);
    } else await new Promise(setImmediate);
  };
  const sendBody = async (chunk: Buffer): Promise<void> => {
    await send(
      chunked ? Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]) : chunk,
    );
    written += chunk.length;
  };
  const stopWriting = (): boolean => socket.destroyed || (answer !== undefined && !options.keepWritingAfterAnswer);

  await send(`${head}${HEADERS_END}`);
  await sendBody(prefix);
  let left = fillerBytes;
  while (left > 0 && !stopWriting()) {
    if (options.abortAfterBytes !== undefined && written >= options.abortAfterBytes) {
      await Promise.race([flushed, closed]);
      socket.destroy();
      break;
    }
    const chunk = left >= FILLER_CHUNK_BYTES ? FILLER : FILLER.subarray(0, left);
    await sendBody(chunk);
    left -= chunk.length;
  }
  const bodySent = left === 0 && !stopWriting() && options.abortAfterBytes === undefined;
  if (bodySent) {
    await sendBody(suffix);
    if (chunked) await send('0\r\n\r\n');
  }
  // Done once it has its answer (and, holding on, once the server closed the connection), or
  // once its connection is gone.
  await (options.holdUntilClosed === true ? closed : Promise.race([answered, closed]));
  socket.destroy();
  await closed;
  return {
    status: answer?.status,
    headers: answer?.headers ?? {},
    body: answer?.body ?? '',
    msToAnswer,
    bytesWritten: written,
    bodySent,
  };
}
