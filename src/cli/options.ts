import { basename, dirname } from 'node:path'
import { envName, OptionError } from '../config/config.js'
import type { TrackerOptions } from '../config/options.js'
import { OPTION_NAMES, type OptionName, optionDef } from '../config/schema.js'
import { WattprintError } from '../core/errors.js'
import { type Flags, type FlagValues, textOf } from './flags.js'
import { parseNumber, parseQuantity, type Range, UsageError } from './units.js'

/** The flags every measuring command shares, mirroring the tracker's options. */
export const TRACKER_FLAGS = {
  project: {
    type: 'string',
    value: 'name',
    help: 'project name, in every row',
    example: 'mnist-mlp',
    options: ['projectName'],
  },
  experiment: {
    type: 'string',
    value: 'id',
    help: 'experiment id, groups runs',
    example: 'lr-sweep',
    options: ['experimentId'],
  },
  output: {
    type: 'string',
    short: 'o',
    value: 'dir|file.csv',
    help: 'the CSV: a folder (emissions.csv in it) or a path ending in .csv (default: the current folder)',
    example: 'results/',
    options: ['outputDir', 'outputFile'],
  },
  interval: {
    type: 'string',
    value: '250ms|1s',
    help: 'sampling period, 10ms to 1h (default 1s)',
    example: '1s',
    options: ['intervalMs'],
  },
  country: {
    type: 'string',
    value: 'FR|FRA',
    help: 'ISO 3166 country code of the machine',
    example: 'FR',
    options: ['country'],
  },
  zone: {
    type: 'string',
    value: 'US-CAL-CISO',
    help: 'Electricity Maps zone of the machine (finer than a country)',
    example: 'US-CAL-CISO',
    options: ['zone'],
  },
  cloud: {
    type: 'string',
    value: 'provider:region',
    help: 'the cloud region the machine runs in (aws, gcp, azure): aws:eu-north-1',
    example: 'aws:eu-north-1',
    options: ['cloudProvider', 'cloudRegion'],
  },
  'carbon-intensity': {
    type: 'string',
    value: 'g/kWh',
    help: 'a fixed carbon intensity, 0 to 2000 g CO2e/kWh, instead of the grid figure',
    example: '56',
    options: ['carbonIntensityGPerKWh'],
  },
  pue: {
    type: 'string',
    value: '1.2',
    help: "the data centre's power usage effectiveness, 1 to 5 (default 1)",
    example: '1.2',
    options: ['pue'],
  },
  'cpu-power': {
    type: 'string',
    value: '200W',
    help: 'CPU TDP for the estimate when RAPL is unreadable',
    example: '200W',
    options: ['cpuPowerW'],
  },
  'ram-power': {
    type: 'string',
    value: '20W',
    help: 'RAM power instead of the module model (0W leaves RAM out)',
    example: '20W',
    options: ['ramPowerW'],
  },
  'rapl-root': {
    type: 'string',
    value: 'dir',
    help: 'root of the powercap tree (default /sys/class/powercap)',
    example: '/host/sys/class/powercap',
    options: ['raplRoot'],
  },
  'nvidia-smi': {
    type: 'string',
    value: 'path',
    help: 'the nvidia-smi executable (default: nvidia-smi on PATH)',
    example: '/usr/bin/nvidia-smi',
    options: ['nvidiaSmiPath'],
  },
  'nvml-library': {
    type: 'string',
    value: 'path',
    help: 'the NVML library to load (default libnvidia-ml.so.1)',
    example: '/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1',
    options: ['nvmlLibraryPath'],
  },
  'gpu-ids': {
    type: 'string',
    value: '0,1',
    help: 'GPUs to measure, indices or UUID prefixes (default: CUDA_VISIBLE_DEVICES, else all)',
    example: '0,1',
    options: ['gpuIds'],
  },
  attribution: {
    type: 'string',
    value: 'machine|process|cgroup[:dir]',
    help: "whose energy: the whole machine (default), the command's process tree, or a cgroup v2 (its own, or dir)",
    example: 'process',
    options: ['attribution'],
  },
  'emissions-scope': {
    type: 'string',
    value: 'wall|components',
    help: "the figure the summary and budgets price: the whole machine at the wall (default) or CPU+GPU+RAM, CodeCarbon's scope",
    example: 'components',
    options: ['emissionsScope'],
  },
  idle: {
    type: 'string',
    value: 'exclude|include',
    help: "with --attribution: whether the job also carries its share of the machine's idle power (default exclude)",
    example: 'include',
    options: ['idle'],
  },
} as const satisfies Flags

/** A number option's range, in the flag's base unit: `perBase` option units make one (1000 ms per s). */
export function optionRange(option: OptionName, perBase = 1): Range {
  const range = optionDef(option)?.range
  return range ? { min: range.min / perBase, max: range.max / perBase } : {}
}

/** Tracker options from the shared flags; throws UsageError naming the flag for a bad value. */
export function trackerOptionsFrom(values: FlagValues): TrackerOptions {
  const options: TrackerOptions = {}
  const set = <K extends keyof TrackerOptions>(key: K, value: TrackerOptions[K] | undefined) => {
    if (value !== undefined) options[key] = value
  }
  set('projectName', textOf(values, 'project'))
  set('experimentId', textOf(values, 'experiment'))
  const output = textOf(values, 'output')
  if (output !== undefined) {
    // A path ending in .csv names the file; anything else is the folder.
    if (output.toLowerCase().endsWith('.csv')) {
      set('outputDir', dirname(output))
      set('outputFile', basename(output))
    } else set('outputDir', output)
  }
  const interval = textOf(values, 'interval')
  if (interval !== undefined) {
    const range = optionRange('intervalMs', 1000)
    set('intervalMs', parseQuantity('duration', '--interval', interval, { range, example: '1s' }) * 1000)
  }
  set('country', textOf(values, 'country'))
  set('zone', textOf(values, 'zone'))
  const cloud = textOf(values, 'cloud')
  if (cloud !== undefined) {
    const [provider, region, ...rest] = cloud.split(':')
    if (!provider?.trim() || !region?.trim() || rest.length > 0) {
      throw new UsageError(
        `--cloud ${JSON.stringify(cloud)} must be provider:region: for example --cloud aws:eu-north-1.`,
      )
    }
    set('cloudProvider', provider)
    set('cloudRegion', region)
  }
  const intensity = textOf(values, 'carbon-intensity')
  if (intensity !== undefined) {
    const suffix = /\s*g(?:\s*co2e?)?\s*\/\s*kwh\s*$/i
    const range = optionRange('carbonIntensityGPerKWh')
    set(
      'carbonIntensityGPerKWh',
      parseNumber('--carbon-intensity', intensity, { example: '56', range, suffix }),
    )
  }
  const pue = textOf(values, 'pue')
  if (pue !== undefined) set('pue', parseNumber('--pue', pue, { example: '1.2', range: optionRange('pue') }))
  const cpu = textOf(values, 'cpu-power')
  if (cpu !== undefined) {
    const range = optionRange('cpuPowerW')
    set('cpuPowerW', parseQuantity('power', '--cpu-power', cpu, { bareUnit: 'w', range, example: '200W' }))
  }
  const ram = textOf(values, 'ram-power')
  if (ram !== undefined) {
    const range = optionRange('ramPowerW')
    set('ramPowerW', parseQuantity('power', '--ram-power', ram, { bareUnit: 'w', range, example: '20W' }))
  }
  set('raplRoot', textOf(values, 'rapl-root'))
  set('nvidiaSmiPath', textOf(values, 'nvidia-smi'))
  set('nvmlLibraryPath', textOf(values, 'nvml-library'))
  set('gpuIds', textOf(values, 'gpu-ids'))
  const attribution = textOf(values, 'attribution')
  if (attribution !== undefined) {
    // wattprint's own process tree holds the command and all it starts (and wattprint, whose share is small).
    const [kind = '', dir] = [
      attribution.split(':', 1)[0]?.toLowerCase(),
      attribution.slice(attribution.indexOf(':') + 1),
    ]
    if (kind === 'cgroup' && attribution.includes(':')) set('attribution', { cgroup: dir ?? '' })
    else set('attribution', attribution as TrackerOptions['attribution'])
  }
  const idle = textOf(values, 'idle')
  // Said here in the flags' terms; the tracker refuses it too, for the library and the environment.
  const attributionKind = options.attribution ?? process.env[envName('attribution')]?.trim()
  if (idle !== undefined && (attributionKind === undefined || /^machine$/i.test(String(attributionKind)))) {
    throw new UsageError(
      '--idle applies only with --attribution: add --attribution process (or cgroup), or leave --idle out.',
    )
  }
  set('idle', idle as TrackerOptions['idle'])
  set('emissionsScope', textOf(values, 'emissions-scope') as TrackerOptions['emissionsScope'])
  return options
}

// camelCase option names, as problems mention them ("put the directory in outputDir").
const OPTION_WORD = new RegExp(`\\b(${OPTION_NAMES.filter((n) => /[A-Z]/.test(n)).join('|')})\\b`, 'g')

/**
 * A tracker's refusal of an option a flag set, said in the CLI's terms: the flag, the text given to it,
 * what is wrong and a good flag value, never the constructor. Other errors keep their message (an
 * environment variable is named as such).
 */
export function usageErrorFrom(error: unknown, values: FlagValues, flags: Flags): unknown {
  // Only a refused option or variable is the command line's to word; a ForecastError keeps its own.
  const refusals: readonly string[] = ['INVALID_OPTION', 'INVALID_ENVIRONMENT', 'UNKNOWN_OPTION']
  if (!(error instanceof WattprintError) || !refusals.includes(error.code)) return error
  const entries = Object.entries(flags)
  const flagOf = (option: string) => entries.find(([, f]) => f.options?.includes(option))
  const found =
    error instanceof OptionError
      ? (flagOf(error.path ? `${error.option}.${error.path}` : (error.option ?? '')) ??
        flagOf(error.option ?? ''))
      : undefined
  const text = found ? textOf(values, found[0]) : undefined
  if (!(error instanceof OptionError) || !found || text === undefined) return new UsageError(error.message)
  const [name, flag] = found
  const asFlag = (option: string) => {
    const other = flagOf(option)
    return other ? `--${other[0]}` : option
  }
  const inFlags = (phrase: string) =>
    phrase
      .replace(OPTION_WORD, asFlag)
      .replace(/\bset (\w+) to\b/g, (whole, option: string) =>
        flagOf(option) ? `set ${asFlag(option)} to` : whole,
      )
  // A problem that does not show the value ("GER" is not …) follows the flag's text.
  const problem =
    error.shown === null ? inFlags(error.problem) : `${JSON.stringify(text)} ${inFlags(error.problem)}`
  return new UsageError(
    `--${name} ${problem}.${flag.example ? ` For example: --${name} ${flag.example}.` : ''}`,
  )
}
