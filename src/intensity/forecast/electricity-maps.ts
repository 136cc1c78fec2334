import type { Secret } from '../../core/secret.js'
import { withSlash } from '../electricity-maps.js'
import type { HttpFailure } from '../http.js'
import {
  type Forecast,
  type ForecastProvider,
  field,
  getJsonWithRetry,
  isFigure,
  malformed,
  type RequestPolicy,
  slotsFromPoints,
  timeOf,
} from './provider.js'

const HOUR_MS = 3_600_000
/** The horizons the API offers, in hours. */
const HORIZONS = [6, 24, 48, 72]

/**
 * Electricity Maps' forecast of a zone: `GET /v3/carbon-intensity/forecast?zone=…&horizonHours=…` with
 * the token in the `auth-token` header → `{ zone, forecast: [{ carbonIntensity, datetime }], updatedAt }`,
 * hourly points, each the start of its hour. Forecasts are a paid feature: a free token is refused.
 */
export function electricityMapsForecastProvider(options: {
  readonly baseUrl: string
  readonly token: Secret
  readonly zone: string
  readonly policy: RequestPolicy
}): ForecastProvider {
  const source = `forecast:electricitymaps:${options.zone}`
  return {
    name: 'Electricity Maps',
    source,
    signal: 'average',
    async fetch(hours: number, signal?: AbortSignal): Promise<Forecast> {
      const url = new URL('v3/carbon-intensity/forecast', withSlash(options.baseUrl))
      url.searchParams.set('zone', options.zone)
      const horizon = HORIZONS.find((h) => h >= hours) ?? 72
      url.searchParams.set('horizonHours', String(horizon))
      const body = await getJsonWithRetry(
        url,
        options.policy,
        { 'auth-token': options.token.reveal() },
        signal,
      )
      const points = field(body, 'forecast')
      if (!Array.isArray(points)) throw malformed(url, 'without a forecast list')
      const parsed = points.map((p) => {
        const value = field(p, 'carbonIntensity')
        return { startMs: timeOf(field(p, 'datetime')), gPerKWh: isFigure(value) ? value : null }
      })
      const slots = slotsFromPoints(parsed, source, undefined, HOUR_MS)
      if (slots.length === 0 && points.length > 0) throw malformed(url, 'without a forecast figure')
      return { slots, source, signal: 'average' }
    },
    advice(failure: HttpFailure): string | undefined {
      if (failure.status === 401 || failure.status === 403) {
        return 'the token was refused: check electricityMapsToken or WATTPRINT_ELECTRICITYMAPS_TOKEN, and that its plan includes forecasts'
      }
      if (failure.status === 404) return `the API has no forecast for zone ${options.zone}`
      return undefined
    },
  }
}
