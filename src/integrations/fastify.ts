import type { RequestCounts } from '../model/requests.js'
import type { RequestSpan } from '../requests/span.js'
import {
  countsOf,
  ENERGY_HEADER,
  type HttpAdapterOptions,
  headerValue,
  RouteNames,
  responseFailed,
  type SpanOpener,
} from './http.js'

export type { HttpAdapterOptions, SpanOpener } from './http.js'

/** The parts of a Fastify request the plugin reads and writes (described by shape: no Fastify types). */
interface FastifyRequestLike {
  readonly method?: string
  readonly routeOptions?: { readonly url?: string }
  /** The request's span, for the handler (`request.wattprintSpan.firstToken()`); null once ended. */
  wattprintSpan: RequestSpan | null
  /** Counts the handler leaves for the span's end: `request.wattprintCounts = { outputTokens: 42 }`. */
  wattprintCounts: RequestCounts | null
}

type Next = (error?: Error | null) => void

/** The parts of a Fastify instance the plugin uses. */
export interface FastifyInstanceLike {
  /** Adds a property to every request: the plugin adds `wattprintSpan` and `wattprintCounts`. */
  decorateRequest(name: string, value: null): unknown
  /** Adds a lifecycle hook: the plugin opens the span `onRequest` and ends it `onResponse` or `onRequestAbort`. */
  // biome-ignore lint/suspicious/noExplicitAny: Fastify's hook signatures vary by hook name.
  addHook(name: string, hook: (...args: any[]) => unknown): unknown
}

/** A Fastify plugin, as `app.register()` takes it. */
export type FastifyPluginLike = (
  instance: FastifyInstanceLike,
  options: unknown,
  done: (error?: Error) => void,
) => void

/**
 * A Fastify plugin that measures every request as a span of `tracker`, named by method and route
 * (`GET /users/:id`): `app.register(wattprintFastify(tracker))`. It applies to the whole app (it is not
 * encapsulated, as fastify-plugin would make it). A handler can mark the first token with
 * `request.wattprintSpan?.firstToken()` and leave counts in `request.wattprintCounts`. With
 * `energyHeader`, each response carries X-Energy-Joules.
 */
export function wattprintFastify(tracker: SpanOpener, options: HttpAdapterOptions = {}): FastifyPluginLike {
  const names = new RouteNames()
  const end = (request: FastifyRequestLike, failed: boolean) => {
    const span = request.wattprintSpan
    if (!span) return
    request.wattprintSpan = null
    span.end({ ...countsOf(request.wattprintCounts), ...(failed ? { failed } : {}) })
  }
  const plugin: FastifyPluginLike = (fastify, _options, done) => {
    fastify.decorateRequest('wattprintSpan', null)
    fastify.decorateRequest('wattprintCounts', null)
    fastify.addHook('onRequest', (request: FastifyRequestLike, _reply: unknown, next: Next) => {
      request.wattprintSpan = tracker.request(names.of(request.method, request.routeOptions?.url))
      next()
    })
    if (options.energyHeader) {
      fastify.addHook(
        'onSend',
        (
          request: FastifyRequestLike,
          reply: { header(name: string, value: string): unknown },
          payload: unknown,
          next: (error: Error | null, payload: unknown) => void,
        ) => {
          if (request.wattprintSpan) reply.header(ENERGY_HEADER, headerValue(request.wattprintSpan))
          next(null, payload)
        },
      )
    }
    fastify.addHook(
      'onResponse',
      (request: FastifyRequestLike, reply: { readonly statusCode?: number }, next: Next) => {
        end(request, responseFailed(reply.statusCode, true))
        next()
      },
    )
    // A client that goes away before the response: the span ends then, failed.
    fastify.addHook('onRequestAbort', (request: FastifyRequestLike, next: Next) => {
      end(request, true)
      next()
    })
    done()
  }
  // What fastify-plugin sets: the hooks apply to the whole app, not only to routes registered inside.
  Object.assign(plugin, {
    [Symbol.for('skip-override')]: true,
    [Symbol.for('fastify.display-name')]: 'wattprint',
  })
  return plugin
}
