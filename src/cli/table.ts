import { displayWidth, fitColumns, printable } from '../core/text.js'

/**
 * The widest a cell of a terminal table is shown, in columns: a longer one (a project name, a region as
 * typed) is cut to fit, its last column an ellipsis. Every row is padded to its columns' widths, so one
 * long name would otherwise widen every line of the table: a 1 MB name made 5 MB of output.
 */
export const CELL_MAX_COLUMNS = 40

/** How a table is laid out: which columns are right-aligned (figures), and where rules go. */
export interface TableLayout {
  /** Whether column `c` is right-aligned; left-aligned otherwise. */
  readonly right?: (column: number) => boolean
  /** A rule of dashes before each of these rows (0 is the header). */
  readonly rulesBefore?: readonly number[]
}

/**
 * The lines of a terminal table: every cell written out by printable(), cut to CELL_MAX_COLUMNS, and
 * padded to its column's width; columns two spaces apart, no trailing spaces.
 */
export function tableLines(rows: readonly (readonly string[])[], layout: TableLayout = {}): string[] {
  const cells = rows.map((row) => row.map((cell) => fitColumns(printable(cell), CELL_MAX_COLUMNS)))
  const count = Math.max(0, ...cells.map((row) => row.length))
  const widths = Array.from({ length: count }, (_, c) =>
    Math.max(0, ...cells.map((row) => displayWidth(row[c] ?? ''))),
  )
  const pad = (cell: string, c: number) => {
    const room = ' '.repeat(Math.max(0, (widths[c] ?? 0) - displayWidth(cell)))
    return layout.right?.(c) ? room + cell : cell + room
  }
  const rule = widths.map((w) => '-'.repeat(w)).join('  ')
  return cells.flatMap((row, r) => [
    ...(layout.rulesBefore?.includes(r) ? [rule] : []),
    row.map(pad).join('  ').trimEnd(),
  ])
}
