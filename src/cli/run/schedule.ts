import { join } from 'node:path'
import type { ResolvedConfig } from '../../config/config.js'
import { describeError } from '../../core/errors.js'
import { drawStatus, eraseStatus, printErr } from '../../core/terminal.js'
import { askProvider, providerFor } from '../../intensity/forecast/forecast.js'
import type { ForecastProvider, ForecastSignal, ForecastSlot } from '../../intensity/forecast/provider.js'
import type { ForecastConfig } from '../../intensity/forecast/select.js'
import { formatDuration } from '../../output/quantities.js'
import { mergeForecasts } from '../../scheduling/counterfactual.js'
import { firstAtOrBelow, searchWindow } from '../../scheduling/window.js'
import { type Flags, type FlagValues, textOf } from '../flags.js'
import { DEADLINE_FLAGS, deadlineFrom, pastRuns } from '../schedule-flags.js'
import { parseNumber, parseQuantity, UsageError } from '../units.js'
import { clockOf } from '../when-chart.js'

/** The flags of `run` that wait for, or pause outside, the cleanest hours. */
export const SCHEDULE_FLAGS = {
  ...DEADLINE_FLAGS,
  within: {
    ...DEADLINE_FLAGS.within,
    help: 'wait for the cleanest hours of the forecast, done within this long from now',
  },
  by: { ...DEADLINE_FLAGS.by, help: 'as --within, done by then: 2026-12-02T06:00 or 06:00 (local time)' },
  duration: {
    type: 'string',
    value: '2h',
    help: "the command's expected duration, for --within (default: the mean of the project's past runs in the CSV)",
    example: '2h',
  },
  'max-intensity': {
    type: 'string',
    value: 'g/kWh',
    help: 'with --within: start as soon as the forecast is at or below this (or at the last moment)',
    example: '200',
  },
  'pause-above': {
    type: 'string',
    value: 'g/kWh',
    help: 'with --within: pause the command (SIGSTOP to its process group) while the forecast is above this; never past the deadline',
    example: '300',
  },
  'count-paused': {
    type: 'boolean',
    help: 'with --pause-above: the time paused counts against --max-duration too (by default only the time the command ran does)',
  },
} as const satisfies Flags

/** What the schedule flags asked for. */
export interface ScheduleRequest {
  readonly requestedMs: number
  readonly deadlineMs: number
  readonly durationMs: number
  readonly maxIntensity: number | null
  readonly pauseAbove: number | null
  /** Whether the time paused counts against the duration budget (--count-paused). */
  readonly countPaused: boolean
}

const G_PER_KWH = /\s*g(?:\s*co2e?)?\s*\/\s*kwh\s*$/i
const intensity = (flag: string, text: string) =>
  parseNumber(flag, text, { example: '200', range: { min: 0, max: 5000 }, suffix: G_PER_KWH })

/** The schedule the flags ask for, or null for a run that starts at once. */
export function scheduleFrom(values: FlagValues, config: ResolvedConfig): ScheduleRequest | null {
  const requestedMs = Date.now()
  const deadlineMs = deadlineFrom(values, requestedMs)
  const max = textOf(values, 'max-intensity')
  const pause = textOf(values, 'pause-above')
  const duration = textOf(values, 'duration')
  const countPaused = values['count-paused'] === true
  if (countPaused && pause === undefined)
    throw new UsageError('--count-paused needs --pause-above: without it, nothing is paused.')
  if (deadlineMs === null) {
    const alone = [max && '--max-intensity', pause && '--pause-above', duration && '--duration'].filter(
      Boolean,
    )
    if (alone.length > 0)
      throw new UsageError(
        `${alone.join(', ')} need(s) a deadline: add --within or --by (for example --within 12h).`,
      )
    return null
  }
  let durationMs = 0
  if (duration !== undefined)
    durationMs = parseQuantity('duration', '--duration', duration, { example: '2h' }) * 1000
  else {
    try {
      durationMs =
        pastRuns(join(config.outputDir, config.outputFile), config.projectName).meanDurationS * 1000
    } catch {
      // No past runs: the cleanest moment, rather than the cleanest window.
    }
  }
  return {
    requestedMs,
    deadlineMs,
    durationMs,
    maxIntensity: max === undefined ? null : intensity('--max-intensity', max),
    pauseAbove: pause === undefined ? null : intensity('--pause-above', pause),
    countPaused,
  }
}

/** The forecast a scheduled run follows, refreshed on demand (the hours already past are kept). */
export class ForecastFeed {
  slots: ForecastSlot[] = []
  signal: ForecastSignal = 'average'
  source = ''
  constructor(
    private readonly provider: ForecastProvider,
    private readonly hours: number,
  ) {}

  /** Asks again; false (the forecast kept as it was) when the provider fails. */
  async refresh(): Promise<boolean> {
    try {
      const answer = await askProvider(this.provider, this.hours)
      this.slots = mergeForecasts(this.slots, [...answer.slots])
      this.signal = answer.signal
      this.source = answer.source
      return true
    } catch {
      return false
    }
  }

  /** Opens the feed: the first forecast, or the reason there is none (the run then starts at once). */
  static async open(config: ForecastConfig, request: ScheduleRequest): Promise<ForecastFeed | string> {
    let provider: ForecastProvider
    try {
      provider = providerFor(config)
    } catch (error) {
      return describeError(error)
    }
    const feed = new ForecastFeed(provider, Math.max(1, (request.deadlineMs - Date.now()) / 3_600_000))
    try {
      const answer = await askProvider(provider, feed.hours)
      feed.slots = [...answer.slots]
      feed.signal = answer.signal
      feed.source = answer.source
      return feed
    } catch (error) {
      return describeError(error)
    }
  }
}

/** When to start, by the forecast, and at what intensity. */
export interface StartPlan {
  readonly startMs: number
  readonly expectedGPerKWh: number | null
  readonly nowGPerKWh: number | null
}

/** The start the request and the forecast give: the cleanest window, or the first moment under the cap. */
export function planStart(
  slots: readonly ForecastSlot[],
  request: Pick<ScheduleRequest, 'deadlineMs' | 'durationMs' | 'maxIntensity'>,
  nowMs: number,
): StartPlan {
  const latestMs = Math.max(nowMs, request.deadlineMs - request.durationMs)
  const query = { durationMs: request.durationMs, earliestMs: nowMs, deadlineMs: request.deadlineMs }
  const found = searchWindow(slots, query)
  if (request.maxIntensity !== null) {
    const startMs = firstAtOrBelow(slots, request.maxIntensity, nowMs, latestMs) ?? latestMs
    const at = searchWindow(slots, {
      ...query,
      earliestMs: startMs,
      deadlineMs: startMs + request.durationMs,
    })
    return { startMs, expectedGPerKWh: at?.nowGPerKWh ?? null, nowGPerKWh: found?.nowGPerKWh ?? null }
  }
  return {
    startMs: found?.startMs ?? nowMs,
    expectedGPerKWh: found?.meanGPerKWh ?? null,
    nowGPerKWh: found?.nowGPerKWh ?? null,
  }
}

const REFRESH_MS = 15 * 60_000

/** How often to ask for a new forecast while waiting (WATTPRINT_FORECAST_REFRESH_MS shortens it for tests). */
export function refreshMs(env: NodeJS.ProcessEnv = process.env): number {
  const given = Number(env.WATTPRINT_FORECAST_REFRESH_MS)
  return Number.isFinite(given) && given >= 100 ? given : REFRESH_MS
}

/** The countdown while waiting. */
function waitingLine(plan: StartPlan, deadlineMs: number, nowMs: number): string {
  const leftS = Math.max(0, (plan.startMs - nowMs) / 1000)
  const expected = plan.expectedGPerKWh === null ? '' : `, forecast ${plan.expectedGPerKWh.toFixed(0)} g/kWh`
  const now = plan.nowGPerKWh === null ? '' : ` (now ${plan.nowGPerKWh.toFixed(0)})`
  return (
    `wattprint: waiting ${formatDuration(leftS)} to start at ${clockOf(plan.startMs)}${expected}${now}; ` +
    `deadline ${clockOf(deadlineMs)}; Ctrl-C aborts`
  )
}

/**
 * Waits until the plan's start, asking for a new forecast every refreshMs() and planning again from it,
 * with a countdown on a terminal (a line per plan elsewhere). Resolves the plan it started on, or the
 * signal that aborted the wait (SIGINT, SIGTERM, SIGHUP, SIGQUIT): then nothing has run and nothing is written.
 */
export async function waitForStart(
  feed: ForecastFeed,
  request: ScheduleRequest,
  show: { readonly live: boolean; readonly quiet: boolean },
): Promise<{ plan: StartPlan } | { signal: NodeJS.Signals }> {
  let plan = planStart(feed.slots, request, Date.now())
  let shownStartMs = Number.NaN
  const say = () => {
    if (show.quiet) return
    const text = waitingLine(plan, request.deadlineMs, Date.now())
    if (show.live) drawStatus(text)
    else if (plan.startMs !== shownStartMs) printErr(text)
    shownStartMs = plan.startMs
  }
  let lastRefreshMs = Date.now()
  const every = refreshMs()
  const abort = new AbortController()
  let stoppedBy: NodeJS.Signals | null = null
  const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const).map((signal) => {
    const handler = () => {
      stoppedBy = signal
      abort.abort()
    }
    process.on(signal, handler)
    return () => process.off(signal, handler)
  })
  try {
    while (Date.now() < plan.startMs && stoppedBy === null) {
      say()
      const untilStart = plan.startMs - Date.now()
      const untilRefresh = lastRefreshMs + every - Date.now()
      await sleep(
        Math.max(1, Math.min(untilStart, untilRefresh, show.live ? 1000 : untilStart)),
        abort.signal,
      )
      if (stoppedBy === null && Date.now() - lastRefreshMs >= every) {
        lastRefreshMs = Date.now()
        if (await feed.refresh()) plan = planStart(feed.slots, request, Date.now())
      }
    }
  } finally {
    for (const off of handlers) off()
    if (show.live && !show.quiet) eraseStatus()
  }
  const signal: NodeJS.Signals | null = stoppedBy
  return signal === null ? { plan } : { signal }
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms)
    signal.addEventListener('abort', () => {
      clearTimeout(timer)
      resolve()
    })
  })
