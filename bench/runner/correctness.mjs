// What makes a run wrong rather than slow: any message lost, reordered, misrouted or never
// confirmed, a connection refused or dropped, a server error frame. Any of these fails the run.
// Other oddities (a `queued` status for an online recipient, frames the protocol did not
// announce) are reported but do not fail it.

const FAILURE_COUNTS = Object.freeze({
  lost: 'messages lost',
  outOfOrder: 'messages out of order or duplicated',
  misrouted: 'messages delivered to the wrong user or garbled',
  unconfirmed: 'JSON sends never answered with `sent`',
  serverErrors: 'JSON error frames from the server',
  lostProbes: 'store probes never answered',
  failedConnections: 'connections refused or failed',
  droppedConnections: 'idle connections closed by the server',
});

const NOTICE_COUNTS = Object.freeze({
  notDelivered: '`sent` answers other than `delivered` for an online recipient',
  unexpected: 'frames the protocol does not announce',
});

/**
 * @param {{ correctness: Record<string, unknown> }} result
 * @returns {{ failures: string[], notices: string[] }} one line per non-zero count
 */
export function judgeCorrectness(result) {
  const counts = result.correctness ?? {};
  const lines = (labels) =>
    Object.entries(labels)
      .filter(([key]) => Number(counts[key] ?? 0) > 0)
      .map(([key, label]) => `${counts[key]} ${label}`);
  const failures = lines(FAILURE_COUNTS);
  if (counts.serverErrorSamples?.length)
    failures.push(`first server errors: ${JSON.stringify(counts.serverErrorSamples)}`);
  if (counts.firstFailure) failures.push(`first connection failure: ${counts.firstFailure}`);
  return { failures, notices: lines(NOTICE_COUNTS) };
}
