// The route pattern an Express request was handled by, mount prefixes included (`/users/:id/posts/:postId`),
// from the router's own data: never the URL, whose every user id would be a label of its own.

/** A layer of an Express router (the `router` package), by shape. */
interface LayerLike {
  readonly route?: unknown
  readonly handle?: unknown
  /** The pattern the layer was made with (router 2.3 and later; Express 5.3 installs it). */
  readonly rawPath?: unknown
  /** router 2.3 and later: what matched, and which of the layer's patterns, without side effects. */
  match?(path: string): unknown
}

/** The parts of an Express request this reads. */
export interface RoutedRequestLike {
  /** The path the request's router is mounted at, as matched (`/users/42`). */
  readonly baseUrl?: string
  /** The URL as received, before any router cut its mount path off. */
  readonly originalUrl?: string
  /** The route that handled the request, once routed. */
  readonly route?: {
    /** The route's pattern, as written (`/posts/:postId`). */
    readonly path?: unknown
  }
  /** The application, whose router's layers give the mount patterns. */
  readonly app?: unknown
}

/** Marks a mount whose pattern the router does not keep (Express 4, router before 2.3). */
export const UNKNOWN_MOUNT = '…'

/** A pattern as a label: a string as written, a RegExp as `/…/`, an array as its patterns joined. */
function patternText(pattern: unknown): string | undefined {
  if (typeof pattern === 'string') return pattern
  if (pattern instanceof RegExp) return String(pattern)
  if (Array.isArray(pattern)) {
    const parts = pattern.map(patternText)
    return parts.every((p) => p !== undefined) ? parts.join(',') : undefined
  }
  return undefined
}

/** A mount's pattern as a prefix: `/` (every path) adds nothing, and a trailing `/` is dropped. */
const prefixOf = (pattern: string): string => pattern.replace(/\/+$/, '')

const stackOf = (handle: unknown): readonly LayerLike[] | undefined => {
  const stack = (handle as { stack?: unknown } | null | undefined)?.stack
  return Array.isArray(stack) ? (stack as LayerLike[]) : undefined
}

/** What a layer with a known pattern matched of `path`, as router 2.3's match() gives it. */
function matched(layer: LayerLike, path: string): { path: string; pattern: unknown } | undefined {
  if (layer.rawPath === undefined || typeof layer.match !== 'function') return undefined
  try {
    const result = layer.match(path) as { path?: unknown; pattern?: unknown } | false
    if (!result || typeof result.path !== 'string') return undefined
    return { path: result.path, pattern: result.pattern ?? layer.rawPath }
  } catch {
    return undefined
  }
}

/**
 * The patterns leading from `stack` to the layer of `route`, consuming `baseUrl` (the real prefix the
 * routers removed) mount by mount, as the router did; the route's own pattern last. Undefined when the
 * way cannot be followed with patterns (a router that keeps none, a sub-app).
 */
function walk(
  stack: readonly LayerLike[],
  baseUrl: string,
  route: object,
  rest: string,
  depth: number,
): string[] | undefined {
  if (depth > 32) return undefined
  for (const layer of stack) {
    if (layer.route === route) {
      if (baseUrl !== '') continue
      // An array of patterns: the one that matched the path below the mounts.
      const own = Array.isArray(layer.rawPath)
        ? matched(layer, rest)?.pattern
        : (route as { path?: unknown }).path
      const text = patternText(own)
      return text === undefined ? undefined : [text]
    }
    const below = stackOf(layer.handle)
    if (layer.route !== undefined || !below) continue
    const mount = matched(layer, baseUrl || '/')
    if (!mount) continue
    const took = mount.path.replace(/\/$/, '')
    if (!baseUrl.startsWith(took)) continue
    const prefix = patternText(mount.pattern)
    if (prefix === undefined) continue
    const inner = walk(below, baseUrl.slice(took.length), route, rest, depth + 1)
    if (inner) return [prefixOf(prefix), ...inner]
  }
  return undefined
}

/** The path of a URL, without its query. */
const pathOf = (url: string | undefined): string => (url ?? '').split('?')[0] ?? ''

/**
 * The route pattern that handled `request`, mounts included: `/users/:id/posts/:postId`, a regular
 * expression route as `/^\/files\/.*$/`. A mount whose pattern the router does not keep is `…`
 * (`…/:postId`). Undefined when no route handled the request.
 */
export function expressRoute(request: RoutedRequestLike): string | undefined {
  const route = request.route
  if (typeof route !== 'object' || route === null) return undefined
  const own = patternText(route.path)
  const baseUrl = request.baseUrl ?? ''
  // A route of the app itself: its pattern is the whole of it.
  if (baseUrl === '' && own !== undefined && !Array.isArray(route.path)) return own
  const app = request.app as AppLike | undefined
  const stack = app ? stackOf(routerOf(app)) : undefined
  const rest = pathOf(request.originalUrl).slice(baseUrl.length)
  const mounts = app ? appMounts(app) : undefined
  const patterns = stack && mounts ? withinApp(stack, mounts, baseUrl, route, rest) : undefined
  if (patterns) return patterns.join('') || '/'
  if (own === undefined) return undefined
  return baseUrl === '' ? own : `${UNKNOWN_MOUNT}${own}`
}

/** An Express application, by shape: a sub-app knows its parent and the pattern it was mounted at. */
interface AppLike {
  readonly router?: unknown
  readonly _router?: unknown
  readonly parent?: AppLike
  readonly mountpath?: unknown
}

/** An app's router: Express 4's `_router` (its `app.router` getter throws), Express 5's `router`. */
function routerOf(app: AppLike): unknown {
  if (app._router !== undefined) return app._router
  try {
    return app.router
  } catch {
    return undefined
  }
}

/** The patterns a (sub-)app was mounted at, outermost first; [] for the app itself. */
function appMounts(app: AppLike): string[] | undefined {
  const mounts: string[] = []
  for (let at: AppLike | undefined = app; at?.parent; at = at.parent) {
    const pattern = patternText(at.mountpath)
    if (pattern === undefined || mounts.length > 32) return undefined
    mounts.unshift(prefixOf(pattern))
  }
  return mounts
}

/**
 * Within a sub-app, `baseUrl` starts with what its mounts took. Plain mount patterns took their own
 * length; with parameters only the parents' routers could say, so the rest is tried from each `/` after
 * the first character on, and the first way that leads to the route wins.
 */
function withinApp(
  stack: readonly LayerLike[],
  mounts: readonly string[],
  baseUrl: string,
  route: object,
  rest: string,
): string[] | undefined {
  if (mounts.length === 0) return walk(stack, baseUrl, route, rest, 0)
  if (mounts.every((m) => /^[\w/.~-]*$/.test(m))) {
    const took = mounts.join('').length
    const inner = walk(stack, baseUrl.slice(took), route, rest, 0)
    return inner ? [...mounts, ...inner] : undefined
  }
  for (let at = 1; at <= baseUrl.length; at++) {
    if (at < baseUrl.length && baseUrl[at] !== '/') continue
    const inner = walk(stack, baseUrl.slice(at), route, rest, 0)
    if (inner) return [...mounts, ...inner]
  }
  return undefined
}
