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
 * the stretches the command was running to the moment the run was asked for, back to back, and prices
 * them at the forecast there. The energy drawn while the command was paused (the machine's draw, which
 * pausing did not cause: it runs either way) is priced where it was drawn, on both sides. The run as it
 * ran is priced at the same forecast, so the two differ only by when the command's work was done: pausing
 * is never counted as a loss for the energy it did not add.
 */
export class CounterfactualLedger {
  #timeline: IntensityTimeline
  #activeMs = 0
  #kWh = 0
  /** The energy drawn while the command ran, not paused. */
  #runningKWh = 0
  /** The energy drawn while it was paused, and that of it the forecast priced (× g/kWh). */
  #pausedKWh = 0
  #pausedPricedKWh = 0
  #pausedWeighted = 0
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
    const activeKWh = (kWh * activeMs) / lengthMs
    const pausedKWh = kWh - activeKWh
    if (pausedKWh > 0) {
      this.#pausedKWh += pausedKWh
      if (actual !== null) {
        this.#pausedPricedKWh += pausedKWh
        this.#pausedWeighted += pausedKWh * actual
      }
    }
    if (activeMs <= 0) return
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
   * while the command ran at the forecast's mean where it would have run, and the share drawn while it was
   * paused at the forecast where it was drawn (as on the actual side). Null before any energy, or when the
   * forecast does not cover the time the command would have run.
   */
  counterfactualKg(energyKWh: number): number | null {
    if (!(this.#kWh > 0)) return null
    let gramsPerRunKWh = 0
    if (this.#runningKWh > 0) {
      if (!(this.#shiftedKWh > 0)) return null
      gramsPerRunKWh += this.#runningKWh * (this.#shiftedWeighted / this.#shiftedKWh)
    }
    if (this.#pausedKWh > 0) {
      // Paused stretches the forecast did not cover are priced as the actual side prices them: its mean.
      const pausedMean =
        this.#pausedPricedKWh > 0
          ? this.#pausedWeighted / this.#pausedPricedKWh
          : this.forecastIntensityGPerKWh
      if (pausedMean === null) return null
      gramsPerRunKWh += this.#pausedKWh * pausedMean
    }
    return (energyKWh * gramsPerRunKWh) / this.#kWh / 1000
  }
}
