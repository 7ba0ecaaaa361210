// An ephemeral port nobody listens on: the kernel picks it, we release it and hand it to the
// server. Another process could take it in between; on a benchmark machine that is rare enough,
// and the server then fails to start with a clear error instead of measuring the wrong thing.
import { createServer } from 'node:net';

/** @param {string} host */
export function freePort(host) {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}
