import { show } from '../core/arguments.js'
import type { TaskRecord } from '../model/record.js'
import type { RequestCounts, RequestRecord } from '../model/requests.js'
import type { SpanBook } from './book.js'

/** A count given as a number, or read from the result once the call is done. */
export type CountOf<T> = number | ((result: T) => number | undefined)

/** Options of measure(): the name, and the counts of the call (as numbers, or from its result). */
export interface MeasureOptions<T> {
  /** Default `measure-N`. */
  readonly name?: string
  /** Its weight among the requests open at the same time (default 1). */
  readonly weight?: number
  /** Input (prompt) tokens. Formerly `tokensIn`, still read, with a `DEPRECATED_OPTION` warning. */
  readonly inputTokens?: CountOf<T>
  /** Output (generated) tokens. Formerly `tokensOut`, still read, with a `DEPRECATED_OPTION` warning. */
  readonly outputTokens?: CountOf<T>
  /** Items served: the batch size of an inference call, images classified … */
  readonly items?: CountOf<T>
  /** @deprecated use inputTokens (the same count). */
  readonly tokensIn?: CountOf<T>
  /** @deprecated use outputTokens (the same count). */
  readonly tokensOut?: CountOf<T>
}

/** What measure() returns. */
export interface Measured<T> {
  /** What the measured function returned (awaited). */
  readonly result: T
  /** The machine's (or with attribution, the job's) energy from the call's start to its end. */
  readonly task: TaskRecord | undefined
  /** The call's share as a request: what it cost beside the calls running at the same time. */
  readonly request: RequestRecord | undefined
}

type RunTask = <T>(
  fn: () => T | Promise<T>,
  name?: string,
) => Promise<{ result: T; task: TaskRecord | undefined }>

/**
 * Runs `fn` both as a task (its start and end read the meters, so a lone call's figures are exact at
 * once) and as a request span, whose record is settled by the task's closing reading.
 */
export async function measureCall<T>(
  spans: SpanBook,
  runTask: RunTask,
  fn: () => T | Promise<T>,
  nameOrOptions: string | MeasureOptions<T> | undefined,
  warn: (message: string) => void,
): Promise<Measured<T>> {
  const options: MeasureOptions<T> =
    typeof nameOrOptions === 'object' && nameOrOptions !== null
      ? nameOrOptions
      : { name: nameOrOptions as string | undefined }
  let request: RequestRecord | undefined
  let span: ReturnType<SpanBook['open']> | undefined
  const inputTokens = tokenOption(spans, options, 'inputTokens', 'tokensIn')
  const outputTokens = tokenOption(spans, options, 'outputTokens', 'tokensOut')
  const counted = (result: T): RequestCounts => ({
    inputTokens: countOf(inputTokens, result, 'inputTokens', warn),
    outputTokens: countOf(outputTokens, result, 'outputTokens', warn),
    items: countOf(options.items, result, 'items', warn),
  })
  // A bad name is the task's warning already; the span goes by the default then.
  const spanName = typeof options.name === 'string' && options.name.trim() !== '' ? options.name : 'measure'
  const weight = options.weight === undefined ? undefined : { weight: options.weight }
  const call =
    typeof fn !== 'function'
      ? fn
      : async (): Promise<T> => {
          // Not measuring: the task's warning says so, and there is no request to give (not one of 0 J).
          if (!spans.measuring) return fn()
          const opened = spans.open(spanName, weight)
          span = opened
          try {
            const result = await fn()
            opened.end(counted(result))
            return result
          } catch (error) {
            // A call that threw served nothing: its span is counted apart, as failed.
            opened.end({ failed: true })
            throw error
          }
        }
  const { result, task } = await runTask(call as () => T | Promise<T>, options.name)
  if (span?.isSettled) request = span.record()
  return { result, task, request }
}

/**
 * A token count option of measure(), under its name or its former one (deprecated: a warning once per run;
 * when both are given and differ, the name's, with a warning naming both).
 */
function tokenOption<T>(
  spans: Pick<SpanBook, 'formerName' | 'misuse'>,
  options: MeasureOptions<T>,
  key: 'inputTokens' | 'outputTokens',
  former: 'tokensIn' | 'tokensOut',
): CountOf<T> | undefined {
  const count = options[key]
  const old = options[former]
  if (old === undefined) return count
  spans.formerName(
    `measure()'s ${former} is deprecated: it is now ${key} (the same count), as in the record and the ` +
      `CSV; ${former} is still read.`,
  )
  if (count === undefined) return old
  if (count !== old)
    spans.misuse(
      `measure() was given ${key} ${show(count)} and ${former} ${show(old)}, its former name: ${key} is ` +
        `taken; give ${key} only`,
    )
  return count
}

function countOf<T>(
  count: CountOf<T> | undefined,
  result: T,
  key: string,
  warn: (message: string) => void,
): number | undefined {
  if (typeof count !== 'function') return count
  try {
    return count(result)
  } catch (error) {
    warn(`measure(): the ${key} function threw (${show(error)}); left out`)
    return undefined
  }
}
