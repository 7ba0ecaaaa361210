// The yardstick: the seed's plain-text relay written directly on `ws`, with an in-memory inbox.
// It is deliberately the smallest honest implementation, with ws defaults except the two options
// the gateway also sets, so a ratio against it reads as "the cost of everything the gateway adds".
//
// Run: PORT=8080 HOST=127.0.0.1 WS_PATH=/ws node bench/reference-server.mjs
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';
import { WebSocketServer } from 'ws';
import { DEFAULT_WS_PATH, MAX_PAYLOAD_BYTES, PLAIN_TEXT_SEPARATOR } from './bench.constants.mjs';

/**
 * Starts the relay and resolves once it listens.
 * @param {{ port?: number, host?: string, path?: string }} [options] port 0 picks a free one
 * @returns {Promise<{ port: number, close: () => Promise<void> }>}
 */
export function startReferenceServer({ port = 0, host = '127.0.0.1', path = DEFAULT_WS_PATH } = {}) {
  /** @type {Map<string, Set<import('ws').WebSocket>>} live connections of each user */
  const live = new Map();
  /** @type {Map<string, string[]>} messages waiting for a user to connect, oldest first */
  const inbox = new Map();

  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: MAX_PAYLOAD_BYTES });
  const http = createServer((req, res) => {
    res.writeHead(req.url === '/health' ? 200 : 404).end();
  });

  http.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url, 'http://localhost');
    const user = url.searchParams.get('user');
    if (url.pathname !== path || !user) {
      socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, user));
  });

  function onConnection(ws, user) {
    let sockets = live.get(user);
    if (!sockets) {
      sockets = new Set();
      live.set(user, sockets);
    }
    sockets.add(ws);

    const pending = inbox.get(user);
    if (pending) {
      inbox.delete(user);
      for (const content of pending) ws.send(content);
    }

    ws.on('message', (data, isBinary) => {
      if (!isBinary) route(data.toString());
    });
    ws.on('close', () => {
      sockets.delete(ws);
      if (sockets.size === 0 && live.get(user) === sockets) live.delete(user);
    });
  }

  function route(text) {
    const separator = text.indexOf(PLAIN_TEXT_SEPARATOR);
    if (separator <= 0) return;
    const to = text.slice(0, separator);
    const content = text.slice(separator + 1);
    const sockets = live.get(to);
    if (sockets) {
      for (const ws of sockets) ws.send(content);
      return;
    }
    const pending = inbox.get(to);
    if (pending) pending.push(content);
    else inbox.set(to, [content]);
  }

  return new Promise((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, host, () => {
      resolve({
        port: http.address().port,
        close: () =>
          new Promise((done) => {
            for (const ws of wss.clients) ws.terminate();
            wss.close();
            http.close(() => done());
          }),
      });
    });
  });
}

const isEntryPoint = process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isEntryPoint) {
  const server = await startReferenceServer({
    port: Number(process.env.PORT ?? 8080),
    host: process.env.HOST ?? '127.0.0.1',
    path: process.env.WS_PATH ?? DEFAULT_WS_PATH,
  });
  const stop = () => server.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
