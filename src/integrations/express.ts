import type { RequestCounts } from '../model/requests.js'
import type { RequestSpan } from '../requests/span.js'
import { expressRoute, type RoutedRequestLike } from './express-route.js'
import {
  countsOf,
  ENERGY_HEADER,
  type HttpAdapterOptions,
  headerValue,
  RouteNames,
  responseFailed,
  type SpanOpener,
} from './http.js'

export type { RoutedRequestLike } from './express-route.js'
export type { HttpAdapterOptions, SpanOpener } from './http.js'

/** The parts of an Express request the middleware reads (described by shape: no Express types). */
export interface ExpressRequestLike extends RoutedRequestLike {
  /** The HTTP method (`GET`), the first word of the span's name. */
  readonly method?: string
}

/** The parts of an Express response the middleware uses. */
export interface ExpressResponseLike {
  /** Per-response data for the handlers (`res.locals`): where the span and its counts are exchanged. */
  readonly locals: {
    /** The request's span, for the handler (`res.locals.wattprintSpan.firstToken()`). */
    wattprintSpan?: RequestSpan
    /** Counts the handler leaves for the span's end: `res.locals.wattprintCounts = { outputTokens: 42 }`. */
    wattprintCounts?: RequestCounts
  }
  /** The status sent: a 5xx marks the request failed. */
  readonly statusCode?: number
  /** False when the connection closed before the response was all sent. */
  readonly writableFinished?: boolean
  /** Listens for the response's `close`, sent or not: the span ends then. */
  once(event: 'close', listener: () => void): unknown
  /** Sets a header: `X-Energy-Joules`, with `energyHeader`. */
  setHeader(name: string, value: string): unknown
  /** Sends the status and headers: with `energyHeader`, wrapped to set `X-Energy-Joules` just before. */
  writeHead: (...args: never[]) => unknown
}

/** An Express middleware, as `app.use()` takes it. */
export type ExpressMiddlewareLike = (
  request: ExpressRequestLike,
  response: ExpressResponseLike,
  next: () => void,
) => void

/**
 * An Express middleware that measures every request as a span of `tracker`, named by method and route
 * pattern, the routers' mount patterns included (`GET /users/:id/posts/:postId`, known once routed, so
 * given at the span's end; never the URL): `app.use(wattprintExpress(tracker))`, before the routes. A
 * handler can mark the first token with `res.locals.wattprintSpan.firstToken()` and leave counts in
 * `res.locals.wattprintCounts`. With `energyHeader`, each response carries X-Energy-Joules.
 */
export function wattprintExpress(
  tracker: SpanOpener,
  options: HttpAdapterOptions = {},
): ExpressMiddlewareLike {
  const names = new RouteNames()
  return (request, response, next) => {
    const span = tracker.request('request')
    response.locals.wattprintSpan = span
    // 'close' comes once the response is sent, or when the client went away first.
    response.once('close', () => {
      let route: string | undefined
      try {
        route = expressRoute(request)
      } catch {
        // a request or app of an unexpected shape: the span goes by `unmatched`, the server goes on
      }
      const failed = responseFailed(response.statusCode, response.writableFinished !== false)
      span.end({
        ...countsOf(response.locals.wattprintCounts),
        name: names.of(request.method, route),
        ...(failed ? { failed } : {}),
      })
    })
    if (options.energyHeader) {
      const writeHead = response.writeHead
      response.writeHead = (...args: never[]) => {
        response.setHeader(ENERGY_HEADER, headerValue(span))
        return writeHead.apply(response, args)
      }
    }
    next()
  }
}
