import type { IncomingMessage } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { ForecastError } from '../src/intensity/forecast/forecast.js'
import { G_PER_KWH_PER_LB_PER_MWH } from '../src/intensity/forecast/watttime.js'
import { bestWindow } from '../src/scheduling/best-window.js'
import { forecast } from '../src/scheduling/forecast.js'
import { type Answer, type Route, startServer, type TestServer } from './helpers/http-server.js'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})
async function server(routes: Record<string, Route>): Promise<TestServer> {
  const s = await startServer(routes)
  cleanups.push(() => s.close())
  return s
}

const H = 3_600_000
/** The start of the current five minutes: the slot now running, which forecast() keeps. */
const fiveMinutes = () => Math.floor(Date.now() / 300_000) * 300_000
/** The start of the current half-hour: the UK slot now running. */
const halfHour = () => Math.floor(Date.now() / 1_800_000) * 1_800_000
const hour = (k: number) => new Date(Math.floor(Date.now() / H) * H + k * H)
/** `2026-12-01T12:00Z`, as the UK API writes times. */
const ukTime = (d: Date) => `${d.toISOString().slice(0, 16)}Z`
const ukPeriod = (k: number, forecast: number) => ({
  from: ukTime(new Date(halfHour() + k * 1_800_000)),
  to: ukTime(new Date(halfHour() + (k + 1) * 1_800_000)),
  intensity: { forecast, actual: null, index: 'moderate' },
})
const ukRegionPeriod = (k: number, forecast: number) => ({
  ...ukPeriod(k, forecast),
  intensity: { forecast, index: 'low' },
  generationmix: [{ fuel: 'wind', perc: 41.2 }],
})

/** Routes for paths that hold a time (the UK API's `{from}`): the first pattern that matches answers. */
const byPattern = (patterns: [RegExp, Route][]): Record<string, Route> =>
  new Proxy({} as Record<string, Route>, {
    get: (_target, key: string) => patterns.find(([pattern]) => pattern.test(key))?.[1],
  })

const failure = async (promise: Promise<unknown>): Promise<ForecastError> => {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(ForecastError)
  return error as ForecastError
}

describe('UK Carbon Intensity forecast', () => {
  it('reads the national fw48h answer as half-hour slots', async () => {
    const api = await server(
      byPattern([
        [
          /^\/intensity\/[^/]+\/fw48h$/,
          () => ({ body: { data: [ukPeriod(0, 182), ukPeriod(1, 90), ukPeriod(2, 120)] } }),
        ],
      ]),
    )
    const slots = await forecast(
      { ukCarbonIntensity: 'national', ukCarbonIntensityUrl: api.url },
      { hours: 48 },
    )
    expect(slots.map((x) => x.gPerKWh)).toEqual([182, 90, 120])
    expect(slots[0]).toMatchObject({ startMs: halfHour(), endMs: halfHour() + 1_800_000 })
    expect(slots[0]?.source).toBe('forecast:uk-carbon-intensity')
    const path = api.requests[0]?.path ?? ''
    // `from` is the start of the current half-hour, so the slot now running is in the answer.
    expect(decodeURIComponent(path)).toMatch(/^\/intensity\/\d{4}-\d\d-\d\dT\d\d:(00|30)Z\/fw48h$/)
  })

  it('reads the regional answer by region id and by postcode, data as an object or an array', async () => {
    const regional = (wrap: boolean) => {
      const inner = {
        regionid: 13,
        dnoregion: 'UKPN London',
        shortname: 'London',
        data: [ukRegionPeriod(0, 210), ukRegionPeriod(1, 150)],
      }
      return { data: wrap ? [inner] : inner }
    }
    const api = await server(
      byPattern([
        [/\/fw48h\/regionid\/13$/, () => ({ body: regional(true) })],
        [/\/fw48h\/postcode\/RG10$/, () => ({ body: regional(false) })],
      ]),
    )
    const byId = await forecast({ ukCarbonIntensity: 13, ukCarbonIntensityUrl: api.url })
    expect(byId.map((x) => x.gPerKWh)).toEqual([210, 150])
    expect(byId[0]?.source).toBe('forecast:uk-carbon-intensity:region-13')
    const byPostcode = await forecast({ ukCarbonIntensity: 'RG10 6AB', ukCarbonIntensityUrl: api.url })
    expect(byPostcode.map((x) => x.gPerKWh)).toEqual([210, 150])
    expect(api.requests.map((r) => r.path.split('/').slice(-2).join('/'))).toEqual([
      'regionid/13',
      'postcode/RG10',
    ])
  })
})

const TOKEN = 'em-forecast-token-77'
describe('Electricity Maps forecast', () => {
  const emForecast = (values: (number | null)[]) => ({
    zone: 'DE',
    forecast: values.flatMap((v, k) =>
      v === null ? [] : [{ carbonIntensity: v, datetime: hour(k).toISOString() }],
    ),
    updatedAt: new Date().toISOString(),
  })
  const route =
    (answer: () => Answer): Route =>
    (request: IncomingMessage) =>
      request.headers['auth-token'] === TOKEN
        ? answer()
        : { status: 401, body: { message: 'Invalid auth-token' } }

  it('reads hourly points with the token in auth-token; a missing hour stays a gap', async () => {
    const api = await server({
      '/v3/carbon-intensity/forecast': route(() => ({ body: emForecast([300, 250, null, 120]) })),
    })
    const slots = await forecast(
      { zone: 'DE', electricityMapsToken: TOKEN, electricityMapsUrl: api.url },
      { hours: 5 },
    )
    expect(slots.map((x) => [x.startMs, x.endMs, x.gPerKWh])).toEqual([
      [hour(0).getTime(), hour(1).getTime(), 300],
      [hour(1).getTime(), hour(2).getTime(), 250],
      [hour(3).getTime(), hour(4).getTime(), 120],
    ])
    expect(api.requests[0]?.query).toBe('?zone=DE&horizonHours=6')
  })

  it('says the token was refused, without showing it', async () => {
    const api = await server({ '/v3/carbon-intensity/forecast': route(() => ({ body: emForecast([1]) })) })
    const error = await failure(
      forecast({ zone: 'DE', electricityMapsToken: 'wrong-secret-1', electricityMapsUrl: api.url }),
    )
    expect(error.code).toBe('FORECAST_FAILED')
    expect(error.message).toMatch(
      /Electricity Maps gave no forecast: .*HTTP 401.*token was refused.*forecasts/,
    )
    expect(error.message).not.toContain('wrong-secret-1')
  })

  it('retries a 429 after its Retry-After, and gives up at once on a wait too long', async () => {
    let calls = 0
    const api = await server({
      '/v3/carbon-intensity/forecast': route(() =>
        ++calls === 1
          ? { status: 429, headers: { 'retry-after': '1' }, body: {} }
          : { body: emForecast([200]) },
      ),
    })
    const startedMs = Date.now()
    const slots = await forecast({ zone: 'DE', electricityMapsToken: TOKEN, electricityMapsUrl: api.url })
    expect(slots.map((x) => x.gPerKWh)).toEqual([200])
    expect(calls).toBe(2)
    expect(Date.now() - startedMs).toBeGreaterThanOrEqual(950)

    const slow = await server({
      '/v3/carbon-intensity/forecast': route(() => ({
        status: 429,
        headers: { 'retry-after': '3600' },
        body: {},
      })),
    })
    const error = await failure(
      forecast({ zone: 'DE', electricityMapsToken: TOKEN, electricityMapsUrl: slow.url }),
    )
    expect(error.message).toMatch(/HTTP 429 \(rate limited; it asks to wait 3600 s; gave up after 1 request/)
    expect(slow.requests).toHaveLength(1)
  })

  it.each([
    ['a 500', { status: 500, body: 'internal error' }, /HTTP 500/],
    ['a slow answer', { delayMs: 2000, body: {} }, /did not answer within 300 ms/],
    ['a body that is not JSON', { body: '<html>' }, /not JSON/],
    ['JSON without a forecast', { body: { zone: 'DE' } }, /without a forecast list/],
    [
      'points without figures',
      { body: { forecast: [{ datetime: hour(0).toISOString() }] } },
      /without a forecast figure/,
    ],
  ])('fails clearly on %s', async (_what, answer: Answer, message) => {
    const api = await server({ '/v3/carbon-intensity/forecast': route(() => answer) })
    const error = await failure(
      forecast({
        zone: 'DE',
        electricityMapsToken: TOKEN,
        electricityMapsUrl: api.url,
        intensityTimeoutMs: 300,
      }),
    )
    expect(error.code).toBe('FORECAST_FAILED')
    expect(error.message).toMatch(message)
  })
})

describe('bestWindow', () => {
  it('searches the forecast of the place, from now to the deadline', async () => {
    const values = [300, 250, 120, 80, 200, 300]
    const api = await server({
      '/v3/carbon-intensity/forecast': () => ({
        body: {
          zone: 'DE',
          forecast: values.map((v, k) => ({ carbonIntensity: v, datetime: hour(k).toISOString() })),
        },
      }),
    })
    const found = await bestWindow({
      durationS: 7200,
      withinS: 5 * 3600,
      location: { zone: 'DE', electricityMapsToken: TOKEN, electricityMapsUrl: api.url },
    })
    // 2 h at 120 and 80 from hour 2: mean 100; the deadline (5 h from now) still allows it.
    expect(found).toMatchObject({
      startMs: hour(2).getTime(),
      meanGPerKWh: 100,
      region: 'here',
      signal: 'average',
    })
    await expect(bestWindow({ durationS: 60 })).rejects.toThrow(/withinS .* or deadline/)
  })
})

describe('WattTime forecast', () => {
  const USER = 'wt-user'
  const PASSWORD = 'wt-pass-secret-9'
  const basic = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`
  const wtForecast = (values: number[], periodS = 300) => ({
    data: values.map((value, k) => ({
      point_time: new Date(fiveMinutes() + k * periodS * 1000).toISOString().replace('.000Z', '+00:00'),
      value,
    })),
    meta: {
      data_point_period_seconds: periodS,
      region: 'CAISO_NORTH',
      signal_type: 'co2_moer',
      units: 'lbs_co2_per_mwh',
      generated_at: new Date().toISOString(),
      model: { date: '2026-01-01', type: 'binned_regression' },
      warnings: [],
    },
  })

  it('logs in with Basic auth, asks with the token, converts lbs/MWh to g/kWh and labels it marginal', async () => {
    let logins = 0
    const api = await server({
      '/login': (request) => {
        if (request.headers.authorization !== basic) return { status: 401, body: {} }
        logins += 1
        return { body: { token: `tok-${logins}` } }
      },
      '/v3/forecast': (request) =>
        request.headers.authorization === 'Bearer tok-1'
          ? { body: wtForecast([1000, 500]) }
          : { status: 401, body: {} },
    })
    const location = {
      wattTimeUsername: USER,
      wattTimePassword: PASSWORD,
      wattTimeRegion: 'CAISO_NORTH',
      wattTimeUrl: api.url,
    }
    const slots = await forecast(location, { hours: 24 })
    expect(slots.map((x) => x.gPerKWh)).toEqual([
      1000 * G_PER_KWH_PER_LB_PER_MWH,
      500 * G_PER_KWH_PER_LB_PER_MWH,
    ])
    expect(slots[0]?.gPerKWh).toBeCloseTo(453.59237, 6)
    expect(slots[0]).toMatchObject({ startMs: fiveMinutes(), endMs: fiveMinutes() + 300_000 })
    expect(slots[0]?.source).toBe('forecast:watttime-marginal:CAISO_NORTH')
    expect(api.requests.find((r) => r.path === '/v3/forecast')?.query).toBe(
      '?region=CAISO_NORTH&signal_type=co2_moer&horizon_hours=24',
    )
  })

  it('says the login was refused, never the password', async () => {
    const api = await server({ '/login': () => ({ status: 403, body: {} }) })
    const error = await failure(
      forecast({
        wattTimeUsername: USER,
        wattTimePassword: PASSWORD,
        wattTimeRegion: 'X',
        wattTimeUrl: api.url,
      }),
    )
    expect(error.message).toMatch(
      /WattTime gave no forecast: .*\/login answered HTTP 403.*WATTPRINT_WATTTIME_PASSWORD/,
    )
    expect(error.message).not.toContain(PASSWORD)
  })

  it('refuses figures in other units', async () => {
    const body = wtForecast([1])
    const api = await server({
      '/login': () => ({ body: { token: 't' } }),
      '/v3/forecast': () => ({ body: { ...body, meta: { ...body.meta, units: 'percentile' } } }),
    })
    const error = await failure(
      forecast({
        wattTimeUsername: USER,
        wattTimePassword: PASSWORD,
        wattTimeRegion: 'X',
        wattTimeUrl: api.url,
      }),
    )
    expect(error.message).toMatch(/in percentile, not lbs_co2_per_mwh/)
  })
})

describe('Carbon Aware SDK forecast', () => {
  it('reads forecastData of /emissions/forecasts/current, and says what a 501 means', async () => {
    const point = (k: number, value: number) => ({
      location: 'westeurope',
      timestamp: hour(k).toISOString(),
      duration: 60,
      value,
    })
    const api = await server({
      '/emissions/forecasts/current': (_r, url) =>
        url.searchParams.get('location') === 'westeurope'
          ? {
              body: [
                {
                  generatedAt: new Date().toISOString(),
                  location: 'westeurope',
                  windowSize: 60,
                  optimalDataPoints: [point(1, 80)],
                  forecastData: [point(0, 200), point(1, 80)],
                },
              ],
            }
          : { status: 501, body: { title: 'NotImplemented' } },
    })
    const slots = await forecast({
      carbonAwareSdkUrl: api.url,
      cloudProvider: 'azure',
      cloudRegion: 'westeurope',
    })
    expect(slots.map((x) => [x.endMs - x.startMs, x.gPerKWh])).toEqual([
      [H, 200],
      [H, 80],
    ])
    expect(slots[0]?.source).toBe('forecast:carbon-aware-sdk:westeurope')
    const error = await failure(forecast({ carbonAwareSdkUrl: api.url, carbonAwareLocation: 'mars' }))
    expect(error.message).toMatch(/HTTP 501 \(its data source offers no forecasts\)/)
  })
})

describe('no forecast for the place', () => {
  it('says which providers cover it and how to enable them', async () => {
    const error = await failure(forecast({ zone: 'DE' }))
    expect(error.code).toBe('NO_FORECAST')
    expect(error.message).toMatch(
      /^No carbon-intensity forecast for zone DE: no Electricity Maps token is set/,
    )
    expect(error.message).toContain('WATTPRINT_ELECTRICITYMAPS_TOKEN')
    expect(error.message).toContain('WATTPRINT_WATTTIME_USERNAME')
    expect(error.message).toContain('WATTPRINT_CARBON_AWARE_SDK_URL')
    // Great Britain's own API is offered only where it applies.
    expect(error.message).not.toContain('UK Carbon Intensity')
    expect((await failure(forecast({ country: 'GB' }))).message).toContain('--uk-carbon-intensity national')
  })

  it('names what a chosen provider lacks', async () => {
    const error = await failure(forecast({ zone: 'DE', forecastProvider: 'watttime' }))
    expect(error.message).toMatch(/forecastProvider is watttime, but no WattTime login is set/)
  })
})
