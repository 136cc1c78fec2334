import { resolve } from 'node:path'
import type { ResolvedAttribution } from '../attribution/plan.js'
import { OptionError, WattprintError } from '../core/errors.js'
import { Logger, type LogLevel, logWarning } from '../core/log.js'
import { Secret } from '../core/secret.js'
import { closest, describeValue } from '../core/text.js'
import type { TrackerWarning } from '../core/warnings.js'
import { jobPlace, nodeCsvName } from '../distributed/launcher.js'
import type { EmbodiedOption } from '../footprint/options.js'
import type { ForecastConfig } from '../intensity/forecast/select.js'
import { type CheckedLocation, checkLocation } from '../intensity/location.js'
import { impossibleDirReason } from '../platform/output-dir.js'
import type { Attribution, ForecastOptions, ResolvedConfig, TrackerOptions } from './options.js'
import {
  DEFINITIONS,
  DEPRECATED_OPTIONS,
  defaultOf,
  environmentWarnings,
  envName,
  FORMER_NAMES,
  fromEnvironment,
  isDeprecatedOption,
  OPTION_NAMES,
  type OptionDef,
  type OptionName,
  optionDef,
  scopeOf,
} from './schema.js'

export { OptionError } from '../core/errors.js'
export type { ResolvedConfig } from './options.js'
export { environmentWarnings, envName, OTHER_ENVIRONMENT_VARIABLES } from './schema.js'

/** How an option was given: its name and its environment variable as the user wrote them. */
interface GivenAs {
  readonly option: string
  readonly env: string
}

/**
 * Checks an option's value. `as` names it as the user gave it (an option's former name, a former
 * environment variable), so that a refusal quotes what was written.
 */
function validate(
  name: OptionName,
  given: unknown,
  fromEnv: string | null,
  as: GivenAs = { option: name, env: envName(name) },
): unknown {
  const def: OptionDef = DEFINITIONS[name]
  // Enumerated values are accepted in any case, as booleans and country codes are (`DEBUG`, `Inline`).
  const value =
    def.choices && typeof given === 'string' && def.choices.includes(given.trim().toLowerCase())
      ? given.trim().toLowerCase()
      : given
  const result = def.schema.safeParse(value)
  if (result.success) return result.data
  const issue = result.error.issues[0]
  const problem = issue?.message ?? 'is invalid'
  if (fromEnv !== null) {
    throw new WattprintError(
      'INVALID_ENVIRONMENT',
      `Environment variable ${as.env}=${def.secret ? '[redacted]' : describeValue(fromEnv)} is invalid: ${as.option} ${problem}. ` +
        `Fix it or unset it; for example ${as.env}=${def.example.replace(/'/g, '')}.`,
      as.env,
    )
  }
  // A field of an object or an item of an array is named by its path, and shown alone: budget.durationS.
  const path = (issue?.path ?? []).map(String)
  let part: unknown = value
  for (const key of path) part = (part as Record<string, unknown> | undefined)?.[key]
  const where = path.map((key) => (/^\d+$/.test(key) ? `[${key}]` : `.${key}`)).join('')
  // A field's example also fixes its own fields (embodied.host.threads: `{ host: { threads: 64, … } }`).
  const field = path[0] !== undefined ? def.fieldExamples?.[path[0]] : undefined
  const example = field !== undefined ? `{ ${path[0]}: ${field} }` : def.example
  const shown = def.secret ? null : describeValue(part)
  throw new OptionError(
    `Option ${as.option}${where} ${problem} (got ${shown ?? 'a value that is not shown'}). ` +
      `For example: new EmissionsTracker({ ${name}: ${example} }).`,
    as.option,
    problem,
    shown,
    example,
    path.join('.'),
  )
}

/** The deprecation warning of an option's, a field's or a variable's former name (its message is fixed). */
const deprecated = (message: string): TrackerWarning => ({ code: 'DEPRECATED_OPTION', message })

/**
 * An option given under its name and its former name with different values: refused, naming both (as
 * `option`, the new name, which is the one to keep).
 */
function conflict(former: string, now: string, values: readonly [unknown, unknown], example: string) {
  const [old, current] = values.map(describeValue)
  const problem = `is also given as ${former}, its former name, with another value (${former} ${old}, ${now} ${current})`
  return new OptionError(
    `Options ${former} and ${now} are one option, under its former and its new name, and they disagree ` +
      `(${former}: ${old}, ${now}: ${current}). Give ${now} only; for example: new EmissionsTracker({ ${example} }).`,
    now,
    problem,
    null,
    example.slice(example.indexOf(':') + 1).trim(),
  )
}

/**
 * An option with a former name (DEPRECATED_OPTIONS): the value given by either name, refused when both
 * disagree, with the warnings to give; `as` says how it was given. Undefined when neither was given.
 */
function givenOption(
  name: OptionName,
  options: Readonly<Record<string, unknown>>,
  warnings: TrackerWarning[],
): { readonly value: unknown; readonly as?: GivenAs } | undefined {
  const current = options[name]
  const old = FORMER_NAMES.get(name)
  const previous = old === undefined ? undefined : options[old]
  if (old === undefined || previous === undefined)
    return current === undefined ? undefined : { value: current }
  if (current !== undefined && !Object.is(current, previous))
    throw conflict(old, name, [previous, current], `${name}: ${DEFINITIONS[name].example}`)
  warnings.push(
    deprecated(
      `Option ${old} is deprecated: it is now ${name} (the same value, ${DEPRECATED_OPTIONS[old].unit}); ` +
        `write new EmissionsTracker({ ${name}: … }). ${old} is still read.`,
    ),
  )
  return { value: previous, as: { option: old, env: envName(name) } }
}

/**
 * The environment's value of an option (its variable, else its former variable), with how it was given;
 * the two variables set to different values are refused, naming both.
 */
function environmentOption(
  name: OptionName,
  env: Readonly<Record<string, string | undefined>>,
  warnings: TrackerWarning[],
): { readonly raw: string; readonly as: GivenAs } | undefined {
  const set = (variable: string) => {
    const raw = env[variable]
    return raw === undefined || raw.trim() === '' ? undefined : raw
  }
  const variable = envName(name)
  const current = set(variable)
  const old = FORMER_NAMES.get(name)
  const formerVariable = old === undefined ? undefined : DEPRECATED_OPTIONS[old].env
  const previous = formerVariable === undefined ? undefined : set(formerVariable)
  if (formerVariable === undefined || previous === undefined)
    return current === undefined ? undefined : { raw: current, as: { option: name, env: variable } }
  const kind = DEFINITIONS[name].kind
  const parse = (raw: string) => fromEnvironment(kind, raw) ?? raw.trim()
  if (current !== undefined && !Object.is(parse(current), parse(previous))) {
    throw new WattprintError(
      'INVALID_ENVIRONMENT',
      `Environment variables ${formerVariable}=${describeValue(previous)} and ${variable}=${describeValue(current)} ` +
        `are one setting, under its former and its new name, and they disagree. Set ${variable} only, and ` +
        `unset ${formerVariable}.`,
      variable,
    )
  }
  warnings.push(
    deprecated(
      `Environment variable ${formerVariable} is deprecated: it is now ${variable} (the same value, ` +
        `${DEPRECATED_OPTIONS[old as keyof typeof DEPRECATED_OPTIONS].unit}). ${formerVariable} is still read.`,
    ),
  )
  return current !== undefined
    ? { raw: current, as: { option: name, env: variable } }
    : { raw: previous, as: { option: old as string, env: formerVariable } }
}

/** The embodied option with its former field `kgCO2e` read as `emissionsKg` (the two kept equal). */
function withEmbodiedEmissions(
  embodied: EmbodiedOption | undefined,
  warnings: TrackerWarning[],
): EmbodiedOption | undefined {
  if (embodied?.kgCO2e === undefined) {
    return embodied?.emissionsKg === undefined ? embodied : { ...embodied, kgCO2e: embodied.emissionsKg }
  }
  if (embodied.emissionsKg !== undefined && !Object.is(embodied.emissionsKg, embodied.kgCO2e)) {
    throw conflict(
      'embodied.kgCO2e',
      'embodied.emissionsKg',
      [embodied.kgCO2e, embodied.emissionsKg],
      `embodied: { emissionsKg: ${DEFINITIONS.embodied.fieldExamples.emissionsKg} }`,
    )
  }
  warnings.push(
    deprecated(
      'Option embodied.kgCO2e is deprecated: it is now embodied.emissionsKg (the same value, kg CO2e); ' +
        'write new EmissionsTracker({ embodied: { emissionsKg: … } }). kgCO2e is still read.',
    ),
  )
  return { ...embodied, emissionsKg: embodied.kgCO2e }
}

/** The warnings of each resolved configuration (its former names), for the tracker to emit as events. */
const warningsOf = new WeakMap<object, readonly TrackerWarning[]>()

/**
 * The warnings resolving `config` gave (`DEPRECATED_OPTION`: a former name used), already printed once per
 * process by resolveConfig; a tracker emits them as `warning` events too, from its constructor.
 */
export function configWarnings(config: object): readonly TrackerWarning[] {
  return warningsOf.get(config) ?? []
}

/** The environment warnings already printed: each is printed once per process, however many trackers. */
const printedEnvironmentWarnings = new Set<string>()

/** What reading a set of options gave: the values given or read from the environment, checked. */
interface ReadOptions {
  readonly values: Partial<Record<OptionName, unknown>>
  /** The options whose value came from the environment (their errors name the variable). */
  readonly fromEnvironmentNames: ReadonlySet<string>
  /** Former names used (DEPRECATED_OPTION), forecast options given to a tracker. */
  readonly warnings: TrackerWarning[]
  readonly location: CheckedLocation
}

/**
 * Reads the options of `scope` (a tracker's, or a forecast's: ForecastOptions) from `options`, else
 * their environment variables, each checked against its row of the table. A tracker accepts the forecast
 * options, which it never read, with a DEPRECATED_OPTION warning, and reads none of their variables.
 */
function readOptions(
  options: Readonly<Record<string, unknown>>,
  env: Readonly<Record<string, string | undefined>>,
  scope: 'tracker' | 'forecast',
): ReadOptions {
  const callee = scope === 'tracker' ? 'new EmissionsTracker' : 'forecast'
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new WattprintError(
      'INVALID_OPTION',
      `Options must be an object (got ${describeValue(options)}). For example: ${callee}({ ${scope === 'tracker' ? "projectName: 'x'" : "country: 'FR'"} }).`,
    )
  }
  const inScope = (name: OptionName) => scope === 'tracker' || scopeOf(name) !== 'tracker'
  const known = OPTION_NAMES.filter(inScope)
  for (const key of Object.keys(options)) {
    const def = optionDef(key)
    if (def !== undefined && inScope(key as OptionName)) continue
    if (scope === 'tracker' && isDeprecatedOption(key)) continue
    if (scope === 'forecast' && def !== undefined) {
      throw new WattprintError(
        'UNKNOWN_OPTION',
        `${key} is a tracker option, not a forecast's. The forecast options: ${known.join(', ')}.`,
        key,
      )
    }
    // A slip of a former name (carbonIntensty) is pointed at the name it is now.
    const near = closest(key, [...known, ...(scope === 'tracker' ? Object.keys(DEPRECATED_OPTIONS) : [])])
    const guess = near !== undefined && isDeprecatedOption(near) ? DEPRECATED_OPTIONS[near].now : near
    throw new WattprintError(
      'UNKNOWN_OPTION',
      `Unknown option ${key}${guess ? `: did you mean ${guess}?` : '.'} Known options: ${known.join(', ')}.`,
      key,
    )
  }

  const values: Partial<Record<OptionName, unknown>> = {}
  const fromEnvironmentNames = new Set<string>()
  const warnings: TrackerWarning[] = []
  for (const name of known) {
    const given = givenOption(name, options, warnings)
    if (scope === 'tracker' && scopeOf(name) === 'forecast') {
      // Checked, so that a typo still fails where it is written; then left to forecasts.
      if (given === undefined) continue
      validate(name, given.value, null, given.as)
      warnings.push(
        deprecated(
          `Option ${name} is a forecast option, which the tracker never read: pass it to forecast() or ` +
            `bestWindow(), or set ${envName(name)} for wattprint when and run --within. It is ignored here.`,
        ),
      )
      continue
    }
    if (given !== undefined) {
      values[name] = validate(name, given.value, null, given.as)
      continue
    }
    if (DEFINITIONS[name].kind === 'object') continue
    const fromEnv = environmentOption(name, env, warnings)
    if (fromEnv === undefined) continue
    const parsed = fromEnvironment(DEFINITIONS[name].kind, fromEnv.raw)
    values[name] = validate(name, parsed === undefined ? fromEnv.raw : parsed, fromEnv.raw, fromEnv.as)
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
      if (fromEnvironmentNames.has(option)) {
        return new WattprintError(
          'INVALID_ENVIRONMENT',
          `Environment variable ${envName(option)} ${problem} For example: ${envName(option)}=${example.replace(/'/g, '')}.`,
          envName(option),
        )
      }
      // The problem names the value itself ("GER" is not …) unless the option is missing.
      return new OptionError(
        `Option ${option} ${problem} For example: ${callee}({ ${option}: ${example} }).`,
        option,
        problem.replace(/\.$/, ''),
        null,
        example,
      )
    },
  )
  return { values, fromEnvironmentNames, warnings, location }
}

/** Each option as given, else from the environment, else its default from the table (null: none). */
function settle(names: readonly OptionName[], values: Partial<Record<OptionName, unknown>>) {
  return Object.fromEntries(
    names.map((name) => [name, values[name] === undefined ? defaultOf(name) : values[name]]),
  ) as Record<OptionName, unknown>
}

const secret = (value: unknown) => (value === null ? null : new Secret(String(value)))

/**
 * The options of a forecast (ForecastOptions: forecast(), bestWindow(), `wattprint when`, `run
 * --within`) checked and completed from their `WATTPRINT_*` variables and defaults. Throws a
 * WattprintError naming the option, the bad value and the fix, as resolveConfig does.
 */
export function resolveForecastConfig(
  options: ForecastOptions = {},
  env: Readonly<Record<string, string | undefined>> = process.env,
): ForecastConfig {
  const { values, warnings, location } = readOptions(options as Record<string, unknown>, env, 'forecast')
  const logger = new Logger('warning')
  for (const warning of warnings) logWarning(logger, warning)
  const settled = settle(
    OPTION_NAMES.filter((name) => scopeOf(name) !== 'tracker'),
    values,
  )
  return {
    ...settled,
    ...location,
    electricityMapsToken: secret(settled.electricityMapsToken),
    wattTimePassword: secret(settled.wattTimePassword),
  } as ForecastConfig
}

/**
 * Validates options, fills in defaults and reads `WATTPRINT_*` environment variables for options not
 * given. Throws a WattprintError naming the option, the bad value and the fix; nothing else throws.
 */
export function resolveConfig(
  options: TrackerOptions = {},
  env: Readonly<Record<string, string | undefined>> = process.env,
): ResolvedConfig {
  const { values, fromEnvironmentNames, warnings, location } = readOptions(
    options as Record<string, unknown>,
    env,
    'tracker',
  )
  const embodied = withEmbodiedEmissions(values.embodied as EmbodiedOption | undefined, warnings)

  const logLevel = (values.logLevel ?? defaultOf('logLevel')) as LogLevel
  const logger = new Logger(logLevel)
  for (const warning of warnings) logWarning(logger, warning)
  for (const warning of environmentWarnings(env)) {
    if (printedEnvironmentWarnings.has(warning)) continue
    printedEnvironmentWarnings.add(warning)
    logger.warning(warning)
  }

  const attribution = resolveAttribution(values.attribution as Attribution | undefined)
  if (values.idle !== undefined && attribution.kind === 'machine') {
    // The whole machine's figures have no job's share of the idle power to include or exclude.
    if (fromEnvironmentNames.has('idle')) {
      const warning =
        `Environment variable ${envName('idle')}=${values.idle} is ignored: idle applies ` +
        `only with attribution (${envName('attribution')}=process or cgroup).`
      if (!printedEnvironmentWarnings.has(warning)) {
        printedEnvironmentWarnings.add(warning)
        logger.warning(warning)
      }
    } else {
      const problem = `applies only with attribution (got idle '${values.idle}' with attribution 'machine', the whole machine's figures)`
      throw new OptionError(
        `Option idle ${problem}. For example: new EmissionsTracker({ attribution: 'process', idle: '${values.idle}' }), or leave idle out.`,
        'idle',
        problem,
        null,
        `'${values.idle}'`,
      )
    }
  }

  const settled = settle(
    OPTION_NAMES.filter((name) => scopeOf(name) !== 'forecast'),
    values,
  )
  const job = settled.distributed === 'off' ? null : jobPlace(env, settled.jobId as string | null)
  // Nodes of one job never append to one file (a shared folder over NFS): each its own, unless named.
  const outputFile = job && values.outputFile === undefined ? nodeCsvName(job.nodeName) : settled.outputFile
  const outputDir = resolve(String(settled.outputDir))
  if (settled.saveToFile) assertUsableOutputDir(outputDir)
  // What changes form when resolved; everything else is the settled value itself.
  const config = {
    ...settled,
    ...location,
    outputDir,
    electricityMapsToken: secret(settled.electricityMapsToken),
    // The former names read the same figure (DEPRECATED_OPTIONS).
    carbonIntensity: settled.carbonIntensityGPerKWh,
    wue: settled.wueLPerKWh,
    waterIntensity: settled.waterIntensityLPerKWh,
    embodied: embodied ?? null,
    gpuIds: parseGpuIds(values.gpuIds as string | readonly (string | number)[] | undefined),
    attribution,
    logLevel,
    outputFile,
    job,
  } as ResolvedConfig
  if (warnings.length > 0) warningsOf.set(config, warnings)
  return config
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
    const problem = `${describeValue(outputDir)} cannot hold the CSV: ${reason}`
    throw new OptionError(
      `Option outputDir ${problem}; or set saveToFile: false.`,
      'outputDir',
      problem,
      null,
      "'./results'",
    )
  }
}

/** `'process'` → this process's pid; `'cgroup:/sys/fs/cgroup/x'` (the environment's form) → that folder. */
function resolveAttribution(given: Attribution | string | undefined): ResolvedAttribution {
  if (given === undefined || given === 'machine') return { kind: 'machine' }
  if (given === 'process') return { kind: 'process', pid: process.pid }
  if (given === 'cgroup') return { kind: 'cgroup', dir: null }
  if (typeof given === 'string') {
    const [kind, rest = ''] = [given.slice(0, given.indexOf(':')), given.slice(given.indexOf(':') + 1)]
    return kind === 'pid' ? { kind: 'process', pid: Number(rest) } : { kind: 'cgroup', dir: resolve(rest) }
  }
  return 'pid' in given ? { kind: 'process', pid: given.pid } : { kind: 'cgroup', dir: resolve(given.cgroup) }
}
