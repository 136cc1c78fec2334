import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  EmissionsTracker,
  electricityMaps,
  type IntensityProvider,
  OptionError,
  type TrackerWarning,
  ukCarbonIntensity,
  WattprintError,
} from '../src/index.js'
import { clearLiveCache } from '../src/intensity/live.js'
import { startServer, type TestServer } from './helpers/http-server.js'
import { captureStderr } from './helpers/stderr.js'
import { makeTempDir, onCleanup } from './helpers/temp-dir.js'

// The `intensity` option: a live API as one object (electricityMaps(), ukCarbonIntensity()), or the user's
// own provider, on real trackers against local HTTP servers that answer as the APIs do.

const TOKEN = 'em-token-Zq81xLw0'
const servers: TestServer[] = []
beforeEach(() => clearLiveCache())
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close()
})

const hourStart = () => new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000).toISOString()

/** A tracker that measures nothing real, quickly, and the warnings it emitted. */
function tracker(options: ConstructorParameters<typeof EmissionsTracker>[0]) {
  const t = new EmissionsTracker({
    saveToFile: false,
    logLevel: 'silent',
    sampling: 'inline',
    intervalMs: 40,
    gpuIds: [],
    ...options,
  })
  const warnings: TrackerWarning[] = []
  t.on('warning', (w) => warnings.push(w))
  onCleanup(() => void t.stop().catch(() => {}))
  return { t, warnings }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('intensity: electricityMaps({ token })', () => {
  it("asks for the machine's zone with the token, and every row carries the live figure", async () => {
    const api = await startServer({
      '/v3/carbon-intensity/latest': (request, url) =>
        request.headers['auth-token'] === TOKEN
          ? {
              body: {
                zone: url.searchParams.get('zone'),
                carbonIntensity: 61,
                datetime: hourStart(),
                updatedAt: new Date().toISOString(),
              },
            }
          : { status: 401, body: { message: 'Invalid auth-token' } },
    })
    servers.push(api)
    const { t, warnings } = tracker({
      zone: 'FR',
      intensity: electricityMaps({ token: TOKEN, url: api.url }),
    })
    await t.start()
    await sleep(120)
    const record = await t.stop()
    expect(record.carbonIntensityGPerKWh).toBe(61)
    expect(record.intensitySource).toBe('live:electricitymaps:FR')
    expect(api.requests[0]?.query).toBe('?zone=FR')
    expect(warnings.filter((w) => w.code === 'LIVE_INTENSITY_FAILED')).toEqual([])
    // The token never shows: not in the option's printed form, not in the tracker's config.
    expect(JSON.stringify(electricityMaps({ token: TOKEN }))).not.toContain(TOKEN)
    expect(JSON.stringify(t.config)).not.toContain(TOKEN)
  })

  it('wins over the flat electricityMapsToken, and a refused token leaves the yearly figure with a warning', async () => {
    const api = await startServer({
      '/v3/carbon-intensity/latest': () => ({ status: 401, body: { message: 'Invalid auth-token' } }),
    })
    servers.push(api)
    const { t, warnings } = tracker({
      zone: 'FR',
      electricityMapsToken: 'the-flat-one',
      electricityMapsUrl: 'http://127.0.0.1:9/never',
      intensity: electricityMaps({ token: 'wrong-token', url: api.url }),
    })
    await t.start()
    const record = await t.stop()
    expect(api.requests).toHaveLength(1)
    expect(record.intensitySource).toMatch(/^electricitymaps-yearly-\d{4}:FR$/)
    const failed = warnings.filter((w) => w.code === 'LIVE_INTENSITY_FAILED').map((w) => w.message)
    expect(failed.join(' ')).toContain('401')
    expect(failed.join(' ')).not.toContain('wrong-token')
  })
})

describe('intensity: ukCarbonIntensity({ area })', () => {
  it('asks for the area, and puts the machine in Great Britain when nothing else says where it is', async () => {
    const api = await startServer({
      '/regional/postcode/RG10': () => ({
        body: {
          data: [
            {
              regionid: 12,
              postcode: 'RG10',
              data: [{ from: '2026-11-22T10:00Z', to: '2026-11-22T10:30Z', intensity: { forecast: 120 } }],
            },
          ],
        },
      }),
    })
    servers.push(api)
    const { t, warnings } = tracker({ intensity: ukCarbonIntensity({ area: 'RG10 1AA', url: api.url }) })
    await t.start()
    const record = await t.stop()
    expect(record.intensitySource).toBe('live:uk-carbon-intensity:postcode-RG10')
    expect(record.carbonIntensityGPerKWh).toBe(120)
    expect(record.countryIsoCode).toBe('GBR')
    expect(warnings.map((w) => w.code)).not.toContain('LOCATION_GUESSED')
  })

  it('is not asked for a machine outside Great Britain: the yearly figure, and a warning saying why', async () => {
    const api = await startServer({ '/intensity': () => ({ body: { data: [] } }) })
    servers.push(api)
    const { t, warnings } = tracker({ zone: 'DE', intensity: ukCarbonIntensity({ url: api.url }) })
    await t.start()
    const record = await t.stop()
    expect(api.requests).toHaveLength(0)
    expect(record.intensitySource).toMatch(/^electricitymaps-yearly-\d{4}:DE$/)
    expect(warnings.find((w) => w.code === 'LIVE_INTENSITY_FAILED')?.message).toMatch(
      /covers Great Britain only, and this machine is in zone DE/,
    )
  })
})

describe('intensity: your own provider', () => {
  it('is asked for every interval; its figures are priced and labelled custom', async () => {
    const asked: number[] = []
    const provider: IntensityProvider = {
      at(wallMs) {
        asked.push(wallMs)
        return { gPerKWh: 123, source: 'site-meter' }
      },
    }
    const { t, warnings } = tracker({ country: 'FR', intensity: provider })
    await t.start()
    await sleep(150)
    const record = await t.stop()
    expect(record.carbonIntensityGPerKWh).toBe(123)
    expect(record.intensitySource).toBe('custom:site-meter')
    expect(record.emissionsKg).toBeCloseTo(record.energyKWh * 0.123, 12)
    expect(asked.length).toBeGreaterThanOrEqual(2)
    expect(warnings.map((w) => w.code)).not.toContain('LIVE_INTENSITY_FAILED')
  })

  it('one that throws or returns no figure never breaks the run: the yearly figure stands in, said once', async () => {
    let calls = 0
    const provider: IntensityProvider = {
      at() {
        calls++
        if (calls % 2) throw new Error('meter offline')
        return { gPerKWh: Number.NaN, source: 'x' }
      },
    }
    const { t, warnings } = tracker({ country: 'FR', intensity: provider })
    await t.start()
    await sleep(150)
    const record = await t.stop()
    expect(record.status).toBe('finished')
    expect(record.intensitySource).toMatch(/^electricitymaps-yearly-\d{4}:FR$/)
    const failed = warnings.filter((w) => w.code === 'LIVE_INTENSITY_FAILED')
    expect(failed).toHaveLength(1)
    expect(failed[0]?.message).toMatch(/provider failed \(it threw meter offline\)/)
  })

  it("carries a hostile source text whole into the row, read back by Python's csv, and never raw to the terminal", async () => {
    // CR, LF, quotes, the delimiter, a leading formula sign, NUL, ESC sequences, bidi overrides, a lone
    // surrogate (no valid UTF-8), 20,000 characters.
    const hostile = `=cmd|"a,b"\r\nc\u0000\u001b[2J\u001b]0;x\u0007\u202eevil\ud800${'z'.repeat(20_000)}`
    const dir = makeTempDir('wattprint-intensity-option-')
    const stderr = captureStderr()
    const { t } = tracker({
      country: 'FR',
      saveToFile: true,
      outputDir: dir,
      logLevel: 'info',
      intensity: { at: () => ({ gPerKWh: 80, source: hostile }) },
    })
    try {
      await t.start()
      await sleep(100)
      const record = await t.stop()
      expect(record.intensitySource).toBe(`custom:${hostile}`)
    } finally {
      stderr.restore()
    }
    const script =
      'import csv,json,sys\nprint(json.dumps([r["intensity_source"] for r in csv.DictReader(open(sys.argv[1], newline="", encoding="utf-8", errors="replace"))]))'
    const read = spawnSync('python3', ['-c', script, join(dir, 'emissions.csv')], { encoding: 'utf8' })
    expect(read.stderr).toBe('')
    // The lone surrogate cannot be written as UTF-8: it is U+FFFD in the file; every other character is whole.
    expect(JSON.parse(read.stdout)).toEqual([`custom:${hostile.replace('\ud800', '\ufffd')}`])
    // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
    expect(stderr.text()).not.toMatch(/[\u0000\u001b\u202e\r]/)
    expect(stderr.text()).toContain('custom:')
  })

  it('carbonIntensityGPerKWh still overrides it', async () => {
    const { t } = tracker({
      carbonIntensityGPerKWh: 56,
      intensity: { at: () => ({ gPerKWh: 999, source: 'no' }) },
    })
    await t.start()
    const record = await t.stop()
    expect(record.carbonIntensityGPerKWh).toBe(56)
    expect(record.intensitySource).toBe('fixed')
  })
})

describe('bad input', () => {
  it('the factories refuse a missing token, an area that is none and a URL that is not http(s), naming the field', () => {
    const refused = (make: () => unknown, field: string, message: RegExp) => {
      let error: unknown
      try {
        make()
      } catch (e) {
        error = e
      }
      expect(error).toBeInstanceOf(WattprintError)
      expect((error as WattprintError).code).toBe('INVALID_OPTION')
      expect((error as WattprintError).option).toBe(field)
      expect((error as Error).message).toMatch(message)
    }
    refused(
      () => electricityMaps({} as never),
      'token',
      /^electricityMaps: token must be your Electricity Maps API token/,
    )
    refused(() => electricityMaps({ token: '  ' }), 'token', /token must be/)
    refused(() => electricityMaps({ token: 't', url: 'ftp://x' }), 'url', /url "ftp:\/\/x" must be an http/)
    refused(
      () => ukCarbonIntensity({ area: 'Narnia 42' }),
      'area',
      /^ukCarbonIntensity: area "Narnia 42" must be 'national'/,
    )
    refused(() => ukCarbonIntensity({ area: 99 }), 'area', /area 99 must be/)
  })

  it('the tracker refuses an intensity option that is neither, naming what it takes', () => {
    for (const bad of [42, 'electricitymaps', { gPerKWh: 56 }, null]) {
      expect(() => new EmissionsTracker({ saveToFile: false, intensity: bad as never })).toThrow(OptionError)
      expect(() => new EmissionsTracker({ saveToFile: false, intensity: bad as never })).toThrow(
        /Option intensity must be electricityMaps\(\{ token \}\), ukCarbonIntensity\(\{ area \}\) or your own provider/,
      )
    }
  })
})
