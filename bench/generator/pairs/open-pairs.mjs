// Builds the pairs of a workload for one protocol, and sums their correctness reports.
import { KEPT_SERVER_ERROR_SAMPLES } from '../../bench.constants.mjs';
import { connectMany } from '../connect-many.mjs';
import { JsonPair } from './json.pair.mjs';
import { PlainTextPair } from './plain-text.pair.mjs';

/** Protocols the pair workloads speak. */
export const PROTOCOLS = Object.freeze(['plain', 'json']);

function createPair(protocol, index, listener) {
  switch (protocol) {
    case 'plain':
      return new PlainTextPair(index, listener);
    case 'json':
      return new JsonPair(index, listener);
    default:
      throw new Error(`unknown protocol "${protocol}"; expected one of ${PROTOCOLS.join(', ')}`);
  }
}

/**
 * Opens every pair at once: a few dozen handshakes are far below any concurrency limit.
 * @param {'plain' | 'json'} protocol
 * @param {string} baseUrl where senders connect, and receivers too unless `receiverUrl` is given
 * @param {number} count
 * @param {import('./pair.listener.mjs').PairListener} listener
 * @param {string} [receiverUrl] another node of a cluster, for messages that cross nodes
 */
export async function openPairs(protocol, baseUrl, count, listener, receiverUrl = baseUrl) {
  return connectMany(count, count, async (index) => {
    const pair = createPair(protocol, index, listener);
    await pair.open(baseUrl, receiverUrl);
    return pair;
  });
}

/** Totals of every pair's report. */
export function sumReports(pairs) {
  const total = {
    sent: 0,
    received: 0,
    lost: 0,
    outOfOrder: 0,
    misrouted: 0,
    unconfirmed: 0,
    notDelivered: 0,
    unexpected: 0,
    serverErrors: 0,
    serverErrorSamples: [],
  };
  for (const pair of pairs) {
    const report = pair.report();
    for (const key of Object.keys(total)) {
      if (key === 'serverErrorSamples') total[key].push(...report[key]);
      else total[key] += report[key];
    }
  }
  total.serverErrorSamples = total.serverErrorSamples.slice(0, KEPT_SERVER_ERROR_SAMPLES);
  return total;
}

/** True once every message sent has been received and confirmed. */
export function allSettled(pairs) {
  return pairs.every((pair) => pair.received >= pair.sent && pair.confirmed >= pair.sent);
}

export function closePairs(pairs) {
  for (const pair of pairs) pair.close();
}
