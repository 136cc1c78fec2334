import { dirname, join } from 'node:path'
import { describeError } from '../core/errors.js'
import type { TrackerWarning } from '../core/warnings.js'
import type { EmissionsRecord } from '../model/record.js'
import { keptRowFolders } from '../platform/state-dir.js'
import { CHECKPOINT_DIR, removeCheckpoint, writeCheckpoint } from './checkpoint.js'

/** The run a keeper saves: its id, and the CSV its row belongs to. */
export interface KeptRun {
  readonly runId: string
  readonly outputDir: string
  readonly outputFile: string
}

/**
 * Keeps a run's checkpoint where it can be written: `<outputDir>/.wattprint`, else the user's kept-row
 * folders (keptRowFolders), saying so once. Every message names a file only once it was written.
 */
export class CheckpointKeeper {
  /** Where checkpoints may go, best first; filled at the first save. */
  #folders: readonly string[] = []
  /** The folder in use: it only moves on when one fails. */
  #folderAt = 0
  /** The checkpoint file last written, removed once the row is in the CSV. */
  #file: string | undefined
  /**
   * Older checkpoints of the run that could not be removed when it moved on (their folder had become
   * unwritable): removed as soon as they can be, at every save, so that recovery never finds them.
   */
  readonly #stale = new Set<string>()
  #lostWarned = false

  constructor(
    private readonly run: KeptRun,
    private readonly warn: (warning: TrackerWarning) => void,
  ) {}

  /** Where the row belongs. */
  get csvPath(): string {
    return join(this.run.outputDir, this.run.outputFile)
  }

  /** Writes the checkpoint; the file written, or null (warned once). Never throws. */
  save(final: boolean, record: EmissionsRecord): string | null {
    if (this.#folders.length === 0) {
      this.#folders = [join(this.run.outputDir, CHECKPOINT_DIR), ...keptRowFolders()]
    }
    // Only these fields: the run object may be a larger one (the tracker's config holds secrets).
    const { runId, outputDir, outputFile } = this.run
    const content = { runId, outputDir, outputFile, final, record }
    const failures: string[] = []
    const failing = this.#folders[this.#folderAt]
    for (let i = this.#folderAt; i < this.#folders.length; i++) {
      let path: string
      try {
        path = writeCheckpoint(this.#folders[i] as string, content)
      } catch (error) {
        failures.push(describeError(error))
        continue
      }
      // Moved on: the older checkpoint goes, so that recovery never finds the run twice.
      if (this.#file && this.#file !== path) this.#stale.add(this.#file)
      this.#file = path
      this.#removeStale()
      if (i !== this.#folderAt) {
        this.#folderAt = i
        this.warn({
          code: 'CHECKPOINT_FAILED',
          message:
            `Cannot write the run's checkpoint in ${failing}: ${failures[0]}. It is kept in ${path} ` +
            'instead; if the CSV cannot be written either, the row stays there, and `wattprint recover` ' +
            `appends it to ${this.csvPath} once that can be written.`,
        })
      }
      return path
    }
    if (!this.#lostWarned) {
      this.#lostWarned = true
      this.warn({
        code: 'CHECKPOINT_FAILED',
        message: `Could not save the run's checkpoint anywhere (${failures.join('; ')}). A killed process would lose its row.`,
      })
    }
    return null
  }

  /** The row is in the CSV: the checkpoint goes, and any older one still there. */
  drop(): void {
    if (this.#file) this.#stale.add(this.#file)
    this.#file = undefined
    this.#removeStale()
  }

  #removeStale(): void {
    for (const file of this.#stale) if (removeCheckpoint(file)) this.#stale.delete(file)
  }

  /** The CSV could not take the final row: keep it in a checkpoint, and say where (or that it is lost). */
  keepRow(record: EmissionsRecord): void {
    const path = this.save(true, record)
    const recover =
      path && dirname(path) === this.#folders[0]
        ? `\`wattprint recover ${this.run.outputDir}\``
        : '`wattprint recover` (no folder needed)'
    this.warn({
      code: 'CSV_WRITE_FAILED',
      message: path
        ? `The row is kept in ${path}; the next tracker on ${this.run.outputDir}, or ${recover}, ` +
          `appends it to ${this.csvPath} once that can be written.`
        : 'The row could not be saved anywhere: it is only in the record stop() returned.',
    })
  }
}
