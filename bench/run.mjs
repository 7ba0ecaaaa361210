// The benchmark runner: for each case, measures the bare-ws reference and the gateway, each on a
// fresh server pinned to its own core with the load generator on the other, and reports every
// gateway figure next to the reference's from the same run, as absolute values and as a ratio.
//
// node bench/run.mjs [--case throughput] [--duration 8] [--quick] [--json] ...   (see --help)
// Exit code: 0 when every message arrived intact; 1 when any was lost, reordered or misrouted,
// or a run failed (and, with --strict, when a goal was missed); 2 on a usage error.
import { CASES, measurementKey, planCase } from './runner/cases.mjs';
import { buildCaseReport } from './runner/case-report.mjs';
import { detectPlacement } from './runner/process-placement.mjs';
import { runMeasurement } from './runner/measurement.mjs';
import { renderTable } from './runner/report-table.mjs';
import { summarizeResult } from './runner/result-summary.mjs';
import { parseRunnerOptions, USAGE, UsageError } from './runner/runner-options.mjs';
import { GATEWAY_ENTRY, gatewayBuilt } from './runner/servers.mjs';

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;
/** Shell convention for "ended by SIGINT"; exiting (not dying) lets exit handlers restore state. */
const EXIT_INTERRUPTED = 130;

const log = (line) => process.stderr.write(`${line}\n`);

let options;
try {
  options = parseRunnerOptions(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof UsageError || error.code?.startsWith('ERR_PARSE_ARGS'))) throw error;
  log(`${error.message}\n\n${USAGE}`);
  process.exit(EXIT_USAGE);
}
if (options.help) {
  process.stdout.write(USAGE);
  process.exit(EXIT_OK);
}
if (!options.referenceOnly && !gatewayBuilt()) {
  log(`${GATEWAY_ENTRY} not found: run \`npm run build\` first, or pass --reference-only`);
  process.exit(EXIT_FAILED);
}

process.once('SIGINT', () => process.exit(EXIT_INTERRUPTED));
const placement = detectPlacement(options, (message) => log(`warning: ${message}`));
const sides = options.referenceOnly ? ['reference'] : ['reference', 'gateway'];
const startedAt = performance.now();
log(
  `im-gateway benchmark: ${options.cases.join(', ')}; ${options.rounds} round(s); ` +
    (placement.pinned
      ? `server on cpu ${placement.serverCpu}, generator on cpu ${placement.generatorCpu}`
      : 'unpinned') +
    (placement.highPriority ? ', both at nice -20' : ''),
);

/** Results of every measurement made in this run, by measurement key, one per round. */
const results = new Map();
const errors = new Map();
const reports = [];
for (const listed of CASES.filter((c) => options.cases.includes(c.name))) {
  const benchCase = planCase(listed, options);
  if (benchCase === null) {
    log(`[${listed.name}] skipped: it measures gateways only`);
    continue;
  }
  for (let round = 0; round < options.rounds; round++) {
    // Alternating the order cancels a slow drift of the machine (warming, a neighbour's load).
    const order = round % 2 === 0 ? sides : [...sides].reverse();
    for (const side of order) {
      for (const measurement of benchCase.sides[side]) await measureOnce(benchCase, measurement, round);
    }
  }
  const report = buildCaseReport(benchCase, results, errors, sides);
  reports.push(report);
  if (options.json) process.stdout.write(`${JSON.stringify(report)}\n`);
}

const table = renderTable(reports);
(options.json ? log : (text) => process.stdout.write(`${text}\n`))(`\n${table}\n`);
log(`done in ${((performance.now() - startedAt) / 1000).toFixed(1)} s`);

const correct = reports.every((report) => report.correct);
const goalsMet = reports.every((report) => report.goalsMet);
if (!correct) log('FAILED: messages were lost, reordered or misrouted, or a run failed (see above)');
else if (!goalsMet) log(`some goals were missed${options.strict ? ' (--strict)' : ''}`);
process.exit(!correct || (options.strict && !goalsMet) ? EXIT_FAILED : EXIT_OK);

/** Runs `measurement` for `round` unless an earlier case of this run already did. */
async function measureOnce(benchCase, measurement, round) {
  const key = measurementKey(measurement);
  const done = results.get(key) ?? [];
  results.set(key, done);
  if (done.length + (errors.get(key)?.length ?? 0) > round) return;
  const name = `[${benchCase.name}] ${measurement.server} ${measurement.protocol} ${measurement.workload}`;
  try {
    const result = await runMeasurement(measurement, options, placement);
    done.push(result);
    log(`${name}: ${summarizeResult(result)}`);
  } catch (error) {
    errors.set(key, [...(errors.get(key) ?? []), error.message]);
    log(`${name}: ERROR ${error.message}`);
  }
}
