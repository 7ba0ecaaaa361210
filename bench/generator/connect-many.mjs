// Opening many connections with a bound on how many handshakes are in flight at once.

/**
 * Opens `count` connections with at most `concurrency` handshakes in flight.
 * @param {number} count
 * @param {number} concurrency
 * @param {(index: number) => Promise<T>} open
 * @returns {Promise<T[]>} in index order
 * @template T
 */
export async function connectMany(count, concurrency, open) {
  const opened = new Array(count);
  let nextIndex = 0;
  async function worker() {
    while (nextIndex < count) {
      const index = nextIndex++;
      opened[index] = await open(index);
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return opened;
}
