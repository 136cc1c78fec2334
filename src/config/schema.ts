import { randomUUID } from 'node:crypto'
import * as z from 'zod/mini'
import type { AttributionConfig } from '../attribution/plan.js'
import { LOG_LEVELS, type LogLevel } from '../core/log.js'
import { closest } from '../core/text.js'
import type { FootprintConfig } from '../footprint/options.js'
import { CLOUD_METADATA_URL } from '../intensity/cloud-detect.js'
import { ELECTRICITY_MAPS_URL } from '../intensity/electricity-maps.js'
import type { ForecastOnlyOption, ForecastOption, ForecastPlaceOption } from '../intensity/forecast/select.js'
import { WATTTIME_URL } from '../intensity/forecast/watttime.js'
import type { IntensityConfig } from '../intensity/resolve.js'
import { type IntensityOption, isLiveOption } from '../intensity/sources.js'
import { UK_CARBON_INTENSITY_URL } from '../intensity/uk-carbon-intensity.js'
import type { FanoutConfig } from '../output/fanout.js'
import { DEFAULT_MAX_ROUTE_LABELS } from '../output/route-labels.js'
import type { Sink } from '../output/sink.js'
import type { DefaultedOption, ForecastOptions, ResolvedConfig, TrackerOptions } from './options.js'

/** How an option is read from the environment; `object` options (budget) are not. */
export type Kind = 'string' | 'number' | 'boolean' | 'object'

/** How one option is checked, read from the environment and shown in errors. */
export interface OptionDef {
  readonly kind: Kind
  readonly schema: z.ZodMiniType
  /** A good value, written as in code (`1000`, `'FR'`), shown in errors. */
  readonly example: string
  /** Good values of the fields of an object option, by field (`{ durationS: 3600 }`). */
  readonly fieldExamples?: Readonly<Record<string, string>>
  /** The environment variable, when not `WATTPRINT_<SCREAMING_SNAKE>` of the name. */
  readonly env?: string
  /** Never echo the value (a token) in an error. */
  readonly secret?: boolean
  /** The accepted range of a number option, in the option's unit. */
  readonly range?: { readonly min: number; readonly max: number }
  /** The values of an enumerated option; accepted in any case, as country codes and booleans are. */
  readonly choices?: readonly string[]
  /**
   * The value when neither the option nor its variable is given, before the resolver's own steps (a path
   * made absolute, a secret wrapped); a function for one computed per tracker. Absent: null, "not given".
   */
  readonly default?: unknown
  /** How the docs name a default computed per tracker (`a random UUID`), instead of its value. */
  readonly defaultText?: string
  /** The command-line flag of the measuring commands (`run`, `detect`) that sets it, when one does. */
  readonly flag?: OptionFlag
  /**
   * Who reads it: a tracker (absent), a forecast only (`forecast`: ForecastOptions' own), or both (`both`:
   * the place and the intensity services' access).
   */
  readonly scope?: 'forecast' | 'both'
}

/**
 * An option's command-line flag: its name and help, and how its text becomes the option's value. The CLI
 * builds its flag table and parses the flags from these (src/cli/options.ts).
 */
export interface OptionFlag {
  /** The long name, without the dashes. */
  readonly name: string
  readonly short?: string
  /** The value as help shows it, without the brackets: `250ms|1s`. */
  readonly value: string
  /** What the flag does, one line for help. */
  readonly help: string
  /** A good value, for error messages. */
  readonly example: string
  /**
   * How the text is read: `text` as given; `number` in the option's range; `seconds` a duration with
   * its unit (`250ms`, `1s`), set in milliseconds; `watts` a power with its unit (`200W`); `special` by
   * the CLI's own code (one flag setting two options, a unit suffix).
   */
  readonly parse: 'text' | 'number' | 'seconds' | 'watts' | 'special'
  /** Other options the flag sets too (`--output` a folder or a file: outputDir and outputFile). */
  readonly alsoSets?: readonly string[]
}

/** An option's flag, for the table below. */
const flag = (
  name: string,
  parse: OptionFlag['parse'],
  value: string,
  example: string,
  help: string,
  more: Partial<OptionFlag> = {},
): OptionFlag => ({ name, parse, value, example, help, ...more })

// zod/mini: the same validation as zod's classic API at a fraction of its load time (see docs/explanation/dependencies.md).
const text = (check: (s: string) => boolean, message: string) =>
  z.string({ error: 'must be a string' }).check(z.refine(check, { message }))
const nonEmpty = text((s) => s.trim().length > 0, 'must not be empty')
// A NUL byte ends a name for the kernel: Node refuses such a path at every call, so every row would fail.
const noNul = z.refine<string>((s) => !s.includes('\0'), {
  message: 'must not hold a NUL byte (\\0), which no file system takes in a name',
})
/** A path: not empty, no NUL byte. */
const path = nonEmpty.check(noNul)
const fileName = z.string({ error: 'must be a string' }).check(
  noNul,
  z.refine((s) => s.trim().length > 0 && !/[\\/]/.test(s) && s !== '.' && s !== '..', {
    message: 'must be a file name without a directory (put the directory in outputDir)',
  }),
)
const httpUrl = text((s) => {
  try {
    const { protocol } = new URL(s)
    return protocol === 'http:' || protocol === 'https:'
  } catch {
    return false
  }
}, 'must be an http:// or https:// URL')
const boolean = z.boolean({ error: 'must be true or false' })
// NaN and Infinity fail z.number() itself: one message covers them and the range alike.
const positive = (unit: string) => {
  const message = `must be a finite, positive number of ${unit}`
  return z.number({ error: message }).check(z.refine((n) => Number.isFinite(n) && n > 0, { message }))
}

const nonNegative = (unit: string) => {
  const message = `must be a finite number of ${unit}, 0 or more`
  return z.number({ error: message }).check(z.refine((n) => Number.isFinite(n) && n >= 0, { message }))
}

/** An object option's check that at least one of its (optional) fields is set. */
const someField = (fields: string) =>
  z.refine((o: unknown) => Object.values(o as object).some((v) => v !== undefined), {
    message: `must set at least one of ${fields}`,
  })

/** A number option from `min` to `max` (`unit` names it: `milliseconds`; a `note` may follow the range). */
function numeric(min: number, max: number, unit: string, example: string, note = '') {
  const message = `must be a number${unit ? ` of ${unit}` : ''} from ${min} to ${max}${note}`
  const schema = z
    .number({ error: message })
    .check(z.refine((n) => Number.isFinite(n) && n >= min && n <= max, { message }))
  return { kind: 'number', schema, example, range: { min, max } } as const
}

/** A whole-number option from `min` to `max`. */
function whole(min: number, max: number, unit: string, example: string) {
  const message = `must be a whole number of ${unit} from ${min} to ${max}`
  const schema = z
    .number({ error: message })
    .check(z.refine((n) => Number.isInteger(n) && n >= min && n <= max, { message }))
  return { kind: 'number', schema, example, range: { min, max } } as const
}

function choice<T extends string>(values: readonly [T, ...T[]], example: T) {
  const message =
    values.length === 2 ? `must be '${values[0]}' or '${values[1]}'` : `must be one of ${values.join(', ')}`
  return {
    kind: 'string',
    schema: z.enum(values, { error: message }),
    example: `'${example}'`,
    choices: values,
  } as const
}

// `-1` or `1.5` is no GPU index, and no UUID prefix either (those start with GPU- or MIG-).
const isGpuIdText = (id: string) => /^\d+$/.test(id) || !/^[+-]?\.?\d/.test(id)
const GPU_ID = 'must be a GPU index (a whole number from 0) or a UUID prefix'
const gpuId = z.union(
  [
    z.string().check(z.refine((s) => s.trim() !== '' && isGpuIdText(s.trim()), { message: GPU_ID })),
    z.number().check(z.refine((n) => Number.isInteger(n) && n >= 0, { message: GPU_ID })),
  ],
  { error: "must be a GPU index (0, 1, …) or a UUID prefix ('GPU-8f6c')" },
)
const gpuIdList = z.string().check(
  z.refine(
    (s) =>
      s
        .split(',')
        .map((id) => id.trim())
        .every((id) => id === '' || isGpuIdText(id)),
    { message: 'must list GPU indices (whole numbers from 0) or UUID prefixes, separated by commas' },
  ),
)

/** Every option: its checks, its example and its environment variable. */
export const DEFINITIONS = {
  projectName: {
    kind: 'string',
    schema: nonEmpty,
    example: "'mnist-mlp'",
    default: 'wattprint',
    flag: flag('project', 'text', 'name', 'mnist-mlp', 'project name, in every row'),
  },
  experimentId: {
    kind: 'string',
    schema: z.string({ error: 'must be a string' }),
    example: "'lr-sweep'",
    default: '',
    flag: flag('experiment', 'text', 'id', 'lr-sweep', 'experiment id, groups runs'),
  },
  runId: {
    kind: 'string',
    schema: nonEmpty,
    example: "'run-42'",
    default: () => randomUUID(),
    defaultText: 'a random UUID',
  },
  outputDir: {
    kind: 'string',
    schema: path,
    example: "'./results'",
    default: '.',
    flag: flag(
      'output',
      'special',
      'dir|file.csv',
      'results/',
      'the CSV: a folder (emissions.csv in it) or a path ending in .csv (default: the current folder)',
      { short: 'o', alsoSets: ['outputFile'] },
    ),
  },
  outputFile: { kind: 'string', schema: fileName, example: "'emissions.csv'", default: 'emissions.csv' },
  saveToFile: { kind: 'boolean', schema: boolean, example: 'false', default: true },
  checkpointIntervalMs: { ...numeric(100, 3_600_000, 'milliseconds', '10000'), default: 10_000 },
  intervalMs: {
    ...numeric(10, 3_600_000, 'milliseconds', '1000'),
    default: 1000,
    flag: flag('interval', 'seconds', '250ms|1s', '1s', 'sampling period, 10ms to 1h (default 1s)'),
  },
  sampling: { ...choice(['worker', 'inline'], 'worker'), default: 'worker' },
  country: {
    kind: 'string',
    schema: nonEmpty,
    example: "'FR'",
    flag: flag('country', 'text', 'FR|FRA', 'FR', 'ISO 3166 country code of the machine'),
    scope: 'both',
  },
  zone: {
    kind: 'string',
    schema: nonEmpty,
    example: "'US-CAL-CISO'",
    flag: flag(
      'zone',
      'text',
      'US-CAL-CISO',
      'US-CAL-CISO',
      'Electricity Maps zone of the machine (finer than a country)',
    ),
    scope: 'both',
  },
  cloudProvider: {
    kind: 'string',
    schema: nonEmpty,
    example: "'aws'",
    flag: flag(
      'cloud',
      'special',
      'provider:region',
      'aws:eu-north-1',
      'the cloud region the machine runs in (aws, gcp, azure): aws:eu-north-1',
      { alsoSets: ['cloudRegion'] },
    ),
    scope: 'both',
  },
  cloudRegion: { kind: 'string', schema: nonEmpty, example: "'eu-north-1'", scope: 'both' },
  detectCloud: { kind: 'boolean', schema: boolean, example: 'true', default: false },
  cloudMetadataUrl: {
    kind: 'string',
    schema: httpUrl,
    example: "'http://169.254.169.254'",
    default: CLOUD_METADATA_URL,
  },
  electricityMapsToken: {
    kind: 'string',
    schema: nonEmpty,
    example: 'process.env.MY_TOKEN',
    env: 'WATTPRINT_ELECTRICITYMAPS_TOKEN',
    secret: true,
    scope: 'both',
  },
  electricityMapsUrl: {
    kind: 'string',
    schema: httpUrl,
    example: "'https://api.electricitymaps.com'",
    env: 'WATTPRINT_ELECTRICITYMAPS_URL',
    default: ELECTRICITY_MAPS_URL,
    scope: 'both',
  },
  ukCarbonIntensity: {
    kind: 'string',
    schema: z.union([nonEmpty, z.number()], { error: "must be 'national', a region id or a postcode" }),
    example: "'national'",
    scope: 'both',
  },
  ukCarbonIntensityUrl: {
    kind: 'string',
    schema: httpUrl,
    example: "'https://api.carbonintensity.org.uk'",
    default: UK_CARBON_INTENSITY_URL,
    scope: 'both',
  },
  wattTimeUsername: {
    kind: 'string',
    schema: nonEmpty,
    example: "'my-watttime-user'",
    env: 'WATTPRINT_WATTTIME_USERNAME',
    scope: 'forecast',
  },
  wattTimePassword: {
    kind: 'string',
    schema: nonEmpty,
    example: 'process.env.MY_WATTTIME_PASSWORD',
    env: 'WATTPRINT_WATTTIME_PASSWORD',
    secret: true,
    scope: 'forecast',
  },
  wattTimeRegion: {
    kind: 'string',
    schema: nonEmpty,
    example: "'CAISO_NORTH'",
    env: 'WATTPRINT_WATTTIME_REGION',
    scope: 'forecast',
  },
  wattTimeUrl: {
    kind: 'string',
    schema: httpUrl,
    example: "'https://api.watttime.org'",
    env: 'WATTPRINT_WATTTIME_URL',
    default: WATTTIME_URL,
    scope: 'forecast',
  },
  carbonAwareSdkUrl: {
    kind: 'string',
    schema: httpUrl,
    example: "'http://carbon-aware.internal:8080'",
    scope: 'forecast',
  },
  carbonAwareLocation: { kind: 'string', schema: nonEmpty, example: "'westeurope'", scope: 'forecast' },
  forecastProvider: {
    ...choice(['uk-carbon-intensity', 'electricitymaps', 'watttime', 'carbon-aware-sdk'], 'electricitymaps'),
    scope: 'forecast',
  },
  intensityTimeoutMs: { ...numeric(100, 60_000, 'milliseconds', '3000'), default: 3000, scope: 'both' },
  intensity: {
    kind: 'object',
    schema: z.custom<IntensityOption>(
      (v) =>
        typeof v === 'object' &&
        v !== null &&
        (isLiveOption(v as IntensityOption) || typeof (v as { at?: unknown }).at === 'function'),
      {
        message:
          'must be electricityMaps({ token }), ukCarbonIntensity({ area }) or your own provider: an object with at(wallMs) returning { gPerKWh, source }',
      },
    ),
    example: 'electricityMaps({ token: process.env.EM_TOKEN })',
  },
  carbonIntensityGPerKWh: {
    ...numeric(0, 2000, 'grams of CO2e per kWh', '56'),
    env: 'WATTPRINT_CARBON_INTENSITY_G_PER_KWH',
    flag: flag(
      'carbon-intensity',
      'special',
      'g/kWh',
      '56',
      'a fixed carbon intensity, 0 to 2000 g CO2e/kWh, instead of the grid figure',
    ),
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
      .check(someField('energyKWh, emissionsKg, durationS')),
    example: '{ energyKWh: 0.5 }',
    fieldExamples: { energyKWh: '0.5', emissionsKg: '0.1', durationS: '3600' },
  },
  pue: {
    ...numeric(1, 5, '', '1.2', ' (a PUE below 1 is impossible)'),
    default: 1,
    flag: flag(
      'pue',
      'number',
      '1.2',
      '1.2',
      "the data centre's power usage effectiveness, 1 to 5 (default 1)",
    ),
  },
  // The footprint beyond electricity (footprint/): embodied emissions, water, SCI.
  embodied: {
    kind: 'object',
    schema: z
      .object(
        {
          emissionsKg: z.optional(nonNegative('kg CO2e')),
          // The former name of emissionsKg, still read (config.ts warns, and refuses the two disagreeing).
          kgCO2e: z.optional(nonNegative('kg CO2e')),
          lifetimeYears: z.optional(positive('years')),
          share: z.optional(
            z
              .number({ error: 'must be a number from 0 to 1' })
              .check(z.refine((n) => n > 0 && n <= 1, { message: 'must be a number above 0, up to 1' })),
          ),
          host: z.optional(
            z
              .object(
                {
                  threads: z.optional(whole(1, 100_000, 'threads (logical CPUs)', '64').schema),
                  memoryGiB: z.optional(positive("GiB of the host's memory")),
                },
                { error: 'must be an object: { threads?, memoryGiB? }, the host of this virtual machine' },
              )
              .check(someField('threads, memoryGiB')),
          ),
        },
        { error: 'must be an object: { emissionsKg?, lifetimeYears?, share?, host? }' },
      )
      .check(someField('emissionsKg, lifetimeYears, share, host')),
    example: '{ emissionsKg: 1500, lifetimeYears: 4 }',
    fieldExamples: {
      emissionsKg: '1500',
      lifetimeYears: '4',
      share: '0.125',
      host: '{ threads: 64, memoryGiB: 512 }',
    },
  },
  cloudInstanceType: { kind: 'string', schema: nonEmpty, example: "'p4d.24xlarge'" },
  wueLPerKWh: { ...numeric(0, 20, 'litres per kWh', '0.18'), env: 'WATTPRINT_WUE_L_PER_KWH' },
  waterIntensityLPerKWh: {
    ...numeric(0, 1000, 'litres per kWh', '3.1'),
    env: 'WATTPRINT_WATER_INTENSITY_L_PER_KWH',
  },
  functionalUnit: {
    kind: 'object',
    schema: z.object(
      { name: nonEmpty, count: z.optional(positive('units')) },
      { error: "must be an object: { name: 'epoch', count?: 10 }" },
    ),
    example: "{ name: 'epoch', count: 10 }",
    fieldExamples: { name: "'epoch'", count: '10' },
  },
  cpuPowerW: {
    ...numeric(0.1, 10_000, 'watts', '125'),
    flag: flag('cpu-power', 'watts', '200W', '200W', 'CPU TDP for the estimate when RAPL is unreadable'),
  },
  ramPowerW: {
    ...numeric(0, 10_000, 'watts', '20'),
    flag: flag(
      'ram-power',
      'watts',
      '20W',
      '20W',
      'RAM power instead of the module model (0W leaves RAM out)',
    ),
  },
  gpuIds: {
    kind: 'string',
    schema: z.union([gpuIdList, z.array(gpuId)], {
      error: "must be GPU indices or UUID prefixes: [0, 1], ['GPU-8f6c'] or '0,1'",
    }),
    example: '[0, 1]',
    flag: flag(
      'gpu-ids',
      'text',
      '0,1',
      '0,1',
      'GPUs to measure, indices or UUID prefixes (default: CUDA_VISIBLE_DEVICES, else all)',
    ),
  },
  nvmlLibraryPath: {
    kind: 'string',
    schema: path,
    example: "'/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1'",
    env: 'WATTPRINT_NVML_LIBRARY',
    flag: flag(
      'nvml-library',
      'text',
      'path',
      '/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1',
      'the NVML library to load (default libnvidia-ml.so.1)',
    ),
  },
  nvmlEnergyCounter: { kind: 'boolean', schema: boolean, example: 'false', default: true },
  nvidiaSmiPath: {
    kind: 'string',
    schema: path,
    example: "'/usr/bin/nvidia-smi'",
    env: 'WATTPRINT_NVIDIA_SMI',
    default: 'nvidia-smi',
    flag: flag(
      'nvidia-smi',
      'text',
      'path',
      '/usr/bin/nvidia-smi',
      'the nvidia-smi executable (default: nvidia-smi on PATH)',
    ),
  },
  amdSmiLibraryPath: {
    kind: 'string',
    schema: path,
    example: "'/opt/rocm/lib/libamd_smi.so'",
    env: 'WATTPRINT_AMD_SMI_LIBRARY',
  },
  rocmSmiLibraryPath: {
    kind: 'string',
    schema: path,
    example: "'/opt/rocm/lib/librocm_smi64.so'",
    env: 'WATTPRINT_ROCM_SMI_LIBRARY',
  },
  levelZeroLibraryPath: {
    kind: 'string',
    schema: path,
    example: "'/usr/lib/x86_64-linux-gnu/libze_loader.so.1'",
    env: 'WATTPRINT_LEVEL_ZERO_LIBRARY',
  },
  hwmonRoot: {
    kind: 'string',
    schema: path,
    example: "'/host/sys/class/hwmon'",
    default: '/sys/class/hwmon',
  },
  raplRoot: {
    kind: 'string',
    schema: path,
    example: "'/host/sys/class/powercap'",
    default: '/sys/class/powercap',
    flag: flag(
      'rapl-root',
      'text',
      'dir',
      '/host/sys/class/powercap',
      'root of the powercap tree (default /sys/class/powercap)',
    ),
  },
  procStatPath: { kind: 'string', schema: path, example: "'/host/proc/stat'", default: '/proc/stat' },
  maxRouteLabels: { ...whole(1, 100_000, 'route labels', '100'), default: DEFAULT_MAX_ROUTE_LABELS },
  sinks: {
    kind: 'object',
    schema: z.array(
      z.custom<Sink>((v) => typeof v === 'object' && v !== null && typeof (v as Sink).start === 'function', {
        message:
          'must be sinks (prometheusSink(), otelSink(), memorySink(), jsonlSink() or your own object with a start method)',
      }),
      { error: 'must be an array of sinks: [prometheusSink({ port: 9465 })]' },
    ),
    example: '[prometheusSink({ port: 9465 })]',
    default: [],
  },
  attribution: (() => {
    const message =
      "must be 'machine', 'process', 'cgroup', { pid: <a process id> } or { cgroup: '/sys/fs/cgroup/…' } " +
      '(in the environment: machine, process, cgroup, cgroup:/sys/fs/cgroup/… or pid:<id>)'
    const valid = (v: unknown): boolean => {
      if (typeof v === 'string')
        return (
          ['machine', 'process', 'cgroup'].includes(v) || /^cgroup:\/./.test(v) || /^pid:[1-9]\d*$/.test(v)
        )
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return false
      const o = v as { pid?: unknown; cgroup?: unknown }
      const keys = Object.keys(o)
      if (keys.length !== 1) return false
      if (keys[0] === 'pid') return typeof o.pid === 'number' && Number.isInteger(o.pid) && o.pid > 0
      return keys[0] === 'cgroup' && typeof o.cgroup === 'string' && o.cgroup.trim() !== ''
    }
    return {
      kind: 'string',
      schema: z.unknown().check(z.refine(valid, { message })),
      example: "'process'",
      choices: ['machine', 'process', 'cgroup'],
      default: 'machine',
      flag: flag(
        'attribution',
        'special',
        'machine|process|cgroup[:dir]',
        'process',
        "whose energy: the whole machine (default), the command's process tree, or a cgroup v2 (its own, or dir)",
      ),
    } as const
  })(),
  idle: {
    ...choice(['exclude', 'include'], 'exclude'),
    default: 'exclude',
    flag: flag(
      'idle',
      'special',
      'exclude|include',
      'include',
      "with --attribution: whether the job also carries its share of the machine's idle power (default exclude)",
    ),
  },
  emissionsScope: {
    ...choice(['wall', 'components'], 'wall'),
    default: 'wall',
    flag: flag(
      'emissions-scope',
      'text',
      'wall|components',
      'components',
      "the figure the summary and budgets price: the whole machine at the wall (default) or CPU+GPU+RAM, CodeCarbon's scope",
    ),
  },
  distributed: {
    ...choice(['auto', 'per-rank', 'off'], 'per-rank'),
    default: 'auto',
    flag: flag(
      'distributed',
      'text',
      'auto|per-rank|off',
      'per-rank',
      "under SLURM, torchrun or MPI: count each node once (auto, default), each rank's own share (per-rank), or ignore the launcher (off)",
    ),
  },
  jobId: {
    kind: 'string',
    schema: z.string({ error: 'must be a string' }).check(z.minLength(1, 'must not be empty')),
    example: "'train-42'",
    flag: flag('job-id', 'text', 'id', 'train-42', "the job's id where the launcher gives none"),
  },
  procRoot: { kind: 'string', schema: path, example: "'/host/proc'", default: '/proc' },
  sysRoot: { kind: 'string', schema: path, example: "'/host/sys'", default: '/sys' },
  logLevel: { ...choice(LOG_LEVELS as [LogLevel, ...LogLevel[]], 'info'), default: 'warning' },
} satisfies Record<Exclude<keyof TrackerOptions, DeprecatedOptionName>, OptionDef>

/** The name of an option. */
export type OptionName = keyof typeof DEFINITIONS

/** The options whose definition has a default. */
type WithDefault = {
  [K in OptionName]: (typeof DEFINITIONS)[K] extends { readonly default: unknown } ? K : never
}[OptionName]
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
// ResolvedConfig's non-null options are the table's defaulted ones: a default added or removed here
// without DefaultedOption (config/options.ts) following fails to compile.
const defaultsListed: Same<WithDefault, DefaultedOption> = true
void defaultsListed

/** The options each scope of the table holds, against the types that name them (config/options.ts). */
type InScope<S> = {
  [K in OptionName]: (typeof DEFINITIONS)[K] extends { readonly scope: S } ? K : never
}[OptionName]
const forecastOnlyListed: Same<InScope<'forecast'>, ForecastOnlyOption> = true
const placeListed: Same<InScope<'both'>, ForecastPlaceOption> = true
// ForecastOption (intensity/forecast/select.ts, which cannot import this room) names ForecastOptions' keys.
const forecastKeysListed: Same<keyof ForecastOptions, ForecastOption> = true
void forecastKeysListed
void forecastOnlyListed
void placeListed

// The slices of the resolved options that the rooms below declare (they cannot import this room) are
// held to it: a field renamed or retyped here and not there fails to compile.
const slicesHeld = (
  config: ResolvedConfig,
): IntensityConfig & FootprintConfig & FanoutConfig & AttributionConfig => config
void slicesHeld

/** Who reads an option: a tracker only, a forecast only, or both. */
export function scopeOf(name: OptionName): 'tracker' | 'forecast' | 'both' {
  return (DEFINITIONS[name] as OptionDef).scope ?? 'tracker'
}

/** The default of an option (computed, for one computed per tracker); null when it has none. */
export function defaultOf(name: OptionName): unknown {
  const value = (DEFINITIONS[name] as OptionDef).default
  return typeof value === 'function' ? (value as () => unknown)() : (value ?? null)
}

/**
 * The options' former names, still read, each with the option it now is and its former environment
 * variable (also still read). Each is a `DEPRECATED_OPTION` warning naming the new name; the two names
 * given different values are refused. `embodied.kgCO2e` (now `embodied.emissionsKg`) is a field, handled
 * with the embodied option.
 */
export const DEPRECATED_OPTIONS = {
  carbonIntensity: {
    now: 'carbonIntensityGPerKWh',
    env: 'WATTPRINT_CARBON_INTENSITY',
    unit: 'g CO2e/kWh',
  },
  wue: { now: 'wueLPerKWh', env: 'WATTPRINT_WUE', unit: 'L per IT kWh' },
  waterIntensity: { now: 'waterIntensityLPerKWh', env: 'WATTPRINT_WATER_INTENSITY', unit: 'L/kWh' },
} as const satisfies Readonly<
  Record<string, { readonly now: string; readonly env: string; readonly unit: string }>
>

/** A former name of an option (see DEPRECATED_OPTIONS). */
export type DeprecatedOptionName = keyof typeof DEPRECATED_OPTIONS

/** The former name of each option that has one, by the option's name. */
export const FORMER_NAMES: ReadonlyMap<OptionName, DeprecatedOptionName> = new Map(
  (Object.keys(DEPRECATED_OPTIONS) as DeprecatedOptionName[]).map((old) => [
    DEPRECATED_OPTIONS[old].now,
    old,
  ]),
)

/** Whether `name` is an option's former name. */
export const isDeprecatedOption = (name: string): name is DeprecatedOptionName =>
  Object.hasOwn(DEPRECATED_OPTIONS, name)

/** Every option's name, in the order of the definitions. */
export const OPTION_NAMES = Object.keys(DEFINITIONS) as OptionName[]

/** The definition of an option by name; undefined for a name that is none. */
export function optionDef(name: string): OptionDef | undefined {
  return Object.hasOwn(DEFINITIONS, name) ? (DEFINITIONS as Record<string, OptionDef>)[name] : undefined
}

/** `intervalMs` → `WATTPRINT_INTERVAL_MS` (or the option's own name, such as WATTPRINT_ELECTRICITYMAPS_TOKEN). */
export function envName(option: string): string {
  return optionDef(option)?.env ?? `WATTPRINT_${option.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}`
}

/** Parses an environment string into the option's type; undefined when it cannot be. */
export function fromEnvironment(kind: Kind, raw: string): unknown {
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

/** WATTPRINT_* variables that are no tracker option but are read elsewhere: the build, the tests, CI. */
export const OTHER_ENVIRONMENT_VARIABLES: readonly string[] = [
  'WATTPRINT_BUILD_DTS',
  'WATTPRINT_REQUIRE_CHROMIUM',
  'WATTPRINT_REQUIRE_PROMETHEUS',
  'WATTPRINT_REQUIRE_SLURM',
  // How often `run --within` asks for a new forecast while it waits; the tests shorten it to seconds.
  'WATTPRINT_FORECAST_REFRESH_MS',
]

/**
 * Warnings for the `WATTPRINT_*` variables of `env` that nothing reads (a typo, most likely), with the
 * name meant, and for those of options that cannot come from the environment (budget, sinks).
 */
export function environmentWarnings(env: Readonly<Record<string, string | undefined>>): string[] {
  const read = new Map(OPTION_NAMES.map((name) => [envName(name), name]))
  // Former names are read too (config.ts warns about them): neither a typo nor a guess to offer.
  const former = Object.values(DEPRECATED_OPTIONS).map((d) => d.env as string)
  const known = [...read.keys(), ...OTHER_ENVIRONMENT_VARIABLES]
  const suffixes = known.map((name) => name.slice('WATTPRINT_'.length))
  const formerNow = new Map(
    Object.entries(DEPRECATED_OPTIONS).map(([, d]) => [
      d.env.slice('WATTPRINT_'.length),
      envName(d.now).slice('WATTPRINT_'.length),
    ]),
  )
  const formerSuffixes = [...formerNow.keys()]
  const warnings: string[] = []
  for (const name of Object.keys(env).sort()) {
    if (!/^WATTPRINT_/i.test(name) || OTHER_ENVIRONMENT_VARIABLES.includes(name) || former.includes(name))
      continue
    const option = read.get(name)
    if (option !== undefined) {
      if (DEFINITIONS[option].kind === 'object') {
        warnings.push(
          `Environment variable ${name} is ignored: ${option} cannot be set from the environment; ` +
            `pass it to the constructor: new EmissionsTracker({ ${option}: ${DEFINITIONS[option].example} }).`,
        )
      }
      continue
    }
    // A slip of a former variable (WATTPRINT_CARBON_INTENSTY) is pointed at the variable it is now.
    const near = closest(name.slice('WATTPRINT_'.length), [...suffixes, ...formerSuffixes])
    const guess = (near && formerNow.get(near)) ?? near
    warnings.push(
      `Environment variable ${name} is not a wattprint setting and is ignored` +
        `${guess ? `: did you mean WATTPRINT_${guess}?` : '.'} The settings are the options' names in ` +
        'WATTPRINT_SCREAMING_SNAKE_CASE (WATTPRINT_PROJECT_NAME, WATTPRINT_INTERVAL_MS); every option and its variable: docs/reference/options.md.',
    )
  }
  return warnings
}
