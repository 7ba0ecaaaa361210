// Whether a measurement's conditions were sound: a saturating workload must have kept the
// server's core busy, and no other process should have taken a noticeable share of it.
// Unsound conditions are warnings printed with the table: the figures stand, with a caveat.
import { FOREIGN_LOAD_WARNING, SATURATION_MAX_SERVER_CORE_IDLE } from '../bench.constants.mjs';
import { CLUSTER_TOPOLOGIES as CLUSTER_SERVERS } from './measurement.mjs';

const percent = (share) => `${(share * 100).toFixed(0)}%`;

/**
 * @param {{ workload: string, protocol: string }} measurement
 * @param {object} result the generator's result line
 * @returns {string[]}
 */
export function judgeConditions(measurement, result) {
  const warnings = [];
  const windows = result.workload === 'offline' ? { store: result.store, drain: result.drain } : { run: result };
  for (const [phase, figures] of Object.entries(windows)) {
    if (figures.serverCoreForeign > FOREIGN_LOAD_WARNING) {
      warnings.push(
        `other processes took ${percent(figures.serverCoreForeign)} of the server's core (${phase}): noisy figures`,
      );
    }
  }
  if (measurement.workload === 'throughput' && result.serverCoreIdle > SATURATION_MAX_SERVER_CORE_IDLE) {
    warnings.push(
      `the server's core sat idle ${percent(result.serverCoreIdle)} of the time: the generator${measurement.server in CLUSTER_SERVERS ? ' or Redis' : ''} may have set the pace`,
    );
  }
  return warnings;
}
