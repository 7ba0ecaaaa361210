// Opening benchmark client connections. The options make the client as cheap as a correct
// client can be, so that the generator, which runs on one core like the server, never sets the
// pace; none of them changes what the server has to do.
import { WebSocket } from 'ws';
import { CONNECT_TIMEOUT_MS, MAX_PAYLOAD_BYTES } from '../bench.constants.mjs';

/**
 * An all-zero mask turns client-side masking into a no-op (ws skips the copy and the XOR).
 * Masking only guards shared proxies against cache poisoning; on loopback there are none, and
 * the server still unmasks every frame as usual.
 */
function zeroMask(mask) {
  mask[0] = mask[1] = mask[2] = mask[3] = 0;
}

const CLIENT_OPTIONS = Object.freeze({
  perMessageDeflate: false,
  maxPayload: MAX_PAYLOAD_BYTES,
  // The generator produced every byte it receives; validating UTF-8 again is the server's job.
  skipUTF8Validation: true,
  generateMask: zeroMask,
  handshakeTimeout: CONNECT_TIMEOUT_MS,
});

/**
 * Opens one connection as `user` and resolves once it is open. Listeners passed in `onMessage`
 * are attached before the handshake completes, so frames sent on connect (an offline backlog)
 * are never missed.
 * @param {string} baseUrl ws://host:port/path
 * @param {string} user
 * @param {{ subprotocol?: string, onMessage?: (data: Buffer) => void }} [options]
 * @returns {Promise<WebSocket>}
 */
export function connect(baseUrl, user, { subprotocol, onMessage } = {}) {
  const ws = new WebSocket(`${baseUrl}?user=${encodeURIComponent(user)}`, subprotocol, CLIENT_OPTIONS);
  if (onMessage) ws.on('message', onMessage);
  return new Promise((resolve, reject) => {
    const fail = (error) => {
      ws.removeListener('open', succeed);
      ws.terminate();
      reject(new Error(`connection of ${user} failed: ${error.message}`));
    };
    const succeed = () => {
      ws.removeListener('error', fail);
      // After the handshake an error is reported by 'close'; keep ws from throwing on it.
      ws.on('error', ignoreError);
      resolve(ws);
    };
    ws.once('open', succeed);
    ws.once('error', fail);
  });
}

function ignoreError() {}
