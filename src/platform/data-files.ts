import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { packageRoot } from '../core/package-root.js'

/** Absolute path of a table shipped in the package's data/ folder. */
export function dataFilePath(name: string): string {
  return fileURLToPath(new URL(`data/${name}`, packageRoot()))
}

/** Reads a shipped table as text. */
export function readDataFile(name: string): string {
  return readFileSync(dataFilePath(name), 'utf8')
}

/** How parseCsv reads a table. */
export interface CsvOptions {
  /** Removes the white space around each field, outside its quotes (csv-parse's `trim`). */
  readonly trim?: boolean
}

const QUOTE = 34
const COMMA = 44
const NEWLINE = 10
const RETURN = 13
const isBlank = (code: number): boolean => code === 32 || code === 9
const UNTRIMMED = /(?:^|,)\s|\s(?:,|$)/

/**
 * Splits CSV text into records, as csv-parse does with `skip_empty_lines` (and `trim` when asked): fields
 * in double quotes may hold commas, line ends and `""` for a quote; a line ends at `\n` or `\r\n`; empty
 * lines are skipped. A line without a quote is split at once, so the shipped tables (a few quoted cells
 * among thousands of rows) cost a split a line. The tables are wattprint's own: no error is reported.
 */
export function parseCsv(text: string, options: CsvOptions = {}): string[][] {
  const trim = options.trim === true
  const records: string[][] = []
  let at = 0
  while (at < text.length) {
    let end = text.indexOf('\n', at)
    if (end === -1) end = text.length
    const lineEnd = end > at && text.charCodeAt(end - 1) === RETURN ? end - 1 : end
    const line = text.slice(at, lineEnd)
    if (!line.includes('"')) {
      // Trimmed only where a field starts or ends with white space (rare in the shipped tables).
      if (line.length > 0)
        records.push(trim && UNTRIMMED.test(line) ? line.split(',').map((f) => f.trim()) : line.split(','))
      at = end + 1
      continue
    }
    const [record, next] = quotedRecord(text, at, trim)
    records.push(record)
    at = next
  }
  return records
}

/** One record that holds a quote, read character by character from `at`; returns it and where the next begins. */
function quotedRecord(text: string, at: number, trim: boolean): [string[], number] {
  const record: string[] = []
  let i = at
  for (;;) {
    if (trim) while (i < text.length && isBlank(text.charCodeAt(i))) i++
    let field = ''
    if (text.charCodeAt(i) === QUOTE) {
      i++
      for (;;) {
        const close = text.indexOf('"', i)
        if (close === -1) {
          field += text.slice(i)
          i = text.length
          break
        }
        field += text.slice(i, close)
        i = close + 1
        if (text.charCodeAt(i) !== QUOTE) break
        field += '"'
        i++
      }
      if (trim) while (i < text.length && isBlank(text.charCodeAt(i))) i++
    } else {
      let end = i
      while (end < text.length) {
        const code = text.charCodeAt(end)
        if (code === COMMA || code === NEWLINE || (code === RETURN && text.charCodeAt(end + 1) === NEWLINE))
          break
        end++
      }
      field = trim ? text.slice(i, end).trim() : text.slice(i, end)
      i = end
    }
    record.push(field)
    const code = text.charCodeAt(i)
    if (code === COMMA) {
      i++
      continue
    }
    if (code === RETURN) i++
    return [record, i + 1]
  }
}

/**
 * A shipped CSV table as one object a row, keyed by its header (csv-parse's `columns: true`), its fields
 * trimmed and its empty lines skipped.
 */
export function readDataRecords(name: string): Record<string, string>[] {
  const [header = [], ...rows] = parseCsv(readDataFile(name), { trim: true })
  return rows.map((row) => Object.fromEntries(header.map((column, i) => [column, row[i] ?? ''])))
}
