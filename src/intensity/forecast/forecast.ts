import { resolveConfig, type TrackerOptions } from '../../config/config.js'
import { describeError } from '../../core/errors.js'
import type { TrackerSignal } from '../../tracker/types.js'
import { HttpFailure } from '../http.js'
import type { Forecast, ForecastProvider, ForecastSlot } from './provider.js'
import {
  chooseForecastProvider,
  type FORECAST_OPTIONS,
  type ForecastConfig,
  noForecastMessage,
} from './select.js'

/** The options that say where a forecast is for and how to reach the service that makes it. */
export type ForecastLocation = Pick<TrackerOptions, (typeof FORECAST_OPTIONS)[number]>

/** Why no forecast came: none is set up for the place (`NO_FORECAST`), or the service failed. */
export class ForecastError extends Error {
  override readonly name = 'ForecastError'
  constructor(
    readonly code: 'NO_FORECAST' | 'FORECAST_FAILED',
    message: string,
  ) {
    super(message)
  }
}

/** The options of a forecast location checked and completed, `WATTPRINT_*` variables included. */
export function forecastConfig(
  location: ForecastLocation = {},
  env: Readonly<Record<string, string | undefined>> = process.env,
): ForecastConfig {
  return resolveConfig({ ...location, saveToFile: false }, env)
}

/** Asks a provider, turning its failure into a ForecastError that says what went wrong and what to check. */
export async function askProvider(
  provider: ForecastProvider,
  hours: number,
  signal?: AbortSignal,
): Promise<Forecast> {
  try {
    return await provider.fetch(hours, signal)
  } catch (error) {
    const advice = error instanceof HttpFailure ? provider.advice?.(error) : undefined
    throw new ForecastError(
      'FORECAST_FAILED',
      `${provider.name} gave no forecast: ${describeError(error)}${advice ? ` (${advice})` : ''}.`,
    )
  }
}

/** The configured provider for a place, or a ForecastError that lists the providers that would cover it. */
export function providerFor(config: ForecastConfig, now?: () => number): ForecastProvider {
  const chosen = chooseForecastProvider(config, {}, now)
  if ('why' in chosen) throw new ForecastError('NO_FORECAST', noForecastMessage(config, chosen.why))
  return chosen
}

/**
 * The carbon-intensity forecast of a place for the next `hours` (default 24; providers give up to 48 or
 * 72): slots `{ startMs, endMs, gPerKWh, source }` from now on. The place and the service come from the
 * options and the `WATTPRINT_*` variables, as for a tracker. Rejects with a ForecastError when no
 * service covers the place (the message says which would, and how to enable them) or the service fails.
 */
export async function forecast(
  location: ForecastLocation = {},
  options: { readonly hours?: number; readonly signal?: TrackerSignal } = {},
): Promise<ForecastSlot[]> {
  const hours = options.hours ?? 24
  const answer = await askProvider(providerFor(forecastConfig(location)), hours, options.signal)
  const fromMs = Date.now()
  const untilMs = fromMs + hours * 3_600_000
  return answer.slots.filter((slot) => slot.endMs > fromMs && slot.startMs < untilMs)
}
