import { describeError, WattprintError } from '../core/errors.js'
import { isoDateProblem } from '../core/iso-date.js'
import { askProvider, ForecastError, providerFor } from '../intensity/forecast/forecast.js'
import type { ForecastSignal } from '../intensity/forecast/provider.js'
import type { TrackerSignal } from '../model/signal.js'
import { type ForecastLocation, forecastConfig } from './forecast.js'
import { searchWindow, type WindowChoice } from './window.js'

/** What bestWindow() looks for. */
export interface BestWindowOptions {
  /** How long the job runs, in seconds. */
  readonly durationS: number
  /** The job must end within this many seconds from now; or give `deadline`. */
  readonly withinS?: number
  /** The job must end by then (a Date, ms since the epoch, or an ISO 8601 string). */
  readonly deadline?: Date | number | string
  /** Where it runs, and the forecast services' settings (tokens, URLs); default: the environment. */
  readonly location?: ForecastLocation
  /** Places to compare (`'aws:eu-north-1'`, a zone `'DE'`, or location options), each searched in time. */
  readonly regions?: readonly (string | ForecastLocation)[]
  /** Aborts the forecast requests: a tracker's `signal`, an AbortController's. */
  readonly signal?: TrackerSignal
}

/** A window in one place. */
export interface RegionWindow extends WindowChoice {
  /** The region as given (`aws:eu-north-1`), or `here` for `location`. */
  readonly region: string
  /** What the forecast's figures mean (`average`, `marginal` …): windows of different signals do not compare. */
  readonly signal: ForecastSignal
}

/** The best window, with every place's ranked when regions were compared. */
export interface BestWindow extends RegionWindow {
  /** Every place that answered, best first. */
  readonly ranked: readonly RegionWindow[]
  /** The places that gave no forecast, and why. */
  readonly failed: readonly {
    /** The region as given. */
    readonly region: string
    /** Why it gave no forecast, or none that reaches the deadline. */
    readonly message: string
  }[]
}

/** `'aws:eu-north-1'` → cloud options; `'DE'` → a zone; an object as it is. */
export function regionLocation(region: string | ForecastLocation): ForecastLocation {
  if (typeof region !== 'string') return region
  const [provider, name, ...rest] = region.split(':')
  if (name !== undefined && rest.length === 0 && provider)
    return { cloudProvider: provider, cloudRegion: name }
  return { zone: region }
}

/** A bestWindow() option it cannot search with: the option and what is wrong. */
const invalid = (option: string, message: string) => new WattprintError('INVALID_ARGUMENT', message, option)

/**
 * The job's deadline in ms from the options; throws a WattprintError (`INVALID_ARGUMENT`) naming what is
 * wrong.
 */
export function deadlineMsOf(
  options: Pick<BestWindowOptions, 'withinS' | 'deadline'>,
  nowMs: number,
): number {
  if (options.deadline !== undefined) {
    // A date that does not exist (2026-11-31) is a slip, never rolled over into the next month.
    const problem =
      typeof options.deadline === 'string' && /^\s*\d{4}-/.test(options.deadline)
        ? isoDateProblem(options.deadline)
        : null
    if (problem !== null)
      throw invalid('deadline', `deadline ${JSON.stringify(options.deadline)} is ${problem}`)
    const ms =
      options.deadline instanceof Date
        ? options.deadline.getTime()
        : typeof options.deadline === 'number'
          ? options.deadline
          : Date.parse(options.deadline)
    if (!Number.isFinite(ms)) throw invalid('deadline', `deadline ${String(options.deadline)} is not a time`)
    return ms
  }
  if (options.withinS === undefined || !(options.withinS > 0))
    throw invalid('withinS', 'bestWindow needs withinS (seconds, more than 0) or deadline')
  return nowMs + options.withinS * 1000
}

/**
 * The start, within the deadline, at which the job's mean forecast intensity is lowest, with that mean,
 * the mean had it started now and the saving in %. With `regions`, every place is searched in time and
 * the choices ranked by mean (a marginal signal is never ranked silently against average ones: each
 * choice carries its `signal`). Rejects with a ForecastError when no place gave a forecast, and with a
 * WattprintError (`INVALID_ARGUMENT`) for a duration or deadline it cannot search with.
 */
export async function bestWindow(options: BestWindowOptions): Promise<BestWindow> {
  if (!(options.durationS >= 0) || !Number.isFinite(options.durationS))
    throw invalid('durationS', `durationS must be a number of seconds, 0 or more (got ${options.durationS})`)
  const nowMs = Date.now()
  const deadlineMs = deadlineMsOf(options, nowMs)
  const hours = Math.max(1, (deadlineMs - nowMs) / 3_600_000)
  const places: [string, ForecastLocation][] = options.regions?.length
    ? options.regions.map((r) => [
        typeof r === 'string' ? r : describePlace(r),
        { ...withoutPlace(options.location ?? {}), ...regionLocation(r) },
      ])
    : [['here', options.location ?? {}]]
  const answers = await Promise.all(
    places.map(async ([region, location]) => {
      try {
        const forecast = await askProvider(providerFor(forecastConfig(location)), hours, options.signal)
        const found = searchWindow(forecast.slots, {
          durationMs: options.durationS * 1000,
          earliestMs: nowMs,
          deadlineMs,
        })
        if (!found) return { region, message: `the forecast does not reach the hours before the deadline` }
        return { ...found, region, signal: forecast.signal }
      } catch (error) {
        return { region, message: describeError(error) }
      }
    }),
  )
  const ranked = answers
    .filter((a): a is RegionWindow => 'startMs' in a)
    .sort((a, b) => a.meanGPerKWh - b.meanGPerKWh)
  const failed = answers.filter((a): a is { region: string; message: string } => !('startMs' in a))
  const [best] = ranked
  if (!best) {
    throw new ForecastError('NO_FORECAST', failed.map((f) => `${f.region}: ${f.message}`).join('\n'))
  }
  return { ...best, ranked, failed }
}

const describePlace = (location: ForecastLocation): string =>
  location.cloudProvider && location.cloudRegion
    ? `${location.cloudProvider}:${location.cloudRegion}`
    : (location.zone ?? location.country ?? 'here')

/** The settings of a location without its place, so that a region's place replaces it. */
function withoutPlace(location: ForecastLocation): ForecastLocation {
  const {
    country: _c,
    zone: _z,
    cloudProvider: _p,
    cloudRegion: _r,
    ukCarbonIntensity: _u,
    ...rest
  } = location
  return rest
}
