import { linesOf, printErr, printJson, printOut } from '../../core/terminal.js'
import { askProvider, ForecastError, providerFor } from '../../intensity/forecast/forecast.js'
import type { ForecastSignal } from '../../intensity/forecast/provider.js'
import { formatDuration, formatEnergy, formatMass } from '../../output/quantities.js'
import { bestWindow } from '../../scheduling/best-window.js'
import { type ForecastLocation, forecastConfig } from '../../scheduling/forecast.js'
import { searchWindow, type WindowChoice } from '../../scheduling/window.js'
import { type CommandSpec, type Flags, type FlagValues, helpText, parseFlags, textOf } from '../flags.js'
import { forecastPlaceFrom, trackerFlags, trackerOptionsFrom, usageErrorFrom } from '../options.js'
import { DEADLINE_FLAGS, deadlineFrom, pastRuns, UK_FLAG, ukOptionFrom } from '../schedule-flags.js'
import { tableLines } from '../table.js'
import { parseQuantity, UsageError } from '../units.js'
import { forecastChart, formatStart, localTimeOf } from '../when-chart.js'

const { country, zone, cloud, project } = trackerFlags('country', 'zone', 'cloud', 'project')

/** The flags of `wattprint when`: parsed, and listed in its help, from this one table. */
export const WHEN_FLAGS = {
  duration: {
    type: 'string',
    value: '3h',
    help: 'how long the job runs (default with --from: the mean of its past runs)',
    example: '3h',
  },
  ...DEADLINE_FLAGS,
  country,
  zone,
  cloud,
  ...UK_FLAG,
  region: {
    type: 'string',
    multiple: true,
    value: 'aws:eu-west-1,…',
    help: 'compare places (cloud regions or zones, comma-separated): searches time × region and ranks them',
    example: 'aws:eu-west-1,aws:eu-north-1',
  },
  energy: {
    type: 'string',
    value: '12kWh',
    help: "the job's energy, to say the saving in kg",
    example: '12kWh',
  },
  from: {
    type: 'string',
    value: 'emissions.csv',
    help: "the job's energy (and duration) as the mean of the project's past runs in this CSV",
    example: 'emissions.csv',
  },
  project: { ...project, help: 'the project whose runs --from averages (default: the only one in the file)' },
  format: {
    type: 'string',
    value: 'iso|slurm|at',
    help: 'print only the start, as sbatch --begin= (slurm) or at -t (at) takes it, or in ISO 8601 UTC',
    example: 'slurm',
  },
  json: { type: 'boolean', help: 'the answer as JSON on stdout' },
} as const satisfies Flags

const WHEN: CommandSpec = {
  name: 'when',
  usage: '--duration <d> (--within <d> | --by <time>) [options]',
  about: `Finds the start, before the deadline, at which a job's mean forecast carbon intensity is lowest, and
prints it with the window's mean, the intensity if started now and the saving (in % and, given --energy
or --from, in kg), over a chart of the forecast. The place and the forecast service come from the same
flags and WATTPRINT_* variables as 'run': --uk-carbon-intensity (Great Britain, no token),
WATTPRINT_ELECTRICITYMAPS_TOKEN, WATTPRINT_WATTTIME_USERNAME/PASSWORD/REGION (a marginal signal) or
WATTPRINT_CARBON_AWARE_SDK_URL. Exits 1 when no forecast is to be had.`,
  flags: WHEN_FLAGS,
  footer: `Examples:
  wattprint when --duration 3h --within 24h --uk-carbon-intensity RG10 --energy 12kWh
  sbatch --begin="$(wattprint when --duration 2h --by 06:00 --zone DE --format slurm)" train.sh
  wattprint when --duration 4h --within 12h --region aws:eu-west-1,aws:eu-north-1,aws:eu-central-1`,
}

const FORMATS = ['iso', 'slurm', 'at'] as const

/** What the job is: its duration and, when known, its energy. */
function jobOf(values: FlagValues): { durationS: number; energyKWh: number | null; what: string | null } {
  const from = textOf(values, 'from')
  const energy = textOf(values, 'energy')
  if (from !== undefined && energy !== undefined)
    throw new UsageError('give --energy or --from, not both: --from takes the energy of past runs.')
  const past = from === undefined ? null : pastRuns(from, textOf(values, 'project'))
  const duration = textOf(values, 'duration')
  const durationS =
    duration !== undefined
      ? parseQuantity('duration', '--duration', duration, { range: { max: 7 * 86_400 }, example: '3h' })
      : past?.meanDurationS
  if (durationS === undefined)
    throw new UsageError('needs --duration (how long the job runs): for example --duration 3h --within 24h.')
  const energyKWh =
    energy !== undefined
      ? parseQuantity('energy', '--energy', energy, { example: '12kWh' })
      : (past?.meanEnergyKWh ?? null)
  return { durationS, energyKWh, what: past?.description ?? null }
}

/** `wattprint when`: 0 with an answer, 1 when no forecast could be had. */
export async function whenCommand(argv: readonly string[]): Promise<number> {
  const { values } = parseFlags(WHEN, argv)
  if (values.help) {
    printOut(...linesOf(helpText(WHEN)))
    return 0
  }
  const format = textOf(values, 'format')?.trim().toLowerCase()
  if (format !== undefined && !(FORMATS as readonly string[]).includes(format))
    throw new UsageError(
      `--format ${JSON.stringify(format)} must be iso, slurm or at: for example --format slurm.`,
    )
  const nowMs = Date.now()
  const deadlineMs = deadlineFrom(values, nowMs)
  if (deadlineMs === null) throw new UsageError('needs --within or --by: for example --within 24h.')
  const job = jobOf(values)
  // --project names the runs --from averages; only the place is the forecast's.
  const location: ForecastLocation = forecastPlaceFrom({
    ...trackerOptionsFrom(values),
    ...ukOptionFrom(values),
  })
  const regions = ((values.region as string[] | undefined) ?? []).flatMap((r) =>
    r
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  )
  try {
    forecastConfig(location)
  } catch (error) {
    throw usageErrorFrom(error, values, WHEN_FLAGS)
  }
  try {
    if (regions.length > 0) return await compareRegions(values, job, location, regions, deadlineMs)
    const provider = providerFor(forecastConfig(location))
    const hours = Math.max(1, (deadlineMs - nowMs) / 3_600_000)
    const answer = await askProvider(provider, hours)
    const found = searchWindow(answer.slots, {
      durationMs: job.durationS * 1000,
      earliestMs: nowMs,
      deadlineMs,
    })
    if (!found) {
      printErr(`wattprint when: ${provider.name}'s forecast does not cover the hours before the deadline.`)
      return 1
    }
    if (format) {
      printOut(formatStart(found.startMs, format as (typeof FORMATS)[number]))
      return 0
    }
    const kg = savings(found, job.energyKWh)
    if (values.json) {
      printJson({
        ...found,
        start: new Date(found.startMs).toISOString(),
        signal: answer.signal,
        durationS: job.durationS,
        energyKWh: job.energyKWh,
        ...kg,
        slots: answer.slots,
      })
      return 0
    }
    const lines = [
      ...(job.what ? [job.what] : []),
      ...describe(found, answer.signal, job, nowMs, deadlineMs),
      '',
      ...linesOf(forecastChart(answer.slots, nowMs, deadlineMs, found)),
    ]
    printOut(...lines)
    return 0
  } catch (error) {
    if (!(error instanceof ForecastError)) throw error
    printErr(...linesOf(`wattprint when: ${error.message}`))
    return 1
  }
}

/** The emissions of the job in the window and had it started now, when its energy is known. */
function savings(found: WindowChoice, energyKWh: number | null) {
  if (energyKWh === null || found.nowGPerKWh === null) return {}
  const emissionsKg = (energyKWh * found.meanGPerKWh) / 1000
  const nowEmissionsKg = (energyKWh * found.nowGPerKWh) / 1000
  return { emissionsKg, nowEmissionsKg, savedKg: nowEmissionsKg - emissionsKg }
}

const MARGINAL =
  'a marginal signal (WattTime MOER): the emissions of the next kWh, not the grid mix of the CSV rows'

/** The answer in words. */
function describe(
  found: WindowChoice,
  signal: ForecastSignal,
  job: { durationS: number; energyKWh: number | null },
  nowMs: number,
  deadlineMs: number,
): string[] {
  const waitS = (found.startMs - nowMs) / 1000
  const lines = [
    `Best start: ${localTimeOf(found.startMs)} local time (${formatStart(found.startMs, 'iso')}), ` +
      `${waitS < 60 ? 'now' : `in ${formatDuration(waitS)}`}; done by ${localTimeOf(found.endMs)}, deadline ${localTimeOf(deadlineMs)}`,
    `  ${formatDuration(job.durationS)} at ${found.meanGPerKWh.toFixed(0)} g CO2e/kWh on average` +
      (found.nowGPerKWh === null
        ? ' (the forecast says nothing about starting now)'
        : `; started now: ${found.nowGPerKWh.toFixed(0)} g/kWh; ${found.savingPercent.toFixed(1)} % less`),
  ]
  const kg = savings(found, job.energyKWh)
  if (kg.savedKg !== undefined && job.energyKWh !== null)
    lines.push(
      `  for ${formatEnergy(job.energyKWh)}: ${formatMass(kg.emissionsKg)} CO2e instead of ${formatMass(kg.nowEmissionsKg)}, ${formatMass(kg.savedKg)} less`,
    )
  if (!found.fitsDeadline) lines.push('  the job is longer than the time to the deadline: start it now')
  if (found.coverage < 0.999)
    lines.push(
      `  the forecast covers ${(found.coverage * 100).toFixed(0)} % of this window (it has gaps or ends early)`,
    )
  lines.push(`  source: ${found.source}${signal === 'marginal' ? `, ${MARGINAL}` : ''}`)
  return lines
}

/** `--region a,b,c`: every place searched in time, ranked. */
async function compareRegions(
  values: FlagValues,
  job: { durationS: number; energyKWh: number | null },
  location: ForecastLocation,
  regions: string[],
  deadlineMs: number,
): Promise<number> {
  const result = await bestWindow({ durationS: job.durationS, deadline: deadlineMs, location, regions })
  const format = textOf(values, 'format')?.trim().toLowerCase()
  if (format) {
    printOut(`${result.region} ${formatStart(result.startMs, format as (typeof FORMATS)[number])}`)
    return 0
  }
  if (values.json) {
    const ranked = result.ranked.map((r) => ({
      ...r,
      start: new Date(r.startMs).toISOString(),
      ...savings(r, job.energyKWh),
    }))
    printJson({ best: ranked[0], ranked, failed: result.failed })
    return 0
  }
  const header = [
    '#',
    'region',
    'start',
    'g/kWh',
    'now',
    'saving',
    ...(job.energyKWh !== null ? ['emissions'] : []),
    'source',
  ]
  const rows = result.ranked.map((r, i) => [
    String(i + 1),
    r.region,
    localTimeOf(r.startMs),
    r.meanGPerKWh.toFixed(0),
    r.nowGPerKWh === null ? '-' : r.nowGPerKWh.toFixed(0),
    `${r.savingPercent.toFixed(1)} %`,
    ...(job.energyKWh !== null ? [formatMass((job.energyKWh * r.meanGPerKWh) / 1000)] : []),
    `${r.source}${r.signal === 'marginal' ? ' (marginal)' : ''}`,
  ])
  const lines = [
    `${formatDuration(job.durationS)} job, done by ${localTimeOf(deadlineMs)}; best first (local times):`,
    '',
    ...tableLines([header, ...rows]),
  ]
  for (const f of result.failed) lines.push(`no forecast for ${f.region}: ${f.message}`)
  if (new Set(result.ranked.map((r) => r.signal)).size > 1)
    lines.push('note: the ranking mixes average and marginal signals, which measure different things')
  printOut(...lines)
  return 0
}
