import type { IncomingMessage } from 'node:http'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Ledger } from '../src/accounting/ledger.js'
import { resolveConfig } from '../src/config/config.js'
import type { TrackerOptions } from '../src/config/options.js'
import { Secret } from '../src/core/secret.js'
import type { TrackerWarning } from '../src/core/warnings.js'
import { detectCloud } from '../src/intensity/cloud-detect.js'
import { electricityMapsSource } from '../src/intensity/electricity-maps.js'
import { clearLiveCache, LiveIntensity } from '../src/intensity/live.js'
import { ConstantIntensity } from '../src/intensity/provider.js'
import {
  type IntensityResolution,
  type ResolveDependencies,
  resolveIntensity,
} from '../src/intensity/resolve.js'
import { ukCarbonIntensitySource } from '../src/intensity/uk-carbon-intensity.js'
import { type Answer, type Route, startServer, type TestServer } from './helpers/http-server.js'
import { intervalReport, raplPackageMeter } from './helpers/intervals.js'

const TOKEN = 'em-token-Zq81xLw0'
const cleanups: (() => void | Promise<void>)[] = []
beforeEach(() => clearLiveCache())
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function server(routes: Record<string, Route>): Promise<TestServer> {
  const s = await startServer(routes)
  cleanups.push(() => s.close())
  return s
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const hourStart = (ms = Date.now()) => new Date(Math.floor(ms / 3_600_000) * 3_600_000).toISOString()

/** Electricity Maps' answer to /v3/carbon-intensity/latest, as the API sends it. */
const emLatest = (zone: string, carbonIntensity: number, datetime = hourStart()) => ({
  zone,
  carbonIntensity,
  datetime,
  updatedAt: new Date().toISOString(),
  createdAt: new Date().toISOString(),
  emissionFactorType: 'lifecycle',
  isEstimated: true,
  estimationMethod: 'TIME_SLICER_AVERAGE',
  temporalGranularity: 'hourly',
})

/** The API's own answer to a bad token. */
const emRefused: Answer = { status: 401, body: { status: 'error', message: 'Invalid auth-token' } }

const emRoute =
  (answer: (request: IncomingMessage, url: URL) => Answer): Route =>
  (request, url) =>
    request.headers['auth-token'] === TOKEN ? answer(request, url) : emRefused

/** The UK API's national /intensity answer. */
const ukNational = (actual: number | null, forecast: number) => ({
  data: [
    {
      from: '2026-11-22T10:00Z',
      to: '2026-11-22T10:30Z',
      intensity: { forecast, actual, index: 'moderate' },
    },
  ],
})

/** The UK API's /regional/regionid/{id} and /regional/postcode/{code} answer. */
const ukRegional = (regionid: number, forecast: number, extra: Record<string, unknown> = {}) => ({
  data: [
    {
      regionid,
      dnoregion: 'UKPN London',
      shortname: 'London',
      ...extra,
      data: [
        {
          from: '2026-11-22T10:00Z',
          to: '2026-11-22T10:30Z',
          intensity: { forecast, index: 'low' },
          generationmix: [
            { fuel: 'gas', perc: 30.1 },
            { fuel: 'wind', perc: 40.2 },
          ],
        },
      ],
    },
  ],
})

async function resolveWith(
  options: TrackerOptions,
  dependencies: ResolveDependencies = {},
): Promise<IntensityResolution & { liveWarnings: TrackerWarning[] }> {
  const config = resolveConfig({ saveToFile: false, ...options }, {})
  const liveWarnings: TrackerWarning[] = []
  const resolution = await resolveIntensity(config, {
    timeZone: 'UTC',
    onLiveWarning: (w) => liveWarnings.push(w),
    ...dependencies,
  })
  cleanups.push(() => resolution.close())
  return { ...resolution, liveWarnings }
}

const codes = (warnings: readonly TrackerWarning[]) => warnings.map((w) => w.code)

describe('Electricity Maps, live', () => {
  it('asks for the zone with the token in the auth-token header, and labels the figure live', async () => {
    const api = await server({
      '/v3/carbon-intensity/latest': emRoute((_, url) => ({
        body: emLatest(url.searchParams.get('zone') ?? '?', 47),
      })),
    })
    const r = await resolveWith({ zone: 'FR', electricityMapsToken: TOKEN, electricityMapsUrl: api.url })
    expect(r.provider.at(Date.now())).toEqual({ gPerKWh: 47, source: 'live:electricitymaps:FR' })
    expect(api.requests).toHaveLength(1)
    expect(api.requests[0]?.query).toBe('?zone=FR')
    expect(api.requests[0]?.headers['auth-token']).toBe(TOKEN)
    expect(r.warnings).toEqual([])
    expect(r.location.zone).toBe('FR')
  })

  it("asks about the country's zone, and the cloud region's zone", async () => {
    const api = await server({
      '/v3/carbon-intensity/latest': emRoute((_, url) => ({
        body: emLatest(url.searchParams.get('zone') ?? '?', 100),
      })),
    })
    await resolveWith({ country: 'DEU', electricityMapsToken: TOKEN, electricityMapsUrl: api.url })
    clearLiveCache()
    const cloud = await resolveWith({
      cloudProvider: 'aws',
      cloudRegion: 'us-west-1',
      electricityMapsToken: TOKEN,
      electricityMapsUrl: api.url,
    })
    expect(api.requests.map((r) => r.query)).toEqual(['?zone=DE', '?zone=US-CAL-CISO'])
    expect(cloud.provider.at(Date.now()).source).toBe('live:electricitymaps:US-CAL-CISO')
  })

  it.each([
    ['a 500', (): Answer => ({ status: 500, body: { message: 'Internal error' } }), 'answered HTTP 500'],
    ['malformed JSON', (): Answer => ({ body: '{"zone":"FR","carbonIntensity":' }), 'not JSON'],
    [
      'JSON without a figure',
      (): Answer => ({ body: { zone: 'FR', carbonIntensity: null } }),
      'without a carbon intensity',
    ],
    [
      'a slow answer',
      (): Answer => ({ body: emLatest('FR', 47), delayMs: 10_000 }),
      'did not answer within 300 ms',
    ],
  ])('falls back to the yearly figure with one warning on %s', async (_, answer, says) => {
    const api = await server({ '/v3/carbon-intensity/latest': emRoute(answer) })
    const started = performance.now()
    const r = await resolveWith({
      zone: 'FR',
      electricityMapsToken: TOKEN,
      electricityMapsUrl: api.url,
      intensityTimeoutMs: 300,
    })
    expect(performance.now() - started).toBeLessThan(5000)
    expect(r.provider.at(Date.now())).toEqual({ gPerKWh: 31, source: 'electricitymaps-yearly-2025:FR' })
    expect(codes(r.liveWarnings)).toEqual(['LIVE_INTENSITY_FAILED'])
    expect(r.liveWarnings[0]?.message).toContain(says)
    expect(r.liveWarnings[0]?.message).toContain('electricitymaps-yearly-2025:FR (31 g/kWh)')
    expect(r.notes.join(' ')).toContain(says)
  })

  it('stops asking after a refused token, and says how to fix it without showing it', async () => {
    const api = await server({ '/v3/carbon-intensity/latest': emRoute(() => ({ body: emLatest('FR', 47) })) })
    const r = await resolveWith(
      { zone: 'FR', electricityMapsToken: 'wrong-token-123', electricityMapsUrl: api.url },
      { liveTiming: { minGapMs: 20, publishDelayMs: 0 } },
    )
    await sleep(200)
    expect(api.requests).toHaveLength(1)
    expect(r.provider.at(Date.now()).source).toBe('electricitymaps-yearly-2025:FR')
    const message = r.liveWarnings[0]?.message ?? ''
    expect(message).toContain('HTTP 401')
    expect(message).toContain('WATTPRINT_ELECTRICITYMAPS_TOKEN')
    expect(message).toContain('for the rest of the run')
    expect(message).not.toContain('wrong-token-123')
  })

  it('warns when a token is set but nothing says where the machine is', async () => {
    const api = await server({})
    const r = await resolveWith({ electricityMapsToken: TOKEN, electricityMapsUrl: api.url })
    expect(codes(r.warnings)).toEqual(['LOCATION_UNKNOWN', 'LIVE_INTENSITY_FAILED'])
    expect(api.requests).toHaveLength(0)
    expect(r.provider.at(0).source).toBe('world-average')
  })

  it('shares an answer between trackers until the provider publishes the next, then asks again', async () => {
    let answers = 0
    // The hour the answer describes ends 300 ms from now: the cached answer expires then.
    const api = await server({
      '/v3/carbon-intensity/latest': emRoute(() => {
        answers += 1
        return { body: emLatest('FR', answers * 10, new Date(Date.now() - 3_600_000 + 300).toISOString()) }
      }),
    })
    const options = { zone: 'FR', electricityMapsToken: TOKEN, electricityMapsUrl: api.url }
    const timing = { liveTiming: { minGapMs: 50, publishDelayMs: 0 } }
    const first = await resolveWith(options, timing)
    const second = await resolveWith(options, timing)
    expect(api.requests).toHaveLength(1)
    expect(second.provider.at(Date.now()).gPerKWh).toBe(10)
    const figure = (r: IntensityResolution) => r.provider.at(Date.now()).gPerKWh
    const deadline = Date.now() + 10_000
    while ((figure(first) < 20 || figure(second) < 20) && Date.now() < deadline) await sleep(10)
    // Both refreshed when the period ended, on one request: one answer, the same figure.
    expect(api.requests.length).toBeGreaterThanOrEqual(2)
    expect(figure(first)).toBeGreaterThanOrEqual(20)
    expect(figure(second)).toBe(figure(first))
  })

  it('refreshes once per period, not per reading', async () => {
    const api = await server({ '/v3/carbon-intensity/latest': emRoute(() => ({ body: emLatest('FR', 47) })) })
    const r = await resolveWith({ zone: 'FR', electricityMapsToken: TOKEN, electricityMapsUrl: api.url })
    for (let i = 0; i < 1000; i++) r.provider.at(Date.now())
    await sleep(100)
    expect(api.requests).toHaveLength(1)
  })
})

describe('UK Carbon Intensity, live', () => {
  it('uses the actual national figure when published, else the forecast', async () => {
    let actual: number | null = 180
    const api = await server({ '/intensity': () => ({ body: ukNational(actual, 190) }) })
    const r = await resolveWith({ ukCarbonIntensity: 'national', ukCarbonIntensityUrl: api.url })
    expect(r.provider.at(Date.now())).toEqual({ gPerKWh: 180, source: 'live:uk-carbon-intensity' })
    expect(r.location.country?.alpha2).toBe('GB')
    expect(r.location.zone).toBe('GB')
    actual = null
    clearLiveCache()
    const forecast = await resolveWith({ ukCarbonIntensity: 'national', ukCarbonIntensityUrl: api.url })
    expect(forecast.provider.at(Date.now()).gPerKWh).toBe(190)
  })

  it('asks for a region by id and by postcode', async () => {
    const api = await server({
      '/regional/regionid/13': () => ({ body: ukRegional(13, 95) }),
      '/regional/postcode/RG10': () => ({ body: ukRegional(12, 120, { postcode: 'RG10' }) }),
    })
    const region = await resolveWith({ ukCarbonIntensity: 13, ukCarbonIntensityUrl: api.url })
    expect(region.provider.at(Date.now())).toEqual({
      gPerKWh: 95,
      source: 'live:uk-carbon-intensity:region-13',
    })
    const postcode = await resolveWith({ ukCarbonIntensity: 'RG10 1AA', ukCarbonIntensityUrl: api.url })
    expect(postcode.provider.at(Date.now())).toEqual({
      gPerKWh: 120,
      source: 'live:uk-carbon-intensity:postcode-RG10',
    })
  })

  it('falls back to the yearly GB figure when the API fails', async () => {
    const api = await server({ '/intensity': () => ({ status: 502, body: 'Bad gateway' }) })
    const r = await resolveWith({ ukCarbonIntensity: 'national', ukCarbonIntensityUrl: api.url })
    expect(r.provider.at(Date.now())).toEqual({ gPerKWh: 176, source: 'electricitymaps-yearly-2025:GB' })
    expect(r.liveWarnings[0]?.message).toContain('HTTP 502')
  })

  it('is not asked about a detected cloud region outside Great Britain', async () => {
    const api = await server({ '/intensity': () => ({ body: ukNational(180, 190) }) })
    const r = await resolveWith(
      { ukCarbonIntensity: 'national', ukCarbonIntensityUrl: api.url, detectCloud: true },
      { detectCloud: async () => ({ provider: 'gcp', region: 'europe-west4' }) },
    )
    expect(api.requests).toHaveLength(0)
    expect(r.provider.at(0).source).toBe('electricitymaps-yearly-2025:NL')
    expect(r.warnings[0]?.message).toContain('Great Britain only')
  })
})

describe('time-varying intensity', () => {
  const meters = [raplPackageMeter]
  const interval = (wallTimeMs: number, joules: number) => intervalReport(wallTimeMs, [joules])

  it("applies a live provider's successive answers to the intervals of their periods", async () => {
    const figures = [100, 200, 300]
    let asked = 0
    const api = await server({
      '/v3/carbon-intensity/latest': emRoute(() => {
        const figure = figures[Math.min(asked, 2)] ?? 0
        asked += 1
        // Each answer's hour has just begun and ends 150 ms later.
        return { body: emLatest('FR', figure, new Date(Date.now() - 3_600_000 + 150).toISOString()) }
      }),
    })
    const warnings: TrackerWarning[] = []
    const live = new LiveIntensity(
      electricityMapsSource({ baseUrl: api.url, token: new Secret(TOKEN), zone: 'FR', timeoutMs: 1000 }),
      new ConstantIntensity({ gPerKWh: 31, source: 'electricitymaps-yearly-2025:FR' }),
      (w) => warnings.push(w),
      { minGapMs: 10, publishDelayMs: 0 },
    )
    cleanups.push(() => live.close())
    const ledger = new Ledger(meters, 1, live)
    await live.start()
    const cumulative: number[] = []
    for (let i = 0; i < 3; i++) {
      const seen = asked
      ledger.add(interval(Date.now(), 3.6e6))
      cumulative.push(ledger.totals().emissionsKg)
      while (asked === seen) await sleep(10)
      await sleep(20)
    }
    expect(warnings).toEqual([])
    expect(cumulative.map((kg) => Number(kg.toFixed(9)))).toEqual([0.1, 0.3, 0.6])
    expect(ledger.totals().intensitySources).toEqual(['live:electricitymaps:FR'])
  })

  it('gives way to the static figure when the live one is older than two periods', async () => {
    const api = await server({ '/intensity': () => ({ body: ukNational(150, 150) }) })
    let now = Date.now()
    const live = new LiveIntensity(
      ukCarbonIntensitySource({ baseUrl: api.url, area: { kind: 'national' }, timeoutMs: 1000 }),
      new ConstantIntensity({ gPerKWh: 176, source: 'electricitymaps-yearly-2025:GB' }),
      () => {},
      {},
      () => now,
    )
    cleanups.push(() => live.close())
    await live.start()
    expect(live.at(now).gPerKWh).toBe(150)
    now += 3_600_001
    expect(live.at(now)).toEqual({ gPerKWh: 176, source: 'electricitymaps-yearly-2025:GB' })
  })
})

describe('cloud detection', () => {
  it('reads the AWS region and instance type with an IMDSv2 token', async () => {
    const imds = await server({
      'PUT /latest/api/token': (request) =>
        request.headers['x-aws-ec2-metadata-token-ttl-seconds']
          ? { body: 'imds-token' }
          : { status: 400, body: '' },
      '/latest/meta-data/placement/region': (request) =>
        request.headers['x-aws-ec2-metadata-token'] === 'imds-token'
          ? { body: 'eu-north-1' }
          : { status: 401, body: '' },
      '/latest/meta-data/instance-type': (request) =>
        request.headers['x-aws-ec2-metadata-token'] === 'imds-token'
          ? { body: 'p4d.24xlarge' }
          : { status: 401, body: '' },
    })
    expect(await detectCloud(imds.url)).toEqual({
      provider: 'aws',
      region: 'eu-north-1',
      instanceType: 'p4d.24xlarge',
    })
  })

  it("reads GCP's zone and machine type and Azure's location and size; a type not answered is null", async () => {
    const gcp = await server({
      '/computeMetadata/v1/instance/zone': (request) =>
        request.headers['metadata-flavor'] === 'Google'
          ? { body: 'projects/123456789/zones/europe-west4-a' }
          : { status: 403, body: '' },
      '/computeMetadata/v1/instance/machine-type': (request) =>
        request.headers['metadata-flavor'] === 'Google'
          ? { body: 'projects/123456789/machineTypes/n2-standard-8' }
          : { status: 403, body: '' },
    })
    expect(await detectCloud(gcp.url)).toEqual({
      provider: 'gcp',
      region: 'europe-west4',
      instanceType: 'n2-standard-8',
    })
    const azure = await server({
      '/metadata/instance/compute/location': (request, url) =>
        request.headers.metadata === 'true' && url.searchParams.get('format') === 'text'
          ? { body: 'westeurope' }
          : { status: 400, body: '' },
      '/metadata/instance/compute/vmSize': (request, url) =>
        request.headers.metadata === 'true' && url.searchParams.get('format') === 'text'
          ? { body: 'Standard_D4s_v3' }
          : { status: 400, body: '' },
    })
    expect(await detectCloud(azure.url)).toEqual({
      provider: 'azure',
      region: 'westeurope',
      instanceType: 'Standard_D4s_v3',
    })
    const typeless = await server({ '/metadata/instance/compute/location': () => ({ body: 'westeurope' }) })
    expect(await detectCloud(typeless.url)).toEqual({
      provider: 'azure',
      region: 'westeurope',
      instanceType: null,
    })
  })

  it('answers null at once when nothing listens, and within the time limit when nothing answers', async () => {
    const closed = await startServer({})
    const url = closed.url
    await closed.close()
    let started = performance.now()
    expect(await detectCloud(url, 10_000)).toBeNull()
    expect(performance.now() - started).toBeLessThan(3000)
    const silent = await server({
      'PUT /latest/api/token': () => ({ body: 'x', delayMs: 5000 }),
      '/latest/meta-data/placement/region': () => ({ body: 'x', delayMs: 5000 }),
      '/computeMetadata/v1/instance/zone': () => ({ body: 'x', delayMs: 5000 }),
      '/metadata/instance/compute/location': () => ({ body: 'x', delayMs: 5000 }),
    })
    started = performance.now()
    expect(await detectCloud(silent.url, 300)).toBeNull()
    expect(performance.now() - started).toBeLessThan(3000)
  })

  it('feeds the detected region into the resolution', async () => {
    const azure = await server({ '/metadata/instance/compute/location': () => ({ body: 'uksouth\n' }) })
    const r = await resolveWith(
      { detectCloud: true, cloudMetadataUrl: azure.url },
      { detectCloud: undefined },
    )
    expect(r.location).toMatchObject({
      onCloud: true,
      cloudProvider: 'azure',
      cloudRegion: 'uksouth',
      zone: 'GB',
    })
    expect(r.provider.at(0).source).toBe('electricitymaps-yearly-2025:GB')
  })
})
