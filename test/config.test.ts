import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { environmentWarnings, envName, OptionError, resolveConfig } from '../src/config/config.js'
import type { TrackerOptions } from '../src/config/options.js'
import { OPTION_NAMES } from '../src/config/schema.js'
import { WattprintError } from '../src/core/errors.js'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

/** The WattprintError that resolving these options throws. */
function failure(options: unknown, env: Record<string, string> = {}): WattprintError {
  try {
    resolveConfig(options as TrackerOptions, env)
  } catch (error) {
    if (error instanceof WattprintError) return error
    throw error
  }
  throw new Error('expected a WattprintError')
}

describe('resolveConfig', () => {
  it('fills in the documented defaults', () => {
    const config = resolveConfig({}, {})
    expect(config).toMatchObject({
      projectName: 'wattprint',
      experimentId: '',
      outputFile: 'emissions.csv',
      saveToFile: true,
      checkpointIntervalMs: 10_000,
      intervalMs: 1000,
      sampling: 'worker',
      country: null,
      zone: null,
      cloudProvider: null,
      cloudRegion: null,
      detectCloud: false,
      cloudMetadataUrl: 'http://169.254.169.254',
      electricityMapsToken: null,
      electricityMapsUrl: 'https://api.electricitymaps.com',
      ukCarbonIntensity: null,
      ukCarbonIntensityUrl: 'https://api.carbonintensity.org.uk',
      intensityTimeoutMs: 3000,
      carbonIntensityGPerKWh: null,
      pue: 1,
      cpuPowerW: null,
      ramPowerW: null,
      raplRoot: '/sys/class/powercap',
      hwmonRoot: '/sys/class/hwmon',
      amdSmiLibraryPath: null,
      procStatPath: '/proc/stat',
      attribution: { kind: 'machine' },
      idle: 'exclude',
      emissionsScope: 'wall',
      distributed: 'auto',
      jobId: null,
      job: null,
      procRoot: '/proc',
      sysRoot: '/sys',
      logLevel: 'warning',
    })
    expect(config.runId).toMatch(/^[0-9a-f-]{36}$/)
    expect(config.outputDir).toBe(process.cwd())
  })

  it('reads WATTPRINT_* variables, typed, and lets options win over them', () => {
    const env = {
      WATTPRINT_PROJECT_NAME: 'from-env',
      WATTPRINT_INTERVAL_MS: '250',
      WATTPRINT_SAVE_TO_FILE: 'false',
      WATTPRINT_PUE: '1.4',
      WATTPRINT_RAPL_ROOT: '/host/sys/class/powercap',
      WATTPRINT_HWMON_ROOT: '/host/sys/class/hwmon',
      WATTPRINT_AMD_SMI_LIBRARY: '/opt/rocm-7.0/lib/libamd_smi.so',
      WATTPRINT_COUNTRY: 'fra',
    }
    expect(resolveConfig({}, env)).toMatchObject({
      projectName: 'from-env',
      intervalMs: 250,
      saveToFile: false,
      pue: 1.4,
      raplRoot: '/host/sys/class/powercap',
      hwmonRoot: '/host/sys/class/hwmon',
      amdSmiLibraryPath: '/opt/rocm-7.0/lib/libamd_smi.so',
      country: 'FR',
    })
    expect(resolveConfig({ projectName: 'from-option', intervalMs: 500 }, env)).toMatchObject({
      projectName: 'from-option',
      intervalMs: 500,
    })
  })

  it('names every option as WATTPRINT_<SCREAMING_SNAKE>', () => {
    expect(envName('intervalMs')).toBe('WATTPRINT_INTERVAL_MS')
    expect(envName('cpuPowerW')).toBe('WATTPRINT_CPU_POWER_W')
    expect(envName('raplRoot')).toBe('WATTPRINT_RAPL_ROOT')
  })

  it('treats alpha-2 and alpha-3 country codes alike, in any case', () => {
    expect(resolveConfig({ country: 'de' }, {}).country).toBe('DE')
    expect(resolveConfig({ country: 'DEU' }, {}).country).toBe('DE')
  })

  it.each([
    [{ intervalMs: 5 }, 'intervalMs', /from 10 to 3600000/],
    [{ intervalMs: -1000 }, 'intervalMs', /got -1000/],
    [{ intervalMs: Number.NaN }, 'intervalMs', /NaN/],
    [{ intervalMs: '100ms' }, 'intervalMs', /must be a number/],
    [{ pue: 0.8 }, 'pue', /below 1 is impossible/],
    [{ carbonIntensityGPerKWh: -3 }, 'carbonIntensityGPerKWh', /grams of CO2e per kWh/],
    [{ cpuPowerW: 0 }, 'cpuPowerW', /watts/],
    [{ ramPowerW: 1e9 }, 'ramPowerW', /watts/],
    [{ sampling: 'thread' }, 'sampling', /'worker' or 'inline'/],
    [{ logLevel: 'verbose' }, 'logLevel', /debug, info, warning, error, silent/],
    [{ saveToFile: 'yes' }, 'saveToFile', /true or false/],
    [{ projectName: '  ' }, 'projectName', /must not be empty/],
    [{ outputFile: 'out/emissions.csv' }, 'outputFile', /without a directory/],
    [{ checkpointIntervalMs: 10 }, 'checkpointIntervalMs', /from 100 to 3600000/],
    [{ intensityTimeoutMs: 1e9 }, 'intensityTimeoutMs', /from 100 to 60000/],
    [{ detectCloud: 'yes' }, 'detectCloud', /true or false/],
    [{ cloudMetadataUrl: '169.254.169.254' }, 'cloudMetadataUrl', /http:\/\/ or https:\/\/ URL/],
  ])('rejects %j with an error that names %s, the value and an example', (options, option, message) => {
    const error = failure(options)
    expect(error.code).toBe('INVALID_OPTION')
    expect(error.option).toBe(option)
    expect(error.message).toContain(`Option ${option}`)
    expect(error.message).toMatch(message)
    expect(error.message).toContain(`new EmissionsTracker({ ${option}:`)
  })

  // One bad value of every option: the refusal names the option (and the field), shows the value as code
  // writes it (NaN, Infinity, -1, strings quoted) and gives a good value in the constructor's terms.
  const refusals: Record<string, [unknown, string, ...RegExp[]]> = {
    projectName: ['  ', 'projectName', /must not be empty/, /got " {2}"/],
    experimentId: [5, 'experimentId', /must be a string/, /got 5\)/],
    runId: ['', 'runId', /must not be empty/, /got ""/],
    outputDir: ['', 'outputDir', /must not be empty/, /got ""/],
    outputFile: ['out/emissions.csv', 'outputFile', /without a directory/, /got "out\/emissions.csv"/],
    saveToFile: ['yes', 'saveToFile', /true or false/, /got "yes"/],
    checkpointIntervalMs: [
      Number.POSITIVE_INFINITY,
      'checkpointIntervalMs',
      /from 100 to 3600000/,
      /got Infinity/,
    ],
    intervalMs: [Number.NaN, 'intervalMs', /milliseconds from 10 to 3600000/, /got NaN/],
    sampling: ['thread', 'sampling', /'worker' or 'inline'/, /got "thread"/],
    country: ['GER', 'country', /"GER" is not an ISO 3166/, /DE\/DEU \(Germany\)/],
    zone: ['XX-NOPE', 'zone', /"XX-NOPE" is not an Electricity Maps zone/],
    cloudProvider: ['oracle', 'cloudProvider', /"oracle" is not a cloud/, /aws, gcp, azure/],
    cloudRegion: ['mars-1', 'cloudRegion', /"mars-1" is not an AWS region/],
    detectCloud: [1, 'detectCloud', /true or false/, /got 1\)/],
    cloudMetadataUrl: ['169.254.169.254', 'cloudMetadataUrl', /http:\/\/ or https:\/\/ URL/, /got "169/],
    electricityMapsToken: [' ', 'electricityMapsToken', /must not be empty/, /a value that is not shown/],
    electricityMapsUrl: ['ftp://x', 'electricityMapsUrl', /https:\/\/ URL/, /got "ftp:\/\/x"/],
    ukCarbonIntensity: ['Atlantis', 'ukCarbonIntensity', /"Atlantis" is not 'national'/],
    ukCarbonIntensityUrl: ['x', 'ukCarbonIntensityUrl', /https:\/\/ URL/, /got "x"/],
    wattTimeUsername: ['', 'wattTimeUsername', /must not be empty/],
    wattTimePassword: [' ', 'wattTimePassword', /must not be empty/, /a value that is not shown/],
    wattTimeRegion: ['', 'wattTimeRegion', /must not be empty/],
    wattTimeUrl: ['api.watttime.org', 'wattTimeUrl', /https:\/\/ URL/, /got "api.watttime.org"/],
    carbonAwareSdkUrl: ['x', 'carbonAwareSdkUrl', /https:\/\/ URL/, /got "x"/],
    carbonAwareLocation: ['', 'carbonAwareLocation', /must not be empty/],
    forecastProvider: ['watt', 'forecastProvider', /must be one of uk-carbon-intensity, electricitymaps/],
    intensityTimeoutMs: [-1, 'intensityTimeoutMs', /from 100 to 60000/, /got -1\)/],
    intensity: [{ gPerKWh: 56 }, 'intensity', /must be electricityMaps\(\{ token \}\), ukCarbonIntensity/],
    carbonIntensityGPerKWh: [-3, 'carbonIntensityGPerKWh', /grams of CO2e per kWh/, /got -3\)/],
    budget: [{ durationS: Number.NaN }, 'budget.durationS', /finite, positive number of seconds/, /got NaN/],
    pue: [0.8, 'pue', /below 1 is impossible/, /got 0.8\)/],
    embodied: [{ lifetimeYears: 0 }, 'embodied.lifetimeYears', /finite, positive number of years/, /got 0\)/],
    cloudInstanceType: ['  ', 'cloudInstanceType', /must not be empty/],
    wueLPerKWh: [-0.1, 'wueLPerKWh', /litres per kWh from 0 to 20/, /got -0.1\)/],
    waterIntensityLPerKWh: [Number.NaN, 'waterIntensityLPerKWh', /litres per kWh from 0 to 1000/, /got NaN/],
    functionalUnit: [{ name: '' }, 'functionalUnit.name', /must not be empty/],
    cpuPowerW: [0, 'cpuPowerW', /watts from 0.1 to 10000/, /got 0\)/],
    ramPowerW: [1e9, 'ramPowerW', /watts from 0 to 10000/, /got 1000000000\)/],
    gpuIds: [[0, -1], 'gpuIds[1]', /GPU index \(a whole number from 0\) or a UUID prefix/, /got -1\)/],
    nvmlLibraryPath: ['', 'nvmlLibraryPath', /must not be empty/],
    nvmlEnergyCounter: ['no', 'nvmlEnergyCounter', /true or false/],
    nvidiaSmiPath: ['', 'nvidiaSmiPath', /must not be empty/],
    raplRoot: ['', 'raplRoot', /must not be empty/],
    amdSmiLibraryPath: ['', 'amdSmiLibraryPath', /must not be empty/],
    rocmSmiLibraryPath: ['', 'rocmSmiLibraryPath', /must not be empty/],
    levelZeroLibraryPath: ['', 'levelZeroLibraryPath', /must not be empty/],
    hwmonRoot: [' ', 'hwmonRoot', /must not be empty/],
    procStatPath: ['', 'procStatPath', /must not be empty/],
    attribution: ['processes', 'attribution', /'machine', 'process', 'cgroup', \{ pid/, /got "processes"/],
    idle: ['none', 'idle', /'exclude' or 'include'/, /got "none"/],
    emissionsScope: ['machine', 'emissionsScope', /'wall' or 'components'/, /got "machine"/],
    distributed: ['everywhere', 'distributed', /auto, per-rank, off/, /got "everywhere"/],
    jobId: ['', 'jobId', /must not be empty/],
    procRoot: ['', 'procRoot', /must not be empty/],
    sysRoot: [' ', 'sysRoot', /must not be empty/],
    logLevel: ['verbose', 'logLevel', /debug, info, warning, error, silent/, /got "verbose"/],
    maxRouteLabels: [2.5, 'maxRouteLabels', /whole number of route labels from 1 to 100000/, /got 2.5\)/],
    sinks: [
      [{}],
      'sinks[0]',
      /must be sinks \(prometheusSink\(\), otelSink\(\), memorySink\(\), jsonlSink\(\)/,
      /got \{\}/,
    ],
  }

  it('resolves attribution from options and from the environment', () => {
    expect(resolveConfig({ attribution: 'process' }).attribution).toEqual({
      kind: 'process',
      pid: process.pid,
    })
    expect(resolveConfig({ attribution: { pid: 42 } }).attribution).toEqual({ kind: 'process', pid: 42 })
    expect(resolveConfig({ attribution: 'cgroup' }).attribution).toEqual({ kind: 'cgroup', dir: null })
    expect(resolveConfig({ attribution: { cgroup: '/sys/fs/cgroup/a' } }).attribution).toEqual({
      kind: 'cgroup',
      dir: '/sys/fs/cgroup/a',
    })
    const env = (value: string) => resolveConfig({}, { WATTPRINT_ATTRIBUTION: value }).attribution
    expect(env('Process')).toEqual({ kind: 'process', pid: process.pid })
    expect(env('cgroup:/sys/fs/cgroup/job.slice')).toEqual({
      kind: 'cgroup',
      dir: '/sys/fs/cgroup/job.slice',
    })
    expect(env('pid:7')).toEqual({ kind: 'process', pid: 7 })
    expect(() => env('pid:0')).toThrow(/WATTPRINT_ATTRIBUTION="pid:0" is invalid/)
    expect(() => resolveConfig({ attribution: { pid: -3 } })).toThrow(/Option attribution/)
  })

  it('has a refusal case for every option', () => {
    expect(Object.keys(refusals).sort()).toEqual([...OPTION_NAMES].sort())
  })

  it.each(Object.entries(refusals))(
    'refuses a bad %s naming it, its value and the fix',
    (option, [value, named, ...messages]) => {
      const options =
        option === 'cloudRegion' ? { cloudProvider: 'aws', cloudRegion: value } : { [option]: value }
      const error = failure(options)
      expect(error).toBeInstanceOf(OptionError)
      expect(error.code).toBe('INVALID_OPTION')
      expect(error.option).toBe(option)
      expect(error.message).toContain(`Option ${named} `)
      for (const message of messages) expect(error.message).toMatch(message)
      expect(error.message).toContain(`For example: new EmissionsTracker({ ${option}: `)
      expect(error.message).not.toContain('Invalid input')
      expect(error.message).not.toContain('null')
    },
  )

  it('shows the example of the field at fault in an object option', () => {
    expect(failure({ budget: { durationS: -1 } }).message).toContain('budget: { durationS: 3600 }')
    expect(failure({ budget: { energyKWh: Number.POSITIVE_INFINITY } }).message).toMatch(
      /Option budget.energyKWh must be a finite, positive number of kWh \(got Infinity\)/,
    )
  })

  it('accepts enumerated values in any case, from options and the environment alike', () => {
    expect(resolveConfig({}, { WATTPRINT_LOG_LEVEL: 'DEBUG', WATTPRINT_SAMPLING: 'Inline' })).toMatchObject({
      logLevel: 'debug',
      sampling: 'inline',
    })
    expect(resolveConfig({ logLevel: 'Silent' as 'silent' }, {}).logLevel).toBe('silent')
    expect(failure({}, { WATTPRINT_LOG_LEVEL: 'LOUD' }).message).toContain('WATTPRINT_LOG_LEVEL="LOUD"')
  })

  it('warns of WATTPRINT_* variables nothing reads, with the name meant', () => {
    const warnings = environmentWarnings({
      WATTPRINT_PROJECTNAME: 'x',
      WATTPRINT_COUNTRY: 'FR',
      WATTPRINT_BUILD_DTS: '0',
      WATTPRINT_REQUIRE_CHROMIUM: '1',
      WATTPRINT_REQUIRE_PROMETHEUS: '1',
      WATTPRINT_BUDGET: '{"energyKWh":1}',
      wattprint_interval_ms: '100',
      WATTPRINT_XYZZY_QUUX_FROB: '1',
      HOME: '/home/x',
    })
    expect(warnings).toHaveLength(4)
    expect(warnings.find((w) => w.includes('WATTPRINT_PROJECTNAME'))).toContain(
      'did you mean WATTPRINT_PROJECT_NAME?',
    )
    expect(warnings.find((w) => w.includes('wattprint_interval_ms'))).toContain(
      'did you mean WATTPRINT_INTERVAL_MS?',
    )
    expect(warnings.find((w) => w.includes('XYZZY'))).toMatch(/is ignored\. The settings are/)
    expect(warnings.find((w) => w.includes('WATTPRINT_BUDGET'))).toContain(
      'cannot be set from the environment',
    )
  })

  it('prints each of those warnings once per process, on stderr, at the warning level', () => {
    const script = `import { EmissionsTracker } from ${JSON.stringify(resolve('dist/index.js'))}
      new EmissionsTracker({ saveToFile: false }); new EmissionsTracker({ saveToFile: false })`
    const run = (env: Record<string, string>) =>
      spawnSync(process.execPath, ['--input-type=module', '-e', script], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '', ...env },
      })
    const loud = run({ WATTPRINT_PROJECTNAME: 'x' })
    expect(loud.status).toBe(0)
    expect(loud.stderr.match(/WATTPRINT_PROJECTNAME/g)).toHaveLength(1)
    expect(loud.stderr).toContain('did you mean WATTPRINT_PROJECT_NAME?')
    expect(run({ WATTPRINT_PROJECTNAME: 'x', WATTPRINT_LOG_LEVEL: 'ERROR' }).stderr).toBe('')
  })

  it('suggests the option meant by a typo', () => {
    const error = failure({ intervalMS: 100 })
    expect(error.code).toBe('UNKNOWN_OPTION')
    expect(error.message).toContain('did you mean intervalMs?')
  })

  it('names the environment variable when that is what is wrong', () => {
    const error = failure({}, { WATTPRINT_INTERVAL_MS: 'fast' })
    expect(error.code).toBe('INVALID_ENVIRONMENT')
    expect(error.option).toBe('WATTPRINT_INTERVAL_MS')
    expect(error.message).toContain('WATTPRINT_INTERVAL_MS="fast"')
    expect(error.message).toContain('WATTPRINT_INTERVAL_MS=1000')
    expect(failure({}, { WATTPRINT_SAVE_TO_FILE: 'maybe' }).option).toBe('WATTPRINT_SAVE_TO_FILE')
  })

  it('rejects an unknown country with close matches', () => {
    const error = failure({ country: 'GER' })
    expect(error.option).toBe('country')
    expect(error.message).toMatch(/"GER" is not an ISO 3166/)
    expect(error.message).toContain('DE/DEU (Germany)')
    expect(failure({ country: 'Frnce' }).message).toContain('not an ISO 3166')
    const fromEnv = failure({}, { WATTPRINT_COUNTRY: 'Sweden' })
    expect(fromEnv.code).toBe('INVALID_ENVIRONMENT')
    expect(fromEnv.option).toBe('WATTPRINT_COUNTRY')
    expect(fromEnv.message).toContain('SE/SWE (Sweden)')
    expect(fromEnv.message).toContain('WATTPRINT_COUNTRY=DE')
  })

  it('rejects an output directory that is a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wattprint-config-'))
    dirs.push(dir)
    const file = join(dir, 'results')
    writeFileSync(file, 'not a directory')
    const error = failure({ outputDir: file })
    expect(error.option).toBe('outputDir')
    expect(error.message).toContain('is a file, not a directory')
    expect(() => resolveConfig({ outputDir: file, saveToFile: false }, {})).not.toThrow()
  })

  it.each([
    'outputFile',
    'outputDir',
    'raplRoot',
    'hwmonRoot',
    'procStatPath',
    'procRoot',
    'sysRoot',
    'nvidiaSmiPath',
    'nvmlLibraryPath',
    'amdSmiLibraryPath',
    'rocmSmiLibraryPath',
    'levelZeroLibraryPath',
  ])('refuses a NUL byte in %s, which every write or read would fail on', (option) => {
    const error = failure({ [option]: 'emissions\0.csv' })
    expect(error.option).toBe(option)
    expect(error.message).toContain(`Option ${option} must not hold a NUL byte (\\0)`)
    // Shown escaped, never as the byte itself.
    expect(error.message).toContain('(got "emissions\\u0000.csv")')
    expect(error.message).not.toContain('\0')
  })

  it('rejects options that are not an object', () => {
    expect(failure('fast').message).toContain('Options must be an object')
  })
})
