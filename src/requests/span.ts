import { show } from '../core/arguments.js'
import type { RequestCounts, RequestEnd, RequestRecord } from '../model/requests.js'

/** A request being measured: what `tracker.request()` returns. */
export interface RequestSpan {
  /** The span's name. */
  readonly name: string
  /** Marks the first output token: energy before it is prefill, after it decode. Only the first call counts. */
  firstToken(): void
  /** Ends the span with its counts (and a new name) and returns it. A second end() is a warning, ignored. */
  end(counts?: RequestEnd): RequestSpan
  /** Resolves with the record once the intervals the span covers are accounted; never rejects. */
  readonly settled: Promise<RequestRecord>
  /**
   * Reads the meters now and returns the energy charged to the span so far, J, PUE included: for a
   * response header. It blocks for the reading (a fraction of a millisecond; at most 250 ms when the
   * sampler hangs), so it is for when the figure is wanted at once; `settled` costs nothing.
   */
  energySoFarJ(): number
}

/** What a span needs of the book that keeps it. */
export interface SpanKeeper {
  readonly runId: string
  /** Called by end(): the span leaves the open list and waits for its last interval. */
  ended(span: Span): void
  /** A problem with the caller's input; never thrown. */
  misuse(message: string): void
  /** A former name used (`tokensIn`): a `DEPRECATED_OPTION` warning, once per run for each message. */
  formerName(message: string): void
  /** Accounts every interval up to now. */
  readNow(): void
  /** Someone awaits an ended span's record: the process must stay up until it settles. */
  hold(): void
  /** That record settled. */
  release(): void
}

const perUnit = (joules: number | null, count: number | null): number | null =>
  joules !== null && count !== null && count > 0 ? joules / count : null

const iso = (perfMs: number): string => new Date(performance.timeOrigin + perfMs).toISOString()

/**
 * One request, from `tracker.request()` to `end()`. Its energy is its share of each interval it overlaps:
 * the interval's energy is split at every instant among the spans open then (by weight), so the spans'
 * energies and the time no span was open add up to what was measured. Holds numbers only; the record is
 * made when asked for.
 */
export class Span implements RequestSpan {
  /** Opened, in performance.now() milliseconds. */
  readonly startMs: number
  /** Ended, in performance.now() milliseconds; Infinity while open. */
  endMs = Number.POSITIVE_INFINITY
  /** firstToken(), in performance.now() milliseconds; NaN until called. */
  firstTokenMs = Number.NaN
  /** Position in the book's open list (kept by the book, for O(1) removal). */
  slot = -1
  /** Accounted so far, J with PUE: in all, before firstToken(), and by component. */
  energyJ = 0
  prefillJ = 0
  cpuJ = 0
  gpuJ = 0
  ramJ = 0
  emissionsKg = 0
  inputTokens: number | null = null
  outputTokens: number | null = null
  items: number | null = null
  /** Ended as failed: counted apart from the requests served. */
  failed = false
  /** True once every interval up to endMs is accounted. */
  isSettled = false
  #resolve: ((record: RequestRecord) => void) | undefined
  #settled: Promise<RequestRecord> | undefined
  /** Whether this span keeps the process up (its record is awaited and it has ended). */
  #holding = false

  constructor(
    private readonly keeper: SpanKeeper,
    /** The span's name. */
    public name: string,
    /** Its weight among the spans open at the same instants. */
    readonly weight: number,
    startMs: number,
  ) {
    this.startMs = startMs
  }

  /** Whether end() was called. */
  get ended(): boolean {
    return this.endMs !== Number.POSITIVE_INFINITY
  }

  /** Marks the first output token: energy before it is prefill, after it decode. Only the first call counts. */
  firstToken(): void {
    if (Number.isNaN(this.firstTokenMs) && !this.ended) this.firstTokenMs = performance.now()
  }

  /** Ends the span with its counts and returns it. A second end() is a warning and changes nothing. */
  end(counts?: RequestEnd): this {
    if (this.ended) {
      this.keeper.misuse(`request '${this.name}' was ended twice; the second end() is ignored`)
      return this
    }
    this.endMs = performance.now()
    if (counts !== undefined) this.#take(counts)
    this.keeper.ended(this)
    if (this.#resolve) this.#hold()
    return this
  }

  energySoFarJ(): number {
    if (!this.isSettled) this.keeper.readNow()
    return this.energyJ
  }

  /** Resolves with the record once the intervals the span covers are accounted; never rejects. */
  get settled(): Promise<RequestRecord> {
    if (this.isSettled) return Promise.resolve(this.record())
    this.#settled ??= new Promise((resolve) => {
      this.#resolve = resolve
    })
    // Awaited once ended: nothing else need keep the process up until the next interval settles it.
    if (this.ended) this.#hold()
    return this.#settled
  }

  /** The book accounted the span's last interval. */
  settle(): void {
    this.isSettled = true
    this.#resolve?.(this.record())
    this.#resolve = undefined
    if (this.#holding) {
      this.#holding = false
      this.keeper.release()
    }
  }

  #hold(): void {
    if (this.#holding || this.isSettled) return
    this.#holding = true
    this.keeper.hold()
  }

  /** The span's record as accounted so far. */
  record(): RequestRecord {
    const end = this.ended ? this.endMs : performance.now()
    const split = !Number.isNaN(this.firstTokenMs)
    const prefill = split ? this.prefillJ : null
    const decode = split ? this.energyJ - this.prefillJ : null
    return {
      name: this.name,
      failed: this.failed,
      runId: this.keeper.runId,
      startedAt: iso(this.startMs),
      endedAt: iso(end),
      durationS: Math.max(0, end - this.startMs) / 1000,
      energyJ: this.energyJ,
      energyJByComponent: { cpu: this.cpuJ, gpu: this.gpuJ, ram: this.ramJ },
      emissionsKg: this.emissionsKg,
      prefillEnergyJ: prefill,
      decodeEnergyJ: decode,
      inputTokens: this.inputTokens,
      outputTokens: this.outputTokens,
      items: this.items,
      energyPerItemJ: perUnit(this.energyJ, this.items),
      energyPerInputTokenJ: perUnit(prefill, this.inputTokens),
      energyPerOutputTokenJ: perUnit(this.energyJ, this.outputTokens),
      decodeEnergyPerOutputTokenJ: perUnit(decode, this.outputTokens === null ? null : this.outputTokens - 1),
      tokensIn: this.inputTokens,
      tokensOut: this.outputTokens,
    }
  }

  #take(counts: RequestEnd): void {
    if (typeof counts !== 'object' || counts === null) {
      this.keeper.misuse(
        `end() of request '${this.name}' takes { inputTokens, outputTokens, items, name, failed }, got ${show(counts)}`,
      )
      return
    }
    const name: unknown = counts.name
    if (typeof name === 'string' && name.trim() !== '') this.name = name
    else if (name !== undefined)
      this.keeper.misuse(
        `end() of request '${this.name}': name must be a non-empty string, got ${show(name)}`,
      )
    const failed: unknown = counts.failed
    if (failed === true) this.failed = true
    else if (failed !== undefined && failed !== false)
      this.keeper.misuse(
        `end() of request '${this.name}': failed must be true or false, got ${show(failed)}; taken as false`,
      )
    this.inputTokens = this.#tokens(counts, 'inputTokens', 'tokensIn')
    this.outputTokens = this.#tokens(counts, 'outputTokens', 'tokensOut')
    this.items = this.#count(counts, 'items')
  }

  /** A token count, read under its name or its former one (deprecated; the name wins when both differ). */
  #tokens(
    counts: RequestCounts,
    key: 'inputTokens' | 'outputTokens',
    former: 'tokensIn' | 'tokensOut',
  ): number | null {
    const count = this.#count(counts, key)
    if (counts[former] === undefined) return count
    this.keeper.formerName(
      `end()'s ${former} is deprecated: it is now ${key} (the same count), as in the record and the CSV; ` +
        `${former} is still read.`,
    )
    const old = this.#count(counts, former)
    if (counts[key] === undefined || counts[key] === null) return old
    if (old !== count)
      this.keeper.misuse(
        `end() of request '${this.name}' was given ${key} ${show(counts[key])} and ${former} ` +
          `${show(counts[former])}, its former name: ${key} is taken; give ${key} only`,
      )
    return count
  }

  #count(
    counts: RequestCounts,
    key: 'inputTokens' | 'outputTokens' | 'items' | 'tokensIn' | 'tokensOut',
  ): number | null {
    const value: unknown = counts[key]
    if (value === undefined || value === null) return null
    if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value
    this.keeper.misuse(
      `end() of request '${this.name}': ${key} must be a finite number ≥ 0, got ${show(value)}; left out`,
    )
    return null
  }
}
