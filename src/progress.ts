import type { Prediction } from './events.js'
import { formatEnergy, formatMass } from './format.js'
import { difference, emptyTotals, type LedgerTotals } from './ledger.js'

/**
 * Forecasts a whole run from its progress: what was measured so far, plus the rest of the work at the
 * rate measured since progress began (the last report of `done: 0`, else the run's start).
 */
export class ProgressForecast {
  /** Totals when progress began (the last report with done 0), else the run's start. */
  #baseline: LedgerTotals | undefined

  /** The whole run, predicted from the totals `now` after `done` of `total`; null as progress begins. */
  predict(now: LedgerTotals, done: number, total: number): Prediction | null {
    if (done === 0) {
      this.#baseline = now
      return null
    }
    const since = difference(now, this.#baseline ?? emptyTotals())
    const rest = Math.max(0, total - done) / done
    return {
      done,
      total,
      durationS: now.durationS + since.durationS * rest,
      energyKWh: now.energyKWh + since.energyKWh * rest,
      emissionsKg: now.emissionsKg + since.emissionsKg * rest,
      exceeds: null,
    }
  }
}

/** The log line of a prediction. */
export function describePrediction(prediction: Prediction): string {
  const { done, total, exceeds } = prediction
  return (
    `predicted after ${done}/${total}: ${prediction.durationS.toFixed(1)} s, ${formatEnergy(prediction.energyKWh)}, ` +
    `${formatMass(prediction.emissionsKg)} CO2e${exceeds ? `: over the ${exceeds} budget` : ''}`
  )
}
