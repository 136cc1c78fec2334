import { describeError } from '../../core/errors.js'
import { printErr } from '../../core/terminal.js'
import type { SampleEvent } from '../../model/events.js'
import type { EmissionsRecord, ScheduleFields } from '../../model/record.js'
import { formatMass } from '../../output/quantities.js'
import { CounterfactualLedger } from '../../scheduling/counterfactual.js'
import type { RunSchedule } from '../../tracker/run-record.js'
import { clockOf } from '../when-chart.js'
import { PauseController } from './pause.js'
import { ForecastFeed, refreshMs, type ScheduleRequest, type StartPlan, waitForStart } from './schedule.js'

/**
 * A run started by the forecast (`run --within`): it waits for the start, feeds the measured energy
 * profile to the counterfactual, pauses the command when asked, and puts its figures in every record of
 * the run. Nothing here can stop the command from running: without a forecast it starts at once.
 */
export class ScheduledRun {
  #ledger: CounterfactualLedger | null = null
  #pause: PauseController | null = null
  #plannedStartMs: number
  #lastSample: { atMs: number; kWh: number } | null = null

  private constructor(
    private readonly request: ScheduleRequest,
    private readonly feed: ForecastFeed | null,
    plan: StartPlan | null,
  ) {
    this.#plannedStartMs = plan?.startMs ?? request.requestedMs
  }

  /** Whether the command gets its own process group, so that it can be paused as a whole. */
  get pauses(): boolean {
    return this.feed !== null && this.request.pauseAbove !== null
  }

  /**
   * Gets the forecast and waits for the start. Resolves the run, or the signal that aborted the wait.
   * Without a forecast (none set up, the service failed) it warns once and the run starts at once.
   */
  static async prepare(
    config: Parameters<typeof ForecastFeed.open>[0],
    request: ScheduleRequest,
    show: { readonly live: boolean; readonly quiet: boolean },
  ): Promise<ScheduledRun | { signal: NodeJS.Signals }> {
    const feed = await ForecastFeed.open(config, request)
    if (typeof feed === 'string') {
      if (!show.quiet) printErr(`wattprint: ${feed}`, 'wattprint: starting now, without waiting.')
      return new ScheduledRun(request, null, null)
    }
    const waited = await waitForStart(feed, request, show)
    if ('signal' in waited) return waited
    return new ScheduledRun(request, feed, waited.plan)
  }

  /**
   * Begins the counterfactual; returns what the tracker reads of the run's schedule (give it to the tracker
   * with `scheduledBy`): its figures for every record, and the time the command was held paused. Call just
   * before start().
   */
  begin(): RunSchedule {
    if (this.feed) this.#ledger = new CounterfactualLedger(this.feed.slots, this.request.requestedMs)
    return {
      fields: (measurement) => this.fields(measurement.energyKWh),
      // The time wattprint holds the command paused is not the command's: left out of --max-duration,
      // unless --count-paused says it is.
      heldPausedS: () => (this.#pause && !this.request.countPaused ? this.#pause.pausedS : 0),
    }
  }

  /** Starts pausing the command's process group, when asked to. */
  watch(
    pid: number | undefined,
    onChange: (paused: boolean, why: string) => void,
    onOff: (why: string) => void = () => {},
  ): void {
    if (!this.pauses || !this.feed || pid === undefined || this.request.pauseAbove === null) return
    this.#pause = new PauseController(
      pid,
      this.feed,
      this.request.pauseAbove,
      this.request.deadlineMs,
      refreshMs(),
      (paused, why) => {
        if (this.feed) this.#ledger?.setForecast(this.feed.slots)
        onChange(paused, why)
      },
      onOff,
    )
    this.#pause.start()
  }

  /** Whether the command is paused now. */
  get paused(): boolean {
    return this.#pause?.paused ?? false
  }

  /** One sample of the run: its energy since the last one, at its wall-clock time. */
  onSample(sample: SampleEvent): void {
    const atMs = Date.parse(sample.timestamp)
    const last = this.#lastSample ?? { atMs: atMs - sample.intervalS * 1000, kWh: 0 }
    this.#lastSample = { atMs, kWh: sample.energyKWh }
    try {
      this.#ledger?.add(
        last.atMs,
        atMs,
        sample.energyKWh - last.kWh,
        this.#pause?.pausedBetween(last.atMs, atMs) ?? 0,
      )
    } catch (error) {
      printErr(`wattprint: the counterfactual could not be counted: ${describeError(error)}`)
      this.#ledger = null
    }
  }

  /** Lets the command run for good, for this reason (a signal passed on, a budget, its end). */
  release(why: string): void {
    this.#pause?.release(why)
  }

  /** Stops pausing, for good. */
  end(): void {
    this.release('the run ended')
  }

  /** The record's schedule fields for a run that drew `energyKWh`. */
  fields(energyKWh: number): ScheduleFields {
    return {
      plannedStart: new Date(this.#plannedStartMs).toISOString(),
      forecastIntensityGPerKWh: this.#ledger?.forecastIntensityGPerKWh ?? null,
      forecastSource: this.feed?.source || null,
      counterfactualEmissionsKg: this.#ledger?.counterfactualKg(energyKWh) ?? null,
      pausedS: this.#pause ? this.#pause.pausedS : this.pauses ? 0 : null,
    }
  }

  /** The summary's line about what waiting (and pausing) saved, by the forecast. */
  summary(record: EmissionsRecord): string | null {
    const cf = record.counterfactualEmissionsKg
    const g = record.forecastIntensityGPerKWh
    if (cf === null || g === null) return this.feed ? null : '  not scheduled: no forecast'
    const forecastKg = (record.energyKWh * g) / 1000
    const paused = record.pausedS ? `, paused ${record.pausedS.toFixed(0)} s` : ''
    const marginal = this.feed?.signal === 'marginal' ? ' (marginal signal)' : ''
    return (
      `  planned start ${clockOf(this.#plannedStartMs)}${paused}: by the forecast${marginal} ${formatMass(forecastKg)} ` +
      `instead of ${formatMass(cf)} had it started at once (${formatMass(cf - forecastKg)} saved)`
    )
  }
}
