import type { RequestEnd } from '../model/requests.js'
import type { RequestSpan } from '../requests/span.js'

/** What the HTTP adapters need of a tracker: an EmissionsTracker, or anything that opens spans as it does. */
export interface SpanOpener {
  /** Opens a request span, as tracker.request() does: weighted among the spans open at once (default 1). */
  request(name?: string, options?: { readonly weight?: number }): RequestSpan
}

/** Options of the HTTP adapters. */
export interface HttpAdapterOptions {
  /**
   * Sets `X-Energy-Joules` on each response: the request's energy from its start until its headers are
   * sent, read then (this reads the meters once a request, a fraction of a millisecond). The settled
   * figure, which includes the body's sending, is in the histogram and the `request` events. Default off.
   */
  readonly energyHeader?: boolean
}

/** The response header the adapters set when asked. */
export const ENERGY_HEADER = 'X-Energy-Joules'

/** A span's energy so far as a header value: joules, to the microjoule. */
export const headerValue = (span: RequestSpan): string => span.energySoFarJ().toFixed(6)

/**
 * Route labels (`GET /users/:id`; `GET unmatched` for a request no route took), made once per route and
 * method: a request costs a lookup, not a new string.
 */
export class RouteNames {
  readonly #names = new Map<string, Map<string, string>>()

  /** The label of `method` on `route`. */
  of(method: string | undefined, route: string | undefined): string {
    const path = route ?? 'unmatched'
    const verb = method ?? 'REQUEST'
    let byMethod = this.#names.get(path)
    if (!byMethod) {
      byMethod = new Map()
      this.#names.set(path, byMethod)
    }
    let name = byMethod.get(verb)
    if (name === undefined) {
      name = `${verb} ${path}`
      byMethod.set(verb, name)
    }
    return name
  }
}

/**
 * Whether a response failed its request: a server error (5xx), or never finished (the client went away,
 * the connection broke). A 4xx is a request answered, and counts as one.
 */
export const responseFailed = (statusCode: number | undefined, finished: boolean): boolean =>
  !finished || (typeof statusCode === 'number' && statusCode >= 500)

/** The counts a handler left for its request's span, if it left any that can be read. */
export const countsOf = (value: unknown): RequestEnd | undefined =>
  typeof value === 'object' && value !== null ? (value as RequestEnd) : undefined
