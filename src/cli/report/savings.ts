import { formatMass } from '../../output/quantities.js'
import type { RunRow } from './model.js'

/** What waiting for cleaner hours saved, by the forecasts the runs were scheduled with. */
export interface WaitingSavings {
  /** Runs with a counterfactual (run --within). */
  readonly runs: number
  /** kg CO2e by the forecast, as the runs ran. */
  readonly forecastKg: number
  /** kg CO2e by the same forecasts, had each started at once. */
  readonly counterfactualKg: number
  readonly savedKg: number
  /** How many of them followed a marginal signal (WattTime). */
  readonly marginalRuns: number
}

/**
 * The saving of scheduled runs: each run's counterfactual less its energy at the forecast's intensity
 * as it ran, both from the one forecast it followed (never against its measured emissions, which may
 * rest on another source). Null when no run was scheduled.
 */
export function waitingSavings(runs: readonly RunRow[]): WaitingSavings | null {
  const scheduled = runs.filter((r) => r.counterfactualKg !== null && r.forecastGPerKWh !== null)
  if (scheduled.length === 0) return null
  const forecastKg = scheduled.reduce((s, r) => s + (r.energyKWh * (r.forecastGPerKWh ?? 0)) / 1000, 0)
  const counterfactualKg = scheduled.reduce((s, r) => s + (r.counterfactualKg ?? 0), 0)
  return {
    runs: scheduled.length,
    forecastKg,
    counterfactualKg,
    savedKg: counterfactualKg - forecastKg,
    marginalRuns: scheduled.filter((r) => r.forecastSource.includes('marginal')).length,
  }
}

/** The report's line about waiting, or null. */
export function waitingLine(savings: WaitingSavings | null): string | null {
  if (!savings) return null
  const marginal =
    savings.marginalRuns > 0 ? `; ${savings.marginalRuns} of them by a marginal signal (WattTime)` : ''
  return (
    `waiting for cleaner hours (run --within): ${savings.runs} run(s), ${formatMass(savings.forecastKg)} CO2e by ` +
    `the forecast instead of ${formatMass(savings.counterfactualKg)} had they started at once: ` +
    `${formatMass(savings.savedKg)} saved${marginal}`
  )
}
