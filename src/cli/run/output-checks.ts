import { closeSync } from 'node:fs'
import { dirname } from 'node:path'
import { describeError } from '../../core/errors.js'
import { printErr } from '../../core/terminal.js'
import { jsonlSink } from '../../output/jsonl.js'
import type { Sink } from '../../output/sink.js'
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
 * Checks that the --timeline file can be appended to, before the command runs: it is opened for appending
 * (its folder, and the file, created) and closed; the run's jsonlSink opens it again when the run starts.
 * Throws a UsageError naming `flag`.
 */
export function checkTimelineFile(path: string, flag = '--timeline'): void {
  const fd = usage(
    () => openForAppend(path),
    (problem) => `${flag} ${JSON.stringify(path)} cannot be written: ${problem}.`,
  )
  try {
    closeSync(fd)
  } catch {}
}

/**
 * The sink of `wattprint run --timeline`: every interval appended as a JSON line (jsonlSink). A write that
 * fails is said once on stderr, -q or not, and the run goes on without the file.
 */
export function timelineSink(path: string): Sink {
  return jsonlSink({
    path,
    onError: (error) =>
      printErr(
        `wattprint: could not write the timeline ${path}: ${describeError(error)}; the run goes on without it.`,
      ),
  })
}
