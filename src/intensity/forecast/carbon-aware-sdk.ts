import { withSlash } from '../electricity-maps.js'
import type { HttpFailure } from '../http.js'
import {
  type Forecast,
  type ForecastProvider,
  type ForecastSlot,
  field,
  getJsonWithRetry,
  isFigure,
  malformed,
  type RequestPolicy,
  timeOf,
} from './provider.js'

/**
 * The Green Software Foundation's Carbon Aware SDK, run as a web API by an organisation:
 * `GET /emissions/forecasts/current?location=…&dataStartAt=…&dataEndAt=…` → `[{ location, forecastData:
 * [{ timestamp, duration (minutes), value }], optimalDataPoints, windowSize, … }]`. Without `windowSize`
 * the points are the data source's own (a window size would make them rolling averages). Whether the
 * figures are average or marginal depends on the data source it is set up with, so they are labelled
 * neither. A 501 means that data source has no forecasts.
 */
export function carbonAwareSdkProvider(options: {
  readonly baseUrl: string
  readonly location: string
  readonly policy: RequestPolicy
  readonly now?: () => number
}): ForecastProvider {
  const now = options.now ?? Date.now
  const source = `forecast:carbon-aware-sdk:${options.location}`
  return {
    name: 'the Carbon Aware SDK',
    source,
    signal: 'unspecified',
    async fetch(hours: number, signal?: AbortSignal): Promise<Forecast> {
      const url = new URL('emissions/forecasts/current', withSlash(options.baseUrl))
      url.searchParams.set('location', options.location)
      const startMs = now()
      url.searchParams.set('dataStartAt', new Date(startMs).toISOString())
      url.searchParams.set('dataEndAt', new Date(startMs + hours * 3_600_000).toISOString())
      const body = await getJsonWithRetry(url, options.policy, {}, signal)
      const points = field(Array.isArray(body) ? body[0] : undefined, 'forecastData')
      if (!Array.isArray(points)) throw malformed(url, 'without forecastData')
      const slots: ForecastSlot[] = []
      for (const point of points) {
        const start = timeOf(field(point, 'timestamp'))
        const minutes = field(point, 'duration')
        const value = field(point, 'value')
        if (!Number.isFinite(start) || !isFigure(value) || typeof minutes !== 'number' || !(minutes > 0))
          continue
        slots.push({ startMs: start, endMs: start + minutes * 60_000, gPerKWh: value, source })
      }
      if (slots.length === 0 && points.length > 0) throw malformed(url, 'without a forecast figure')
      return { slots: slots.sort((a, b) => a.startMs - b.startMs), source, signal: 'unspecified' }
    },
    advice(failure: HttpFailure): string | undefined {
      if (failure.status === 501) return 'its data source offers no forecasts'
      if (failure.status === 400) return `it does not know location ${options.location}`
      return undefined
    },
  }
}
