import { closeSync } from 'node:fs'
import { show } from '../core/arguments.js'
import { describeError, WattprintError } from '../core/errors.js'
import { printableJson } from '../core/text.js'
import type { SampleEvent } from '../model/events.js'
import type { EmissionsRecord } from '../model/record.js'
import { openForAppend } from '../platform/output-dir.js'
import { appendWholeTo } from './csv/file.js'
import type { Sink, SinkContext } from './sink.js'

/** Options of jsonlSink. */
export interface JsonlSinkOptions {
  /**
   * The file to append to (relative to the working folder when the run starts). It is created with its
   * missing folders; an existing file, or a device such as /dev/stdout, is appended to as it is.
   */
  readonly path: string
  /**
   * Also append the run's final record, at stop, as one last line `{"record": {…}}` (it has no `powerW`,
   * so `wattprint report --timeline` skips it). Default false: interval lines only, as
   * `wattprint run --timeline` writes.
   */
  readonly record?: boolean
  /**
   * Called, instead of the tracker's SINK_FAILED warning, when the file cannot be opened or a line cannot
   * be written (whatever it throws is ignored). Either way the sink writes nothing more for that run.
   */
  readonly onError?: (error: unknown) => void
}

/** A JSON-lines sink, with what it has written. */
export interface JsonlSink extends Sink {
  readonly name: 'jsonl'
  /** The file, as given. */
  readonly path: string
  /** Lines appended so far (by this sink, over every run it was given to). */
  readonly lines: number
  /** Whether the latest run's file could not be opened or written: it then writes nothing more. */
  readonly failed: boolean
}

/**
 * One JSON line of `value`: JSON.stringify's, which escapes every control character (CR, LF, ESC …), with
 * the characters it leaves as they are but a terminal or a line splitter would act on (C1 controls such as
 * NEL and CSI, bidirectional overrides, U+2028 and U+2029, invisible ones) written as `\uXXXX` escapes too,
 * so that no text can end a line, reorder it or hide in it; every JSON reader reads the same value back.
 */
const lineOf = (value: unknown): string => `${printableJson(JSON.stringify(value))}\n`

/**
 * Appends every interval of a run to a JSON-lines file, one line each, as `wattprint run --timeline` does
 * (the same lines: the `sample` event's fields, `seq`, `timestamp`, `elapsedS`, `powerW`, cumulative
 * `energyKWh` and `emissionsKg` …), for charts (`wattprint report --html … --timeline file`), jq or
 * pandas. Each line is appended whole or not at all: a write cut off by a full disk is taken back, so the
 * next run's first line is never glued to half of one. The file is opened when the run starts (or at its
 * first interval, if sooner) and closed when it stops. Nothing it does throws into the run: a file that
 * cannot be opened or written becomes one warning (SINK_FAILED) and the run goes on without the file.
 *
 * ```ts
 * const tracker = new EmissionsTracker({ sinks: [jsonlSink({ path: 'runs/timeline.jsonl' })] })
 * ```
 */
export function jsonlSink(options: JsonlSinkOptions): JsonlSink {
  if (typeof options !== 'object' || options === null || typeof options.path !== 'string') {
    throw new WattprintError(
      'INVALID_OPTION',
      `jsonlSink: path ${show((options as Partial<JsonlSinkOptions> | null)?.path)} must be the file to append to: for example { path: 'timeline.jsonl' }.`,
      'path',
    )
  }
  if (options.onError !== undefined && typeof options.onError !== 'function') {
    throw new WattprintError(
      'INVALID_OPTION',
      `jsonlSink: onError ${show(options.onError)} must be a function.`,
      'onError',
    )
  }
  const { path, onError } = options
  const withRecord = options.record === true
  let context: SinkContext | undefined
  /** A failure before start() gave the context to report it through: reported at start. */
  let unreported: unknown
  let fd: number | undefined
  /** `open` while lines are appended; `failed` once this run's file failed; `stopped` between runs. */
  let phase: 'idle' | 'open' | 'failed' | 'stopped' = 'idle'
  let failed = false
  let lines = 0

  const close = () => {
    if (fd === undefined) return
    try {
      closeSync(fd)
    } catch {}
    fd = undefined
  }
  const report = (error: unknown) => {
    if (onError) {
      try {
        onError(error)
      } catch {}
    } else if (context) {
      context.warn({
        code: 'SINK_FAILED',
        message: `The jsonl sink could not write ${show(path)}: ${describeError(error)}; the run goes on without the file.`,
      })
    } else unreported = error
  }
  const fail = (error: unknown) => {
    phase = 'failed'
    failed = true
    close()
    report(error)
  }
  /** Opens the file for a run, once: not again after it failed in that run. */
  const open = () => {
    if (phase !== 'idle' && phase !== 'stopped') return
    failed = false
    try {
      fd = openForAppend(path)
      phase = 'open'
    } catch (error) {
      fail(error)
    }
  }
  const append = (value: unknown) => {
    if (phase !== 'open' || fd === undefined) return
    try {
      appendWholeTo(fd, path, lineOf(value), 'line')
      lines += 1
    } catch (error) {
      fail(error)
    }
  }

  return {
    name: 'jsonl',
    path,
    get lines() {
      return lines
    },
    get failed() {
      return failed
    },
    start(given: SinkContext) {
      context = given
      if (unreported !== undefined) {
        const error = unreported
        unreported = undefined
        report(error)
      }
      // Opened already when an interval closed before start() was called.
      open()
    },
    sample(event: SampleEvent) {
      // An interval that closes before start() is not lost: the file opens for it.
      open()
      append(event)
    },
    stop(record: EmissionsRecord) {
      if (withRecord) append({ record })
      close()
      phase = 'stopped'
    },
  }
}
