import { withSlash } from './electricity-maps.js'
import { getJson, HttpFailure } from './http.js'
import type { LiveReading, LiveSource } from './live.js'

export const UK_CARBON_INTENSITY_URL = 'https://api.carbonintensity.org.uk'
const HALF_HOUR_MS = 1_800_000

/** The part of Great Britain whose intensity to use: the whole grid, a DNO region (1–17) or a postcode. */
export type UkArea =
  | {
      /** The whole grid of Great Britain. */
      readonly kind: 'national'
    }
  | {
      /** One of the API's regions (see UK_REGIONS). */
      readonly kind: 'region'
      /** The region's id, 1 to 17 (`13` is London). */
      readonly id: number
    }
  | {
      /** The region a postcode lies in, as the API finds it. */
      readonly kind: 'postcode'
      /** The postcode's outward part, upper case (`RG10`; `SW1A` of `SW1A 1AA`). */
      readonly outward: string
    }

/** The API's regions, by id. */
export const UK_REGIONS: Readonly<Record<number, string>> = {
  1: 'North Scotland',
  2: 'South Scotland',
  3: 'North West England',
  4: 'North East England',
  5: 'Yorkshire',
  6: 'North Wales & Merseyside',
  7: 'South Wales',
  8: 'West Midlands',
  9: 'East Midlands',
  10: 'East England',
  11: 'South West England',
  12: 'South England',
  13: 'London',
  14: 'South East England',
  15: 'England',
  16: 'Scotland',
  17: 'Wales',
}

/** `national`, a region id (`13`) or the outward part of a postcode (`RG10`, `SW1A 1AA` → `SW1A`); else null. */
export function parseUkArea(value: string | number): UkArea | null {
  const text = String(value).trim().toUpperCase()
  if (text === 'NATIONAL' || text === 'GB') return { kind: 'national' }
  if (/^\d+$/.test(text)) {
    const id = Number(text)
    return UK_REGIONS[id] ? { kind: 'region', id } : null
  }
  const outward = /^([A-Z]{1,2}\d[A-Z\d]?)(?:\s*\d[A-Z]{2})?$/.exec(text)?.[1]
  return outward ? { kind: 'postcode', outward } : null
}

/** How a source label names the area: empty (national), `:region-13`, `:postcode-RG10`. */
export const ukAreaSuffix = (area: UkArea): string =>
  area.kind === 'national' ? '' : area.kind === 'region' ? `:region-${area.id}` : `:postcode-${area.outward}`

/**
 * National Grid ESO's Carbon Intensity API (Great Britain, no token), half-hourly.
 * - national `GET /intensity` → `{ data: [{ from, to, intensity: { forecast, actual, index } }] }`; the
 *   actual figure when published, else the forecast;
 * - regional `GET /regional/regionid/{id}` and `GET /regional/postcode/{outward}` → `{ data: [{ regionid,
 *   shortname, data: [{ from, to, intensity: { forecast, index }, generationmix }] }] }` (forecast only).
 */
export function ukCarbonIntensitySource(options: {
  readonly baseUrl: string
  readonly area: UkArea
  readonly timeoutMs: number
}): LiveSource {
  const { area } = options
  const path =
    area.kind === 'national'
      ? 'intensity'
      : area.kind === 'region'
        ? `regional/regionid/${area.id}`
        : `regional/postcode/${encodeURIComponent(area.outward)}`
  const url = new URL(path, withSlash(options.baseUrl))
  return {
    label: `live:uk-carbon-intensity${ukAreaSuffix(area)}`,
    name: 'the UK Carbon Intensity API',
    cacheKey: `uk-carbon-intensity ${url.href}`,
    periodMs: HALF_HOUR_MS,
    async latest(signal: AbortSignal): Promise<LiveReading> {
      const body = await getJson(url, { timeoutMs: options.timeoutMs, signal })
      const period =
        area.kind === 'national'
          ? first(field(body, 'data'))
          : first(field(first(field(body, 'data')), 'data'))
      return parsePeriod(period, url)
    },
    advice(failure: HttpFailure): string | undefined {
      if (failure.status === 400 && area.kind === 'postcode')
        return `the API does not know postcode ${area.outward}`
      return undefined
    },
  }
}

const field = (value: unknown, name: string): unknown =>
  value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[name] : undefined

/** The first element of an array, or the value itself when the API sent a lone object. */
const first = (value: unknown): unknown => (Array.isArray(value) ? value[0] : value)

function parsePeriod(period: unknown, url: URL): LiveReading {
  const intensity = field(period, 'intensity')
  const actual = field(intensity, 'actual')
  const forecast = field(intensity, 'forecast')
  const gPerKWh = isFigure(actual) ? actual : forecast
  const from = field(period, 'from')
  const to = field(period, 'to')
  const startMs = typeof from === 'string' ? Date.parse(from) : Number.NaN
  const endMs = typeof to === 'string' ? Date.parse(to) : Number.NaN
  if (!isFigure(gPerKWh) || !Number.isFinite(startMs)) {
    throw new HttpFailure('malformed', `${url.origin}${url.pathname} answered without a carbon intensity`)
  }
  return {
    gPerKWh,
    periodStartMs: startMs,
    periodEndMs: Number.isFinite(endMs) ? endMs : startMs + HALF_HOUR_MS,
  }
}

const isFigure = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0
