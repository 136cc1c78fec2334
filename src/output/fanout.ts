import { describeError } from '../core/errors.js'
import type { TrackerWarning } from '../core/warnings.js'
import type { SampleEvent } from '../model/events.js'
import type { JobFields } from '../model/job.js'
import type { EmissionsRecord } from '../model/record.js'
import type { RequestRecord } from '../model/requests.js'
import { RouteLabels } from './route-labels.js'
import type { Sink, SinkContext } from './sink.js'

/** The options the fan-out reads. */
export interface FanoutConfig {
  readonly projectName: string
  readonly experimentId: string
  readonly runId: string
  readonly pue: number
  readonly maxRouteLabels: number
}

/**
 * Hands the run to its sinks: the CSV's (when saveToFile) and the user's. The sinks stay passive, as
 * OpenTelemetry's exporters are: the fan-out makes every call, and a sink that throws or rejects is
 * reported once per sink and call, and the run goes on.
 */
export class SinkFanout {
  readonly #failures = new Set<string>()
  /** Whether any sink takes intervals or requests (a CSV takes neither: it costs the run nothing). */
  readonly any: boolean

  constructor(
    private readonly sinks: readonly Sink[],
    private readonly config: FanoutConfig,
    private readonly warn: (warning: TrackerWarning) => void,
  ) {
    this.any = sinks.some((sink) => typeof sink.sample === 'function' || typeof sink.request === 'function')
  }

  /** The run is measuring: every sink's start(), awaited together; `job`, the run's place in its job. */
  async start(job: JobFields): Promise<void> {
    const routes = new RouteLabels(this.config.maxRouteLabels, (warning) => this.warn(warning))
    const context: SinkContext = {
      projectName: this.config.projectName,
      experimentId: this.config.experimentId,
      runId: this.config.runId,
      pue: this.config.pue,
      job,
      warn: (warning) => this.warn(warning),
      routeLabel: (name) => routes.of(name),
    }
    await Promise.all(this.sinks.map((sink) => this.#call(sink, 'start', () => sink.start(context))))
  }

  /** One interval closed: every sink's sample(), not awaited. */
  sample(sample: SampleEvent): void {
    for (const sink of this.sinks) this.#call(sink, 'sample', () => sink.sample?.(sample))
  }

  /** A request settled: every sink's request(), not awaited. */
  request(record: RequestRecord): void {
    for (const sink of this.sinks) this.#call(sink, 'request', () => sink.request?.(record))
  }

  /** tracker.flush(): every sink's flush(), awaited together. */
  async flush(record: EmissionsRecord): Promise<void> {
    await Promise.all(this.sinks.map((sink) => this.#call(sink, 'flush', () => sink.flush?.(record))))
  }

  /** The run ended with this record: every sink's stop(), awaited together. */
  async stop(record: EmissionsRecord): Promise<void> {
    await Promise.all(this.sinks.map((sink) => this.#call(sink, 'stop', () => sink.stop?.(record))))
  }

  /** Runs one sink call; a sink that throws is reported once per sink and call, and the run goes on. */
  #call(
    sink: Sink,
    what: 'start' | 'sample' | 'request' | 'flush' | 'stop',
    call: () => unknown,
  ): Promise<void> {
    const failed = (error: unknown) => {
      const key = `${sink.name}:${what}`
      if (this.#failures.has(key)) return
      this.#failures.add(key)
      this.warn({
        code: 'SINK_FAILED',
        message: `The ${sink.name} sink failed at ${what}: ${describeError(error)}.`,
      })
    }
    try {
      const result = call()
      return result instanceof Promise ? result.then(() => {}, failed) : Promise.resolve()
    } catch (error) {
      failed(error)
      return Promise.resolve()
    }
  }
}
