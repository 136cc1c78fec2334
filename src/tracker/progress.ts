import { difference, emptyTotals, type LedgerTotals, scopedTotals } from '../accounting/ledger.js'
import { invalidArgument } from '../core/arguments.js'
import type { TrackerWarning } from '../core/warnings.js'
import type { Prediction } from '../model/events.js'
import { formatEnergy, formatMass } from '../output/quantities.js'
import { progressProblem } from './arguments.js'
import { BUDGET_WORDS, type BudgetWatch } from './budget-watch.js'
import type { RunParts } from './run-record.js'

/** What the forecast needs of its tracker. */
export interface ProgressHost {
  readonly parts: RunParts
  /** Where the tracker is in its life; forecasts are made only while it is `running`. */
  state(): string
  readNow(): void
  warn(warning: TrackerWarning): void
  /** A forecast was made: the tracker logs it and emits its `prediction` event. */
  predicted(prediction: Prediction): void
}

/**
 * Forecasts a whole run from its progress: what was measured so far, plus the rest of the work at the
 * rate measured since progress began (the last report of `done: 0`, else the run's start).
 */
export class ProgressForecast {
  /** Totals when progress began (the last report with done 0), else the run's start. */
  #baseline: LedgerTotals | undefined

  constructor(
    private readonly host: ProgressHost,
    private readonly budget: BudgetWatch,
  ) {}

  /** tracker.predict(): the forecast, checked against the budget (crossing it with stopOnBudget). */
  predict(
    progress: { readonly done: number; readonly total: number },
    options?: { readonly stopOnBudget?: boolean },
  ): Prediction | null {
    const host = this.host
    const problem = progressProblem(progress)
    if (problem) {
      host.warn(invalidArgument(`${problem}; no prediction made`))
      return null
    }
    const { done, total } = progress
    const ledger = host.parts.ledger
    if (!ledger || host.state() !== 'running') return null
    host.readNow()
    const now = ledger.totals()
    const prediction = this.#forecast(now, done, total)
    if (!prediction) return null
    const result: Prediction = { ...prediction, exceeds: this.budget.exceededBy(prediction) }
    host.predicted(result)
    if (options?.stopOnBudget === true) this.budget.crossByForecast(result, now)
    return result
  }

  /** The whole run, predicted from the totals `now` after `done` of `total`; null as progress begins. */
  #forecast(now: LedgerTotals, done: number, total: number): Prediction | null {
    if (done === 0) {
      this.#baseline = now
      return null
    }
    // The figures the budget holds: the wall's, or CPU + GPU + RAM (emissionsScope).
    const scope = this.budget.scope
    const so = scopedTotals(now, scope)
    const since = scopedTotals(difference(now, this.#baseline ?? emptyTotals()), scope)
    const rest = Math.max(0, total - done) / done
    return {
      done,
      total,
      durationS: so.durationS + since.durationS * rest,
      energyKWh: so.energyKWh + since.energyKWh * rest,
      emissionsKg: so.emissionsKg + since.emissionsKg * rest,
      exceeds: null,
    }
  }
}

/** The log line of a prediction. */
export function describePrediction(prediction: Prediction): string {
  const { done, total, exceeds } = prediction
  return (
    `predicted after ${done}/${total}: ${prediction.durationS.toFixed(1)} s, ${formatEnergy(prediction.energyKWh)}, ` +
    `${formatMass(prediction.emissionsKg)} CO2e${exceeds ? `: over the ${BUDGET_WORDS[exceeds]} budget` : ''}`
  )
}
