import { createRequire } from 'node:module'
import {
  CODECARBON_COLUMNS,
  CSV_COLUMNS,
  isEarlierHeader,
  LEGACY_CSV_COLUMNS,
  restoreText,
  TEXT_COLUMNS,
} from './format.js'

/**
 * What wrote a CSV, from its header: wattprint (the current header, text cells neutralised), wattprint
 * 0.1's first header (`wattprint-legacy`, cells as given), an earlier one (`wattprint-earlier`), CodeCarbon (any header holding the columns a
 * report needs), or something else (`foreign`).
 */
export type CsvFormat = 'wattprint' | 'wattprint-legacy' | 'wattprint-earlier' | 'codecarbon' | 'foreign'

/** A parsed emissions CSV. */
export interface CsvTable {
  readonly format: CsvFormat
  readonly header: readonly string[]
  /** The rows by column name, text as it was given (neutralised cells restored, short rows aligned). */
  readonly rows: readonly Record<string, string>[]
  /** Rows skipped: the wrong number of cells (and not a CodeCarbon row that can be aligned), or bad quoting. */
  readonly malformed: number
}

/** The columns without which a file cannot be reported on. */
export const REQUIRED_COLUMNS = ['timestamp', 'project_name', 'duration', 'emissions', 'energy_consumed']

const same = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((c, i) => c === b[i])

/** Which kind of file a header line (already split into cells) belongs to. */
export function csvFormatOf(header: readonly string[]): CsvFormat {
  if (same(header, CSV_COLUMNS)) return 'wattprint'
  if (same(header, LEGACY_CSV_COLUMNS)) return 'wattprint-legacy'
  if (isEarlierHeader(header)) return 'wattprint-earlier'
  return REQUIRED_COLUMNS.every((c) => header.includes(c)) ? 'codecarbon' : 'foreign'
}

/** The records of a CSV as arrays of cells: LF or CRLF line ends, with or without a BOM or final newline. */
export function parseCsvCells(text: string | Buffer): { records: string[][]; unreadable: number } {
  const { parse } = createRequire(import.meta.url)('csv-parse/sync') as typeof import('csv-parse/sync')
  let unreadable = 0
  const records = parse(text, {
    bom: true,
    relax_column_count: true,
    skip_empty_lines: true,
    record_delimiter: ['\r\n', '\n'],
    skip_records_with_error: true,
    on_skip: () => {
      unreadable += 1
      return undefined
    },
  }) as string[][]
  return { records, unreadable }
}

/** Reads an emissions CSV's text into rows by column name; never throws on content. */
export function parseEmissionsCsv(text: string | Buffer): CsvTable {
  const { records, unreadable } = parseCsvCells(text)
  const [header = [], ...body] = records
  const format = csvFormatOf(header)
  if (format === 'foreign') return { format, header, rows: [], malformed: 0 }
  const rows: Record<string, string>[] = []
  let malformed = unreadable
  for (const cells of body) {
    const aligned =
      cells.length === header.length
        ? cells
        : format === 'codecarbon' && cells.length < header.length
          ? alignShortRow(header, cells)
          : null
    if (!aligned) {
      malformed += 1
      continue
    }
    const row: Record<string, string> = {}
    header.forEach((column, i) => {
      const cell = aligned[i] ?? ''
      // Text has been neutralised since before the earlier headers; wattprint 0.1's first one wrote it as is.
      row[column] =
        (format === 'wattprint' || format === 'wattprint-earlier') && TEXT_COLUMNS.has(column)
          ? restoreText(cell)
          : cell
    })
    rows.push(row)
  }
  return { format, header, rows, malformed }
}

/**
 * CodeCarbon's columns that its appends can leave out, likeliest first. CodeCarbon writes the first row of
 * a file with every column, then appends each row after `DataFrame.dropna(axis=1, how="all")`, so a row
 * loses every cell that was None or NaN (no location in offline mode, no GPU, a failed reading) and its
 * later cells move left.
 */
const DROPPABLE: readonly string[] = [
  'longitude',
  'latitude',
  'region',
  'gpu_model',
  'gpu_count',
  'ram_total_size',
  'country_name',
  'country_iso_code',
  'cpu_model',
  'cpu_count',
  'cloud_provider',
  'cloud_region',
  'water_consumed',
  'emissions_rate',
  'cpu_power',
  'gpu_power',
  'ram_power',
  'cpu_energy',
  'gpu_energy',
  'ram_energy',
  'energy_consumed',
  'emissions',
]

const NUMBER = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/
// Names are never bare numbers: this tells a left-out name from a left-out coordinate beside it.
const name = (c: string) => !NUMBER.test(c)
const TEXT_RULES: Record<string, (cell: string) => boolean> = {
  country_name: name,
  region: name,
  cloud_provider: name,
  cloud_region: name,
  cpu_model: name,
  gpu_model: name,
  timestamp: (c) => !Number.isNaN(Date.parse(c)),
  country_iso_code: (c) => /^([A-Za-z]{3})?$/.test(c),
  python_version: (c) => /^\d+\.\d+/.test(c),
  codecarbon_version: (c) => /^\d+\.\d+/.test(c),
  tracking_mode: (c) => c === 'machine' || c === 'process',
  on_cloud: (c) => c === 'Y' || c === 'N',
}

/** Whether a cell may belong to a CodeCarbon column: numbers where numbers go, known shapes elsewhere. */
function fits(column: string, cell: string): boolean {
  const rule = TEXT_RULES[column]
  if (rule) return rule(cell)
  const numeric = (CODECARBON_COLUMNS as readonly string[]).includes(column) && !TEXT_COLUMNS.has(column)
  return !numeric || cell === '' || NUMBER.test(cell)
}

/** The most placements tried for one short row (a row missing three of 22 columns has 1,540). */
const MAX_TRIES = 20_000

/**
 * A short CodeCarbon row put back under its header: the left-out columns are the first set, in the order
 * of DROPPABLE, under which every cell fits its column. Null when none does (then the row is malformed).
 */
export function alignShortRow(header: readonly string[], cells: readonly string[]): string[] | null {
  const missing = header.length - cells.length
  const candidates = DROPPABLE.map((c) => header.indexOf(c)).filter((i) => i >= 0)
  if (missing > candidates.length) return null
  let tries = 0
  const chosen: number[] = []
  const place = (): string[] | null => {
    const dropped = new Set(chosen)
    const row: string[] = []
    let next = 0
    for (let i = 0; i < header.length; i++) {
      const cell = dropped.has(i) ? '' : (cells[next++] ?? '')
      if (!fits(header[i] ?? '', cell)) return null
      row.push(cell)
    }
    return row
  }
  // Subsets of `missing` candidates in order of preference (lexicographic over DROPPABLE's order).
  const search = (from: number): string[] | null => {
    if (chosen.length === missing) return ++tries > MAX_TRIES ? null : place()
    for (let k = from; k <= candidates.length - (missing - chosen.length); k++) {
      chosen.push(candidates[k] ?? -1)
      const found = search(k + 1)
      chosen.pop()
      if (found || tries > MAX_TRIES) return found
    }
    return null
  }
  return search(0)
}
