import { describeError } from '../core/errors.js'
import type { TrackerWarning } from '../core/warnings.js'
import { HttpFailure } from './http.js'
import type { IntensityProvider, IntensityReading } from './provider.js'

/** One answer of a live intensity API. */
export interface LiveReading {
  readonly gPerKWh: number
  /** Start and end of the period the figure describes (wall-clock ms). */
  readonly periodStartMs: number
  readonly periodEndMs: number
}

/** A live intensity API for one place. */
export interface LiveSource {
  /** `live:electricitymaps:FR`, `live:uk-carbon-intensity` … */
  readonly label: string
  /** Human name for messages: `Electricity Maps`. */
  readonly name: string
  /** Identifies the place and endpoint, for the cache shared by the trackers of a process. */
  readonly cacheKey: string
  /** How often the provider publishes a new figure. */
  readonly periodMs: number
  /** Fetches the latest figure; rejects with an HttpFailure. */
  latest(signal: AbortSignal): Promise<LiveReading>
  /** Advice for a failure, when there is some (`check the token`); never the token itself. */
  advice?(failure: HttpFailure): string | undefined
}

interface Held {
  readonly gPerKWh: number
  /** Intervals at or after this time use this figure (until a newer one applies). */
  readonly fromMs: number
  readonly fetchedAtMs: number
}

/** When to ask again. */
export interface LiveTiming {
  /** Never ask one provider twice within this. Default: a quarter of its period, at least a minute. */
  readonly minGapMs?: number
  /** Ask again this long after a period ends: providers publish a little after the boundary. Default 60 s. */
  readonly publishDelayMs?: number
}

interface Answer {
  readonly reading: LiveReading
  readonly fetchedAtMs: number
  /** When the provider will have published the next figure: ask again then, not before. */
  readonly expiresAtMs: number
}

interface InFlight {
  readonly answer: Promise<Answer>
  readonly abort: AbortController
  waiting: number
}

// Answers shared by the trackers of a process: one request per provider, place and period, however
// many trackers run. A request in flight is shared too, and abandoned only when no tracker waits for it.
const cache = new Map<string, Answer>()
const inFlight = new Map<string, InFlight>()

/** Forgets every cached answer (for tests). */
export function clearLiveCache(): void {
  cache.clear()
}

/** The current answer of a source: cached, already asked for, or asked for now. */
function ask(
  source: LiveSource,
  now: () => number,
  expiry: (reading: LiveReading, fetchedAtMs: number) => number,
): { answer: Promise<Answer>; release: () => void } {
  const cached = cache.get(source.cacheKey)
  if (cached && now() < cached.expiresAtMs) return { answer: Promise.resolve(cached), release: () => {} }
  let flight = inFlight.get(source.cacheKey)
  if (!flight) {
    const abort = new AbortController()
    const answer = source.latest(abort.signal).then((reading) => {
      const fetchedAtMs = now()
      const fresh = { reading, fetchedAtMs, expiresAtMs: expiry(reading, fetchedAtMs) }
      cache.set(source.cacheKey, fresh)
      return fresh
    })
    const settled = () => inFlight.delete(source.cacheKey)
    answer.then(settled, settled)
    flight = { answer, abort, waiting: 0 }
    inFlight.set(source.cacheKey, flight)
  }
  const shared = flight
  shared.waiting += 1
  let released = false
  return {
    answer: shared.answer,
    release: () => {
      if (released) return
      released = true
      shared.waiting -= 1
      if (shared.waiting === 0) shared.abort.abort()
    },
  }
}

/**
 * The carbon intensity of a live API, refreshed once per published period (not per sample), with a
 * static figure behind it. Each interval gets the figure valid at its time; a figure older than two
 * periods (the API stopped answering) gives way to the static one. A failure of any kind (timeout,
 * non-2xx, malformed body) is reported once and never stops the run. A 401 or 403 stops asking.
 */
export class LiveIntensity implements IntensityProvider {
  readonly #held: Held[] = []
  #release: () => void = () => {}
  #timer: NodeJS.Timeout | undefined
  #warned = false
  #closed = false

  constructor(
    private readonly source: LiveSource,
    private readonly fallback: IntensityProvider,
    private readonly onWarning: (warning: TrackerWarning) => void,
    private readonly timing: LiveTiming = {},
    private readonly now: () => number = Date.now,
  ) {}

  /** Fetches the first figure; resolves either way (on failure the static figure is used). */
  async start(): Promise<void> {
    await this.#refresh()
  }

  /** The figure valid at a wall-clock time. */
  at(wallMs: number): IntensityReading {
    let held: Held | undefined
    for (let i = this.#held.length - 1; i >= 0; i--) {
      const candidate = this.#held[i]
      if (candidate && (candidate.fromMs <= wallMs || i === 0)) {
        held = candidate
        break
      }
    }
    if (held && wallMs <= held.fetchedAtMs + 2 * this.source.periodMs) {
      return { gPerKWh: held.gPerKWh, source: this.source.label }
    }
    return this.fallback.at(wallMs)
  }

  /** Stops refreshing and abandons a request in flight. */
  close(): void {
    this.#closed = true
    clearTimeout(this.#timer)
    this.#release()
  }

  async #refresh(): Promise<void> {
    if (this.#closed) return
    const minGapMs = this.timing.minGapMs ?? Math.max(this.source.periodMs / 4, 60_000)
    let nextInMs: number | null
    const publishDelayMs = this.timing.publishDelayMs ?? 60_000
    const request = ask(this.source, this.now, (reading, fetchedAtMs) =>
      Math.max(reading.periodEndMs + publishDelayMs, fetchedAtMs + minGapMs),
    )
    this.#release = request.release
    try {
      const answer = await request.answer
      if (this.#closed) return
      this.#hold(answer.reading, answer.fetchedAtMs)
      nextInMs = answer.expiresAtMs - this.now()
    } catch (error) {
      if (this.#closed) return
      const failure = error instanceof HttpFailure ? error : null
      const refused = failure?.kind === 'status' && (failure.status === 401 || failure.status === 403)
      this.#warnOnce(failure ?? error, refused)
      nextInMs = refused ? null : minGapMs
    } finally {
      request.release()
    }
    if (nextInMs !== null) {
      this.#timer = setTimeout(() => void this.#refresh(), Math.max(0, nextInMs))
      // A refresh must never keep the host process alive.
      this.#timer.unref()
    }
  }

  #hold(reading: LiveReading, fetchedAtMs: number): void {
    const previous = this.#held.at(-1)
    if (previous && previous.fetchedAtMs === fetchedAtMs) return
    // A figure applies from its period's start, but never before the figure it replaces nor after it
    // was fetched; the first applies from the run's start.
    const fromMs = previous
      ? Math.min(fetchedAtMs, Math.max(previous.fromMs, reading.periodStartMs))
      : Number.NEGATIVE_INFINITY
    this.#held.push({ gPerKWh: reading.gPerKWh, fromMs, fetchedAtMs })
    // Intervals reach the ledger within seconds: a few figures of history answer every one of them.
    if (this.#held.length > 8) this.#held.splice(0, this.#held.length - 8)
  }

  #warnOnce(error: unknown, refused: boolean): void {
    if (this.#warned) return
    this.#warned = true
    const fallback = this.fallback.at(this.now())
    const advice = error instanceof HttpFailure ? this.source.advice?.(error) : undefined
    this.onWarning({
      code: 'LIVE_INTENSITY_FAILED',
      message:
        `${this.source.name} gave no live carbon intensity: ${describeError(error)}` +
        `${advice ? ` (${advice})` : ''}. Using ${fallback.source} (${fallback.gPerKWh} g/kWh) ` +
        `${refused ? 'for the rest of the run' : 'until it answers again'}; the run goes on.`,
    })
  }
}
