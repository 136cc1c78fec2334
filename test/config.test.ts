import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { envName, resolveConfig, type TrackerOptions } from '../src/config.js'
import { WattprintError } from '../src/errors.js'

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
      carbonIntensity: null,
      pue: 1,
      cpuPowerW: null,
      ramPowerW: null,
      raplRoot: '/sys/class/powercap',
      procStatPath: '/proc/stat',
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
      WATTPRINT_COUNTRY: 'fra',
    }
    expect(resolveConfig({}, env)).toMatchObject({
      projectName: 'from-env',
      intervalMs: 250,
      saveToFile: false,
      pue: 1.4,
      raplRoot: '/host/sys/class/powercap',
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
    [{ carbonIntensity: -3 }, 'carbonIntensity', /grams of CO2e per kWh/],
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

  it('rejects options that are not an object', () => {
    expect(failure('fast').message).toContain('Options must be an object')
  })
})
