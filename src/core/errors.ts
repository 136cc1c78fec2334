/** What kind of failure a WattprintError reports. */
export type WattprintErrorCode = 'INVALID_OPTION' | 'INVALID_ENVIRONMENT' | 'UNKNOWN_OPTION'

/**
 * The only error wattprint throws, and only from the constructor (bad options). Its message names the
 * option, shows the value and says how to fix it.
 */
export class WattprintError extends Error {
  override readonly name = 'WattprintError'
  /** Machine-readable kind of failure. */
  readonly code: WattprintErrorCode
  /** The option (or environment variable) at fault. */
  readonly option: string | undefined

  constructor(code: WattprintErrorCode, message: string, option?: string) {
    super(message)
    this.code = code
    this.option = option
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
