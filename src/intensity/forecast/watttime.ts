import type { Secret } from '../../core/secret.js'
import { withSlash } from '../electricity-maps.js'
import { HttpFailure } from '../http.js'
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

export const WATTTIME_URL = 'https://api.watttime.org'
/** 1 lb/MWh in g/kWh: 453.59237 g per 1000 kWh. */
export const G_PER_KWH_PER_LB_PER_MWH = 0.45359237
const FIVE_MINUTES_MS = 300_000
/** WattTime's tokens last 30 minutes; one is reused for less than that. */
const TOKEN_LIFE_MS = 25 * 60_000

/**
 * WattTime v3: `GET /login` with HTTP Basic → `{ token }`, then `GET /v3/forecast?region=…&signal_type=
 * co2_moer&horizon_hours=…` with `Authorization: Bearer` → `{ data: [{ point_time, value }], meta: {
 * data_point_period_seconds, units: 'lbs_co2_per_mwh', … } }`. MOER is a *marginal* signal (the emissions
 * of the next MWh, not the grid's mix), labelled so on every slot; lbs/MWh become g/kWh.
 */
export function wattTimeForecastProvider(options: {
  readonly baseUrl: string
  readonly username: string
  readonly password: Secret
  readonly region: string
  readonly policy: RequestPolicy
  readonly now?: () => number
}): ForecastProvider {
  const now = options.now ?? Date.now
  const source = `forecast:watttime-marginal:${options.region}`
  let token: { value: string; atMs: number } | null = null

  const login = async (signal?: AbortSignal): Promise<string> => {
    if (token && now() - token.atMs < TOKEN_LIFE_MS) return token.value
    const url = new URL('login', withSlash(options.baseUrl))
    const basic = Buffer.from(`${options.username}:${options.password.reveal()}`).toString('base64')
    const body = await getJsonWithRetry(url, options.policy, { authorization: `Basic ${basic}` }, signal)
    const value = field(body, 'token')
    if (typeof value !== 'string' || value === '') throw malformed(url, 'without a token')
    token = { value, atMs: now() }
    return value
  }

  const forecast = async (hours: number, signal?: AbortSignal): Promise<Forecast> => {
    const url = new URL('v3/forecast', withSlash(options.baseUrl))
    url.searchParams.set('region', options.region)
    url.searchParams.set('signal_type', 'co2_moer')
    url.searchParams.set('horizon_hours', String(Math.min(72, Math.max(1, Math.ceil(hours)))))
    const bearer = await login(signal)
    const body = await getJsonWithRetry(url, options.policy, { authorization: `Bearer ${bearer}` }, signal)
    const data = field(body, 'data')
    const meta = field(body, 'meta')
    if (!Array.isArray(data)) throw malformed(url, 'without a data list')
    const units = field(meta, 'units')
    if (units !== undefined && units !== 'lbs_co2_per_mwh') {
      throw malformed(url, `in ${String(units)}, not lbs_co2_per_mwh`)
    }
    const period = field(meta, 'data_point_period_seconds')
    const parsed = data.map((p) => {
      const value = field(p, 'value')
      return {
        startMs: timeOf(field(p, 'point_time')),
        gPerKWh: isFigure(value) ? value * G_PER_KWH_PER_LB_PER_MWH : null,
      }
    })
    const periodMs = typeof period === 'number' && period > 0 ? period * 1000 : undefined
    const slots = slotsFromPoints(parsed, source, periodMs, FIVE_MINUTES_MS)
    if (slots.length === 0 && data.length > 0) throw malformed(url, 'without a forecast figure')
    return { slots, source, signal: 'marginal' }
  }

  return {
    name: 'WattTime',
    source,
    signal: 'marginal',
    async fetch(hours: number, signal?: AbortSignal): Promise<Forecast> {
      try {
        return await forecast(hours, signal)
      } catch (error) {
        // A token that expired early: log in again, once.
        if (!(error instanceof HttpFailure) || error.status !== 401 || token === null) throw error
        token = null
        return forecast(hours, signal)
      }
    },
    advice(failure: HttpFailure): string | undefined {
      if (failure.status === 401 || failure.status === 403) {
        return 'the login or the region was refused: check wattTimeUsername and wattTimePassword (WATTPRINT_WATTTIME_USERNAME, WATTPRINT_WATTTIME_PASSWORD), and that the account covers the region'
      }
      if (failure.status === 400 || failure.status === 404)
        return `WattTime does not know region ${options.region}`
      return undefined
    },
  }
}
