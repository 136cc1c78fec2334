import { basename, dirname } from 'node:path'
import { envName, OptionError } from '../config/config.js'
import type { ForecastOptions, TrackerOptions } from '../config/options.js'
import { DEFINITIONS, OPTION_NAMES, type OptionDef, type OptionName, optionDef } from '../config/schema.js'
import { WattprintError } from '../core/errors.js'
import { type Flag, type Flags, type FlagValues, textOf } from './flags.js'
import { parseNumber, parseQuantity, type Range, UsageError } from './units.js'

/** The options that have a flag, each with it, in the order of the options' table. */
const FLAGGED = OPTION_NAMES.flatMap((name) => {
  const flag = (DEFINITIONS[name] as OptionDef).flag
  return flag ? [{ option: name, flag }] : []
})

/**
 * The flags every measuring command shares, from the options' table (DEFINITIONS in config/schema.ts):
 * each option's flag there is its flag here, in the table's order.
 */
export const TRACKER_FLAGS: Flags = Object.fromEntries(
  FLAGGED.map(({ option, flag }) => [
    flag.name,
    {
      type: 'string',
      ...(flag.short ? { short: flag.short } : {}),
      value: flag.value,
      help: flag.help,
      example: flag.example,
      options: [option, ...(flag.alsoSets ?? [])],
    },
  ]),
)

/** Some of the tracker's flags, by name, for a command that takes only those (`when`: the location's). */
export function trackerFlags<const N extends string>(...names: readonly N[]): Record<N, Flag> {
  return Object.fromEntries(
    names.map((name) => {
      const flag = TRACKER_FLAGS[name]
      if (!flag) throw new Error(`no tracker flag --${name} in the options' table`)
      return [name, flag]
    }),
  ) as Record<N, Flag>
}

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
  for (const { option, flag } of FLAGGED) {
    const text = textOf(values, flag.name)
    if (text === undefined) continue
    const name = `--${flag.name}`
    const range = optionRange(option, flag.parse === 'seconds' ? 1000 : 1)
    const example = flag.example
    if (flag.parse === 'text') set(option, text as never)
    else if (flag.parse === 'number') set(option, parseNumber(name, text, { example, range }) as never)
    else if (flag.parse === 'seconds')
      set(option, (parseQuantity('duration', name, text, { range, example }) * 1000) as never)
    else if (flag.parse === 'watts')
      set(option, parseQuantity('power', name, text, { bareUnit: 'w', range, example }) as never)
  }
  // The flags the table marks `special`: one that sets two options, or reads a unit suffix.
  const output = textOf(values, 'output')
  if (output !== undefined) {
    // A path ending in .csv names the file; anything else is the folder.
    if (output.toLowerCase().endsWith('.csv')) {
      set('outputDir', dirname(output))
      set('outputFile', basename(output))
    } else set('outputDir', output)
  }
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
  return options
}

/**
 * The place a forecast is for, from the tracker's options as the flags set them: only the options a
 * forecast takes (ForecastOptions), so that `--project` or `--pue` beside them is not refused as a
 * forecast option. The forecast services' access comes from their WATTPRINT_* variables.
 */
export function forecastPlaceFrom(options: TrackerOptions): ForecastOptions {
  const place: { -readonly [K in keyof ForecastOptions]: ForecastOptions[K] } = {}
  if (options.country !== undefined) place.country = options.country
  if (options.zone !== undefined) place.zone = options.zone
  if (options.cloudProvider !== undefined) place.cloudProvider = options.cloudProvider
  if (options.cloudRegion !== undefined) place.cloudRegion = options.cloudRegion
  if (options.ukCarbonIntensity !== undefined) place.ukCarbonIntensity = options.ukCarbonIntensity
  return place
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
