import { printable } from '../text.js'

/**
 * The widest a cell of a terminal table is shown, in columns: a longer one (a project name, a region as
 * typed) is cut to fit, its last column an ellipsis. Every row is padded to its columns' widths, so one
 * long name would otherwise widen every line of the table: a 1 MB name made 5 MB of output.
 */
export const CELL_MAX_COLUMNS = 40

// Characters a terminal shows two columns wide (East Asian wide and fullwidth, most emoji), and those it
// shows in no column of their own (combining marks), so that a table of names in any script lines up.
const WIDE =
  /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{1f300}-\u{1f64f}\u{1f680}-\u{1f6ff}\u{1f900}-\u{1f9ff}\u{1fa70}-\u{1faff}\u{20000}-\u{3fffd}]/u
const ZERO_WIDTH = /[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe00-\ufe0f\ufe20-\ufe2f]/u

const columnsOf = (char: string): number => (ZERO_WIDTH.test(char) ? 0 : WIDE.test(char) ? 2 : 1)

/** How many terminal columns `text` takes (after printable(): no control characters left in it). */
export function displayWidth(text: string): number {
  let width = 0
  for (const char of text) width += columnsOf(char)
  return width
}

/** `text` in at most `max` columns: cut at a character's edge, with `…` as its last column when cut. */
export function fitColumns(text: string, max = CELL_MAX_COLUMNS): string {
  if (displayWidth(text) <= max) return text
  let out = ''
  let width = 0
  for (const char of text) {
    const w = columnsOf(char)
    if (width + w > max - 1) break
    out += char
    width += w
  }
  return `${out}…`
}

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
  const cells = rows.map((row) => row.map((cell) => fitColumns(printable(cell))))
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
