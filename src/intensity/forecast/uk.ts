import { withSlash } from '../electricity-maps.js'
import type { HttpFailure } from '../http.js'
import { type UkArea, ukAreaSuffix } from '../uk-carbon-intensity.js'
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

const HALF_HOUR_MS = 1_800_000

/** `2026-12-01T12:00Z`, the API's `{from}`: the start of the half-hour holding `ms`, so it is included. */
const halfHourOf = (ms: number): string =>
  `${new Date(Math.floor(ms / HALF_HOUR_MS) * HALF_HOUR_MS).toISOString().slice(0, 16)}Z`

/**
 * NESO's Carbon Intensity API (Great Britain, no token), half-hourly, 48 h ahead:
 * - national `GET /intensity/{from}/fw48h` → `{ data: [{ from, to, intensity: { forecast, actual } }] }`;
 * - regional `GET /regional/intensity/{from}/fw48h/regionid/{id}` and `…/postcode/{outward}` →
 *   `{ data: { regionid, shortname, data: [{ from, to, intensity: { forecast } }] } }` (`data` may also
 *   come as a one-element array).
 * Forecast figures only: an `actual` figure is the past, not what the hours ahead will be.
 */
export function ukForecastProvider(options: {
  readonly baseUrl: string
  readonly area: UkArea
  readonly policy: RequestPolicy
  readonly now?: () => number
}): ForecastProvider {
  const { area } = options
  const now = options.now ?? Date.now
  const source = `forecast:uk-carbon-intensity${ukAreaSuffix(area)}`
  return {
    name: 'the UK Carbon Intensity API',
    source,
    signal: 'average',
    async fetch(_hours: number, signal?: AbortSignal): Promise<Forecast> {
      const from = halfHourOf(now())
      const path =
        area.kind === 'national'
          ? `intensity/${from}/fw48h`
          : area.kind === 'region'
            ? `regional/intensity/${from}/fw48h/regionid/${area.id}`
            : `regional/intensity/${from}/fw48h/postcode/${encodeURIComponent(area.outward)}`
      const url = new URL(path, withSlash(options.baseUrl))
      const body = await getJsonWithRetry(url, options.policy, {}, signal)
      const data = field(body, 'data')
      const periods = area.kind === 'national' ? data : field(Array.isArray(data) ? data[0] : data, 'data')
      if (!Array.isArray(periods)) throw malformed(url, 'without a list of forecast periods')
      const slots: ForecastSlot[] = []
      for (const period of periods) {
        const startMs = timeOf(field(period, 'from'))
        const to = timeOf(field(period, 'to'))
        const gPerKWh = field(field(period, 'intensity'), 'forecast')
        if (!Number.isFinite(startMs) || !isFigure(gPerKWh)) continue
        const endMs = Number.isFinite(to) && to > startMs ? to : startMs + HALF_HOUR_MS
        slots.push({ startMs, endMs, gPerKWh, source })
      }
      if (slots.length === 0 && periods.length > 0) throw malformed(url, 'without a forecast figure')
      return { slots: slots.sort((a, b) => a.startMs - b.startMs), source, signal: 'average' }
    },
    advice(failure: HttpFailure): string | undefined {
      if (failure.status === 400 && area.kind === 'postcode')
        return `the API does not know postcode ${area.outward}`
      return undefined
    },
  }
}
