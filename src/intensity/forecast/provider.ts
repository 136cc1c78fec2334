import { getJson, HttpFailure } from '../http.js'

/** One period of a forecast: its carbon intensity from `startMs` (inclusive) to `endMs` (exclusive). */
export interface ForecastSlot {
  /** Wall-clock milliseconds (UTC). */
  readonly startMs: number
  /** Wall-clock milliseconds (UTC) at which the slot ends, exclusive. */
  readonly endMs: number
  /** Grams of CO2e per kWh. */
  readonly gPerKWh: number
  /** `forecast:uk-carbon-intensity`, `forecast:watttime:CAISO_NORTH` … */
  readonly source: string
}

/**
 * What a forecast's figures mean: `average` the grid mix's intensity (what the tracker's rows use),
 * `marginal` the emissions of the next kWh (WattTime's MOER), `unspecified` when the service does not say
 * (a Carbon Aware SDK answers with whatever data source it was set up with).
 */
export type ForecastSignal = 'average' | 'marginal' | 'unspecified'

/** A forecast as a provider answered it. */
export interface Forecast {
  readonly slots: readonly ForecastSlot[]
  /** The source of every slot. */
  readonly source: string
  readonly signal: ForecastSignal
}

/** A service that forecasts the carbon intensity of one place. */
export interface ForecastProvider {
  /** Human name for messages: `WattTime`. */
  readonly name: string
  /** Every slot's source: `forecast:electricitymaps:DE`. */
  readonly source: string
  readonly signal: ForecastSignal
  /** The forecast from now for about `hours`; rejects with an HttpFailure. */
  fetch(hours: number, signal?: AbortSignal): Promise<Forecast>
  /** Advice for a failure, when there is some (`check the token`); never the token itself. */
  advice?(failure: HttpFailure): string | undefined
}

/** How a provider's requests are made. */
export interface RequestPolicy {
  readonly timeoutMs: number
  /** Retries after a 429 (each after its `Retry-After`). Default 2. */
  readonly retries?: number
  /** The longest `Retry-After` waited for; a longer one fails at once. Default 30 s. */
  readonly maxRetryWaitMs?: number
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms)
    signal?.addEventListener('abort', () => {
      clearTimeout(timer)
      reject(new HttpFailure('network', 'request abandoned'))
    })
  })

/**
 * getJson, asking again after a 429 as often as `retries` allows, each time after the `Retry-After` the
 * server gave (1 s when it gave none). A wait longer than `maxRetryWaitMs` is not waited for: the 429
 * fails at once, saying when to ask again.
 */
export async function getJsonWithRetry(
  url: URL,
  policy: RequestPolicy,
  headers: Readonly<Record<string, string>> = {},
  signal?: AbortSignal,
): Promise<unknown> {
  const retries = policy.retries ?? 2
  const maxWaitMs = policy.maxRetryWaitMs ?? 30_000
  for (let attempt = 0; ; attempt++) {
    try {
      return await getJson(url, { timeoutMs: policy.timeoutMs, headers, signal })
    } catch (error) {
      if (!(error instanceof HttpFailure) || error.status !== 429) throw error
      const waitMs = (error.retryAfterS ?? 1) * 1000
      if (attempt >= retries || waitMs > maxWaitMs) {
        const when = error.retryAfterS === undefined ? '' : `; it asks to wait ${error.retryAfterS} s`
        throw new HttpFailure(
          'status',
          `${error.message} (rate limited${when}; gave up after ${attempt + 1} request(s))`,
          429,
          error.retryAfterS,
        )
      }
      await sleep(waitMs, signal)
    }
  }
}

/** A property of a JSON value, when it is an object. */
export const field = (value: unknown, name: string): unknown =>
  value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[name] : undefined

/** A carbon intensity a forecast may hold: a finite number, zero or more. */
export const isFigure = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0

/** A time as the APIs write it (ISO 8601) in ms; NaN when it is not one. */
export const timeOf = (value: unknown): number => (typeof value === 'string' ? Date.parse(value) : Number.NaN)

/** The error for an answer that holds no usable forecast. */
export const malformed = (url: URL, what: string): HttpFailure =>
  new HttpFailure('malformed', `${url.origin}${url.pathname} answered ${what}`)

/**
 * Slots from points that each give the start of a period (Electricity Maps, WattTime): a point lasts one
 * period (`periodMs`, else the most common step between points, else `defaultPeriodMs`) or until the next
 * point, whichever is sooner. A point whose figure or time is unusable is left out, and a missing point is
 * not bridged: its period is a gap, never a guess.
 */
export function slotsFromPoints(
  points: readonly { readonly startMs: number; readonly gPerKWh: number | null }[],
  source: string,
  periodMs: number | undefined,
  defaultPeriodMs: number,
): ForecastSlot[] {
  const sorted = points.filter((p) => Number.isFinite(p.startMs)).sort((a, b) => a.startMs - b.startMs)
  const period = periodMs && periodMs > 0 ? periodMs : (commonStep(sorted) ?? defaultPeriodMs)
  const slots: ForecastSlot[] = []
  sorted.forEach((point, i) => {
    const next = sorted[i + 1]
    const endMs = Math.min(point.startMs + period, next ? next.startMs : Number.POSITIVE_INFINITY)
    if (point.gPerKWh === null || endMs <= point.startMs) return
    slots.push({ startMs: point.startMs, endMs, gPerKWh: point.gPerKWh, source })
  })
  return slots
}

/** The most frequent step between consecutive points; undefined for fewer than two. */
function commonStep(points: readonly { readonly startMs: number }[]): number | undefined {
  const counts = new Map<number, number>()
  for (let i = 1; i < points.length; i++) {
    const step = (points[i]?.startMs ?? 0) - (points[i - 1]?.startMs ?? 0)
    if (step > 0) counts.set(step, (counts.get(step) ?? 0) + 1)
  }
  let best: number | undefined
  let bestCount = 0
  for (const [step, count] of counts) {
    if (count > bestCount || (count === bestCount && best !== undefined && step < best)) {
      best = step
      bestCount = count
    }
  }
  return best
}
