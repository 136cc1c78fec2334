import type { TrackerOptions } from '../config/options.js'
import { isDateOnly, isoDateProblem } from '../core/iso-date.js'
import { formatDuration, formatEnergy } from '../output/quantities.js'
import { type Flags, type FlagValues, textOf } from './flags.js'
import type { RunRow } from './report/model.js'
import { foreignFileMessage, readEmissionsCsv } from './report/read.js'
import { parseQuantity, UsageError } from './units.js'

/** `--uk-carbon-intensity`: the UK's live figures for `run`, its forecast for `when` and `run --within`. */
export const UK_FLAG = {
  'uk-carbon-intensity': {
    type: 'string',
    value: 'national|region|postcode',
    help: "Great Britain's Carbon Intensity API (no token): national, a region id 1-17 (13: London) or a postcode",
    example: 'national',
    options: ['ukCarbonIntensity'],
  },
} as const satisfies Flags

/** The deadline flags `when` and `run` share. */
export const DEADLINE_FLAGS = {
  within: {
    type: 'string',
    value: '24h',
    help: 'the job must be done within this long from now (up to 7d)',
    example: '24h',
  },
  by: {
    type: 'string',
    value: 'time',
    help: 'the job must be done by then: 2026-12-02T06:00 (local time unless it ends in Z or an offset) or 06:00 (the next one)',
    example: '06:00',
  },
} as const satisfies Flags

/** The tracker option `--uk-carbon-intensity` sets, if given. */
export function ukOptionFrom(values: FlagValues): Pick<TrackerOptions, 'ukCarbonIntensity'> {
  const uk = textOf(values, 'uk-carbon-intensity')
  return uk === undefined ? {} : { ukCarbonIntensity: uk }
}

const WEEK_S = 7 * 86_400

/**
 * `--by` as ms: an ISO 8601 date-time (local time without a zone; a date alone is its local midnight),
 * or `HH:MM` meaning its next occurrence. Throws a UsageError for anything else, naming a date or time
 * that does not exist (`2026-11-31`), or for a time already past.
 */
export function parseBy(text: string, nowMs: number): number {
  const clock = /^\s*(\d{1,2}):(\d{2})\s*$/.exec(text)
  let ms: number
  if (clock) {
    const at = new Date(nowMs)
    at.setHours(Number(clock[1]), Number(clock[2]), 0, 0)
    if (Number(clock[1]) > 23 || Number(clock[2]) > 59) ms = Number.NaN
    else ms = at.getTime() <= nowMs ? at.setDate(at.getDate() + 1) : at.getTime()
  } else if (/^\s*\d{4}-/.test(text)) {
    const problem = isoDateProblem(text)
    if (problem !== null) {
      throw new UsageError(
        `--by ${JSON.stringify(text)} is ${problem}: write it like 2026-12-02T06:00, 2026-12-02T06:00Z or 06:00.`,
      )
    }
    // A date alone is its local midnight, as the help says of any time without a zone.
    ms = Date.parse(isDateOnly(text) ? `${text.trim()}T00:00` : text.trim())
  } else ms = Number.NaN
  if (!Number.isFinite(ms)) {
    throw new UsageError(
      `--by ${JSON.stringify(text)} is not a time: write it like 2026-12-02T06:00, 2026-12-02T06:00Z or 06:00.`,
    )
  }
  if (ms <= nowMs) throw new UsageError(`--by ${JSON.stringify(text)} is already past: give a later time.`)
  return ms
}

/** The deadline that --within or --by sets (ms), or null when neither is given; both is a usage error. */
export function deadlineFrom(values: FlagValues, nowMs: number): number | null {
  const within = textOf(values, 'within')
  const by = textOf(values, 'by')
  if (within !== undefined && by !== undefined)
    throw new UsageError('give --within or --by, not both: for example --within 24h.')
  if (within !== undefined)
    return (
      nowMs + parseQuantity('duration', '--within', within, { range: { max: WEEK_S }, example: '24h' }) * 1000
    )
  return by === undefined ? null : parseBy(by, nowMs)
}

/** What past runs of a project say about the next one. */
export interface PastRuns {
  readonly runs: number
  readonly meanEnergyKWh: number
  readonly meanDurationS: number
  /** `3 run(s) of mnist in emissions.csv: 1.2 kWh, 2.0 h on average`. */
  readonly description: string
}

/**
 * The mean energy and duration of a project's finished runs in an emissions CSV (`project` undefined: the
 * file's only project). Throws a UsageError for a file that cannot be read, holds no such runs, or holds
 * several projects when none is named.
 */
export function pastRuns(file: string, project: string | undefined, flag = '--from'): PastRuns {
  let read: ReturnType<typeof readEmissionsCsv>
  try {
    read = readEmissionsCsv(file)
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`)
  }
  if (read.format === 'foreign') throw new UsageError(`${flag} ${foreignFileMessage(file)}`)
  const finished = read.runs.filter((r) => r.status === 'finished' || r.status === 'budget-exceeded')
  const projects = [...new Set(finished.map((r) => r.project))]
  if (project === undefined && projects.length > 1) {
    throw new UsageError(
      `${file} holds runs of ${projects.length} projects (${projects.slice(0, 5).join(', ')}): name one with --project.`,
    )
  }
  const name = project ?? projects[0] ?? ''
  const mine: RunRow[] = finished.filter((r) => r.project === name)
  if (mine.length === 0) {
    throw new UsageError(
      `${file} holds no finished run${project === undefined ? '' : ` of project ${JSON.stringify(project)}`}: ` +
        'give --energy (and --duration) instead.',
    )
  }
  const mean = (f: (r: RunRow) => number) => mine.reduce((s, r) => s + f(r), 0) / mine.length
  const meanEnergyKWh = mean((r) => r.energyKWh)
  const meanDurationS = mean((r) => r.durationS)
  return {
    runs: mine.length,
    meanEnergyKWh,
    meanDurationS,
    description: `${mine.length} run(s) of ${name || '(no project)'} in ${file}: ${formatEnergy(meanEnergyKWh)}, ${formatDuration(meanDurationS)} on average`,
  }
}
