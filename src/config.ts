import { randomUUID } from 'node:crypto'
import { resolve } from 'node:path'
import * as z from 'zod/mini'
import { WattprintError } from './errors.js'
import { CLOUD_METADATA_URL } from './intensity/cloud-detect.js'
import type { CloudProvider } from './intensity/cloud-regions.js'
import { ELECTRICITY_MAPS_URL } from './intensity/electricity-maps.js'
import { checkLocation } from './intensity/location.js'
import { UK_CARBON_INTENSITY_URL, type UkArea } from './intensity/uk-carbon-intensity.js'
import { LOG_LEVELS, type LogLevel } from './log.js'
import { impossibleDirReason } from './output-dir.js'
import { Secret } from './secret.js'
import type { Sink } from './sinks/sink.js'
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
  /**
   * How often a running tracker saves its state to `<outputDir>/.wattprint/<runId>.json`, in
   * milliseconds, 100 to 3,600,000, so that a killed process still leaves its row. Default 10,000.
   */
  checkpointIntervalMs?: number
  /** Sampling period in milliseconds, 10 to 3,600,000. Default 1000. */
  intervalMs?: number
  /** `worker` (a worker thread, immune to a busy main thread; default) or `inline` (main thread timers). */
  sampling?: 'worker' | 'inline'
  /** ISO 3166 alpha-2 or alpha-3 country code of the machine (`FR`, `fra`). */
  country?: string
  /** Electricity Maps zone of the machine (`US-CAL-CISO`, `CA-ON`, `SE-SE2`, `DE`); finer than a country. */
  zone?: string
  /** Cloud the machine runs on: `aws`, `gcp` or `azure`; give cloudRegion with it. */
  cloudProvider?: string
  /** The cloud region (`eu-north-1`, `europe-west4`, `westeurope`): its grid zone sets the intensity. */
  cloudRegion?: string
  /** Ask the cloud's instance metadata service for the provider and region (1 s at most). Default false. */
  detectCloud?: boolean
  /** Base URL of the instance metadata service. Default `http://169.254.169.254`. */
  cloudMetadataUrl?: string
  /** Electricity Maps API token: turns on live intensity for the zone. Env `WATTPRINT_ELECTRICITYMAPS_TOKEN`. */
  electricityMapsToken?: string
  /** Base URL of the Electricity Maps API. Default `https://api.electricitymaps.com`. Env `WATTPRINT_ELECTRICITYMAPS_URL`. */
  electricityMapsUrl?: string
  /**
   * Live intensity for Great Britain from NESO's Carbon Intensity API (no token):
   * `'national'`, a region id 1–17 (`13` is London) or a postcode (`'RG10'`).
   */
  ukCarbonIntensity?: string | number
  /** Base URL of the UK Carbon Intensity API. Default `https://api.carbonintensity.org.uk`. */
  ukCarbonIntensityUrl?: string
  /** Time limit of one live intensity request, in milliseconds. Default 3000. */
  intensityTimeoutMs?: number
  /** Forced carbon intensity in g CO2e/kWh; overrides every other source. */
  carbonIntensity?: number
  /**
   * Limits of the run. When one is crossed: a `budget` event, `tracker.signal` aborts, and the row's status
   * is `budget-exceeded`. The tracker measures on; stopping the work is the caller's decision.
   */
  budget?: Budget
  /** Power usage effectiveness of the data centre, 1 to 5. Default 1. */
  pue?: number
  /** CPU TDP in watts for the estimate, instead of the table's (RAPL, when readable, is still preferred). */
  cpuPowerW?: number
  /** RAM power in watts, instead of the module model (RAPL DRAM, when readable, is still preferred). */
  ramPowerW?: number
  /**
   * Which GPUs to measure: indices or UUID prefixes (`[0, 1]`, `['GPU-8f6c']`, MIG UUIDs measure their
   * parent GPU), or a comma-separated string; `[]` measures none. Default: CUDA_VISIBLE_DEVICES, else
   * NVIDIA_VISIBLE_DEVICES, else all.
   */
  gpuIds?: readonly (string | number)[] | string
  /** The NVML library to load. Default `libnvidia-ml.so.1` (Linux), `nvml.dll` (Windows). Env `WATTPRINT_NVML_LIBRARY`. */
  nvmlLibraryPath?: string
  /** The nvidia-smi executable, used when NVML cannot be. Default `nvidia-smi` on PATH. Env `WATTPRINT_NVIDIA_SMI`. */
  nvidiaSmiPath?: string
  /** Root of the powercap tree. Default `/sys/class/powercap`. */
  raplRoot?: string
  /** Machine CPU time source for the load-based CPU estimate. Default `/proc/stat`. */
  procStatPath?: string
  /** What is printed on stderr: `debug`, `info`, `warning` (default), `error`, `silent`. */
  logLevel?: LogLevel
  /** Where the figures go besides the CSV: `prometheusSink(…)`, `otelSink(…)`. */
  sinks?: readonly Sink[]
}

/** Limits of a run; any may be left out. */
export interface Budget {
  readonly energyKWh?: number
  readonly emissionsKg?: number
  readonly durationS?: number
}

/** Options after validation, with defaults filled in and paths made absolute. */
export interface ResolvedConfig {
  readonly projectName: string
  readonly experimentId: string
  readonly runId: string
  readonly outputDir: string
  readonly outputFile: string
  readonly saveToFile: boolean
  readonly checkpointIntervalMs: number
  readonly intervalMs: number
  readonly sampling: 'worker' | 'inline'
  /** ISO 3166 alpha-2, as given (a guessed or cloud-derived country is not set here). */
  readonly country: string | null
  /** Electricity Maps zone id, as the data spells it. */
  readonly zone: string | null
  readonly cloudProvider: CloudProvider | null
  /** The region's API name, as the table spells it. */
  readonly cloudRegion: string | null
  readonly detectCloud: boolean
  readonly cloudMetadataUrl: string
  /** Printed as `[redacted]` whatever prints it. */
  readonly electricityMapsToken: Secret | null
  readonly electricityMapsUrl: string
  readonly ukCarbonIntensity: UkArea | null
  readonly ukCarbonIntensityUrl: string
  readonly intensityTimeoutMs: number
  readonly carbonIntensity: number | null
  readonly budget: Budget | null
  readonly pue: number
  readonly cpuPowerW: number | null
  readonly ramPowerW: number | null
  /** null: decided by CUDA_VISIBLE_DEVICES, NVIDIA_VISIBLE_DEVICES, else all. */
  readonly gpuIds: readonly string[] | null
  readonly nvmlLibraryPath: string | null
  readonly nvidiaSmiPath: string
  readonly raplRoot: string
  readonly procStatPath: string
  readonly logLevel: LogLevel
  readonly sinks: readonly Sink[]
}

/** How an option is read from the environment; `object` options (budget) are not. */
type Kind = 'string' | 'number' | 'boolean' | 'object'

interface OptionDef {
  readonly kind: Kind
  readonly schema: z.ZodMiniType
  /** A good value, written as in code (`1000`, `'FR'`), shown in errors. */
  readonly example: string
  /** The environment variable, when not `WATTPRINT_<SCREAMING_SNAKE>` of the name. */
  readonly env?: string
  /** Never echo the value (a token) in an error. */
  readonly secret?: boolean
}

// zod/mini: the same validation as zod's classic API at a fraction of its load time (see the README).
const text = (check: (s: string) => boolean, message: string) =>
  z.string({ error: 'must be a string' }).check(z.refine(check, { message }))
const nonEmpty = text((s) => s.trim().length > 0, 'must not be empty')
const fileName = text(
  (s) => s.trim().length > 0 && !/[\\/]/.test(s) && s !== '.' && s !== '..',
  'must be a file name without a directory (put the directory in outputDir)',
)
const httpUrl = text((s) => {
  try {
    const { protocol } = new URL(s)
    return protocol === 'http:' || protocol === 'https:'
  } catch {
    return false
  }
}, 'must be an http:// or https:// URL')
const positive = (what: string) =>
  z
    .number({ error: `must be a number of ${what}` })
    .check(z.refine((n) => Number.isFinite(n) && n > 0, { message: `must be a positive number of ${what}` }))
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
  checkpointIntervalMs: { kind: 'number', schema: number(100, 3_600_000, 'milliseconds'), example: '10000' },
  intervalMs: { kind: 'number', schema: number(10, 3_600_000, 'milliseconds'), example: '1000' },
  sampling: {
    kind: 'string',
    schema: z.enum(['worker', 'inline'], { error: "must be 'worker' or 'inline'" }),
    example: "'worker'",
  },
  country: { kind: 'string', schema: nonEmpty, example: "'FR'" },
  zone: { kind: 'string', schema: nonEmpty, example: "'US-CAL-CISO'" },
  cloudProvider: { kind: 'string', schema: nonEmpty, example: "'aws'" },
  cloudRegion: { kind: 'string', schema: nonEmpty, example: "'eu-north-1'" },
  detectCloud: { kind: 'boolean', schema: z.boolean({ error: 'must be true or false' }), example: 'true' },
  cloudMetadataUrl: { kind: 'string', schema: httpUrl, example: "'http://169.254.169.254'" },
  electricityMapsToken: {
    kind: 'string',
    schema: nonEmpty,
    example: 'process.env.MY_TOKEN',
    env: 'WATTPRINT_ELECTRICITYMAPS_TOKEN',
    secret: true,
  },
  electricityMapsUrl: {
    kind: 'string',
    schema: httpUrl,
    example: "'https://api.electricitymaps.com'",
    env: 'WATTPRINT_ELECTRICITYMAPS_URL',
  },
  ukCarbonIntensity: {
    kind: 'string',
    schema: z.union([nonEmpty, z.number()], { error: "must be 'national', a region id or a postcode" }),
    example: "'national'",
  },
  ukCarbonIntensityUrl: { kind: 'string', schema: httpUrl, example: "'https://api.carbonintensity.org.uk'" },
  intensityTimeoutMs: { kind: 'number', schema: number(100, 60_000, 'milliseconds'), example: '3000' },
  carbonIntensity: {
    kind: 'number',
    schema: number(0, 2000, 'grams of CO2e per kWh'),
    example: '56',
  },
  budget: {
    kind: 'object',
    schema: z
      .object(
        {
          energyKWh: z.optional(positive('kWh')),
          emissionsKg: z.optional(positive('kg CO2e')),
          durationS: z.optional(positive('seconds')),
        },
        { error: 'must be an object: { energyKWh?, emissionsKg?, durationS? }' },
      )
      .check(
        z.refine((b) => Object.values(b).some((v) => v !== undefined), {
          message: 'must set at least one of energyKWh, emissionsKg, durationS',
        }),
      ),
    example: '{ energyKWh: 0.5 }',
  },
  pue: {
    kind: 'number',
    schema: number(1, 5, 'a ratio (a PUE below 1 is impossible)'),
    example: '1.2',
  },
  cpuPowerW: { kind: 'number', schema: number(0.1, 10_000, 'watts'), example: '125' },
  ramPowerW: { kind: 'number', schema: number(0, 10_000, 'watts'), example: '20' },
  gpuIds: {
    kind: 'string',
    schema: z.union(
      [
        z.string(),
        z.array(
          z.union([
            z.string().check(z.refine((s) => s.trim() !== '')),
            z.number().check(z.refine((n) => Number.isInteger(n) && n >= 0)),
          ]),
        ),
      ],
      { error: "must be GPU indices or UUID prefixes: [0, 1], ['GPU-8f6c'] or '0,1'" },
    ),
    example: '[0, 1]',
  },
  nvmlLibraryPath: {
    kind: 'string',
    schema: nonEmpty,
    example: "'/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1'",
    env: 'WATTPRINT_NVML_LIBRARY',
  },
  nvidiaSmiPath: {
    kind: 'string',
    schema: nonEmpty,
    example: "'/usr/bin/nvidia-smi'",
    env: 'WATTPRINT_NVIDIA_SMI',
  },
  raplRoot: { kind: 'string', schema: nonEmpty, example: "'/host/sys/class/powercap'" },
  procStatPath: { kind: 'string', schema: nonEmpty, example: "'/host/proc/stat'" },
  sinks: {
    kind: 'object',
    schema: z.array(
      z.custom<Sink>((v) => typeof v === 'object' && v !== null && typeof (v as Sink).start === 'function', {
        message: 'must be sinks made by prometheusSink() or otelSink() (objects with a start method)',
      }),
      { error: 'must be an array of sinks: [prometheusSink({ port: 9465 })]' },
    ),
    example: '[prometheusSink({ port: 9465 })]',
  },
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

/** `intervalMs` → `WATTPRINT_INTERVAL_MS` (or the option's own name, such as WATTPRINT_ELECTRICITYMAPS_TOKEN). */
export function envName(option: string): string {
  const own: OptionDef | undefined = (DEFINITIONS as Record<string, OptionDef>)[option]
  return own?.env ?? `WATTPRINT_${option.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}`
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
      `Environment variable ${envName(name)}=${def.secret ? '[redacted]' : show(fromEnv)} is invalid: ${name} ${problem}. ` +
        `Fix it or unset it; for example ${envName(name)}=${def.example.replace(/'/g, '')}.`,
      envName(name),
    )
  }
  throw new WattprintError(
    'INVALID_OPTION',
    `Option ${name} ${problem} (got ${def.secret ? 'a value that is not shown' : show(value)}). For example: new EmissionsTracker({ ${name}: ${def.example} }).`,
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
  const fromEnvironmentNames = new Set<string>()
  for (const name of OPTION_NAMES) {
    const given = (options as Record<string, unknown>)[name]
    if (given !== undefined) {
      values[name] = validate(name, given, null)
      continue
    }
    const raw = env[envName(name)]
    if (raw === undefined || raw.trim() === '' || DEFINITIONS[name].kind === 'object') continue
    const parsed = fromEnvironment(DEFINITIONS[name].kind, raw)
    values[name] = validate(name, parsed === undefined ? raw : parsed, raw)
    fromEnvironmentNames.add(name)
  }

  const location = checkLocation(
    {
      country: values.country as string | undefined,
      zone: values.zone as string | undefined,
      cloudProvider: values.cloudProvider as string | undefined,
      cloudRegion: values.cloudRegion as string | undefined,
      ukCarbonIntensity: values.ukCarbonIntensity as string | number | undefined,
    },
    (option, problem, example) => {
      // A missing option (cloudRegion without cloudProvider) is reported as an option to add.
      const fromOption = !fromEnvironmentNames.has(option)
      return new WattprintError(
        fromOption ? 'INVALID_OPTION' : 'INVALID_ENVIRONMENT',
        `${fromOption ? `Option ${option}` : `Environment variable ${envName(option)}`} ${problem} ` +
          `For example: ${fromOption ? `${option}: ${example}` : `${envName(option)}=${example.replace(/'/g, '')}`}.`,
        fromOption ? option : envName(option),
      )
    },
  )

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
    checkpointIntervalMs: (values.checkpointIntervalMs as number | undefined) ?? 10_000,
    intervalMs: (values.intervalMs as number | undefined) ?? 1000,
    sampling: (values.sampling as 'worker' | 'inline' | undefined) ?? 'worker',
    ...location,
    detectCloud: (values.detectCloud as boolean | undefined) ?? false,
    cloudMetadataUrl: (values.cloudMetadataUrl as string | undefined) ?? CLOUD_METADATA_URL,
    electricityMapsToken:
      values.electricityMapsToken === undefined ? null : new Secret(String(values.electricityMapsToken)),
    electricityMapsUrl: (values.electricityMapsUrl as string | undefined) ?? ELECTRICITY_MAPS_URL,
    ukCarbonIntensityUrl: (values.ukCarbonIntensityUrl as string | undefined) ?? UK_CARBON_INTENSITY_URL,
    intensityTimeoutMs: (values.intensityTimeoutMs as number | undefined) ?? 3000,
    carbonIntensity: (values.carbonIntensity as number | undefined) ?? null,
    budget: (values.budget as Budget | undefined) ?? null,
    pue: (values.pue as number | undefined) ?? 1,
    cpuPowerW: (values.cpuPowerW as number | undefined) ?? null,
    ramPowerW: (values.ramPowerW as number | undefined) ?? null,
    gpuIds: parseGpuIds(values.gpuIds as string | readonly (string | number)[] | undefined),
    nvmlLibraryPath: (values.nvmlLibraryPath as string | undefined) ?? null,
    nvidiaSmiPath: (values.nvidiaSmiPath as string | undefined) ?? 'nvidia-smi',
    raplRoot: (values.raplRoot as string | undefined) ?? '/sys/class/powercap',
    procStatPath: (values.procStatPath as string | undefined) ?? '/proc/stat',
    logLevel: (values.logLevel as LogLevel | undefined) ?? 'warning',
    sinks: (values.sinks as readonly Sink[] | undefined) ?? [],
  }
}

/** `'0, 1'` or `[0, 'GPU-8f6c']` → `['0', 'GPU-8f6c']`; undefined → null (the environment decides). */
function parseGpuIds(value: string | readonly (string | number)[] | undefined): readonly string[] | null {
  if (value === undefined) return null
  const items = typeof value === 'string' ? value.split(',') : value.map(String)
  return items.map((item) => item.trim()).filter((item) => item.length > 0)
}

/**
 * An output directory that can never hold files whatever the permissions (a file in the way, a dangling
 * symbolic link, /proc or /sys) is refused here; one that merely cannot be written now (read-only,
 * immutable, no permission) is warned about at start(), and its rows are kept in the user's state folder.
 */
function assertUsableOutputDir(outputDir: string): void {
  const reason = impossibleDirReason(outputDir)
  if (reason) {
    throw new WattprintError(
      'INVALID_OPTION',
      `Option outputDir ${show(outputDir)} cannot hold the CSV: ${reason}; or set saveToFile: false.`,
      'outputDir',
    )
  }
}
