import type { TrackerWarning } from '../core/warnings.js'
import type { SampleEvent } from '../model/events.js'
import type { JobFields } from '../model/job.js'
import type { EmissionsRecord } from '../model/record.js'
import type { RequestRecord } from '../model/requests.js'

/** What a sink learns about the run it reports. */
export interface SinkContext {
  /** The project the run belongs to (option `projectName`). */
  readonly projectName: string
  /** The experiment the run belongs to (option `experimentId`); empty when none was given. */
  readonly experimentId: string
  /** The run's id (option `runId`). */
  readonly runId: string
  /** The PUE the run's energy figures include (option `pue`). */
  readonly pue: number
  /**
   * The job, the node and the rank, under a launcher (all null outside one): for labels that sum a job.
   * Always given by the tracker; optional for contexts made by hand (a sink's own tests).
   */
  readonly job?: JobFields
  /** Reports a problem; the run goes on. */
  warn(warning: TrackerWarning): void
  /**
   * The label a request name is counted under in metrics: itself for the first `maxRouteLabels` distinct
   * names of the run (shared by every sink), `other` after them.
   */
  routeLabel(name: string): string
}

/**
 * Where a tracker's figures go: its CSV (a `csvSink`, the one saveToFile writes, or more of your own),
 * Prometheus, a Pushgateway, OpenTelemetry, a JSON-lines file, memory … Sinks are
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
  /** tracker.flush(): the totals so far, as a record with status `running`; the run goes on. */
  flush?(record: EmissionsRecord): void | Promise<void>
  /** The run ended with this record; the sink flushes and closes. */
  stop?(record: EmissionsRecord): void | Promise<void>
}
