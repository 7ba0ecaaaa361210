// A WebSocket client that only opens connections and then holds them idle: a prebuilt upgrade
// request on a bare TCP socket, and a check of the server's 101 answer against the accept value
// precomputed for its fixed key. The server does exactly the work a real client's handshake
// costs it; the generator skips the HTTP client machinery, key generation and hashing of a full
// client, which otherwise made it, not the server, the limit on handshakes per second.
import { createHash } from 'node:crypto';
import { connect as tcpConnect } from 'node:net';
import { CONNECT_TIMEOUT_MS } from '../bench.constants.mjs';

/** RFC 6455's sample key: any 16-byte base64 nonce is valid, and a fixed one is hashed once. */
const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const EXPECTED_ACCEPT = createHash('sha1')
  .update(KEY + WEBSOCKET_GUID)
  .digest('base64');
const SWITCHING_PROTOCOLS = 'HTTP/1.1 101';
const END_OF_HEADERS = '\r\n\r\n';

export class IdleConnection {
  closed = false;

  /** @param {import('node:net').Socket} socket */
  constructor(socket) {
    this.socket = socket;
    socket.once('close', () => (this.closed = true));
  }

  close() {
    this.socket.destroy();
  }
}

/**
 * Opens one connection as `user` and resolves once the server has switched protocols.
 * @param {URL} url ws://host:port/path
 * @param {string} user
 * @returns {Promise<IdleConnection>}
 */
export function openIdleConnection(url, user) {
  const request =
    `GET ${url.pathname}?user=${encodeURIComponent(user)} HTTP/1.1\r\n` +
    `Host: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host: url.hostname, port: Number(url.port), noDelay: true });
    let response = '';
    const fail = (why) => {
      socket.destroy();
      reject(new Error(`connection of ${user} failed: ${why}`));
    };
    const timer = setTimeout(() => fail(`no answer in ${CONNECT_TIMEOUT_MS} ms`), CONNECT_TIMEOUT_MS);
    const onData = (chunk) => {
      response += chunk.toString('latin1');
      if (!response.includes(END_OF_HEADERS)) return;
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('error', onError);
      // Later frames (pings) are read and dropped so the server never sees a stuck reader.
      socket.on('data', ignore);
      socket.on('error', ignore);
      const accepted = response.startsWith(SWITCHING_PROTOCOLS) && response.includes(EXPECTED_ACCEPT);
      if (accepted) resolve(new IdleConnection(socket));
      else fail(`answer was "${response.split('\r\n', 1)[0]}"`);
    };
    const onError = (error) => {
      clearTimeout(timer);
      fail(error.message);
    };
    socket.on('data', onData);
    socket.once('error', onError);
    socket.write(request);
  });
}

function ignore() {}
