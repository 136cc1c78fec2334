import { spawnSync } from 'node:child_process'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { configWarnings, environmentWarnings, OptionError, resolveConfig } from '../src/config/config.js'
import type { TrackerOptions } from '../src/config/options.js'
import { WattprintError } from '../src/core/errors.js'
import type { TrackerWarning } from '../src/core/warnings.js'
import { measurePipeline, type PipelineLike } from '../src/integrations/transformers.js'
import type { RequestCounts } from '../src/model/requests.js'
import { forecastConfig } from '../src/scheduling/forecast.js'
import { EmissionsTracker } from '../src/tracker/tracker.js'
import { readCsv } from './helpers/csv.js'
import { captureStderr } from './helpers/stderr.js'
import { makeTempDir } from './helpers/temp-dir.js'

// The names with units that replaced the unitless ones (carbonIntensityGPerKWh, wueLPerKWh,
// waterIntensityLPerKWh, embodied.emissionsKg, inputTokens and outputTokens): each former name still
// works, says so once (DEPRECATED_OPTION, naming the new name), and given beside the new name with
// another value is refused naming both.

/** A tracker that measures nothing real (no powercap tree, no GPU), quickly. */
function tracker(options: TrackerOptions = {}) {
  const dir = makeTempDir('wattprint-deprecated-')
  const t = new EmissionsTracker({
    saveToFile: false,
    logLevel: 'silent',
    sampling: 'inline',
    intervalMs: 40,
    raplRoot: join(dir, 'no-powercap'),
    gpuIds: [],
    ramPowerW: 0,
    ...options,
  })
  const warnings: TrackerWarning[] = []
  t.on('warning', (w) => warnings.push(w))
  return { t, warnings }
}

/** The warnings of a code, by message. */
const messages = (warnings: readonly TrackerWarning[], code: TrackerWarning['code']) =>
  warnings.filter((w) => w.code === code).map((w) => w.message)

/** Lets the microtasks run: the options' warnings reach the listeners once the constructor has returned. */
const settle = () => new Promise<void>((r) => setImmediate(r))

/** Each former option: the options that set it, the resolved fields (new and former) and the new name. */
const FORMER = [
  {
    former: { carbonIntensity: 56 },
    current: { carbonIntensityGPerKWh: 56 },
    resolved: { carbonIntensityGPerKWh: 56, carbonIntensity: 56 },
    names: ['carbonIntensity', 'carbonIntensityGPerKWh'],
  },
  {
    former: { wue: 0.2 },
    current: { wueLPerKWh: 0.2 },
    resolved: { wueLPerKWh: 0.2, wue: 0.2 },
    names: ['wue', 'wueLPerKWh'],
  },
  {
    former: { waterIntensity: 3.1 },
    current: { waterIntensityLPerKWh: 3.1 },
    resolved: { waterIntensityLPerKWh: 3.1, waterIntensity: 3.1 },
    names: ['waterIntensity', 'waterIntensityLPerKWh'],
  },
  {
    former: { embodied: { kgCO2e: 1500 } },
    current: { embodied: { emissionsKg: 1500 } },
    resolved: { embodied: { emissionsKg: 1500, kgCO2e: 1500 } },
    names: ['embodied.kgCO2e', 'embodied.emissionsKg'],
  },
] as const

describe('a former option name', () => {
  // First in the file: the stderr line is printed once per process, so no test before may have used them.
  it.each(FORMER)('$names.0 is printed on stderr once per process, however many trackers', (c) => {
    const stderr = captureStderr()
    try {
      tracker({ ...c.former, logLevel: 'warning' })
      tracker({ ...c.former, logLevel: 'warning' })
    } finally {
      stderr.restore()
    }
    const lines = stderr.text().split('\n')
    const said = lines.filter((l) => l.includes(`Option ${c.names[0]} is deprecated`))
    expect(said).toEqual([expect.stringContaining(`it is now ${c.names[1]}`)])
    expect(said[0]).toMatch(/^\[wattprint warning\] /)
  })

  it.each(FORMER)('$names.0 still sets the option, read as $names.1', (c) => {
    expect(resolveConfig({ saveToFile: false, ...c.former }, {})).toMatchObject(c.resolved)
    // The new name gives the same configuration, with no warning.
    const current = resolveConfig({ saveToFile: false, ...c.current }, {})
    expect(current).toMatchObject(c.resolved)
    expect(configWarnings(current)).toEqual([])
  })

  it.each(FORMER)(
    '$names.0 is one DEPRECATED_OPTION warning event of its tracker, naming $names.1',
    async (c) => {
      const { t, warnings } = tracker(c.former)
      await settle()
      await settle()
      expect(warnings).toEqual([
        {
          code: 'DEPRECATED_OPTION',
          message: expect.stringMatching(
            new RegExp(`^Option ${c.names[0]} is deprecated: it is now ${c.names[1]}`),
          ),
        },
      ])
      expect(t.config).toMatchObject(c.resolved)
    },
  )

  it('a tracker given only the new names says nothing of former names', async () => {
    const { warnings } = tracker({
      carbonIntensityGPerKWh: 56,
      wueLPerKWh: 0.2,
      embodied: { emissionsKg: 1 },
    })
    await settle()
    expect(messages(warnings, 'DEPRECATED_OPTION')).toEqual([])
  })

  it.each([
    [{ carbonIntensity: 56, carbonIntensityGPerKWh: 60 }, 'carbonIntensity', 'carbonIntensityGPerKWh'],
    [{ wue: 0.2, wueLPerKWh: 0.3 }, 'wue', 'wueLPerKWh'],
    [{ waterIntensity: 3, waterIntensityLPerKWh: 4 }, 'waterIntensity', 'waterIntensityLPerKWh'],
    [{ embodied: { kgCO2e: 1500, emissionsKg: 1000 } }, 'embodied.kgCO2e', 'embodied.emissionsKg'],
  ] as const)(
    'given beside its new name with another value, %j is an OptionError naming both',
    (options, old, now) => {
      const error = (() => {
        try {
          new EmissionsTracker({ saveToFile: false, logLevel: 'silent', ...options })
        } catch (caught) {
          return caught
        }
        return undefined
      })()
      expect(error).toBeInstanceOf(OptionError)
      expect(error).toBeInstanceOf(WattprintError)
      expect(error).toMatchObject({ code: 'INVALID_OPTION', option: now })
      expect((error as Error).message).toMatch(new RegExp(`^Options ${old} and ${now} are one option`))
      expect((error as Error).message).toContain(`Give ${now} only`)
    },
  )

  it('given beside its new name with the same value, is taken (with its warning)', () => {
    const config = resolveConfig({ saveToFile: false, logLevel: 'silent', wue: 0.2, wueLPerKWh: 0.2 }, {})
    expect(config.wueLPerKWh).toBe(0.2)
    expect(configWarnings(config).map((w) => w.code)).toEqual(['DEPRECATED_OPTION'])
  })

  it('misspelt, is pointed at the name it is now', () => {
    const error = (() => {
      try {
        resolveConfig({ saveToFile: false, carbonIntensty: 5 } as TrackerOptions, {})
      } catch (caught) {
        return caught
      }
      return undefined
    })()
    expect(error).toMatchObject({ code: 'UNKNOWN_OPTION', option: 'carbonIntensty' })
    expect((error as Error).message).toContain('did you mean carbonIntensityGPerKWh?')
    expect(environmentWarnings({ WATTPRINT_CARBON_INTENSTY: '1' })).toEqual([
      expect.stringContaining('did you mean WATTPRINT_CARBON_INTENSITY_G_PER_KWH?'),
    ])
  })

  it('a bad value under the former name is refused under the name given', () => {
    expect(() => resolveConfig({ saveToFile: false, carbonIntensity: -3 }, {})).toThrow(
      /^Option carbonIntensity must be a number of grams of CO2e per kWh from 0 to 2000 \(got -3\)/,
    )
    expect(() => resolveConfig({ saveToFile: false, embodied: { kgCO2e: -1 } }, {})).toThrow(
      /^Option embodied.kgCO2e must be a finite number of kg CO2e, 0 or more/,
    )
  })
})

describe('a former environment variable', () => {
  it.each([
    [
      'WATTPRINT_CARBON_INTENSITY',
      'WATTPRINT_CARBON_INTENSITY_G_PER_KWH',
      '120',
      'carbonIntensityGPerKWh',
      120,
    ],
    ['WATTPRINT_WUE', 'WATTPRINT_WUE_L_PER_KWH', '0.25', 'wueLPerKWh', 0.25],
    ['WATTPRINT_WATER_INTENSITY', 'WATTPRINT_WATER_INTENSITY_L_PER_KWH', '2.5', 'waterIntensityLPerKWh', 2.5],
  ] as const)('%s still sets the option, with a warning naming %s', (old, now, raw, option, value) => {
    const config = resolveConfig({ saveToFile: false, logLevel: 'silent' }, { [old]: raw })
    expect(config[option]).toBe(value)
    expect(configWarnings(config)).toEqual([
      {
        code: 'DEPRECATED_OPTION',
        message: expect.stringMatching(
          new RegExp(`^Environment variable ${old} is deprecated: it is now ${now} `),
        ),
      },
    ])
    // Neither a typo nor a variable nothing reads.
    expect(environmentWarnings({ [old]: raw })).toEqual([])
    // The new variable alone: no warning.
    const current = resolveConfig({ saveToFile: false, logLevel: 'silent' }, { [now]: raw })
    expect(current[option]).toBe(value)
    expect(configWarnings(current)).toEqual([])
  })

  it('set beside the new variable to another value, is refused naming both', () => {
    const error = (() => {
      try {
        resolveConfig(
          { saveToFile: false },
          {
            WATTPRINT_CARBON_INTENSITY: '100',
            WATTPRINT_CARBON_INTENSITY_G_PER_KWH: '120',
          },
        )
      } catch (caught) {
        return caught
      }
      return undefined
    })()
    expect(error).toBeInstanceOf(WattprintError)
    expect(error).toMatchObject({
      code: 'INVALID_ENVIRONMENT',
      option: 'WATTPRINT_CARBON_INTENSITY_G_PER_KWH',
    })
    expect((error as Error).message).toContain('WATTPRINT_CARBON_INTENSITY="100"')
    expect((error as Error).message).toContain('WATTPRINT_CARBON_INTENSITY_G_PER_KWH="120"')
    // The same figure in both (written alike or not) is one setting.
    expect(
      resolveConfig(
        { saveToFile: false, logLevel: 'silent' },
        {
          WATTPRINT_CARBON_INTENSITY: '100',
          WATTPRINT_CARBON_INTENSITY_G_PER_KWH: '100.0',
        },
      ).carbonIntensityGPerKWh,
    ).toBe(100)
  })

  it('a bad value in the former variable is refused naming that variable', () => {
    expect(() => resolveConfig({ saveToFile: false }, { WATTPRINT_WUE: 'lots' })).toThrow(
      /^Environment variable WATTPRINT_WUE="lots" is invalid: wue must be a number of litres per kWh/,
    )
  })

  it('still prices a wattprint run, with one line saying it is deprecated', () => {
    const dir = makeTempDir('wattprint-deprecated-cli-')
    const run = spawnSync(process.execPath, [resolve('dist/cli.js'), 'run', '-o', dir, '--', 'true'], {
      encoding: 'utf8',
      env: { ...process.env, WATTPRINT_CARBON_INTENSITY: '123', WATTPRINT_RAPL_ROOT: join(dir, 'none') },
    })
    expect(run.status, run.stderr).toBe(0)
    const said = run.stderr.split('\n').filter((l) => l.includes('WATTPRINT_CARBON_INTENSITY is deprecated'))
    expect(said).toHaveLength(1)
    expect(said[0]).toContain('it is now WATTPRINT_CARBON_INTENSITY_G_PER_KWH')
    const [row] = readCsv(join(dir, 'emissions.csv'))
    expect(row?.intensity_source).toBe('fixed')
    expect(Number(row?.emissions) / Number(row?.energy_consumed)).toBeCloseTo(0.123, 9)
  })
})

describe('the former token counts, tokensIn and tokensOut', () => {
  it('of span.end() are read as inputTokens and outputTokens, with one warning each per run', async () => {
    const { t, warnings } = tracker()
    await t.start()
    const first = t.request('a')
    const second = t.request('b')
    first.end({ tokensIn: 3, tokensOut: 5 })
    second.end({ tokensIn: 1, tokensOut: 2 })
    const [a, b] = await Promise.all([first.settled, second.settled])
    const record = await t.stop()
    expect(a).toMatchObject({ inputTokens: 3, outputTokens: 5, tokensIn: 3, tokensOut: 5 })
    expect(b).toMatchObject({ inputTokens: 1, outputTokens: 2 })
    expect(record).toMatchObject({ inputTokens: 4, outputTokens: 7 })
    expect(messages(warnings, 'DEPRECATED_OPTION')).toEqual([
      "end()'s tokensIn is deprecated: it is now inputTokens (the same count), as in the record and the CSV; tokensIn is still read.",
      "end()'s tokensOut is deprecated: it is now outputTokens (the same count), as in the record and the CSV; tokensOut is still read.",
    ])
  })

  it('of span.end() beside the new names with other values: the new names count, a warning names both', async () => {
    const { t, warnings } = tracker()
    await t.start()
    const span = t.request('a')
    span.end({ inputTokens: 4, tokensIn: 3, outputTokens: 9, tokensOut: 9 })
    const record = await span.settled
    await t.stop()
    expect(record).toMatchObject({ inputTokens: 4, outputTokens: 9 })
    expect(messages(warnings, 'INVALID_ARGUMENT')).toEqual([
      "end() of request 'a' was given inputTokens 4 and tokensIn 3, its former name: inputTokens is taken; give inputTokens only.",
    ])
  })

  it('of measure() are read as inputTokens and outputTokens, with one warning each per run', async () => {
    const { t, warnings } = tracker()
    await t.start()
    const one = await t.measure(() => [1, 2], { tokensIn: 2, tokensOut: (r: number[]) => r.length })
    await t.measure(() => 0, { tokensIn: 1 })
    await t.stop()
    expect(one.request).toMatchObject({ inputTokens: 2, outputTokens: 2 })
    expect(messages(warnings, 'DEPRECATED_OPTION')).toEqual([
      "measure()'s tokensIn is deprecated: it is now inputTokens (the same count), as in the record and the CSV; tokensIn is still read.",
      "measure()'s tokensOut is deprecated: it is now outputTokens (the same count), as in the record and the CSV; tokensOut is still read.",
    ])
  })

  it("of measurePipeline()'s option: tokensIn is read, warned about through the tracker, refused beside another inputTokens", async () => {
    const { t, warnings } = tracker()
    const calls: unknown[] = []
    const pipeline = Object.assign(async (input: unknown) => calls.push(input), {
      task: 'text-generation',
    }) as unknown as PipelineLike
    const count = (inputs: unknown) => String(inputs).length
    measurePipeline(t, pipeline, { tokensIn: count })
    measurePipeline(t, pipeline, { tokensIn: count, inputTokens: count }) // the same function: taken
    await settle()
    expect(messages(warnings, 'DEPRECATED_OPTION')).toEqual([
      "measurePipeline()'s option tokensIn is deprecated: it is now inputTokens (the same function), as in the record and the CSV; tokensIn is still read.",
    ])
    expect(() => measurePipeline(t, pipeline, { tokensIn: count, inputTokens: () => 1 })).toThrow(OptionError)
    expect(() => measurePipeline(t, pipeline, { tokensIn: count, inputTokens: () => 1 })).toThrow(
      /options tokensIn and inputTokens are one option/,
    )
  })

  it('of an HTTP adapter (a handler that leaves { tokensOut }) reach the span as outputTokens', async () => {
    const { t, warnings } = tracker()
    await t.start()
    const span = t.request('GET /')
    // What wattprintFastify and wattprintExpress do with the counts a handler leaves.
    const left: RequestCounts = { tokensOut: 42 }
    span.end({ ...left })
    const record = await span.settled
    await t.stop()
    expect(record.outputTokens).toBe(42)
    expect(messages(warnings, 'DEPRECATED_OPTION')).toHaveLength(1)
  })
})

// The forecast options (wattTime*, carbonAware*, forecastProvider) are ForecastOptions', not the
// tracker's: it never read them. A tracker given one still checks it, says so once and ignores it; its
// variable is read by forecasts only; a forecast refuses the tracker's own options.
describe('forecast options belong to forecasts', () => {
  it('a tracker given one warns DEPRECATED_OPTION, naming forecast() and the variable, and keeps none of them', async () => {
    const { t, warnings } = tracker({ forecastProvider: 'watttime', wattTimeRegion: 'CAISO_NORTH' })
    await settle()
    const said = messages(warnings, 'DEPRECATED_OPTION')
    expect(said).toEqual([
      expect.stringMatching(
        /^Option wattTimeRegion is a forecast option, which the tracker never read: pass it to forecast\(\) or bestWindow\(\), or set WATTPRINT_WATTTIME_REGION .* ignored here\.$/,
      ),
      expect.stringMatching(/^Option forecastProvider is a forecast option.*WATTPRINT_FORECAST_PROVIDER/),
    ])
    expect(Object.keys(t.config)).not.toContain('forecastProvider')
    expect(Object.keys(t.config)).not.toContain('wattTimePassword')
    // Still checked where it is written: a typo fails at once, naming the option.
    expect(() => resolveConfig({ forecastProvider: 'watt' as never, saveToFile: false })).toThrow(
      /Option forecastProvider must be one of uk-carbon-intensity, electricitymaps, watttime, carbon-aware-sdk/,
    )
  })

  it("their variables are the forecasts': a tracker reads none, forecastConfig reads and checks them", () => {
    const env = { WATTPRINT_FORECAST_PROVIDER: 'bogus', WATTPRINT_WATTTIME_REGION: 'CAISO_NORTH' }
    const config = resolveConfig({ saveToFile: false, logLevel: 'silent' }, env)
    expect(configWarnings(config)).toEqual([])
    expect(() => forecastConfig({}, env)).toThrow(
      /Environment variable WATTPRINT_FORECAST_PROVIDER="?bogus"? is invalid/,
    )
    const forecast = forecastConfig({ country: 'US' }, { WATTPRINT_WATTTIME_REGION: 'CAISO_NORTH' })
    expect(forecast.wattTimeRegion).toBe('CAISO_NORTH')
    expect(forecast.country).toBe('US')
    expect(forecast.wattTimeUrl).toBe('https://api.watttime.org')
  })

  it("a forecast refuses the tracker's own options, and unknown ones, naming the forecast options", () => {
    let error: unknown
    try {
      forecastConfig({ pue: 1.2 } as never, {})
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(WattprintError)
    expect((error as WattprintError).code).toBe('UNKNOWN_OPTION')
    expect((error as Error).message).toMatch(
      /^pue is a tracker option, not a forecast's\. The forecast options: country, zone,/,
    )
    expect(() => forecastConfig({ contry: 'FR' } as never, {})).toThrow(
      /Unknown option contry: did you mean country\?/,
    )
  })
})
