import type { RunStatus } from '../../model/record.js'
import {
  CODECARBON_COLUMNS,
  CSV_COLUMNS,
  CSV_TABLE,
  type CsvCell,
  type CsvColumn,
  type CsvColumnEntry,
  WATTPRINT_COLUMNS,
} from './columns.js'

/**
 * The emissions CSV's header and cell encoding, shared by the writer (sink.ts), the reader (read.ts) and
 * the migration of older files (migrate.ts). The columns themselves, each with its cell and what it holds,
 * are the table in columns.ts; their names are exported here too.
 */

export { CODECARBON_COLUMNS, CSV_COLUMNS, type CsvCell, type CsvColumn, WATTPRINT_COLUMNS }

/**
 * The header of wattprint 0.1's first files: CodeCarbon's columns with python_version and
 * codecarbon_version replaced by node_version and wattprint_version, then six of wattprint's. Such files are
 * read as they are and migrated to the current header before a row is appended.
 */
export const LEGACY_CSV_COLUMNS: readonly string[] = [
  ...CODECARBON_COLUMNS.slice(0, 21),
  'node_version',
  'wattprint_version',
  ...CODECARBON_COLUMNS.slice(23),
  // Spelt out: the current columns grow, this header does not.
  'cpu_source',
  'gpu_source',
  'ram_source',
  'carbon_intensity',
  'intensity_source',
  'status',
]

/**
 * Whether a header is one of wattprint's earlier ones since CodeCarbon's 38 columns came back: those 38,
 * then some of wattprint's columns (each once, `status` among them, in any order). Such a file is migrated
 * to the current header by column name, the columns it lacks left empty.
 */
export function isEarlierHeader(header: readonly string[]): boolean {
  if (header.length <= CODECARBON_COLUMNS.length || header.length > CSV_COLUMNS.length) return false
  if (!CODECARBON_COLUMNS.every((c, i) => header[i] === c)) return false
  const rest = header.slice(CODECARBON_COLUMNS.length)
  const known = new Set<string>(WATTPRINT_COLUMNS)
  return rest.includes('status') && new Set(rest).size === rest.length && rest.every((c) => known.has(c))
}

/** The columns that hold text (`text: true` in the table); every other one holds a number or nothing. */
export const TEXT_COLUMNS: ReadonlySet<string> = new Set<CsvColumn>(
  CSV_TABLE.filter((column: CsvColumnEntry) => column.text).map((column) => column.name),
)

/** The first characters a spreadsheet reads as the start of a formula (OWASP, "CSV Injection"). */
const FORMULA_START = /^'*[=+\-@\t\r]/

/**
 * A text cell made safe to open in a spreadsheet: a value that starts with `=`, `+`, `-`, `@`, a tab or a
 * carriage return, after any leading `'`s, gets one more `'` in front. Exactly undone by restoreText(),
 * so a name that really starts with `'` survives too.
 */
export function neutraliseText(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value
}

/** Undoes neutraliseText(): the cell's text as it was given. */
export function restoreText(cell: string): string {
  return cell.startsWith("'") && FORMULA_START.test(cell.slice(1)) ? cell.slice(1) : cell
}

const NEEDS_QUOTES = /[",\r\n]/

/**
 * One CSV line, `eol` included. A cell holding a quote, a comma, a carriage return or a line feed is
 * quoted (quotes doubled), whatever the line ending: a bare CR left unquoted splits the row for Python's
 * csv module and pandas.
 */
export function formatCsvLine(cells: readonly string[], eol: string): string {
  return cells.map((c) => (NEEDS_QUOTES.test(c) ? `"${c.replaceAll('"', '""')}"` : c)).join(',') + eol
}

/** The header line, `\n` included. */
export const CSV_HEADER = formatCsvLine(CSV_COLUMNS, '\n')

/**
 * One row under the current header, `eol` included: a missing or null cell, NaN or Infinity is written
 * empty (never dropped, so no cell moves); text cells are neutralised, numbers written as they are.
 */
export function rowToLine(row: Partial<Record<CsvColumn, CsvCell>>, eol: string): string {
  const cells = CSV_COLUMNS.map((column) => {
    const value = row[column]
    if (value === null || value === undefined) return ''
    if (typeof value === 'number') return Number.isFinite(value) ? String(value) : ''
    return TEXT_COLUMNS.has(column) ? neutraliseText(value) : value
  })
  return formatCsvLine(cells, eol)
}

// Every RunStatus, checked by the compiler: a status added there must be added here.
const STATUSES: Record<RunStatus, true> = {
  running: true,
  finished: true,
  failed: true,
  interrupted: true,
  'budget-exceeded': true,
}

/** The statuses a row may have, to tell a complete last row from one cut inside its last cell. */
export const ROW_STATUSES: ReadonlySet<string> = new Set(Object.keys(STATUSES))
