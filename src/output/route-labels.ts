import type { TrackerWarning } from '../core/warnings.js'

/** How many distinct request names the metric sinks keep per run unless `maxRouteLabels` says otherwise. */
export const DEFAULT_MAX_ROUTE_LABELS = 100

/** The label the request names past the limit are counted under. */
export const OTHER_ROUTE = 'other'

/**
 * The `route` label of each request name, for every metric sink of a run: the first `limit` distinct
 * names are their own label, every later one is `other`, said once in a warning. Each label value costs
 * a histogram's series in every sink and every scrape: a name per user or per URL would grow /metrics
 * and the process's memory without bound.
 */
export class RouteLabels {
  readonly #kept = new Set<string>()
  #warned = false

  constructor(
    private readonly limit: number,
    private readonly warn: (warning: TrackerWarning) => void,
  ) {}

  /** The label `name` is counted under. */
  of(name: string): string {
    if (this.#kept.has(name)) return name
    if (this.#kept.size < this.limit) {
      this.#kept.add(name)
      return name
    }
    if (!this.#warned) {
      this.#warned = true
      this.warn({
        code: 'ROUTE_LABELS_CAPPED',
        message:
          `More than ${this.limit} distinct request names: the metric sinks count the rest under ` +
          `route '${OTHER_ROUTE}'. Name requests by route or model, not by user or URL, or raise ` +
          `maxRouteLabels (WATTPRINT_MAX_ROUTE_LABELS).`,
      })
    }
    return OTHER_ROUTE
  }
}
