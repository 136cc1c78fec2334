import { closeSync } from 'node:fs'
import { dirname } from 'node:path'
import { describeError } from '../../core/errors.js'
import { printErr } from '../../core/terminal.js'
import { appendWholeTo } from '../../output/csv/file.js'
import {
  assertWritableFile,
  ensureWritableDir,
  OutputPathError,
  openForAppend,
} from '../../platform/output-dir.js'
import { UsageError } from '../units.js'

/** Runs a check; an OutputPathError becomes a UsageError (exit 2) worded by `say`, before anything runs. */
function usage<T>(check: () => T, say: (problem: string) => string): T {
  try {
    return check()
  } catch (error) {
    if (!(error instanceof OutputPathError)) throw error
    throw new UsageError(say(error.message))
  }
}

/**
 * Checks that the run's CSV can be written (its folder created and probed, an existing file writable);
 * `flagValue` is what -o said, if it said anything.
 */
export function checkCsvOutput(csvPath: string, flagValue: string | undefined): void {
  usage(
    () => {
      // The folder too, even when the CSV exists: the run's checkpoints are made beside it.
      ensureWritableDir(dirname(csvPath))
      assertWritableFile(csvPath)
    },
    (problem) =>
      flagValue === undefined
        ? `the CSV ${csvPath} cannot be written: ${problem}. Choose another folder with -o <dir>.`
        : `-o ${JSON.stringify(flagValue)} cannot be written: ${problem}.`,
  )
}

/** Checks that `file` can be written (for --html and similar), creating its folder; the file is not made. */
export function checkOutputFile(flag: string, file: string): void {
  usage(
    () => assertWritableFile(file),
    (problem) => `${flag} ${JSON.stringify(file)} cannot be written: ${problem}.`,
  )
}

/**
 * A JSON-lines file the run appends to, a line at a time, each whole or not at all (a write cut off by a
 * full disk is taken back: the next run's first line is never glued to half of one). A write that fails
 * is said once on stderr, and the run goes on without the file.
 */
export class TimelineWriter {
  readonly #fd: number
  #failed = false
  #closed = false

  /** Opens `path` for appending (its folder created), or throws a UsageError naming `flag`. */
  constructor(
    readonly path: string,
    flag = '--timeline',
  ) {
    this.#fd = usage(
      () => openForAppend(path),
      (problem) => `${flag} ${JSON.stringify(path)} cannot be written: ${problem}.`,
    )
  }

  /** Appends one value as a JSON line. */
  write(value: unknown): void {
    if (this.#failed || this.#closed) return
    try {
      appendWholeTo(this.#fd, this.path, `${JSON.stringify(value)}\n`, 'line')
    } catch (error) {
      this.#failed = true
      printErr(
        `wattprint: could not write the timeline ${this.path}: ${describeError(error)}; the run goes on without it.`,
      )
    }
  }

  /** Closes the file; every line is written already. */
  end(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true
      try {
        closeSync(this.#fd)
      } catch {}
    }
    return Promise.resolve()
  }
}
