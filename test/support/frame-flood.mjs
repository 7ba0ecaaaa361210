// A load generator run as its own process (started by frame-flood.ts), so that the test process which
// times a gateway's exit is not the one starved of CPU. It opens `connections` JSON-protocol
// sockets that each send, as fast as their send buffer drains, `ping` frames padded with a
// 60 KB array of numbers: cheap to send (one masked write) and costly to receive (JSON.parse),
// so a single client process keeps every socket's receive buffer full and the gateway's event
// loop busy for seconds per turn. The pong answers are read and discarded.
import WebSocket from 'ws';

const [url, countArg] = process.argv.slice(2);
const count = Number(countArg);
/** Keeps the kernel's buffers full without the client itself holding much memory. */
const HIGH_WATER_BYTES = 1024 * 1024;
/** Just under the default MAX_PAYLOAD_BYTES (65,536). */
const PADDING_NUMBERS = 30_000;
const FRAME = JSON.stringify({ event: 'ping', data: { pad: new Array(PADDING_NUMBERS).fill(0) } });

const sockets = [];
let open = 0;
// Every socket opens before any floods: a flooded gateway would take seconds per handshake.
const pump = (socket) => {
  if (socket.readyState !== WebSocket.OPEN) return;
  while (socket.bufferedAmount < HIGH_WATER_BYTES) socket.send(FRAME);
  setImmediate(pump, socket);
};
for (let i = 0; i < count; i++) {
  const socket = new WebSocket(`${url}?user=flood${i}`, 'im.v1.json');
  sockets.push(socket);
  socket.on('open', () => {
    if (++open < count) return;
    process.stdout.write('flooding\n');
    for (const s of sockets) pump(s);
  });
  socket.on('message', () => {});
  socket.on('error', () => {});
}
