/** The codes of a ForecastError: no service covers the place, or the one asked gave no forecast. */
export type ForecastErrorCode = 'NO_FORECAST' | 'FORECAST_FAILED'

/**
 * What kind of failure a WattprintError reports:
 * - `INVALID_OPTION`: an option (of the tracker, a sink, an integration) that cannot be used, or an option
 *   given under both its name and its deprecated name with different values (OptionError);
 * - `INVALID_ENVIRONMENT`: a `WATTPRINT_*` variable that cannot be used;
 * - `UNKNOWN_OPTION`: an option name that is none (with the name meant);
 * - `INVALID_ARGUMENT`: an argument a function cannot run with (`measure(42)`, `track(42)`, a deadline
 *   of bestWindow() that is no time);
 * - `NO_FORECAST`, `FORECAST_FAILED`: no forecast (ForecastError).
 */
export type WattprintErrorCode =
  | 'INVALID_OPTION'
  | 'INVALID_ENVIRONMENT'
  | 'UNKNOWN_OPTION'
  | 'INVALID_ARGUMENT'
  | ForecastErrorCode

/**
 * Every error wattprint's API throws or rejects with is a WattprintError, with a `code`; a small family of
 * subclasses says more: OptionError (below: `code` `INVALID_OPTION`, with the problem and a good value)
 * and ForecastError (intensity/forecast/: `NO_FORECAST` or `FORECAST_FAILED`). The tracker throws only
 * from its constructor (bad options); its message names the option, shows the value and says how to fix
 * it. Errors the user's own code throws (the function given to measure() or track()) are passed on as
 * they are. Errors used inside wattprint that never reach a user (HttpFailure, OutputPathError, the CLI's
 * UsageError) say so where they are defined.
 */
export class WattprintError extends Error {
  /** The name stack traces and util.inspect() print: `WattprintError` (an OptionError's too). */
  override readonly name: string = 'WattprintError'
  /** Machine-readable kind of failure. */
  readonly code: WattprintErrorCode
  /** The option, argument (or environment variable) at fault, when one is. */
  readonly option: string | undefined

  constructor(code: WattprintErrorCode, message: string, option?: string) {
    super(message)
    this.code = code
    this.option = option
  }
}

/**
 * A refused option (`INVALID_OPTION`), in parts as well as in its message, so that the CLI can say it in
 * its own terms (flags instead of constructor options). Also an option given under its name and its
 * former name with different values: `option` is the name to keep, and the message names both.
 */
export class OptionError extends WattprintError {
  constructor(
    message: string,
    option: string,
    /** What is wrong, as a phrase that follows the option's name: `must be a number of …`. */
    readonly problem: string,
    /** The value as code writes it (`NaN`, `"fast"`), or null when `problem` already shows it or it is secret. */
    readonly shown: string | null,
    /** A good value of the option, as code writes it. */
    readonly example: string,
    /** Where in the option: `durationS` of budget, `0` of gpuIds; empty for the option itself. */
    readonly path: string = '',
  ) {
    super('INVALID_OPTION', message, option)
  }
}

/** Turns anything thrown into a short message, for warnings and notes. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code
    return code && !error.message.includes(code) ? `${code}: ${error.message}` : error.message
  }
  return String(error)
}
