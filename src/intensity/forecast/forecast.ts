import { describeError, type ForecastErrorCode, WattprintError } from '../../core/errors.js'
import { HttpFailure } from '../http.js'
import type { Forecast, ForecastProvider } from './provider.js'
import { chooseForecastProvider, type ForecastConfig, noForecastMessage } from './select.js'

/**
 * Why no forecast came: none is set up for the place (`NO_FORECAST`), or the service failed
 * (`FORECAST_FAILED`). A WattprintError, so that `instanceof WattprintError` catches it with the rest.
 */
export class ForecastError extends WattprintError {
  /** The name stack traces and util.inspect() print: `ForecastError`. */
  override readonly name: string = 'ForecastError'
  declare readonly code: ForecastErrorCode

  constructor(code: ForecastErrorCode, message: string) {
    super(code, message)
  }
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
