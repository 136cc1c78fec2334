import { type LedgerTotals, scopedTotals } from '../accounting/ledger.js'
import type { Budget } from '../config/options.js'
import type { BudgetEvent, Prediction } from '../model/events.js'
import type { EmissionsScope } from '../model/record.js'
import { formatEnergy, formatMass } from '../output/quantities.js'

/** The budget's limits, in the order they are checked. */
const BUDGET_LIMITS = ['energyKWh', 'emissionsKg', 'durationS'] as const

type BudgetLimit = (typeof BUDGET_LIMITS)[number]

/** A budget limit in words, for messages people read (`budget.durationS` is the option's name for code). */
export const BUDGET_WORDS: Record<BudgetLimit, string> = {
  energyKWh: 'energy',
  emissionsKg: 'emissions',
  durationS: 'duration',
}

/** How a budget limit's figure reads in messages. */
const showLimit: Record<BudgetLimit, (value: number) => string> = {
  energyKWh: formatEnergy,
  emissionsKg: formatMass,
  durationS: (s) => `${s.toFixed(1)} s`,
}

/**
 * Watches a run's budget, measured and forecast. Crossing it happens once, by one path: `onCross` (the
 * tracker's event, stderr line and note), then `signal` aborted with the message.
 */
export class BudgetWatch {
  #crossed: BudgetEvent | null = null
  readonly #abort = new AbortController()

  constructor(
    private readonly budget: Budget | null,
    private readonly onCross: (event: BudgetEvent) => void,
    /** Which energy and emissions the limits hold: the wall's (default) or CPU + GPU + RAM. */
    readonly scope: EmissionsScope = 'wall',
    /**
     * Seconds the run's command was held paused from outside the tracker (`run --pause-above`): left out of
     * its duration, as time wattprint stopped the command is not the command's to spend.
     */
    private readonly heldPausedS: () => number = () => 0,
  ) {}

  /** Aborted, with the budget's message as its reason, once the budget is crossed. */
  get signal(): AbortSignal {
    return this.#abort.signal
  }

  /** Whether the budget was crossed (the row's status is then `budget-exceeded`). */
  get crossed(): boolean {
    return this.#crossed !== null
  }

  /** Whether measured totals still need checking: there is a budget, not crossed yet. */
  get watching(): boolean {
    return this.budget !== null && this.#crossed === null
  }

  /** The first budget limit the measured totals cross, if any, is the budget crossed. */
  check(ledgerTotals: LedgerTotals): void {
    const budget = this.budget
    if (!budget) return
    const totals = scopedTotals(ledgerTotals, this.scope)
    for (const limit of BUDGET_LIMITS) {
      const value = budget[limit]
      if (value === undefined) continue
      const pausedS = limit === 'durationS' ? this.#pausedS() : 0
      const actual = totals[limit] - pausedS
      if (actual < value) continue
      const show = showLimit[limit]
      const unpaused = pausedS > 0 ? ` (not counting ${show(pausedS)} held paused)` : ''
      const message = `Budget crossed: the ${BUDGET_WORDS[limit]} ${show(actual)}${unpaused} reached the limit of ${show(value)}.`
      this.#cross({ limit, budget: value, actual, predicted: null, message })
      return
    }
  }

  /** The first budget limit a forecast of the whole run goes over, if any. */
  exceededBy(forecast: Readonly<Record<BudgetLimit, number>>): BudgetLimit | null {
    const budget = this.budget
    return (
      BUDGET_LIMITS.find((limit) => forecast[limit] > (budget?.[limit] ?? Number.POSITIVE_INFINITY)) ?? null
    )
  }

  /** A forecast over a limit counts as the budget crossed (predict() with stopOnBudget). */
  crossByForecast(prediction: Prediction, ledgerNow: LedgerTotals): void {
    const now = scopedTotals(ledgerNow, this.scope)
    const exceeds = prediction.exceeds
    const limit = exceeds ? this.budget?.[exceeds] : undefined
    if (!exceeds || limit === undefined) return
    const show = showLimit[exceeds]
    this.#cross({
      limit: exceeds,
      budget: limit,
      actual: now[exceeds],
      predicted: prediction[exceeds],
      message:
        `Budget crossed by the forecast: the ${BUDGET_WORDS[exceeds]} predicted at ${show(prediction[exceeds])} ` +
        `after ${prediction.done} of ${prediction.total}, over the limit of ${show(limit)} ` +
        `(${show(now[exceeds])} so far).`,
    })
  }

  /** The held-paused seconds, or none when they cannot be read. */
  #pausedS(): number {
    try {
      const s = this.heldPausedS()
      return Number.isFinite(s) && s > 0 ? s : 0
    } catch {
      return 0
    }
  }

  /**
   * The one path of a budget crossed, measured or forecast: onCross (a `budget` event, the stderr line, a
   * note in the record), then `signal` aborted with the message.
   */
  #cross(event: BudgetEvent): void {
    if (this.#crossed) return
    this.#crossed = event
    this.onCross(event)
    this.#abort.abort(new Error(event.message))
  }
}
