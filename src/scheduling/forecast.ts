import { resolveForecastConfig } from '../config/config.js'
import type { ForecastOptions } from '../config/options.js'
import { askProvider, providerFor } from '../intensity/forecast/forecast.js'
import type { ForecastSlot } from '../intensity/forecast/provider.js'
import type { ForecastConfig } from '../intensity/forecast/select.js'
import type { TrackerSignal } from '../model/signal.js'

/** The options that say where a forecast is for and how to reach the service that makes it (ForecastOptions). */
export type ForecastLocation = ForecastOptions

/** The options of a forecast location checked and completed, `WATTPRINT_*` variables included. */
export function forecastConfig(
  location: ForecastLocation = {},
  env: Readonly<Record<string, string | undefined>> = process.env,
): ForecastConfig {
  return resolveForecastConfig(location, env)
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
