import { show } from '../core/arguments.js'
import { WattprintError } from '../core/errors.js'
import type { SampleEvent } from '../model/events.js'
import type { EmissionsRecord } from '../model/record.js'
import type { RequestRecord } from '../model/requests.js'
import type { Sink, SinkContext } from './sink.js'

/** The default bounds of a memorySink: what it keeps at most of each kind, the oldest dropped first. */
const DEFAULT_MAX_SAMPLES = 10_000
const DEFAULT_MAX_REQUESTS = 10_000
const DEFAULT_MAX_RECORDS = 1000

/** Options of memorySink. */
export interface MemorySinkOptions {
  /**
   * The most interval events kept; past it the oldest is dropped for each new one and counted in
   * `droppedSamples`. Default 10,000 (2 h 46 min at the default 1 s interval). `Infinity` keeps every one,
   * and a long run then grows memory without limit.
   */
  readonly maxSamples?: number
  /** The most request records kept, the oldest dropped first (`droppedRequests`). Default 10,000. */
  readonly maxRequests?: number
  /** The most final records kept when the sink is given to run after run (`droppedRecords`). Default 1000. */
  readonly maxRecords?: number
}

/** Who the latest run is, as the tracker told the sink at start. */
export interface MemorySinkRun {
  /** The project the run belongs to (option `projectName`). */
  readonly projectName: string
  /** The experiment the run belongs to (option `experimentId`); empty when none was given. */
  readonly experimentId: string
  /** The run's id (option `runId`). */
  readonly runId: string
  /** The PUE the run's energy figures include (option `pue`). */
  readonly pue: number
}

/** A sink that keeps what it is given in memory, for tests and notebooks: see memorySink(). */
export interface MemorySink extends Sink {
  readonly name: 'memory'
  /** `idle` until a run starts, `running` while one measures, `stopped` once it gave its final record. */
  readonly state: 'idle' | 'running' | 'stopped'
  /** The latest run's identity and PUE, from its start; undefined before any run started. */
  readonly run: MemorySinkRun | undefined
  /**
   * Every interval event kept, oldest first (at most `maxSamples`): each carries the run's cumulative
   * energy and emissions so far, and the interval's power.
   */
  readonly samples: readonly SampleEvent[]
  /** How many interval events were dropped, oldest first, to keep within `maxSamples`. */
  readonly droppedSamples: number
  /** Every request record kept, in the order they settled (at most `maxRequests`). */
  readonly requests: readonly RequestRecord[]
  /** How many request records were dropped to keep within `maxRequests`. */
  readonly droppedRequests: number
  /** The final record of every run the sink was given to, in order (at most `maxRecords`). */
  readonly records: readonly EmissionsRecord[]
  /** How many final records were dropped to keep within `maxRecords`. */
  readonly droppedRecords: number
  /**
   * The latest run's final record (the one `tracker.stop()` resolves with), once it stopped; undefined
   * before and while it measures.
   */
  readonly finalRecord: EmissionsRecord | undefined
  /**
   * Forgets every interval, request and record kept, the final record and the counts of dropped ones; a
   * run still measuring goes on filling the sink from there.
   */
  reset(): void
}

/**
 * A list that keeps its last `max` items, in order, and counts those it dropped: a ring, so that keeping
 * one more costs the same however long the run. Its array is made once per change, when asked for.
 */
class Kept<T> {
  #items: T[] = []
  /** Where the oldest item is once the ring is full. */
  #head = 0
  #dropped = 0
  #view: readonly T[] | undefined

  constructor(private readonly max: number) {}

  add(item: T): void {
    this.#view = undefined
    if (this.#items.length < this.max) {
      this.#items.push(item)
      return
    }
    this.#dropped += 1
    if (this.max === 0) return
    this.#items[this.#head] = item
    this.#head = (this.#head + 1) % this.max
  }

  get items(): readonly T[] {
    this.#view ??= Object.freeze([...this.#items.slice(this.#head), ...this.#items.slice(0, this.#head)])
    return this.#view
  }

  get dropped(): number {
    return this.#dropped
  }

  clear(): void {
    this.#items = []
    this.#head = 0
    this.#dropped = 0
    this.#view = undefined
  }
}

/** A bound as given, or its default; a bad one throws, as a bad option does, before any run. */
function bound(options: MemorySinkOptions, name: keyof MemorySinkOptions, fallback: number): number {
  const value = options[name]
  if (value === undefined) return fallback
  if (
    typeof value !== 'number' ||
    !(value === Number.POSITIVE_INFINITY || (Number.isInteger(value) && value >= 0))
  ) {
    throw new WattprintError(
      'INVALID_OPTION',
      `memorySink: ${name} ${show(value)} must be a whole number from 0 up, or Infinity to keep every one: for example ${fallback}.`,
      name,
    )
  }
  return value
}

/**
 * Keeps, in memory, what a tracker hands its sinks: every interval event (`samples`), every request record
 * (`requests`) and each run's final record (`records`, the latest as `finalRecord`), as OpenTelemetry's
 * in-memory exporters keep what they are given, for tests, notebooks and programs that want the figures
 * without a file. Bounded: past `maxSamples` (default 10,000) the oldest interval is dropped for each new
 * one and counted in `droppedSamples`; requests and records likewise. Nothing it does throws into the
 * run. The sink interface carries no warnings: listen to the tracker's `warning` event for those.
 *
 * ```ts
 * const memory = memorySink()
 * const tracker = new EmissionsTracker({ sinks: [memory] })
 * await tracker.start()
 * // … the work …
 * const record = await tracker.stop()
 * memory.finalRecord === record // true
 * memory.samples.at(-1)?.powerW.total
 * ```
 */
export function memorySink(options: MemorySinkOptions = {}): MemorySink {
  if (typeof options !== 'object' || options === null)
    throw new WattprintError('INVALID_OPTION', `memorySink: options ${show(options)} must be an object.`)
  const samples = new Kept<SampleEvent>(bound(options, 'maxSamples', DEFAULT_MAX_SAMPLES))
  const requests = new Kept<RequestRecord>(bound(options, 'maxRequests', DEFAULT_MAX_REQUESTS))
  const records = new Kept<EmissionsRecord>(bound(options, 'maxRecords', DEFAULT_MAX_RECORDS))
  let state: MemorySink['state'] = 'idle'
  let run: MemorySinkRun | undefined
  let finalRecord: EmissionsRecord | undefined
  return {
    name: 'memory',
    get state() {
      return state
    },
    get run() {
      return run
    },
    get samples() {
      return samples.items
    },
    get droppedSamples() {
      return samples.dropped
    },
    get requests() {
      return requests.items
    },
    get droppedRequests() {
      return requests.dropped
    },
    get records() {
      return records.items
    },
    get droppedRecords() {
      return records.dropped
    },
    get finalRecord() {
      return finalRecord
    },
    start(context: SinkContext) {
      state = 'running'
      finalRecord = undefined
      run = Object.freeze({
        projectName: context.projectName,
        experimentId: context.experimentId,
        runId: context.runId,
        pue: context.pue,
      })
    },
    sample(event: SampleEvent) {
      samples.add(event)
    },
    request(record: RequestRecord) {
      requests.add(record)
    },
    stop(record: EmissionsRecord) {
      state = 'stopped'
      finalRecord = record
      records.add(record)
    },
    reset() {
      samples.clear()
      requests.clear()
      records.clear()
      finalRecord = undefined
    },
  }
}
