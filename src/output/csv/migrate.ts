import { readFileSync, renameSync } from 'node:fs'
import type { TrackerWarning } from '../../core/warnings.js'
import { appendWhole, backupPath, createExclusive, inspectCsv } from './file.js'
import { CSV_COLUMNS, type CsvColumn, formatCsvLine, rowToLine } from './format.js'
import { parseEmissionsCsv } from './read.js'

/** Rows of an old-header file as lines under the current header (python_version, codecarbon_version empty). */
const migratedLines = (rows: readonly Record<string, string>[], eol: string): string =>
  rows.map((row) => rowToLine(row as Partial<Record<CsvColumn, string>>, eol)).join('')

/**
 * Rewrites a file under wattprint 0.1's first header, or an earlier one (see isEarlierHeader), (node_version and wattprint_version where CodeCarbon
 * has python_version and codecarbon_version) under the current one, keeping the original as a backup.
 *
 * The file is first claimed by renaming it, so that of several processes only one migrates it; the others
 * find no file and start one with the current header, and the claimant then appends the old rows to that
 * one instead of replacing it. The new file appears in one step (hard-linked into place). Rows a writer
 * appended to the old file while it was read are carried over too. Nothing is deleted: the old file ends
 * as `<name>.backup-<time>.csv`. Throws on an I/O failure (the caller warns), with the rows still in the
 * claimed file, which the message names.
 */
export function migrateLegacyCsv(path: string, warn: (warning: TrackerWarning) => void): void {
  const claim = `${path}.migrating-${process.pid}-${Math.random().toString(36).slice(2)}`
  try {
    renameSync(path, claim)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return // another process claimed it
    throw error
  }
  try {
    const { eol } = inspectCsv(claim)
    const first = parseEmissionsCsv(readFileSync(claim))
    const lines = migratedLines(first.rows, eol)
    if (!createExclusive(path, formatCsvLine(CSV_COLUMNS, eol) + lines)) {
      // Another process started a new file meanwhile: the old rows go after its rows, under its header.
      const found = inspectCsv(path)
      if (found.header !== 'wattprint' || !found.endsWithNewline) {
        throw new Error(`${path} was replaced by another file while it was migrated`)
      }
      appendWhole(path, lines)
    }
    const later = parseEmissionsCsv(readFileSync(claim)).rows.slice(first.rows.length)
    if (later.length > 0) appendWhole(path, migratedLines(later, eol))
    const backup = backupPath(path, new Date())
    renameSync(claim, backup)
    const skipped = first.malformed > 0 ? ` (${first.malformed} malformed row(s) left out)` : ''
    const which =
      first.format === 'wattprint-legacy'
        ? "wattprint's first header (node_version and wattprint_version in the places of CodeCarbon's " +
          'python_version and codecarbon_version)'
        : 'an earlier wattprint header (without the columns added since, which are left empty)'
    warn({
      code: 'CSV_MIGRATED',
      message:
        `${path} had ${which}: its ${first.rows.length + later.length} ` +
        `row(s) were rewritten under the current header${skipped}; the original is kept as ${backup}.`,
    })
  } catch (error) {
    throw new Error(
      `could not migrate it to the current header (${(error as Error).message}); its rows are in ${claim}`,
    )
  }
}
