import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  bestWindow,
  EmissionsTracker,
  estimateMachinePower,
  ForecastError,
  forecast,
  jsonlSink,
  memorySink,
  OptionError,
  prometheusSink,
  track,
  WattprintError,
  type WattprintErrorCode,
} from '../src/index.js'
import { measurePipeline, type PipelineLike } from '../src/integrations/transformers.js'

// Every error the public API throws or rejects with is a WattprintError with a code: a small family
// (OptionError, ForecastError) that `instanceof WattprintError` catches whole. Each public throw is made
// here; and the sources are read, so that a new error class or a bare TypeError fails the build.

/** The codes of WattprintErrorCode, as the family documents them. */
const CODES: readonly WattprintErrorCode[] = [
  'INVALID_OPTION',
  'INVALID_ENVIRONMENT',
  'UNKNOWN_OPTION',
  'INVALID_ARGUMENT',
  'NO_FORECAST',
  'FORECAST_FAILED',
]

/** What `run` threw or rejected with; undefined when it did neither. */
async function thrown(run: () => unknown): Promise<unknown> {
  try {
    await run()
  } catch (error) {
    return error
  }
  return undefined
}

/** Runs `run` with the environment variable `name` set to `value`. */
async function withEnv(name: string, value: string, run: () => unknown): Promise<unknown> {
  const before = process.env[name]
  process.env[name] = value
  try {
    return await thrown(run)
  } finally {
    if (before === undefined) delete process.env[name]
    else process.env[name] = before
  }
}

const noForecastEnv = { zone: 'DE' } as const

/** Every public throw: what it is, how to make it, its code, and its class beyond WattprintError. */
const THROWS: readonly [
  string,
  () => unknown,
  WattprintErrorCode,
  (typeof OptionError | typeof ForecastError)?,
][] = [
  ['a bad tracker option', () => new EmissionsTracker({ intervalMs: -1 }), 'INVALID_OPTION', OptionError],
  ['an unknown tracker option', () => new EmissionsTracker({ intervalMS: 5 } as never), 'UNKNOWN_OPTION'],
  [
    'an option under both its names, disagreeing',
    () => new EmissionsTracker({ saveToFile: false, carbonIntensity: 1, carbonIntensityGPerKWh: 2 }),
    'INVALID_OPTION',
    OptionError,
  ],
  ['EmissionsTracker.start() with a bad option', () => EmissionsTracker.start({ pue: 0 }), 'INVALID_OPTION'],
  ['track() with a bad option', () => track(() => 1, { pue: 0 }), 'INVALID_OPTION'],
  ['track() of no function', () => track(42 as never), 'INVALID_ARGUMENT'],
  ['memorySink() with a bad bound', () => memorySink({ maxSamples: -1 }), 'INVALID_OPTION'],
  ['jsonlSink() without a path', () => jsonlSink({} as never), 'INVALID_OPTION'],
  [
    'prometheusSink() with a bad Pushgateway job',
    () => prometheusSink({ pushgateway: { url: 'http://127.0.0.1:9091', job: '' } }),
    'INVALID_OPTION',
  ],
  ['estimateMachinePower() without threads', () => estimateMachinePower({} as never), 'INVALID_OPTION'],
  [
    'bestWindow() with a negative duration',
    () => bestWindow({ durationS: -1, withinS: 60 }),
    'INVALID_ARGUMENT',
  ],
  ['bestWindow() without a deadline', () => bestWindow({ durationS: 60 }), 'INVALID_ARGUMENT'],
  [
    'bestWindow() with a date that does not exist',
    () => bestWindow({ durationS: 60, deadline: '2026-11-31T00:00:00Z' }),
    'INVALID_ARGUMENT',
  ],
  [
    'bestWindow() where no forecast covers the place',
    () => bestWindow({ durationS: 60, withinS: 3600, location: noForecastEnv }),
    'NO_FORECAST',
    ForecastError,
  ],
  [
    'forecast() where no forecast covers the place',
    () => forecast(noForecastEnv),
    'NO_FORECAST',
    ForecastError,
  ],
  ['forecast() with a bad location', () => forecast({ country: 'GER' }), 'INVALID_OPTION'],
  [
    'measurePipeline() given tokensIn and another inputTokens',
    () =>
      measurePipeline({ request: () => ({}) } as never, Object.assign(async () => 1, {}) as PipelineLike, {
        tokensIn: () => 1,
        inputTokens: () => 2,
      }),
    'INVALID_OPTION',
    OptionError,
  ],
]

describe('the error family', () => {
  it.each(THROWS)('%s is a WattprintError with its code', async (_what, run, code, subclass) => {
    const error = await thrown(run)
    expect(error).toBeInstanceOf(WattprintError)
    expect((error as WattprintError).code).toBe(code)
    expect(CODES).toContain((error as WattprintError).code)
    if (subclass) expect(error).toBeInstanceOf(subclass)
    expect((error as Error).message.length).toBeGreaterThan(20)
  })

  it('measure() of no function rejects with a WattprintError, and passes the function’s own errors on', async () => {
    const tracker = new EmissionsTracker({ saveToFile: false, logLevel: 'silent', sampling: 'inline' })
    await tracker.start()
    const refused = await thrown(() => tracker.measure(42 as never))
    const own = new RangeError('the job’s own')
    const passed = await thrown(() =>
      tracker.measure(() => {
        throw own
      }),
    )
    await tracker.stop()
    expect(refused).toBeInstanceOf(WattprintError)
    expect(refused).toMatchObject({ code: 'INVALID_ARGUMENT', option: 'fn' })
    expect(passed).toBe(own)
  })

  it('a bad environment variable is a WattprintError naming it', async () => {
    const error = await withEnv(
      'WATTPRINT_INTERVAL_MS',
      'soon',
      () => new EmissionsTracker({ saveToFile: false }),
    )
    expect(error).toBeInstanceOf(WattprintError)
    expect(error).toMatchObject({ code: 'INVALID_ENVIRONMENT', option: 'WATTPRINT_INTERVAL_MS' })
  })

  it('ForecastError and OptionError are WattprintErrors, told apart by instanceof and name', () => {
    const forecastError = new ForecastError('FORECAST_FAILED', 'x')
    expect(forecastError).toBeInstanceOf(WattprintError)
    expect(forecastError).toBeInstanceOf(ForecastError)
    expect(forecastError.name).toBe('ForecastError')
    expect(forecastError.code).toBe('FORECAST_FAILED')
    const optionError = new OptionError('m', 'pue', 'must be …', null, '1.2')
    expect(optionError).toBeInstanceOf(WattprintError)
    expect(optionError).not.toBeInstanceOf(ForecastError)
    expect(optionError.code).toBe('INVALID_OPTION')
  })
})

/** Every TypeScript source under a folder. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sources(path)
    return entry.name.endsWith('.ts') ? [path] : []
  })
}

/**
 * The error classes of src/ that are not WattprintErrors, each with why it never reaches a user. The
 * reason is also said where the class is defined: a class added without one fails here.
 */
const INTERNAL_ERRORS: Readonly<Record<string, string>> = {
  HttpFailure: 'the live intensity makes it a warning, askProvider() a ForecastError',
  OutputPathError: 'the CSV, checkpoints and JSON lines make it a warning, the CLI a usage error',
  UsageError: 'the CLI only: main() prints it and exits 2',
}

describe('the sources', () => {
  const files = sources('src')
  const code = (file: string) => readFileSync(file, 'utf8')

  it('define no error class outside the family but the internal ones, each saying why', () => {
    expect(files.length).toBeGreaterThan(50)
    const classes = files.flatMap((file) =>
      [...code(file).matchAll(/class (\w+) extends (\w+)/g)]
        .filter(([, , base]) => base === 'Error' || /Error$/.test(base ?? ''))
        .map(([, name, base]) => ({ file, name: name ?? '', base: base ?? '' })),
    )
    const outside = classes.filter((c) => c.base === 'Error' && c.name !== 'WattprintError')
    expect(outside.map((c) => c.name).sort()).toEqual(Object.keys(INTERNAL_ERRORS).sort())
    for (const c of outside) expect(code(c.file), `${c.file}: ${c.name}`).toMatch(/never (reaches|leaves)/)
    // The family: every other error class descends from WattprintError.
    const family = new Set(['WattprintError'])
    for (const c of classes) if (family.has(c.base)) family.add(c.name)
    expect([...family].sort()).toEqual(['ForecastError', 'OptionError', 'WattprintError'])
  })

  it('throw no bare TypeError or RangeError, which the API would let out', () => {
    const bare = files.flatMap((file) =>
      code(file)
        .split('\n')
        .flatMap((line, i) => (/new (Type|Range)Error\(/.test(line) ? [`${file}:${i + 1}`] : [])),
    )
    expect(bare).toEqual([])
  })
})
