// The terminal table: one row per compared figure, absolute values of both sides, the ratio
// gateway/reference, the goal and whether it is met; then, per case, anything that went wrong.

const HEADERS = ['case', 'metric', 'reference', 'gateway', 'ratio', 'goal', ''];
const RIGHT_ALIGNED = new Set([2, 3, 4]);
const KIB = 1024;

/** @param {ReturnType<import('./case-report.mjs').buildCaseReport>[]} reports */
export function renderTable(reports) {
  const rows = [];
  for (const report of reports) {
    report.metrics.forEach((figure, index) => {
      rows.push([
        index === 0 ? report.case : '',
        figure.metric,
        formatValue(figure.reference, figure.format),
        formatValue(figure.gateway, figure.format),
        figure.ratio === null ? '-' : `${figure.ratio.toFixed(2)}x`,
        figure.goal ?? '',
        verdict(figure),
      ]);
    });
  }
  const widths = HEADERS.map((header, column) => Math.max(header.length, ...rows.map((row) => row[column].length)));
  const line = (cells) =>
    cells
      .map((cell, column) => (RIGHT_ALIGNED.has(column) ? cell.padStart(widths[column]) : cell.padEnd(widths[column])))
      .join('  ')
      .trimEnd();
  const out = [line(HEADERS), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)];
  for (const report of reports) out.push(...caseNotes(report));
  return out.join('\n');
}

function verdict(figure) {
  if (figure.met === null) return '';
  const word = figure.met ? 'met' : 'MISSED';
  return figure.goalKind === 'max-delta' ? `${word} (${signed(figure.delta)} ${figure.format})` : word;
}

function caseNotes(report) {
  const notes = [
    ...report.errors.map((line) => `ERROR   ${line}`),
    ...report.failures.map((line) => `FAILED  ${line}`),
    ...report.warnings.map((line) => `warning ${line}`),
    ...report.notices.map((line) => `notice  ${line}`),
  ];
  return notes.length ? ['', `[${report.case}]`, ...notes] : [];
}

export function formatValue(value, format) {
  if (value === null || value === undefined) return '-';
  switch (format) {
    case 'rate':
      return Math.round(value).toLocaleString('en-US');
    case 'ms':
      return value.toFixed(3);
    case 'seconds':
      return value.toFixed(3);
    case 'bytes':
      return `${(value / KIB).toFixed(2)} KiB`;
    default:
      return String(value);
  }
}

function signed(value) {
  return `${value >= 0 ? '+' : ''}${value.toFixed(3)}`;
}
