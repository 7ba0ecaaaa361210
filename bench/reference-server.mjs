// The yardsticks: the seed's plain-text relay written directly on `ws`. It is deliberately the
// smallest honest implementation, with ws defaults except the two options the gateway also sets,
// so a ratio against it reads as "the cost of everything the gateway adds". Three variants:
// - plain (the default): every `send` is its own socket write, as ws does by itself;
// - batching (`BATCH_WRITES=turn`): a socket is corked at its first write in an event-loop turn
//   and uncorked on the next tick, so one turn's frames leave in one TCP write, as the gateway's do;
// - durable (`INBOX=sqlite`, batching too): the offline inbox is the gateway's SQLite schema with
//   the same journal and `synchronous` setting, and the messages stored in one turn are inserted
//   in one transaction on the next tick: the bare batched insert a durable store can do at best.
//
// Run: PORT=8080 HOST=127.0.0.1 WS_PATH=/ws [BATCH_WRITES=turn] [INBOX=sqlite SQLITE_PATH=…] \
//      node bench/reference-server.mjs
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';
import { WebSocketServer } from 'ws';
import { DEFAULT_WS_PATH, INBOX_TTL_MS, MAX_PAYLOAD_BYTES, PLAIN_TEXT_SEPARATOR } from './bench.constants.mjs';

/**
 * Starts the relay and resolves once it listens.
 * @param {{ port?: number, host?: string, path?: string, batchWrites?: boolean,
 *   sqlite?: { path: string, synchronous: string } }} [options] port 0 picks a free one; `sqlite`
 *   keeps the inbox in that file (and implies batchWrites)
 * @returns {Promise<{ port: number, close: () => Promise<void> }>}
 */
export async function startReferenceServer({
  port = 0,
  host = '127.0.0.1',
  path = DEFAULT_WS_PATH,
  batchWrites = false,
  sqlite,
} = {}) {
  /** @type {Map<string, Set<import('ws').WebSocket>>} live connections of each user */
  const live = new Map();
  const inbox = sqlite ? await sqliteInbox(sqlite) : memoryInbox();
  const send = batchWrites || sqlite ? batchedSend() : (ws, content) => ws.send(content);

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

    for (const content of inbox.take(user)) send(ws, content);

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
      for (const ws of sockets) send(ws, content);
      return;
    }
    inbox.store(to, content);
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
            inbox.close();
            http.close(() => done());
          }),
      });
    });
  });
}

/** `send` that corks a socket at its first write in a turn and uncorks it on the next tick. */
function batchedSend() {
  /** @type {Set<import('node:net').Socket>} */
  const corked = new Set();
  const uncorkAll = () => {
    for (const socket of corked) socket.uncork();
    corked.clear();
  };
  return (ws, content) => {
    const socket = ws._socket;
    if (!corked.has(socket)) {
      if (corked.size === 0) process.nextTick(uncorkAll);
      corked.add(socket);
      socket.cork();
    }
    ws.send(content);
  };
}

/** Messages waiting for a user to connect, oldest first, in memory. */
function memoryInbox() {
  /** @type {Map<string, string[]>} */
  const waiting = new Map();
  return {
    store(to, content) {
      const pending = waiting.get(to);
      if (pending) pending.push(content);
      else waiting.set(to, [content]);
    },
    take(user) {
      const pending = waiting.get(user) ?? [];
      waiting.delete(user);
      return pending;
    },
    close() {},
  };
}

/**
 * The inbox in SQLite with the gateway's schema (read from its build), journal and `synchronous`
 * setting. Rows stored in one turn are inserted in one transaction on the next tick: before the
 * uncork of any frame written in that turn, so a message routed after them is sent only once they
 * are committed.
 */
async function sqliteInbox({ path, synchronous }) {
  const { default: Database } = await import('better-sqlite3');
  const { SQLITE_SCHEMA, SQLITE_WRITES } = await import('../dist/offline/sqlite-schema.js');
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.exec(SQLITE_SCHEMA);
  const insert = db.prepare(SQLITE_WRITES.insert);
  const select = db.prepare('SELECT body FROM inbox WHERE recipient = ? ORDER BY seq').pluck();
  const remove = db.prepare('DELETE FROM inbox WHERE recipient = ?');
  let rows = [];
  let seq = 0;
  const commit = db.transaction((batch) => {
    for (const row of batch) insert.run(row);
  });
  const flush = () => {
    const batch = rows;
    rows = [];
    commit(batch);
  };
  return {
    store(to, content) {
      if (rows.length === 0) process.nextTick(flush);
      const now = Date.now();
      seq += 1;
      rows.push([seq, `r${seq}`, to, '', null, content, now, now + INBOX_TTL_MS]);
    },
    take(user) {
      if (rows.length > 0) flush();
      const pending = select.all(user);
      if (pending.length > 0) remove.run(user);
      return pending;
    },
    close() {
      if (rows.length > 0) flush();
      db.close();
    },
  };
}

const isEntryPoint = process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isEntryPoint) {
  const server = await startReferenceServer({
    port: Number(process.env.PORT ?? 8080),
    host: process.env.HOST ?? '127.0.0.1',
    path: process.env.WS_PATH ?? DEFAULT_WS_PATH,
    batchWrites: process.env.BATCH_WRITES === 'turn',
    sqlite:
      process.env.INBOX === 'sqlite'
        ? { path: process.env.SQLITE_PATH, synchronous: process.env.SQLITE_SYNCHRONOUS ?? 'full' }
        : undefined,
  });
  const stop = () => server.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
