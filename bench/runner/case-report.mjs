// Everything one case found, as a plain object: compared figures, correctness failures,
// notices, warnings about the conditions, errors, and the raw results of every round. It is
// both what the table shows and, as is, the case's JSON line.
import { compare, describeGoal } from './comparison.mjs';
import { judgeConditions } from './conditions.mjs';
import { judgeCorrectness } from './correctness.mjs';
import { measurementKey, resultName } from './cases.mjs';

/**
 * @param {object} benchCase an entry of CASES as planned for this run (`planCase`)
 * @param {Map<string, object[]>} results measurement key -> result per round
 * @param {Map<string, string[]>} errors measurement key -> error messages
 * @param {string[]} sides the sides measured in this run
 */
export function buildCaseReport(benchCase, results, errors, sides) {
  const rounds = { reference: [], gateway: [] };
  const failures = [];
  const notices = [];
  const warnings = [];
  const runErrors = [];
  for (const side of sides) {
    const perRound = [];
    for (const measurement of benchCase.sides[side]) {
      const key = measurementKey(measurement);
      const name = `${measurement.server} ${measurement.protocol} ${measurement.workload}`;
      for (const message of errors.get(key) ?? []) runErrors.push(`${name}: ${message}`);
      (results.get(key) ?? []).forEach((result, round) => {
        perRound[round] ??= {};
        perRound[round][resultName(measurement)] = result;
        const verdict = judgeCorrectness(result);
        failures.push(...verdict.failures.map((line) => `${name}: ${line}`));
        notices.push(...verdict.notices.map((line) => `${name}: ${line}`));
        warnings.push(...judgeConditions(measurement, result).map((line) => `${name}: ${line}`));
      });
    }
    // A round counts only if every measurement of the side produced a result in it.
    rounds[side] = perRound.filter((round) => benchCase.sides[side].every((m) => round[resultName(m)]));
  }
  const metrics = benchCase.metrics.map((metric) => {
    const figure = compare(metric, rounds);
    return {
      ...figure,
      goal: figure.goal && describeGoal(figure.goal, figure.format),
      goalKind: figure.goal?.kind ?? null,
    };
  });
  return {
    case: benchCase.name,
    title: benchCase.title,
    columns: benchCase.columns,
    metrics,
    correct: failures.length === 0 && runErrors.length === 0,
    goalsMet: metrics.every((figure) => figure.met !== false),
    failures,
    errors: runErrors,
    notices,
    warnings,
    results: rounds,
  };
}
