// Turning the results of a case into compared figures: each side's value (the median over
// rounds), the ratio gateway/reference, the difference, and whether the goal is met.

/**
 * @param {import('./cases.mjs').Metric} metric
 * @param {{ reference: Record<string, object>[], gateway: Record<string, object>[] }} rounds
 *   per side, one object per round mapping workload name to that round's result
 */
export function compare(metric, rounds) {
  const reference = median(rounds.reference.map(metric.pick));
  const gateway = median(rounds.gateway.map(metric.pick));
  const both = reference !== null && gateway !== null;
  const ratio = both && reference !== 0 ? gateway / reference : null;
  const delta = both ? gateway - reference : null;
  return {
    metric: metric.label,
    format: metric.format,
    reference,
    gateway,
    ratio,
    delta,
    goal: metric.goal ?? null,
    met: metric.goal && both ? meets(metric.goal, ratio, delta) : null,
  };
}

function meets(goal, ratio, delta) {
  switch (goal.kind) {
    case 'min-ratio':
      return ratio !== null && ratio >= goal.value;
    case 'max-ratio':
      return ratio !== null && ratio <= goal.value;
    case 'max-delta':
      return delta <= goal.value;
    default:
      throw new Error(`unknown goal kind "${goal.kind}"`);
  }
}

/** The goal in words, for the table and the JSON line. */
export function describeGoal(goal, format) {
  switch (goal.kind) {
    case 'min-ratio':
      return `>= ${goal.value.toFixed(2)}x`;
    case 'max-ratio':
      return `<= ${goal.value.toFixed(2)}x`;
    case 'max-delta':
      return `<= ref + ${goal.value}${format === 'ms' ? ' ms' : ''}`;
    default:
      throw new Error(`unknown goal kind "${goal.kind}"`);
  }
}

/** Median of the non-null values, or null when there are none. */
function median(values) {
  const present = values.filter((value) => typeof value === 'number' && Number.isFinite(value)).sort((a, b) => a - b);
  if (present.length === 0) return null;
  const middle = Math.floor(present.length / 2);
  return present.length % 2 ? present[middle] : (present[middle - 1] + present[middle]) / 2;
}
