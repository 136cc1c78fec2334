import { type SpanInterval, splitInterval } from '../accounting/request-split.js'
import { invalidArgument, show } from '../core/arguments.js'
import type { TrackerWarning } from '../core/warnings.js'
import type { RequestFields, RequestRecord, RequestTotals } from '../model/requests.js'
import { Span, type SpanKeeper } from './span.js'

/** The slot of a span opened while nothing was measured: it is never kept. */
const UNMEASURED = -2

/** What the book needs of its tracker. */
export interface SpanHost {
  readonly runId: string
  /** Whether spans can be measured now (the tracker is starting or running). */
  measuring(): boolean
  /** The first span opened: intervals should now reach the main thread as they close. */
  used(): void
  /** A settled span, for the `request` event and the sinks; absent when nobody listens. */
  readonly onSettled?: (record: RequestRecord) => void
  wantsRecords(): boolean
  warn(warning: TrackerWarning): void
  /** Takes a reading now, so that every interval up to now is accounted. */
  readNow(): void
}

/**
 * The run's request spans: the open ones, the ended ones still waiting for the interval that covers their
 * end, and the totals of the settled ones. Opening and ending a span is O(1) and allocates only the span;
 * the work is done once an interval, when the ledger has accounted it.
 */
export class SpanBook implements SpanKeeper {
  readonly #open: Span[] = []
  #waiting: Span[] = []
  #everUsed = false
  #unmeasured = false
  #requests = 0
  #failedRequests = 0
  #failedJ = 0
  #inputTokens = 0
  #outputTokens = 0
  #items = 0
  #requestJ = 0
  #tokenJ = 0
  #idleJ = 0
  /** Ended spans whose records are awaited, and the handle that keeps the process up for them. */
  #held = 0
  #keepAlive: ReturnType<typeof setInterval> | undefined
  /** The last accounted interval's end, on the spans' clock. */
  #accountedToMs = Number.NEGATIVE_INFINITY
  /** The former names already warned about in this run: a span's end is too hot a path to warn on each. */
  readonly #formerNames = new Set<string>()

  constructor(private readonly host: SpanHost) {}

  get runId(): string {
    return this.host.runId
  }

  /** Whether spans opened now are measured (the tracker is starting or running). */
  get measuring(): boolean {
    return this.host.measuring()
  }

  /** Whether any span was opened in this run. */
  get everUsed(): boolean {
    return this.#everUsed
  }

  /** Opens a span (tracker.request). */
  open(name?: unknown, options?: unknown): Span {
    const spanName = this.#name(name)
    const weight = this.#weight(spanName, options)
    const span = new Span(this, spanName, weight, performance.now())
    if (!this.host.measuring()) {
      if (!this.#unmeasured) {
        this.#unmeasured = true
        this.host.warn({
          code: 'NOT_RUNNING',
          message: `request('${spanName}') on a tracker that is not measuring: such requests get no energy.`,
        })
      }
      span.slot = UNMEASURED
      span.settle()
      return span
    }
    if (!this.#everUsed) {
      this.#everUsed = true
      this.host.used()
    }
    span.slot = this.#open.length
    this.#open.push(span)
    return span
  }

  ended(span: Span): void {
    if (span.slot === UNMEASURED) return
    const last = this.#open.pop()
    if (last && last !== span) {
      this.#open[span.slot] = last
      last.slot = span.slot
    }
    span.slot = -1
    this.#waiting.push(span)
  }

  misuse(message: string): void {
    this.host.warn(invalidArgument(message))
  }

  formerName(message: string): void {
    if (this.#formerNames.has(message)) return
    this.#formerNames.add(message)
    this.host.warn({ code: 'DEPRECATED_OPTION', message })
  }

  readNow(): void {
    if (this.host.measuring()) this.host.readNow()
  }

  hold(): void {
    // The sampler's worker and timers never keep the host up: a script whose last line awaits a span's
    // record would exit before the interval that settles it. One ref'd timer does, while any is awaited.
    if (this.#held++ === 0) this.#keepAlive = setInterval(() => {}, 60_000)
  }

  release(): void {
    if (--this.#held > 0) return
    this.#held = 0
    clearInterval(this.#keepAlive)
    this.#keepAlive = undefined
  }

  /** Splits one accounted interval among the spans it covers and settles those that ended in it. */
  account(interval: SpanInterval): void {
    this.#accountedToMs = interval.endMs
    if (!this.#everUsed) return
    const overlapping = this.#waiting.length === 0 ? this.#open : [...this.#open, ...this.#waiting]
    this.#idleJ += splitInterval(overlapping, interval)
    if (this.#waiting.length === 0) return
    const still: Span[] = []
    for (const span of this.#waiting) {
      if (span.endMs <= interval.endMs) this.#settle(span)
      else still.push(span)
    }
    this.#waiting = still
  }

  /**
   * The run has ended (after its final interval): spans still open end where measuring ended, and every
   * span settles with what was accounted. Returns how many were still open.
   */
  finish(): number {
    const open = this.#open.length
    for (const span of [...this.#open]) {
      span.end()
      if (Number.isFinite(this.#accountedToMs)) span.endMs = Math.min(span.endMs, this.#accountedToMs)
    }
    for (const span of this.#waiting) this.#settle(span)
    this.#waiting = []
    return open
  }

  /** The settled requests' totals. */
  totals(): RequestTotals {
    return {
      requests: this.#requests,
      failedRequests: this.#failedRequests,
      failedRequestEnergyJ: this.#failedJ,
      inputTokens: this.#inputTokens,
      outputTokens: this.#outputTokens,
      items: this.#items,
      requestEnergyJ: this.#requestJ,
      tokenEnergyJ: this.#tokenJ,
      idleJ: this.#idleJ,
    }
  }

  #settle(span: Span): void {
    if (span.failed) {
      // A failed call served nothing: its energy was spent, but it is no request, and its tokens no output.
      this.#failedRequests += 1
      this.#failedJ += span.energyJ
      this.#done(span)
      return
    }
    this.#requests += 1
    this.#requestJ += span.energyJ
    this.#inputTokens += span.inputTokens ?? 0
    this.#items += span.items ?? 0
    if (span.outputTokens !== null && span.outputTokens > 0) {
      this.#outputTokens += span.outputTokens
      this.#tokenJ += span.energyJ
    }
    this.#done(span)
  }

  /** The span's record is final: its promise, the `request` event and the sinks. */
  #done(span: Span): void {
    span.settle()
    if (this.host.wantsRecords()) this.host.onSettled?.(span.record())
  }

  #name(name: unknown): string {
    if (name === undefined) return 'request'
    if (typeof name === 'string' && name.trim() !== '') return name
    this.misuse(`request(name): name must be a non-empty string, got ${show(name)}; named 'request'`)
    return 'request'
  }

  #weight(name: string, options: unknown): number {
    if (options === undefined) return 1
    const weight: unknown =
      typeof options === 'object' && options !== null ? (options as { weight?: unknown }).weight : options
    if (weight === undefined) return 1
    if (typeof weight === 'number' && Number.isFinite(weight) && weight > 0) return weight
    this.misuse(
      `request('${name}', { weight }): weight must be a finite number > 0, got ${show(weight)}; weight 1 used`,
    )
    return 1
  }
}

/** The fields of a run that measured no request. */
export const NO_REQUESTS: RequestFields = {
  requests: null,
  failedRequests: null,
  failedRequestEnergyJ: null,
  inputTokens: null,
  outputTokens: null,
  energyPerRequestJ: null,
  energyPerOutputTokenJ: null,
  energyBetweenRequestsJ: null,
}

/** A run's request fields from its book's totals (null: no span was opened). */
export function requestFields(totals: RequestTotals | null): RequestFields {
  if (!totals) return NO_REQUESTS
  return {
    requests: totals.requests,
    failedRequests: totals.failedRequests,
    failedRequestEnergyJ: totals.failedRequestEnergyJ,
    inputTokens: totals.inputTokens,
    outputTokens: totals.outputTokens,
    energyPerRequestJ: totals.requests > 0 ? totals.requestEnergyJ / totals.requests : null,
    energyPerOutputTokenJ: totals.outputTokens > 0 ? totals.tokenEnergyJ / totals.outputTokens : null,
    energyBetweenRequestsJ: totals.idleJ,
  }
}

/**
 * Converts the sampler's process.hrtime.bigint() times to the spans' performance.now() milliseconds.
 * Both count from the same monotonic clock, so one pair read together anchors them for the whole run.
 */
export function spanClock(): (ns: bigint) => number {
  const anchorNs = process.hrtime.bigint()
  const anchorMs = performance.now()
  return (ns) => anchorMs + Number(ns - anchorNs) / 1e6
}
