import {
  closeSync,
  existsSync,
  fstatSync,
  linkSync,
  openSync,
  readFileSync,
  readSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs'
import { basename, dirname, extname, join } from 'node:path'
import { CSV_COLUMNS, isEarlierHeader, LEGACY_CSV_COLUMNS, ROW_STATUSES } from './csv-format.js'
import { parseCsvCells } from './csv-read.js'

/** What the head and the end of a CSV file say about it. */
export interface CsvFileState {
  /**
   * `wattprint`: the current header; `wattprint-legacy`: wattprint 0.1's first one; `wattprint-earlier`: one
   * from before the latest columns were added (see isEarlierHeader); `other`: anything else.
   */
  readonly header: 'wattprint' | 'wattprint-legacy' | 'wattprint-earlier' | 'other'
  /** The file's line ending, from its header line: rows appended use the same. */
  readonly eol: '\n' | '\r\n'
  readonly endsWithNewline: boolean
  readonly size: number
}

const CURRENT = CSV_COLUMNS.join(',')
const LEGACY = LEGACY_CSV_COLUMNS.join(',')
// The status is the last column: a row cut inside it leaves a partial word.
const STATUS_INDEX = CSV_COLUMNS.indexOf('status')

/** The header and ending of a file, reading only its head and last byte. */
export function inspectCsv(path: string): CsvFileState {
  const fd = openSync(path, 'r')
  try {
    const size = fstatSync(fd).size
    const head = Buffer.alloc(Math.min(size, 64 * 1024))
    const bytes = readSync(fd, head, 0, head.length, 0)
    const text = head.toString('utf8', 0, bytes)
    const newline = text.indexOf('\n')
    const eol = newline > 0 && text[newline - 1] === '\r' ? '\r\n' : '\n'
    // A spreadsheet may add a byte order mark and end lines with CRLF: the same header.
    const line = (newline === -1 ? text : text.slice(0, newline)).replace(/^\uFEFF/, '').replace(/\r$/, '')
    const last = Buffer.alloc(1)
    if (size > 0) readSync(fd, last, 0, 1, size - 1)
    return {
      header:
        line === CURRENT
          ? 'wattprint'
          : line === LEGACY
            ? 'wattprint-legacy'
            : isEarlierHeader(line.split(','))
              ? 'wattprint-earlier'
              : 'other',
      eol,
      endsWithNewline: size > 0 && last[0] === 0x0a,
      size,
    }
  } finally {
    closeSync(fd)
  }
}

/**
 * Whether a wattprint file that lacks its final newline ends with a complete row (an editor dropped the
 * newline) rather than one cut off: the last record parses, has every column, and its last cell, the
 * status, is a whole status word (a row cut inside it leaves `finis` or `runn`). Reads the whole file, which
 * happens only for such a file.
 */
export function endsWithCompleteRow(path: string): boolean {
  const { records, unreadable } = parseCsvCells(readFileSync(path))
  if (unreadable > 0) return false
  const last = records.at(-1)
  if (!last) return false
  if (records.length === 1) return true // the header alone
  return last.length === CSV_COLUMNS.length && ROW_STATUSES.has(last[STATUS_INDEX] ?? '')
}

/**
 * Whether a file holds an even number of `"`: in a CSV, quotes come in pairs (a quoted cell's two, and
 * doubled ones inside it), so an odd count means the file was cut inside a quoted cell, possibly just
 * after a line break in it, where the file still ends with a newline. One pass over the bytes (about
 * 15 ms for 32 MB), done once per sink.
 */
export function quotesBalanced(path: string): boolean {
  const fd = openSync(path, 'r')
  try {
    const chunk = Buffer.alloc(1 << 20)
    let quotes = 0
    let position = 0
    for (;;) {
      const bytes = readSync(fd, chunk, 0, chunk.length, position)
      if (bytes === 0) break
      position += bytes
      const view = chunk.subarray(0, bytes)
      for (let i = view.indexOf(0x22); i !== -1; i = view.indexOf(0x22, i + 1)) quotes += 1
    }
    return quotes % 2 === 0
  } finally {
    closeSync(fd)
  }
}

/** A name for a backup of `path` that does not exist yet (emissions.csv → emissions.backup-<time>.csv). */
export function backupPath(path: string, now: Date): string {
  const ext = extname(path)
  const stem = join(dirname(path), basename(path, ext))
  const stamp = now.toISOString().replace(/[:.]/g, '-')
  for (let n = 0; ; n++) {
    const candidate = `${stem}.backup-${stamp}${n > 0 ? `-${n}` : ''}${ext}`
    if (!existsSync(candidate)) return candidate
  }
}

/**
 * Creates `path` holding `content` in one atomic step (a temporary file hard-linked into place, which fails
 * if another process got there first); false if it already exists.
 */
export function createExclusive(path: string, content: string): boolean {
  const temp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`
  writeFileSync(temp, content, { flag: 'wx' })
  try {
    linkSync(temp, path)
    return true
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'EEXIST') return false
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS') {
      // No hard links here (some network and FUSE file systems): exclusive create, then the content.
      try {
        writeFileSync(path, content, { flag: 'wx' })
        return true
      } catch (inner) {
        if ((inner as NodeJS.ErrnoException).code === 'EEXIST') return false
        throw inner
      }
    }
    throw error
  } finally {
    try {
      unlinkSync(temp)
    } catch {}
  }
}
