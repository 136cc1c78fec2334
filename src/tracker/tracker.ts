import { configWarnings, type ResolvedConfig, resolveConfig } from '../config/config.js'
import type { TrackerOptions } from '../config/options.js'
import { invalidArgument } from '../core/arguments.js'
import { describeError } from '../core/errors.js'
import { Logger, logWarning } from '../core/log.js'
import { type TrackerWarning, WARN } from '../core/warnings.js'
import type { Prediction, TrackerEvents } from '../model/events.js'
import type { EmissionsRecord, RunStatus, TaskRecord } from '../model/record.js'
import type { TrackerSignal } from '../model/signal.js'
import { type Measured, type MeasureOptions, measureCall } from '../requests/measure.js'
import type { RequestSpan } from '../requests/span.js'
import { listenerProblem, type StopStatus, stopOptionsProblem } from './arguments.js'
import { type Listener, TrackerEmitter } from './events.js'
import { TrackerRun } from './run.js'
import type { RunSchedule } from './run-record.js'
import type { TrackerState } from './types.js'

/** Lets track() finish a run with another status than stop()'s, without widening the public API. */
export const finishWith = Symbol('finishWith')
/**
 * Lets `wattprint run` say, before start(), that this process starts the job and is the tracker's (with
 * attribution, the job is the command's process tree, not wattprint's), and then which process the
 * command is, without widening the public API.
 */
export const launcher = Symbol('launcher')
/**
 * Lets `wattprint run --within` give the run its schedule before start(), without widening the public API:
 * its figures go in every record of the run, and the time it holds the command paused is left out of the
 * duration budget.
 */
export const scheduledBy = Symbol('scheduledBy')

/**
 * Measures the energy and emissions of the machine between start() and stop(). Only the constructor
 * throws (a WattprintError for bad options); everything after reports problems as `warning` events, log
 * lines and notes in the record, and never throws into the host.
 */
export class EmissionsTracker {
  /** The options in force, validated, with defaults and environment values filled in. */
  readonly config: ResolvedConfig
  readonly #logger: Logger
  readonly #events = new TrackerEmitter((event, error) =>
    this.#logger.error(`a '${event}' listener threw: ${describeError(error)} (the tracker goes on)`),
  )
  /** The run and its parts, in the order start() and stop() take them (run.ts). */
  readonly #run: TrackerRun

  constructor(options: TrackerOptions = {}) {
    this.config = resolveConfig(options)
    this.#logger = new Logger(this.config.logLevel)
    this.#run = new TrackerRun({
      config: this.config,
      logger: this.#logger,
      events: this.#events,
      warn: (warning) => this.#warn(warning),
    })
    // The warnings resolving the options gave (DEPRECATED_OPTION) were printed as they were found, once
    // per process; as events, on a microtask, so that listeners added just after the constructor hear them.
    const pending = configWarnings(this.config)
    if (pending.length > 0)
      queueMicrotask(() => {
        for (const warning of pending) this.#events.emit('warning', warning)
      })
  }

  /** Creates a tracker and starts it. */
  static async start(options: TrackerOptions = {}): Promise<EmissionsTracker> {
    const tracker = new EmissionsTracker(options)
    await tracker.start()
    return tracker
  }

  /** Where the tracker is in its life. */
  get state(): TrackerState {
    return this.#run.state
  }

  /**
   * process.hrtime.bigint() of the baseline reading, where measuring starts: taken in the calling thread as
   * soon as start() is called (the meters are known in a millisecond), or by the sampler worker as soon as
   * it has built them where it reads what only it can (GPUs it finds, a job's processes with attribution).
   * Known before start() resolves; undefined before that.
   */
  get baselineNs(): bigint | undefined {
    return this.#run.parts.session?.t0Ns
  }

  /** The run's id (in every row). */
  get runId(): string {
    return this.config.runId
  }

  /**
   * Aborted, with the budget's message as its reason, when the run crosses its budget: pass it to work
   * that should stop then (`fetch`, your own loop's `signal.aborted` check, a TensorFlow.js callback).
   */
  get signal(): TrackerSignal {
    return this.#run.budget.signal
  }

  /**
   * Starts measuring. Measuring begins at the baseline reading (`baselineNs`), taken as soon as the meters
   * are known; this resolves once the tracker is running. Never rejects: if it cannot start, it says so
   * (an `error` event, a warning) and stop() returns a record with status `failed`.
   */
  start(): Promise<void> {
    return this.#run.start()
  }

  /**
   * Stops measuring, appends the row to the CSV (when saveToFile) and returns the record. Never rejects.
   * The row's status is `finished` (`budget-exceeded` when the budget was crossed) unless another is
   * given: `failed` for work that failed, `interrupted` for work cut short. Any other value is not
   * written: it is an INVALID_ARGUMENT warning naming the statuses allowed, and the row is `finished`.
   */
  stop(options?: { status?: StopStatus }): Promise<EmissionsRecord> {
    const problem = stopOptionsProblem(options)
    if (problem) this.#warn(invalidArgument(`${problem}; the row is written as 'finished'`))
    const status = options?.status
    return this[finishWith](!problem && status ? status : 'finished')
  }

  /**
   * Writes a row with the totals so far (status `running`) to the CSV (and hands it to every sink's
   * flush) and keeps measuring. Null when not running.
   */
  flush(): Promise<EmissionsRecord | null> {
    return this.#run.flush()
  }

  /**
   * Starts a named task, a window: it sees the whole machine (overlapping tasks each get all of the energy
   * drawn in their time). Its energy and emissions are what stopTask() returns.
   */
  startTask(name: string): void {
    this.#run.tasks.start(name)
  }

  /** Stops a named task and returns its record; undefined (with a warning) for a task not started. */
  stopTask(name: string): TaskRecord | undefined {
    return this.#run.tasks.stop(name)
  }

  /**
   * Forecasts the whole run from its progress: what was measured so far, plus the rest of the work at
   * the rate measured since progress began (the last call with `done: 0`, else start()). Emits a
   * `prediction` event and says which budget limit the forecast crosses, if any. With `stopOnBudget`, a
   * forecast over a limit counts as the budget crossed: the `budget` event, the stderr line, a note,
   * `tracker.signal` aborted and the row `budget-exceeded`, as when the measured figure crosses it. Null
   * when not running, before any progress, or for progress that is not `0 ≤ done ≤ total, total > 0` (a
   * warning).
   */
  predict(
    progress: { readonly done: number; readonly total: number },
    options?: { readonly stopOnBudget?: boolean },
  ): Prediction | null {
    return this.#run.progress.predict(progress, options)
  }

  /**
   * Runs `fn` as a task and as a request, and returns its result with both records: `task`, the energy from
   * the call's start to its end; `request`, its share beside the requests running at the same time. The
   * second argument is the name, or `{ name, weight, inputTokens, outputTokens, items }` with each count a number
   * or a function of the result. When `fn` throws, both are closed and the error rethrown; when `fn` is not
   * a function it rejects with a WattprintError (`INVALID_ARGUMENT`) saying so. Bad names and counts are warnings.
   */
  async measure<T>(
    fn: () => T | Promise<T>,
    nameOrOptions?: string | MeasureOptions<T>,
  ): Promise<Measured<T>> {
    const run = this.#run
    return measureCall(
      run.spans,
      (f, name) => run.tasks.measure(f, name),
      fn,
      nameOrOptions,
      (m) => this.#warn(invalidArgument(m)),
    )
  }

  /**
   * Opens a request span: one request of a server, one call of a model. Each interval's energy is split
   * among the spans open in it, at every instant by weight (default 1), so the spans' energies and the
   * instants no span was open add up to what was measured. `end({ inputTokens, outputTokens, items })` closes it;
   * its record (`settled`, the `request` event, the sinks) comes once the interval holding its end is
   * accounted. Costs a microsecond or so and no timer. On a tracker that is not measuring, a warning and a
   * span that gets no energy.
   */
  request(name?: string, options?: { readonly weight?: number }): RequestSpan {
    return this.#run.spans.open(name, options)
  }

  /**
   * Adds a listener. Listeners that throw are logged and never break the tracker. An unknown event name
   * or a listener that is not a function is a warning (with the close match), and nothing is registered.
   */
  on<E extends keyof TrackerEvents>(event: E, listener: Listener<E>): this {
    if (this.#badListener('on', event, listener)) return this
    this.#events.on(event, listener)
    if (event === 'sample') this.#run.listenersChanged()
    return this
  }

  /** Removes a listener. */
  off<E extends keyof TrackerEvents>(event: E, listener: Listener<E>): this {
    if (this.#badListener('off', event, listener)) return this
    this.#events.off(event, listener)
    if (event === 'sample') this.#run.listenersChanged()
    return this
  }

  /** Adds a listener called at most once. */
  once<E extends keyof TrackerEvents>(event: E, listener: Listener<E>): this {
    if (this.#badListener('once', event, listener)) return this
    this.#events.once(event, listener)
    if (event === 'sample') this.#run.listenersChanged()
    return this
  }

  /**
   * The tracker's warning channel (its `warning` event and its log line), for the integrations, which
   * are handed a tracker and report through it (`warnThrough`).
   *
   * @internal Through a registered symbol, not a public name.
   */
  [WARN](warning: TrackerWarning): void {
    this.#warn(warning)
  }

  /** `await using tracker = await EmissionsTracker.start()` stops it at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop()
  }

  /**
   * For `wattprint run`: call before start() to say that this process starts the job. The function it
   * returns is called with the command's pid once it is spawned: from then on, with attribution, the job
   * is the command's process tree (wattprint, its helpers and its sampler are the tracker's).
   */
  [launcher](): (pid: number) => void {
    return this.#run.launches()
  }

  /**
   * For `wattprint run --within`: call before start() with the run's schedule. Every record of the run
   * carries its fields, and the time it held the command paused is left out of the duration budget.
   *
   * @internal The CLI's, through a symbol the package does not export.
   */
  [scheduledBy](schedule: RunSchedule): void {
    this.#run.scheduledBy(schedule)
  }

  /** Ends the run with `status`; later calls return the first call's record. */
  [finishWith](status: RunStatus): Promise<EmissionsRecord> {
    return this.#run.finish(status)
  }

  /** Whether on/off/once(event, listener) was given what it cannot use (then warned about it). */
  #badListener(call: string, event: unknown, listener: unknown): boolean {
    const problem = listenerProblem(call, event, listener)
    if (problem)
      this.#warn(invalidArgument(`${problem}; nothing ${call === 'off' ? 'removed' : 'registered'}`))
    return problem !== null
  }

  #warn(warning: TrackerWarning): void {
    logWarning(this.#logger, warning)
    this.#events.emit('warning', warning)
  }
}
