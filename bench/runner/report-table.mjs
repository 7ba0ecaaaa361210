// The terminal table: one row per compared figure, absolute values of both sides, the ratio
// gateway/reference, the goal and whether it is met; then, per case, anything that went wrong.

const RIGHT_ALIGNED = new Set([2, 3, 4]);
const KIB = 1024;

/**
 * Cases side by side under one header while they share their column titles; a case with other
 * titles (the cluster's `same node`, `cross node`) starts a block with its own header.
 * @param {ReturnType<import('./case-report.mjs').buildCaseReport>[]} reports
 */
export function renderTable(reports) {
  const blocks = [];
  for (const report of reports) {
    const last = blocks.at(-1);
    if (last && last.columns.join() === report.columns.join()) last.reports.push(report);
    else blocks.push({ columns: report.columns, reports: [report] });
  }
  const out = blocks.map((block) => renderBlock(block.columns, block.reports).join('\n'));
  const notes = reports.flatMap(caseNotes);
  return [out.join('\n\n'), ...notes].join('\n');
}

function renderBlock(columns, reports) {
  const headers = ['case', 'metric', ...columns, 'ratio', 'goal', ''];
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
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => row[column].length)));
  const line = (cells) =>
    cells
      .map((cell, column) => (RIGHT_ALIGNED.has(column) ? cell.padStart(widths[column]) : cell.padEnd(widths[column])))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)];
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
    case 'micros':
      return `${value.toFixed(1)} us`;
    case 'count':
      return value.toFixed(2);
    case 'decimal':
      return value.toFixed(1);
    default:
      return String(value);
  }
}

function signed(value) {
  return `${value >= 0 ? '+' : ''}${value.toFixed(3)}`;
}
