/** Why an HTTP look-up gave no usable answer. */
export type HttpFailureKind = 'timeout' | 'network' | 'status' | 'malformed'

/**
 * A failed look-up. Its message names the URL without its query and never a request header, so a token
 * sent in a header cannot leak through it. Internal, so not a WattprintError: it never reaches a user, as
 * the live intensity turns it into a `LIVE_INTENSITY_FAILED` warning and askProvider() (forecast/) into a
 * ForecastError, its `kind` and `status` used on the way for the advice.
 */
export class HttpFailure extends Error {
  override readonly name = 'HttpFailure'
  constructor(
    readonly kind: HttpFailureKind,
    message: string,
    /** The HTTP status, for kind `status`. */
    readonly status?: number,
    /** Seconds the server asked to wait before asking again (its `Retry-After`), when it said. */
    readonly retryAfterS?: number,
  ) {
    super(message)
  }
}

/** `https://host/path` of a URL: no query string, no credentials. */
export function describeUrl(url: URL): string {
  return `${url.origin}${url.pathname}`
}

interface RequestOptions {
  readonly timeoutMs: number
  readonly method?: 'GET' | 'PUT'
  readonly headers?: Readonly<Record<string, string>>
  /** Abandons the request (the tracker stopped). */
  readonly signal?: AbortSignal
}

/**
 * Sends a request and returns its body as text, within `timeoutMs` for the whole exchange. Rejects with
 * an HttpFailure only: timeout, network error or a non-2xx status.
 */
export async function fetchText(url: URL, options: RequestOptions): Promise<string> {
  const where = describeUrl(url)
  const timeout = AbortSignal.timeout(options.timeoutMs)
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout
  try {
    const response = await fetch(url, { method: options.method ?? 'GET', headers: options.headers, signal })
    const body = await response.text()
    if (!response.ok) {
      const retryAfterS = parseRetryAfter(response.headers.get('retry-after'))
      throw new HttpFailure(
        'status',
        `${where} answered HTTP ${response.status}`,
        response.status,
        retryAfterS,
      )
    }
    return body
  } catch (error) {
    if (error instanceof HttpFailure) throw error
    if (options.signal?.aborted) throw new HttpFailure('network', `${where}: request abandoned`)
    if (timeout.aborted) {
      throw new HttpFailure('timeout', `${where} did not answer within ${options.timeoutMs} ms`)
    }
    throw new HttpFailure('network', `${where} could not be reached (${networkReason(error)})`)
  }
}

/** GETs a URL and parses its JSON body; a body that is not JSON is an HttpFailure of kind `malformed`. */
export async function getJson(url: URL, options: Omit<RequestOptions, 'method'>): Promise<unknown> {
  const body = await fetchText(url, {
    ...options,
    headers: { accept: 'application/json', ...options.headers },
  })
  try {
    return JSON.parse(body) as unknown
  } catch {
    throw new HttpFailure('malformed', `${describeUrl(url)} answered something that is not JSON`)
  }
}

/** A `Retry-After` header in seconds: a number of seconds or an HTTP date; undefined when absent or bad. */
export function parseRetryAfter(value: string | null, nowMs = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined
  if (/^\d+$/.test(value.trim())) return Number(value.trim())
  const at = Date.parse(value)
  return Number.isFinite(at) ? Math.max(0, (at - nowMs) / 1000) : undefined
}

/** The errno behind fetch's generic "fetch failed" (ECONNREFUSED, ENOTFOUND …). */
function networkReason(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause
  if (typeof cause?.code === 'string') return cause.code
  if (typeof cause?.message === 'string') return cause.message
  return error instanceof Error ? error.message : String(error)
}
