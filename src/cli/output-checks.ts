import { createWriteStream, type WriteStream } from 'node:fs'
import { dirname } from 'node:path'
import { describeError } from '../errors.js'
import { assertWritableFile, ensureWritableDir, OutputPathError, openForAppend } from '../output-dir.js'
import { printErr } from '../terminal.js'
import { UsageError } from './units.js'

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

/** A JSON-lines file the run appends to; a write that fails is said once on stderr, and the run goes on. */
export class TimelineWriter {
  readonly #stream: WriteStream
  #failed = false

  /** Opens `path` for appending (its folder created), or throws a UsageError naming `flag`. */
  constructor(
    readonly path: string,
    flag = '--timeline',
  ) {
    const fd = usage(
      () => openForAppend(path),
      (problem) => `${flag} ${JSON.stringify(path)} cannot be written: ${problem}.`,
    )
    this.#stream = createWriteStream(path, { fd, flags: 'a' })
    this.#stream.on('error', (error) => {
      if (this.#failed) return
      this.#failed = true
      printErr(
        `wattprint: could not write the timeline ${path}: ${describeError(error)}; the run goes on without it.`,
      )
    })
  }

  /** Appends one value as a JSON line. */
  write(value: unknown): void {
    if (!this.#failed) this.#stream.write(`${JSON.stringify(value)}\n`)
  }

  /** Flushes and closes the file; resolves even when it failed. */
  end(): Promise<void> {
    return new Promise((resolve) => {
      if (this.#failed || this.#stream.destroyed) return resolve()
      this.#stream.once('error', () => resolve())
      this.#stream.end(() => resolve())
    })
  }
}
