// Client text frames written straight to the TCP socket, many per write. Going through ws.send
// costs a stream write per frame header and per payload, and the generator, on one core like the
// server, spent more time there than anywhere else; one buffer per batch removes nearly all of it.
// The frames are standard client frames (FIN, text opcode, mask bit set) with an all-zero masking
// key, which makes the payload its own masked form; the server unmasks them like any other.
// Payloads must be ASCII (benchmark bodies, ids and user names are), so one char is one byte.

const FIN_TEXT = 0x81;
const MASK_BIT = 0x80;
const MASK_KEY_BYTES = 4;
const MAX_SHORT_LENGTH = 125;
const EXTENDED_16 = 126;
const MAX_EXTENDED_16 = 0xffff;
/** Header of a frame with a 16-bit extended length: 2 bytes, 2 of length, 4 of (zero) mask. */
const MAX_HEADER_BYTES = 2 + 2 + MASK_KEY_BYTES;
/** Enough for a full throughput window of JSON frames without growing. */
const INITIAL_CAPACITY = 32 * 1024;

export class TextFrameBatch {
  length = 0;
  scratch = Buffer.allocUnsafe(INITIAL_CAPACITY);

  /** @param {import('ws').WebSocket} ws an open connection; the batch writes to its socket */
  constructor(ws) {
    this.socket = ws._socket;
  }

  /** @param {string} text ASCII only, at most 65,535 bytes */
  add(text) {
    const size = text.length;
    if (size > MAX_EXTENDED_16) throw new Error(`frame of ${size} bytes is too large for a batch`);
    this.reserve(MAX_HEADER_BYTES + size);
    const buffer = this.scratch;
    let offset = this.length;
    buffer[offset++] = FIN_TEXT;
    if (size <= MAX_SHORT_LENGTH) {
      buffer[offset++] = MASK_BIT | size;
    } else {
      buffer[offset++] = MASK_BIT | EXTENDED_16;
      buffer.writeUInt16BE(size, offset);
      offset += 2;
    }
    buffer.writeUInt32BE(0, offset);
    offset += MASK_KEY_BYTES;
    this.length = offset + buffer.latin1Write(text, offset);
  }

  /** Hands everything added so far to the socket in one write. */
  send() {
    if (this.length === 0) return;
    // The socket keeps the buffer until it is written, so it gets a copy and the scratch is reused.
    this.socket.write(Buffer.from(this.scratch.subarray(0, this.length)));
    this.length = 0;
  }

  reserve(bytes) {
    if (this.length + bytes <= this.scratch.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.scratch.length * 2, this.length + bytes));
    this.scratch.copy(grown, 0, 0, this.length);
    this.scratch = grown;
  }
}
