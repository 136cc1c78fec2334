import type { TrackerWarning } from '../core/warnings.js'
import { warnThrough } from '../core/warnings.js'
import type { RequestCounts, RequestEnd } from '../model/requests.js'
import type { RequestSpan } from '../requests/span.js'
import type { InferenceOptions, SpanOpener } from './inference-options.js'

/** A span whose methods never throw: a broken tracker loses the measurement, never the user's call. */
export interface SafeSpan {
  firstToken(): void
  end(counts: RequestEnd): void
}

/** The messages already said, by the tracker (or opener) they were said through. */
const warned = new WeakMap<object, Set<string>>()

/**
 * Says a warning through the tracker the integration was given (its `warning` event and its stderr line,
 * as the tracker's own warnings), once per distinct message and tracker: wrappers run per call, a warning
 * must not flood. Code `INTEGRATION_FAILED` unless another is given.
 */
export function warnOnce(
  tracker: object,
  message: string,
  code: TrackerWarning['code'] = 'INTEGRATION_FAILED',
): void {
  let said = warned.get(tracker)
  if (!said) {
    said = new Set()
    warned.set(tracker, said)
  }
  if (said.has(message)) return
  said.add(message)
  if (warnThrough(tracker, { code, message })) return
  // An opener that is no EmissionsTracker (a test's fake, an object of the user's that opens spans) has
  // no warning channel of wattprint's to report through: the process's own is the one left.
  try {
    process.emitWarning(`wattprint: ${message}`, { code })
  } catch {
    // nothing left to tell
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** Opens a span on `tracker` and hands it to the caller, made safe; calls onRecord when it settles. */
export function openSpan(tracker: SpanOpener, fallbackName: string, options: InferenceOptions): SafeSpan {
  let span: RequestSpan | null = null
  try {
    const weight = options.weight === undefined ? undefined : { weight: options.weight }
    span = tracker.request(options.name ?? fallbackName, weight)
  } catch (error) {
    warnOnce(
      tracker,
      `could not open a request span for ${fallbackName} (${describe(error)}); the call runs unmeasured.`,
    )
  }
  let ended = false
  let marked = false // the first token only: a runtime streams many, the span needs one
  return {
    firstToken() {
      if (!span || ended || marked) return
      marked = true
      try {
        span.firstToken()
      } catch (error) {
        warnOnce(tracker, `a request span's firstToken() failed: ${describe(error)}`)
      }
    },
    end(counts) {
      if (!span || ended) return
      ended = true
      try {
        span.end(counts)
        const { onRecord } = options
        if (onRecord) {
          span.settled.then(
            (record) => {
              try {
                onRecord(record)
              } catch (error) {
                warnOnce(tracker, `onRecord threw: ${describe(error)}`)
              }
            },
            () => {},
          )
        }
      } catch (error) {
        warnOnce(tracker, `a request span's end() failed: ${describe(error)}`)
      }
    },
  }
}

/**
 * Runs `call` inside a span and ends the span with `counts()` whether the call resolves or throws, as
 * failed when it throws (a failed call is no request served: it is counted apart, its energy too); the
 * call's result is returned unchanged and its error rethrown. `counts` runs guarded: a count that cannot
 * be read is left out, not thrown.
 */
export async function measured<T>(
  tracker: SpanOpener,
  fallbackName: string,
  options: InferenceOptions,
  call: (span: SafeSpan) => Promise<T> | T,
  counts: () => RequestCounts,
): Promise<T> {
  const span = openSpan(tracker, fallbackName, options)
  const finish = (failed: boolean) => {
    let read: RequestCounts = {}
    try {
      read = counts()
    } catch (error) {
      warnOnce(tracker, `could not count the tokens or items of ${fallbackName}: ${describe(error)}`)
    }
    span.end(failed ? { ...read, failed } : read)
  }
  try {
    const result = await call(span)
    finish(false)
    return result
  } catch (error) {
    finish(true)
    throw error
  }
}

/**
 * `target` seen through a proxy where `overrides` replace some members; every other method is bound to
 * the target, so classes with private fields (`#x`) keep working through the proxy.
 */
export function withOverrides<T extends object>(
  target: T,
  overrides: Partial<Record<PropertyKey, unknown>>,
  apply?: (args: unknown[], thisArg: unknown) => unknown,
): T {
  const bound = new WeakMap<object, unknown>()
  const handler: ProxyHandler<T> = {
    get(object, property) {
      if (Object.hasOwn(overrides, property)) return overrides[property]
      const value: unknown = Reflect.get(object, property, object)
      if (typeof value !== 'function') return value
      // One bound copy per method, so that `proxy.method === proxy.method` holds as it does on the target.
      let method = bound.get(value)
      if (method === undefined) {
        method = (value as (...args: unknown[]) => unknown).bind(object)
        bound.set(value, method)
      }
      return method
    },
  }
  if (apply) handler.apply = (_object, thisArg, args) => apply(args, thisArg)
  return new Proxy(target, handler)
}
