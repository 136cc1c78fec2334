import type { ForecastSlot } from '../intensity/forecast/provider.js'
import { IntensityTimeline } from './timeline.js'

/**
 * A later forecast laid over an earlier one: the earlier one's slots before the later one begins (the
 * hours already past, which a provider stops sending) are kept, so a run's whole span stays covered.
 */
export function mergeForecasts(
  older: readonly ForecastSlot[],
  newer: readonly ForecastSlot[],
): ForecastSlot[] {
  const from = newer[0]?.startMs ?? Number.POSITIVE_INFINITY
  return [...older.filter((s) => s.endMs <= from), ...newer]
}

/**
 * What a scheduled run would have emitted had it started at once, from its measured energy profile and
 * one forecast. Each stretch of the run adds its energy at its wall-clock time; the counterfactual moves
 * the stretches the command was running (paused time left out, its share of the energy with it) to the
 * moment the run was asked for, back to back, and prices them at the forecast there. The run as it ran
 * is priced at the same forecast, so the two differ only by when (and whether paused) the energy was drawn.
 */
export class CounterfactualLedger {
  #timeline: IntensityTimeline
  #activeMs = 0
  #kWh = 0
  /** The energy drawn while the command ran, not paused. */
  #runningKWh = 0
  #actualKWh = 0
  #actualWeighted = 0
  #shiftedKWh = 0
  #shiftedWeighted = 0

  constructor(
    slots: readonly ForecastSlot[],
    /** When the run was asked for: where the counterfactual starts. */
    private readonly requestedMs: number,
  ) {
    this.#timeline = new IntensityTimeline(slots)
  }

  /** Replaces the forecast (a refresh merged with the earlier one); later stretches are priced with it. */
  setForecast(slots: readonly ForecastSlot[]): void {
    this.#timeline = new IntensityTimeline(slots)
  }

  /** A stretch of the run: `kWh` drawn from `fromMs` to `toMs`, of which `pausedMs` with the command paused. */
  add(fromMs: number, toMs: number, kWh: number, pausedMs = 0): void {
    const lengthMs = toMs - fromMs
    if (!(lengthMs > 0) || !(kWh >= 0)) return
    this.#kWh += kWh
    const actual = this.#timeline.meanOver(fromMs, toMs).meanGPerKWh
    if (actual !== null) {
      this.#actualKWh += kWh
      this.#actualWeighted += kWh * actual
    }
    const activeMs = Math.max(0, lengthMs - Math.min(lengthMs, pausedMs))
    if (activeMs <= 0) return
    const activeKWh = (kWh * activeMs) / lengthMs
    this.#runningKWh += activeKWh
    const at = this.requestedMs + this.#activeMs
    this.#activeMs += activeMs
    const shifted = this.#timeline.meanOver(at, at + activeMs).meanGPerKWh
    if (shifted !== null) {
      this.#shiftedKWh += activeKWh
      this.#shiftedWeighted += activeKWh * shifted
    }
  }

  /** The forecast's energy-weighted intensity over the run as it ran; null when it covered none of it. */
  get forecastIntensityGPerKWh(): number | null {
    return this.#actualKWh > 0 ? this.#actualWeighted / this.#actualKWh : null
  }

  /**
   * kg CO2e had the run started at once, for a run that drew `energyKWh` in all: the share of it drawn
   * while the command ran, at the forecast's mean where it would have run. Null before any energy, or
   * when the forecast does not cover that time.
   */
  counterfactualKg(energyKWh: number): number | null {
    if (!(this.#kWh > 0) || !(this.#shiftedKWh > 0)) return null
    const meanGPerKWh = this.#shiftedWeighted / this.#shiftedKWh
    return (energyKWh * (this.#runningKWh / this.#kWh) * meanGPerKWh) / 1000
  }
}
