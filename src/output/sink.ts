import type { TrackerWarning } from '../core/warnings.js'
import type { SampleEvent } from '../model/events.js'
import type { EmissionsRecord } from '../model/record.js'
import type { RequestRecord } from '../model/requests.js'

/** What a sink learns about the run it reports. */
export interface SinkContext {
  readonly projectName: string
  readonly experimentId: string
  readonly runId: string
  readonly pue: number
  /** Reports a problem; the run goes on. */
  warn(warning: TrackerWarning): void
  /**
   * The label a request name is counted under in metrics: itself for the first `maxRouteLabels` distinct
   * names of the run (shared by every sink), `other` after them.
   */
  routeLabel(name: string): string
}

/**
 * Where a tracker's figures go besides the CSV (Prometheus, a Pushgateway, OpenTelemetry …). Sinks are
 * passive, as OpenTelemetry's exporters are: the tracker owns the sampling loop and hands each sink the
 * run's start, every interval, and the final record. A sink that throws or rejects is reported with a
 * warning and never stops the run.
 */
export interface Sink {
  /** A name for messages: `prometheus`, `otel`. */
  readonly name: string
  /** The run is measuring (called once start() resolves). */
  start(context: SinkContext): void | Promise<void>
  /** One interval closed. */
  sample?(event: SampleEvent): void
  /** A request span settled (tracker.request, measure, the runtime wrappers, the HTTP adapters). */
  request?(record: RequestRecord): void
  /** The run ended with this record; the sink flushes and closes. */
  stop?(record: EmissionsRecord): void | Promise<void>
}
