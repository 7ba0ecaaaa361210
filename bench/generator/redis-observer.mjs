// What the generator reads from the cluster's Redis: every command Redis ran (INFO commandstats,
// which also counts the commands a Lua script runs inside it), the commands clients sent (MONITOR,
// where a script's inner calls show as coming from `lua`), and the Redis process's CPU time.
// A bare RESP client on a TCP socket: the benchmark needs no Redis library.
import { connect } from 'node:net';
import { CONNECT_TIMEOUT_MS } from '../bench.constants.mjs';
import { cpuSeconds } from './process-stats.mjs';

const CRLF = '\r\n';
/** The observer's own reads, left out of every count: they are not the gateway's. */
const OWN_COMMANDS = new Set(['info', 'monitor']);
/** A MONITOR line: `+<time> [<db> <client>] "<command>" ...`; `lua` is a script's inner call. */
const MONITOR_LINE = /^\+\d+\.\d+ \[\d+ (\S+)\] "([^"]+)"/;
const SCRIPT_CLIENT = 'lua';

/** One RESP connection answering commands in order; replies are parsed just enough for INFO. */
class RespConnection {
  /** @param {import('node:net').Socket} socket */
  constructor(socket) {
    this.socket = socket;
    this.buffer = '';
    this.waiting = [];
    this.onLine = null;
    socket.setEncoding('latin1');
    socket.on('data', (chunk) => this.receive(chunk));
    socket.on('error', (error) => this.failAll(error));
    socket.on('close', () => this.failAll(new Error('Redis connection closed')));
  }

  static open(port) {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port });
      const timer = setTimeout(() => socket.destroy(new Error('no answer')), CONNECT_TIMEOUT_MS);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new RespConnection(socket));
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(new Error(`cannot reach Redis on port ${port}: ${error.message}`));
      });
    });
  }

  /** Sends one command; resolves with its reply (a string, or an Error reply as Error). */
  command(...args) {
    let frame = `*${args.length}${CRLF}`;
    for (const arg of args) frame += `$${Buffer.byteLength(String(arg))}${CRLF}${arg}${CRLF}`;
    this.socket.write(frame);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  receive(chunk) {
    this.buffer += chunk;
    for (;;) {
      const end = this.buffer.indexOf(CRLF);
      if (end < 0) return;
      const head = this.buffer[0];
      if (head === '$') {
        const length = Number(this.buffer.slice(1, end));
        const bodyEnd = end + 2 + Math.max(0, length);
        if (length >= 0 && this.buffer.length < bodyEnd + 2) return;
        this.reply(length < 0 ? null : this.buffer.slice(end + 2, bodyEnd));
        this.buffer = this.buffer.slice(length < 0 ? end + 2 : bodyEnd + 2);
        continue;
      }
      const line = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      if (this.onLine && this.waiting.length === 0) this.onLine(line);
      else this.reply(head === '-' ? new Error(line.slice(1)) : line.slice(1));
    }
  }

  reply(value) {
    const next = this.waiting.shift();
    if (!next) return;
    if (value instanceof Error) next.reject(value);
    else next.resolve(value);
  }

  failAll(error) {
    for (const { reject } of this.waiting.splice(0)) reject(error);
  }

  close() {
    this.socket.destroy();
  }
}

/** `cmdstat_<name>:calls=N,...` lines of INFO commandstats as name -> calls. */
function parseCommandStats(info) {
  const calls = new Map();
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (!OWN_COMMANDS.has(match[1])) calls.set(match[1], Number(match[2]));
  }
  return calls;
}

/**
 * A view of one Redis: `sample()` before and after a window, `between()` for what happened in
 * it, and `countSent()` to count, by name, the commands clients sent during a window.
 */
export class RedisObserver {
  /** @param {number} port @param {RespConnection} connection @param {number} pid */
  constructor(port, connection, pid) {
    this.port = port;
    this.connection = connection;
    this.pid = pid;
  }

  /** @param {number} port a Redis on 127.0.0.1 that this machine runs (its CPU time is read from /proc) */
  static async open(port) {
    const connection = await RespConnection.open(port);
    const info = await connection.command('INFO', 'server');
    const pid = Number(/^process_id:(\d+)/m.exec(info)?.[1]);
    if (!(pid > 0)) throw new Error('INFO server named no process_id');
    return new RedisObserver(port, connection, pid);
  }

  /** Commands run so far, by name, and the Redis process's CPU seconds. */
  async sample() {
    const info = await this.connection.command('INFO', 'commandstats');
    return { calls: parseCommandStats(info), cpuSeconds: cpuSeconds(this.pid) };
  }

  /**
   * Opens a MONITOR connection; `stop()` answers the commands clients sent meanwhile, by name,
   * leaving out a script's inner calls (counted by `sample`) and this observer's own reads.
   */
  async countSent() {
    const monitor = await RespConnection.open(this.port);
    const sent = new Map();
    await monitor.command('MONITOR');
    monitor.onLine = (line) => {
      const match = MONITOR_LINE.exec(line);
      if (!match || match[1] === SCRIPT_CLIENT) return;
      const name = match[2].toLowerCase();
      if (!OWN_COMMANDS.has(name)) sent.set(name, (sent.get(name) ?? 0) + 1);
    };
    return {
      /** @returns {Map<string, number>} commands sent since `countSent`, by name */
      stop() {
        monitor.onLine = null;
        monitor.close();
        return sent;
      },
    };
  }

  close() {
    this.connection.close();
  }
}

/** Sum of a name -> count map. */
export function total(counts) {
  let sum = 0;
  for (const value of counts.values()) sum += value;
  return sum;
}

/** What Redis did between two samples: commands by name, their total, and CPU seconds. */
export function redisBetween(start, end) {
  const calls = new Map();
  for (const [name, after] of end.calls) {
    const delta = after - (start.calls.get(name) ?? 0);
    if (delta > 0) calls.set(name, delta);
  }
  return { calls, cpuSeconds: end.cpuSeconds - start.cpuSeconds };
}
