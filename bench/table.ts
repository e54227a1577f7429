/**
 * The one table `npm run bench` prints: every figure on a row with its area, the case it
 * is about, the target it is held to (if any) and whether it was met.
 */

export interface Row {
  area: string;
  case: string;
  figures: string;
  target?: string;
  /** Undefined when the row has no target. */
  met?: boolean;
}

const HEADERS: Row = { area: 'area', case: 'case', figures: 'figures', target: 'target', met: undefined };

const cells = (row: Row, header = false): string[] => [row.area, row.case, row.figures, row.target ?? '', header ? 'met' : row.met === undefined ? '' : row.met ? 'yes' : 'NO'];

/** Aligned text: one column per field, a rule under the header, each area named once with a blank line before it. */
export function renderTable(rows: readonly Row[]): string {
  const sameArea = (index: number) => index > 0 && rows[index - 1]!.area === rows[index]!.area;
  const lines = [cells(HEADERS, true), ...rows.map((row, index) => cells({ ...row, area: sameArea(index) ? '' : row.area }))];
  const widths = lines[0]!.map((_, column) => Math.max(...lines.map((line) => line[column]!.length)));
  const format = (line: string[]) => line.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd();
  const out = [format(lines[0]!), widths.map((width) => '-'.repeat(width)).join('  ')];
  rows.forEach((_row, index) => {
    if (index > 0 && !sameArea(index)) out.push('');
    out.push(format(lines[index + 1]!));
  });
  return out.join('\n');
}

/** Milliseconds with two decimals below 10, one above. */
export const ms = (value: number): string => (value < 10 ? value.toFixed(2) : value.toFixed(1));

export const ratio = (value: number): string => `${value.toFixed(2)}×`;
