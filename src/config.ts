import { randomUUID } from 'node:crypto'
import { statSync } from 'node:fs'
import { resolve } from 'node:path'
import * as z from 'zod/mini'
import { WattprintError } from './errors.js'
import { findCountry, suggestCountries } from './intensity/countries.js'
import { LOG_LEVELS, type LogLevel } from './log.js'
import { closest } from './text.js'

/** Options of an EmissionsTracker. Each can also be set as `WATTPRINT_<SCREAMING_SNAKE>`; options win. */
export interface TrackerOptions {
  /** Name of the project, in every row. Default `wattprint`. */
  projectName?: string
  /** Groups runs of one experiment. Default empty. */
  experimentId?: string
  /** Identifies this run. Default a random UUID. */
  runId?: string
  /** Folder of the CSV. Default `.` (created when missing). */
  outputDir?: string
  /** CSV file name inside outputDir. Default `emissions.csv`. */
  outputFile?: string
  /** Append a row to the CSV on stop() and flush(). Default true. */
  saveToFile?: boolean
  /** Sampling period in milliseconds, 10 to 3,600,000. Default 1000. */
  intervalMs?: number
  /** `worker` (a worker thread, immune to a busy main thread; default) or `inline` (main thread timers). */
  sampling?: 'worker' | 'inline'
  /** ISO 3166 alpha-2 or alpha-3 country code of the machine (`FR`, `fra`). */
  country?: string
  /** Forced carbon intensity in g CO2e/kWh; overrides every other source. */
  carbonIntensity?: number
  /** Power usage effectiveness of the data centre, 1 to 5. Default 1. */
  pue?: number
  /** CPU TDP in watts for the estimate, instead of the table's (RAPL, when readable, is still preferred). */
  cpuPowerW?: number
  /** RAM power in watts, instead of the module model (RAPL DRAM, when readable, is still preferred). */
  ramPowerW?: number
  /** Root of the powercap tree. Default `/sys/class/powercap`. */
  raplRoot?: string
  /** Machine CPU time source for the load-based CPU estimate. Default `/proc/stat`. */
  procStatPath?: string
  /** What is printed on stderr: `debug`, `info`, `warning` (default), `error`, `silent`. */
  logLevel?: LogLevel
}

/** Options after validation, with defaults filled in and paths made absolute. */
export interface ResolvedConfig {
  readonly projectName: string
  readonly experimentId: string
  readonly runId: string
  readonly outputDir: string
  readonly outputFile: string
  readonly saveToFile: boolean
  readonly intervalMs: number
  readonly sampling: 'worker' | 'inline'
  readonly country: string | null
  readonly carbonIntensity: number | null
  readonly pue: number
  readonly cpuPowerW: number | null
  readonly ramPowerW: number | null
  readonly raplRoot: string
  readonly procStatPath: string
  readonly logLevel: LogLevel
}

type Kind = 'string' | 'number' | 'boolean'

interface OptionDef {
  readonly kind: Kind
  readonly schema: z.ZodMiniType
  /** A good value, written as in code (`1000`, `'FR'`), shown in errors. */
  readonly example: string
}

// zod/mini: the same validation as zod's classic API at a fraction of its load time (see the README).
const text = (check: (s: string) => boolean, message: string) =>
  z.string({ error: 'must be a string' }).check(z.refine(check, { message }))
const nonEmpty = text((s) => s.trim().length > 0, 'must not be empty')
const fileName = text(
  (s) => s.trim().length > 0 && !/[\\/]/.test(s) && s !== '.' && s !== '..',
  'must be a file name without a directory (put the directory in outputDir)',
)
const number = (min: number, max: number, what: string) =>
  z.number({ error: 'must be a number' }).check(
    z.refine((n) => Number.isFinite(n) && n >= min && n <= max, {
      message: `must be ${what} from ${min} to ${max}`,
    }),
  )

const DEFINITIONS = {
  projectName: { kind: 'string', schema: nonEmpty, example: "'mnist-mlp'" },
  experimentId: { kind: 'string', schema: z.string({ error: 'must be a string' }), example: "'lr-sweep'" },
  runId: { kind: 'string', schema: nonEmpty, example: "'run-42'" },
  outputDir: { kind: 'string', schema: nonEmpty, example: "'./results'" },
  outputFile: { kind: 'string', schema: fileName, example: "'emissions.csv'" },
  saveToFile: { kind: 'boolean', schema: z.boolean({ error: 'must be true or false' }), example: 'false' },
  intervalMs: { kind: 'number', schema: number(10, 3_600_000, 'milliseconds'), example: '1000' },
  sampling: {
    kind: 'string',
    schema: z.enum(['worker', 'inline'], { error: "must be 'worker' or 'inline'" }),
    example: "'worker'",
  },
  country: { kind: 'string', schema: nonEmpty, example: "'FR'" },
  carbonIntensity: {
    kind: 'number',
    schema: number(0, 2000, 'grams of CO2e per kWh'),
    example: '56',
  },
  pue: {
    kind: 'number',
    schema: number(1, 5, 'a ratio (a PUE below 1 is impossible)'),
    example: '1.2',
  },
  cpuPowerW: { kind: 'number', schema: number(0.1, 10_000, 'watts'), example: '125' },
  ramPowerW: { kind: 'number', schema: number(0, 10_000, 'watts'), example: '20' },
  raplRoot: { kind: 'string', schema: nonEmpty, example: "'/host/sys/class/powercap'" },
  procStatPath: { kind: 'string', schema: nonEmpty, example: "'/host/proc/stat'" },
  logLevel: {
    kind: 'string',
    schema: z.enum(LOG_LEVELS as [LogLevel, ...LogLevel[]], {
      error: `must be one of ${LOG_LEVELS.join(', ')}`,
    }),
    example: "'info'",
  },
} satisfies Record<keyof TrackerOptions, OptionDef>

type OptionName = keyof typeof DEFINITIONS
const OPTION_NAMES = Object.keys(DEFINITIONS) as OptionName[]

/** `intervalMs` → `WATTPRINT_INTERVAL_MS`. */
export function envName(option: string): string {
  return `WATTPRINT_${option.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}`
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value)
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value)
  }
}

/** Parses an environment string into the option's type; undefined when it cannot be. */
function fromEnvironment(kind: Kind, raw: string): unknown {
  const text = raw.trim()
  if (kind === 'string') return text
  if (kind === 'boolean') {
    if (/^(true|1|yes|on)$/i.test(text)) return true
    if (/^(false|0|no|off)$/i.test(text)) return false
    return undefined
  }
  if (text === '' || !/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text)) return undefined
  return Number(text)
}

function validate(name: OptionName, value: unknown, fromEnv: string | null): unknown {
  const def: OptionDef = DEFINITIONS[name]
  const result = def.schema.safeParse(value)
  if (result.success) return result.data
  const problem = result.error.issues[0]?.message ?? 'is invalid'
  if (fromEnv !== null) {
    throw new WattprintError(
      'INVALID_ENVIRONMENT',
      `Environment variable ${envName(name)}=${show(fromEnv)} is invalid: ${name} ${problem}. ` +
        `Fix it or unset it; for example ${envName(name)}=${def.example.replace(/'/g, '')}.`,
      envName(name),
    )
  }
  throw new WattprintError(
    'INVALID_OPTION',
    `Option ${name} ${problem} (got ${show(value)}). For example: new EmissionsTracker({ ${name}: ${def.example} }).`,
    name,
  )
}

/**
 * Validates options, fills in defaults and reads `WATTPRINT_*` environment variables for options not
 * given. Throws a WattprintError naming the option, the bad value and the fix; nothing else throws.
 */
export function resolveConfig(
  options: TrackerOptions = {},
  env: Readonly<Record<string, string | undefined>> = process.env,
): ResolvedConfig {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new WattprintError(
      'INVALID_OPTION',
      `Options must be an object (got ${show(options)}). For example: new EmissionsTracker({ projectName: 'x' }).`,
    )
  }
  for (const key of Object.keys(options)) {
    if (!(key in DEFINITIONS)) {
      const guess = closest(key, OPTION_NAMES)
      throw new WattprintError(
        'UNKNOWN_OPTION',
        `Unknown option ${key}${guess ? `: did you mean ${guess}?` : '.'} Known options: ${OPTION_NAMES.join(', ')}.`,
        key,
      )
    }
  }

  const values: Partial<Record<OptionName, unknown>> = {}
  for (const name of OPTION_NAMES) {
    const given = (options as Record<string, unknown>)[name]
    if (given !== undefined) {
      values[name] = validate(name, given, null)
      continue
    }
    const raw = env[envName(name)]
    if (raw === undefined || raw.trim() === '') continue
    const parsed = fromEnvironment(DEFINITIONS[name].kind, raw)
    values[name] = validate(name, parsed === undefined ? raw : parsed, raw)
  }

  let country: string | null = null
  if (values.country !== undefined) {
    const code = String(values.country)
    const found = findCountry(code)
    if (!found) {
      const fromOption = (options as Record<string, unknown>).country !== undefined
      const near = suggestCountries(code)
      throw new WattprintError(
        fromOption ? 'INVALID_OPTION' : 'INVALID_ENVIRONMENT',
        `${fromOption ? 'Option country' : `Environment variable ${envName('country')}`} ${show(code)} is not ` +
          `an ISO 3166 alpha-2 or alpha-3 country code.${near.length > 0 ? ` Close matches: ${near.join(', ')}.` : ''}` +
          ` For example: ${fromOption ? "country: 'DE' or 'DEU'" : `${envName('country')}=DE`}.`,
        fromOption ? 'country' : envName('country'),
      )
    }
    country = found.alpha2
  }

  const outputDir = resolve(String(values.outputDir ?? '.'))
  const saveToFile = (values.saveToFile as boolean | undefined) ?? true
  if (saveToFile) assertUsableOutputDir(outputDir)

  return {
    projectName: (values.projectName as string | undefined) ?? 'wattprint',
    experimentId: (values.experimentId as string | undefined) ?? '',
    runId: (values.runId as string | undefined) ?? randomUUID(),
    outputDir,
    outputFile: (values.outputFile as string | undefined) ?? 'emissions.csv',
    saveToFile,
    intervalMs: (values.intervalMs as number | undefined) ?? 1000,
    sampling: (values.sampling as 'worker' | 'inline' | undefined) ?? 'worker',
    country,
    carbonIntensity: (values.carbonIntensity as number | undefined) ?? null,
    pue: (values.pue as number | undefined) ?? 1,
    cpuPowerW: (values.cpuPowerW as number | undefined) ?? null,
    ramPowerW: (values.ramPowerW as number | undefined) ?? null,
    raplRoot: (values.raplRoot as string | undefined) ?? '/sys/class/powercap',
    procStatPath: (values.procStatPath as string | undefined) ?? '/proc/stat',
    logLevel: (values.logLevel as LogLevel | undefined) ?? 'warning',
  }
}

/** An output directory that exists as a file can never receive the CSV: say so at construction. */
function assertUsableOutputDir(outputDir: string): void {
  try {
    if (!statSync(outputDir).isDirectory()) {
      throw new WattprintError(
        'INVALID_OPTION',
        `Option outputDir ${show(outputDir)} is a file, not a directory. Point outputDir at a folder ` +
          '(it is created when missing), or set saveToFile: false.',
        'outputDir',
      )
    }
  } catch (error) {
    if (error instanceof WattprintError) throw error
    // Missing: created at the first write. Other errors surface as warnings when writing.
  }
}
