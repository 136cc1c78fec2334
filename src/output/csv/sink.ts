import { existsSync, renameSync, unlinkSync } from 'node:fs'
import { dirname } from 'node:path'
import { show } from '../../core/arguments.js'
import { describeError, WattprintError } from '../../core/errors.js'
import type { TrackerWarning } from '../../core/warnings.js'
import type { EmissionsRecord } from '../../model/record.js'
import { ensureDir, explainWriteError } from '../../platform/output-dir.js'
import type { Sink, SinkContext } from '../sink.js'
import { CSV_TABLE } from './columns.js'
import {
  appendWhole,
  backupPath,
  type CsvFileState,
  createExclusive,
  endLastLine,
  endsWithCompleteRow,
  inspectCsv,
  quotesBalanced,
} from './file.js'
import { CSV_HEADER, type CsvCell, type CsvColumn, rowToLine } from './format.js'
import { migrateLegacyCsv } from './migrate.js'

export { CSV_COLUMNS, CSV_HEADER, type CsvColumn } from './format.js'

/**
 * A record as CSV cells, one per column, each read as its entry in CSV_TABLE says; unknown values are null
 * (written empty), never dropped.
 */
export function recordToCells(record: EmissionsRecord): Record<CsvColumn, CsvCell> {
  return Object.fromEntries(CSV_TABLE.map((column) => [column.name, column.cell(record)])) as Record<
    CsvColumn,
    CsvCell
  >
}

/**
 * One complete CSV line for a record, `eol` (the file's line ending) included. Text cells that could hold
 * a line break, a quote or a comma are quoted; text that a spreadsheet would run as a formula gets a
 * leading `'` (see neutraliseText), undone by wattprint's reader.
 */
export function recordToLine(record: EmissionsRecord, eol = '\n'): string {
  return rowToLine(recordToCells(record), eol)
}

/** Why a row could not be written, with the fix where the error code says it (a full disk, no permission). */
function whyNotWritten(path: string, error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code
  const explained = ['ENOSPC', 'EDQUOT', 'EFBIG', 'EROFS', 'EACCES', 'EPERM']
  if (
    error instanceof Error &&
    !(error as { partialRowLeft?: boolean }).partialRowLeft &&
    code &&
    explained.includes(code)
  )
    return explainWriteError(path, error, 'file')
  return describeError(error)
}

/** How long a file must hold still, without a final newline, before it is judged. */
const SETTLE_MS = 25
const SETTLE_CHECKS = 3

/** Re-inspects a file a few times; `changed` when it grew or gained its final newline meanwhile. */
async function settled(path: string, first: CsvFileState): Promise<CsvFileState & { changed: boolean }> {
  let last = first
  for (let i = 0; i < SETTLE_CHECKS; i++) {
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS))
    const now = inspectCsv(path)
    if (now.size !== last.size || now.endsWithNewline) return { ...now, changed: true }
    last = now
  }
  return { ...last, changed: false }
}

/**
 * Appends records to a CSV file, one complete line per write call, whole or not at all (a write that fails
 * part of the way, on a full disk, is undone). The file is created atomically with its header (a
 * temporary file hard-linked into place, which fails if another process got there first), so concurrent
 * writers produce exactly one header and no lock file exists to go stale. An existing file is accepted
 * with CRLF line ends (rows are appended with the same), a byte order mark, or without its final newline
 * after a complete row (the newline is added); one cut off mid-row (by a full disk or a crash, before
 * appends were whole) keeps its place and every byte: the cut row is ended where it stops, a malformed row
 * that readers skip. A file under wattprint's earlier header is migrated; one with another header is
 * renamed to a backup, never overwritten.
 *
 * As a Sink it appends a row at tracker.flush() (status `running`) and at stop(). The tracker's own file
 * (saveToFile) is one, written through the crash guard, which keeps the run's checkpoint until its row is
 * on disk and writes the row synchronously when the process ends without stop().
 */
export class CsvSink implements CsvFileSink {
  readonly name = 'csv'
  /** Whether this sink has checked the file's header and ending (done once, and again if it vanishes). */
  private verified = false
  /** The file's line ending, found when it was checked. */
  private eol: '\n' | '\r\n' = '\n'
  /** Why the last append() failed (what its warning says), or null when it wrote its row. */
  lastFailure: string | null = null

  /** Where its warnings go: the one it was made with, else the run's (given at start). */
  private warn: (warning: TrackerWarning) => void
  private readonly givenWarn: boolean

  constructor(
    /** The CSV file. */
    readonly path: string,
    warn?: (warning: TrackerWarning) => void,
  ) {
    this.warn = warn ?? ((warning) => process.emitWarning(warning.message, { code: warning.code }))
    this.givenWarn = warn !== undefined
  }

  /** The run is measuring: its warnings go where the run's do, unless this sink was given its own. */
  start(context: SinkContext): void {
    if (!this.givenWarn) this.warn = (warning) => context.warn(warning)
  }

  /** tracker.flush(): a row of the totals so far. */
  async flush(record: EmissionsRecord): Promise<void> {
    await this.append(record)
  }

  /** The run's final row. */
  async stop(record: EmissionsRecord): Promise<void> {
    await this.append(record)
  }

  /** Appends one row; false (with a warning) when it could not be written. Never rejects. */
  async append(record: EmissionsRecord): Promise<boolean> {
    try {
      ensureDir(dirname(this.path))
      for (let attempt = 0; ; attempt++) {
        if (!this.verified || !existsSync(this.path)) {
          await this.ensureFile()
          this.verified = true
        }
        try {
          appendWhole(this.path, recordToLine(record, this.eol))
          this.lastFailure = null
          return true
        } catch (error) {
          // Moved away since it was checked (another process migrating it): check the new one, once.
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt > 0) throw error
          this.verified = false
        }
      }
    } catch (error) {
      // Claimed only when true: a partial row that could not be taken back is said by the error itself.
      const untouched = (error as { partialRowLeft?: boolean }).partialRowLeft !== true
      this.lastFailure = whyNotWritten(this.path, error)
      this.warn({
        code: 'CSV_WRITE_FAILED',
        message:
          `Could not write the row to ${this.path}: ${this.lastFailure}.` +
          (untouched
            ? ' The file is as it was; the record is still returned.'
            : ' The record is still returned.'),
      })
      return false
    }
  }

  /**
   * Appends one row without waiting for anything, for a process that is exiting: a missing file is
   * created with its header; an existing one is appended to only when it ends with a complete line under
   * the current header (anything else needs the patient checks of append()). False when not written.
   */
  appendSync(record: EmissionsRecord): boolean {
    try {
      ensureDir(dirname(this.path))
      if (!existsSync(this.path) && !createExclusive(this.path, CSV_HEADER) && !existsSync(this.path)) {
        return false
      }
      const found = inspectCsv(this.path)
      if (found.header !== 'wattprint' || !found.endsWithNewline || !quotesBalanced(this.path)) return false
      appendWhole(this.path, recordToLine(record, found.eol))
      return true
    } catch {
      return false
    }
  }

  private async ensureFile(): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      if (!existsSync(this.path) && createExclusive(this.path, CSV_HEADER)) {
        this.eol = '\n'
        return
      }
      let found: CsvFileState & { changed?: boolean } = inspectCsv(this.path)
      if (found.size === 0 || !found.endsWithNewline) {
        // Another process may be creating the file or appending a row right now: judge the file only once
        // it holds still. A file truncated by a crash stays as it is; a row being written lands at once.
        found = await settled(this.path, found)
        if (found.size === 0) {
          unlinkSync(this.path)
          continue
        }
        if (found.changed) continue
      }
      if (found.header === 'wattprint-legacy' || found.header === 'wattprint-earlier') {
        migrateLegacyCsv(this.path, this.warn)
        continue
      }
      if (found.header === 'wattprint') {
        if (found.endsWithNewline && quotesBalanced(this.path)) {
          this.eol = found.eol
          return
        }
        // An editor saved the file without its final newline after a whole row, or a row was cut off: the
        // line is ended where it stops, and the file checked again. Never moved aside for it.
        const whole = !found.endsWithNewline && endsWithCompleteRow(this.path)
        const ending = endLastLine(this.path, found.eol)
        if (ending !== null && !whole) {
          this.warn({
            code: 'CSV_ROW_CUT',
            message:
              `${this.path} ended in the middle of a row (cut off by a full disk or a crash): that row was ` +
              `ended where it stops (${ending.startsWith('"') ? 'its open quote closed, then ' : ''}a line end ` +
              'added), so readers skip it as one malformed row; every other row is as it was, and new rows follow it.',
          })
        }
        continue
      }
      const backup = backupPath(this.path, new Date())
      renameSync(this.path, backup)
      this.warn({
        code: 'CSV_BACKED_UP',
        message: `${this.path} has a different header: kept as ${backup}, and a new file started.`,
      })
    }
    throw new Error(`${this.path} kept changing while it was checked (5 tries); try again`)
  }
}

/** The sink csvSink makes: a Sink with the file it writes and how its last row went. */
export interface CsvFileSink extends Sink {
  readonly name: 'csv'
  /** The CSV file, as given. */
  readonly path: string
  /** Why the last row could not be written (what its CSV_WRITE_FAILED warning said); null when it was. */
  readonly lastFailure: string | null
}

/** Options of csvSink. */
export interface CsvSinkOptions {
  /**
   * The CSV file (relative to the working folder when a row is written). It is created with its folders
   * and header; an existing one is appended to under the rules of CsvSink (never overwritten).
   */
  readonly path: string
}

/**
 * A CSV file of the run's rows, in the same columns as the tracker's own `emissions.csv`: a row at
 * tracker.flush() and one at stop(). For a second copy of the rows (a per-node file in a shared folder,
 * a file per experiment) beside the tracker's own, which saveToFile writes. Every row is appended whole or
 * not at all; a row that cannot be written is a CSV_WRITE_FAILED warning and the run goes on.
 *
 * ```ts
 * const tracker = new EmissionsTracker({ sinks: [csvSink({ path: `runs/${hostname()}.csv` })] })
 * ```
 */
export function csvSink(options: CsvSinkOptions): CsvFileSink {
  const path = (options as Partial<CsvSinkOptions> | null)?.path
  if (typeof path !== 'string' || path.trim() === '' || path.includes('\0')) {
    throw new WattprintError(
      'INVALID_OPTION',
      `csvSink: path ${show(path)} must be the CSV file to append to (not empty, no NUL byte): for example { path: 'runs/emissions.csv' }.`,
      'path',
    )
  }
  return new CsvSink(path)
}
