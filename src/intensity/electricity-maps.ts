import type { Secret } from '../core/secret.js'
import { getJson, HttpFailure } from './http.js'
import type { LiveReading, LiveSource } from './live.js'

export const ELECTRICITY_MAPS_URL = 'https://api.electricitymaps.com'
const HOUR_MS = 3_600_000

/**
 * Electricity Maps' latest carbon intensity of a zone: `GET /v3/carbon-intensity/latest?zone=…` with
 * the token in the `auth-token` header. The answer is hourly: `{ zone, carbonIntensity, datetime,
 * updatedAt, emissionFactorType, isEstimated, … }`, datetime being the start of the hour it describes.
 */
export function electricityMapsSource(options: {
  readonly baseUrl: string
  readonly token: Secret
  readonly zone: string
  readonly timeoutMs: number
}): LiveSource {
  const url = new URL('v3/carbon-intensity/latest', withSlash(options.baseUrl))
  url.searchParams.set('zone', options.zone)
  return {
    label: `live:electricitymaps:${options.zone}`,
    name: 'Electricity Maps',
    cacheKey: `electricitymaps ${url.href}`,
    periodMs: HOUR_MS,
    async latest(signal: AbortSignal): Promise<LiveReading> {
      const body = await getJson(url, {
        timeoutMs: options.timeoutMs,
        headers: { 'auth-token': options.token.reveal() },
        signal,
      })
      return parseLatest(body, url)
    },
    advice(failure: HttpFailure): string | undefined {
      if (failure.status === 401 || failure.status === 403) {
        return 'the token was refused: check electricityMapsToken or WATTPRINT_ELECTRICITYMAPS_TOKEN, and that it covers this zone'
      }
      if (failure.status === 404) return `the API does not know zone ${options.zone}`
      if (failure.status === 429) return 'the rate limit of the token was reached'
      return undefined
    },
  }
}

function parseLatest(body: unknown, url: URL): LiveReading {
  const answer = (body ?? {}) as { carbonIntensity?: unknown; datetime?: unknown }
  const gPerKWh = answer.carbonIntensity
  if (typeof gPerKWh !== 'number' || !Number.isFinite(gPerKWh) || gPerKWh < 0) {
    throw new HttpFailure('malformed', `${url.origin}${url.pathname} answered without a carbon intensity`)
  }
  const start = typeof answer.datetime === 'string' ? Date.parse(answer.datetime) : Number.NaN
  const periodStartMs = Number.isFinite(start) ? start : Date.now()
  return { gPerKWh, periodStartMs, periodEndMs: periodStartMs + HOUR_MS }
}

/** `https://host/base` → `https://host/base/`, so relative paths append rather than replace. */
export function withSlash(baseUrl: string): string {
  return baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`
}
