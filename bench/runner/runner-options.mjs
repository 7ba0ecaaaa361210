// Command-line options of run.mjs, validated once into the run's settings.
import { parseArgs } from 'node:util';
import * as defaults from '../bench.constants.mjs';
import { CASE_NAMES } from './cases.mjs';

export const USAGE = `Usage: node bench/run.mjs [options]

  --case NAME         run only this case (repeatable, or comma-separated):
                      ${CASE_NAMES.join(', ')}
  --duration S        measured seconds of throughput and latency runs (default ${defaults.MEASURE_SECONDS})
  --warmup S          warm-up seconds before each measured window (default ${defaults.WARMUP_SECONDS})
  --quick             short smoke run (well under a minute): small windows and counts
  --rounds N          measure each side N times, alternating the order, and report medians (default 1)
  --json              print one JSON line per case on stdout (the table goes to stderr)
  --strict            also exit non-zero when a goal is missed (lost or reordered messages always do)
  --high-priority     run server and generator at nice -20 (root), so that other work on a
                      shared machine takes less of their cores
  --reference-only    measure the reference alone (no gateway build needed)
  --gateway-env K=V   extra environment for the gateway (repeatable), e.g. OFFLINE_STORE=memory
  --help              this text
`;

/** Settings of a full run: the brief's sizes. */
const FULL = Object.freeze({
  warmupSeconds: defaults.WARMUP_SECONDS,
  measureSeconds: defaults.MEASURE_SECONDS,
  idleConnections: defaults.IDLE_CONNECTIONS,
  idleWarmupConnections: defaults.IDLE_WARMUP_CONNECTIONS,
  rssSettleMs: defaults.RSS_SETTLE_MS,
  offlineUsers: defaults.OFFLINE_USERS,
  offlineMessagesPerUser: defaults.OFFLINE_MESSAGES_PER_USER,
  /** A cluster's idle window (its Redis background); null: as long as the measured window. */
  clusterBackgroundSeconds: null,
});

export class UsageError extends Error {}

/** @param {string[]} argv */
export function parseRunnerOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      case: { type: 'string', multiple: true },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      quick: { type: 'boolean', default: false },
      rounds: { type: 'string', default: '1' },
      json: { type: 'boolean', default: false },
      strict: { type: 'boolean', default: false },
      'high-priority': { type: 'boolean', default: false },
      'reference-only': { type: 'boolean', default: false },
      'gateway-env': { type: 'string', multiple: true },
      help: { type: 'boolean', default: false },
    },
  });
  const base = values.quick ? { ...FULL, ...defaults.QUICK } : FULL;
  return {
    help: values.help,
    quick: values.quick,
    cases: selectedCases(values.case),
    profile: {
      ...base,
      warmupSeconds: values.warmup === undefined ? base.warmupSeconds : positive('--warmup', values.warmup),
      measureSeconds: values.duration === undefined ? base.measureSeconds : positive('--duration', values.duration),
    },
    rounds: positiveInteger('--rounds', values.rounds),
    json: values.json,
    strict: values.strict,
    highPriority: values['high-priority'],
    referenceOnly: values['reference-only'],
    gatewayEnv: environment(values['gateway-env'] ?? []),
  };
}

function selectedCases(requested) {
  if (!requested) return CASE_NAMES;
  const names = requested.flatMap((value) => value.split(',')).map((name) => name.trim());
  const unknown = names.filter((name) => !CASE_NAMES.includes(name));
  if (unknown.length) throw new UsageError(`unknown case ${unknown.join(', ')}; cases are ${CASE_NAMES.join(', ')}`);
  return CASE_NAMES.filter((name) => names.includes(name));
}

function positive(flag, text) {
  const value = Number(text);
  if (!(value > 0)) throw new UsageError(`${flag} must be a positive number of seconds, got "${text}"`);
  return value;
}

function positiveInteger(flag, text) {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new UsageError(`${flag} must be a positive integer, got "${text}"`);
  return value;
}

function environment(pairs) {
  const env = {};
  for (const pair of pairs) {
    const separator = pair.indexOf('=');
    if (separator <= 0) throw new UsageError(`--gateway-env takes KEY=VALUE, got "${pair}"`);
    env[pair.slice(0, separator)] = pair.slice(separator + 1);
  }
  return env;
}
