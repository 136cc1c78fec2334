import { join } from 'node:path'
import { Ledger, type LedgerStep } from '../accounting/ledger.js'
import { commandJob } from '../attribution/plan.js'
import { threadTicks } from '../attribution/process-tree.js'
import { configWarnings, type ResolvedConfig, resolveConfig } from '../config/config.js'
import type { TrackerOptions } from '../config/options.js'
import { invalidArgument } from '../core/arguments.js'
import { describeError } from '../core/errors.js'
import { Logger, logWarning } from '../core/log.js'
import { JOULES_PER_KWH } from '../core/units.js'
import { type TrackerWarning, WARN } from '../core/warnings.js'
import { shippedCpuTable } from '../estimates/cpu-tdp-table.js'
import { instanceHostPlatform } from '../footprint/guest-host.js'
import { resolveIntensity } from '../intensity/resolve.js'
import { tuneEstimates } from '../meters/detect.js'
import type { Prediction, TrackerEvents } from '../model/events.js'
import type { IntervalReport } from '../model/interval.js'
import type { EmissionsRecord, RunStatus, TaskRecord } from '../model/record.js'
import type { TrackerSignal } from '../model/signal.js'
import { CsvSink } from '../output/csv/sink.js'
import { SinkFanout } from '../output/fanout.js'
import { summaryLine } from '../output/format.js'
import { readCpuTimes } from '../platform/cpu-load.js'
import { getSystemInfo } from '../platform/system.js'
import { SpanBook, spanClock } from '../requests/book.js'
import { type Measured, type MeasureOptions, measureCall } from '../requests/measure.js'
import type { RequestSpan } from '../requests/span.js'
import type { SamplingSession } from '../sampling/session.js'
import { planSampling, SamplingSupervisor } from '../sampling/supervisor.js'
import { listenerProblem, type StopStatus, stopOptionsProblem } from './arguments.js'
import { BudgetWatch } from './budget-watch.js'
import { CrashGuard } from './crash-guard.js'
import { type Listener, TrackerEmitter, toSampleEvent } from './events.js'
import { describePrediction, ProgressForecast } from './progress.js'
import {
  assembleRecord,
  attributionSetup,
  noRunParts,
  type RunParts,
  type RunSchedule,
} from './run-record.js'
import { TaskBook } from './tasks.js'
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
  #state: TrackerState = 'idle'
  readonly #logger: Logger
  readonly #events = new TrackerEmitter((event, error) =>
    this.#logger.error(`a '${event}' listener threw: ${describeError(error)} (the tracker goes on)`),
  )
  #startPromise: Promise<void> | undefined
  #stopPromise: Promise<EmissionsRecord> | undefined
  /** The run's parts, filled in as start() gets them. */
  readonly #run: RunParts = noRunParts()
  readonly #sampling: SamplingSupervisor
  /** The session start() is starting, until it is the run's (so that a failed start can stop it). */
  #starting: Promise<SamplingSession> | undefined
  #startFailed = false
  readonly #tasks: TaskBook
  readonly #progress: ProgressForecast
  /** Keeps the run from being lost, when its row goes to a CSV. */
  readonly #guard: CrashGuard | undefined
  /** The CSV's (through the guard) and the user's. */
  readonly #sinks: SinkFanout
  readonly #budget: BudgetWatch
  readonly #spans: SpanBook
  /** The sampler's clock to the spans'. */
  readonly #spanMs = spanClock()
  /** Whether this process starts the job (see `launcher`). */
  #launches = false

  constructor(options: TrackerOptions = {}) {
    this.config = resolveConfig(options)
    this.#logger = new Logger(this.config.logLevel)
    // What the parts below need of the tracker: each takes its own slice of it.
    const run = {
      config: this.config,
      parts: this.#run,
      state: () => this.#state,
      readNow: () => this.#readNow(),
      record: (status: RunStatus) => this.#record(status),
      endAtExit: (status: RunStatus, note: string) => this.#endAtExit(status, note),
      onInterval: (report: IntervalReport) => this.#onInterval(report),
      warn: (warning: TrackerWarning) => this.#warn(warning),
      predicted: (prediction: Prediction) => {
        this.#logger.info(describePrediction(prediction))
        this.#emit('prediction', prediction)
      },
    }
    this.#sampling = new SamplingSupervisor(this.config.intervalMs, run)
    this.#tasks = new TaskBook(run)
    const csv = this.config.saveToFile
      ? new CsvSink(join(this.config.outputDir, this.config.outputFile), (w) => this.#warn(w))
      : undefined
    this.#guard = csv ? new CrashGuard(this.config, csv, run) : undefined
    const sinks = this.#guard ? [this.#guard.sink(), ...this.config.sinks] : this.config.sinks
    this.#sinks = new SinkFanout(sinks, this.config, (w) => this.#warn(w))
    this.#budget = new BudgetWatch(
      this.config.budget,
      (event) => {
        this.#run.notes.push(event.message)
        this.#logger.warning(event.message)
        this.#emit('budget', event)
      },
      this.config.emissionsScope,
      () => this.#run.schedule?.heldPausedS() ?? 0,
    )
    this.#progress = new ProgressForecast(run, this.#budget)
    this.#spans = new SpanBook({
      runId: this.config.runId,
      measuring: () => !this.#startFailed && (this.#state === 'starting' || this.#state === 'running'),
      used: () => this.#run.session?.setLive(true),
      wantsRecords: () => this.#events.has('request') || this.#sinks.any,
      onSettled: (record) => {
        this.#emit('request', record)
        this.#sinks.request(record)
      },
      warn: (warning) => this.#warn(warning),
      readNow: () => this.#readNow(),
    })
    this.#run.requests = () => (this.#spans.everUsed ? this.#spans.totals() : null)
    // The warnings resolving the options gave (DEPRECATED_OPTION) were printed as they were found, once
    // per process; as events, on a microtask, so that listeners added just after the constructor hear them.
    const pending = configWarnings(this.config)
    if (pending.length > 0)
      queueMicrotask(() => {
        for (const warning of pending) this.#emit('warning', warning)
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
    return this.#state
  }

  /**
   * process.hrtime.bigint() of the baseline reading, where measuring starts: taken in the calling thread as
   * soon as start() is called (the meters are known in a millisecond), or by the sampler worker as soon as
   * it has built them where it reads what only it can (GPUs it finds, a job's processes with attribution).
   * Known before start() resolves; undefined before that.
   */
  get baselineNs(): bigint | undefined {
    return this.#run.session?.t0Ns
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
    return this.#budget.signal
  }

  /**
   * Starts measuring. Measuring begins at the baseline reading (`baselineNs`), taken as soon as the meters
   * are known; this resolves once the tracker is running. Never rejects: if it cannot start, it says so
   * (an `error` event, a warning) and stop() returns a record with status `failed`.
   */
  start(): Promise<void> {
    if (this.#state !== 'idle') {
      this.#warn({
        code: 'ALREADY_STARTED',
        message: `start() called on a tracker that is ${this.#state}; ignored.`,
      })
      return this.#startPromise ?? Promise.resolve()
    }
    this.#state = 'starting'
    this.#startPromise = this.#start().catch(async (error: unknown) => {
      this.#startFailed = true
      const warning: TrackerWarning = {
        code: 'START_FAILED',
        message: `wattprint could not start measuring: ${describeError(error)}. The run goes on unmeasured.`,
      }
      this.#run.notes.push(warning.message)
      this.#run.intensity?.close()
      // The session, also when start() failed before it was the run's (its worker still starting).
      const session = this.#run.session ?? (await this.#starting?.catch(() => undefined))
      await session?.stop().catch(() => {})
      this.#run.session = undefined
      this.#run.ledger = undefined
      // Nothing will be measured: requests waiting for their record get it now, with what they have.
      this.#spans.finish()
      this.#warn(warning)
      this.#emit('error', warning)
    })
    return this.#startPromise
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
  async flush(): Promise<EmissionsRecord | null> {
    if (this.#startPromise) await this.#startPromise
    if (this.#state !== 'running') {
      this.#warn({
        code: 'NOT_RUNNING',
        message: `flush() called on a tracker that is ${this.#state}; nothing written.`,
      })
      return null
    }
    this.#readNow()
    const record = this.#record('running')
    await this.#sinks.flush(record)
    return record
  }

  /**
   * Starts a named task, a window: it sees the whole machine (overlapping tasks each get all of the energy
   * drawn in their time). Its energy and emissions are what stopTask() returns.
   */
  startTask(name: string): void {
    this.#tasks.start(name)
  }

  /** Stops a named task and returns its record; undefined (with a warning) for a task not started. */
  stopTask(name: string): TaskRecord | undefined {
    return this.#tasks.stop(name)
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
    return this.#progress.predict(progress, options)
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
    return measureCall(
      this.#spans,
      (f, name) => this.#tasks.measure(f, name),
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
    return this.#spans.open(name, options)
  }

  /**
   * Adds a listener. Listeners that throw are logged and never break the tracker. An unknown event name
   * or a listener that is not a function is a warning (with the close match), and nothing is registered.
   */
  on<E extends keyof TrackerEvents>(event: E, listener: Listener<E>): this {
    if (this.#badListener('on', event, listener)) return this
    this.#events.on(event, listener)
    if (event === 'sample') this.#run.session?.setLive(true)
    return this
  }

  /** Removes a listener. */
  off<E extends keyof TrackerEvents>(event: E, listener: Listener<E>): this {
    if (this.#badListener('off', event, listener)) return this
    this.#events.off(event, listener)
    if (event === 'sample') this.#run.session?.setLive(this.#wantsEveryInterval())
    return this
  }

  /** Adds a listener called at most once. */
  once<E extends keyof TrackerEvents>(event: E, listener: Listener<E>): this {
    if (this.#badListener('once', event, listener)) return this
    this.#events.once(event, listener)
    if (event === 'sample') this.#run.session?.setLive(true)
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
    this.#launches = true
    return (pid) => this.#commandStarted(pid)
  }

  /**
   * For `wattprint run --within`: call before start() with the run's schedule. Every record of the run
   * carries its fields, and the time it held the command paused is left out of the duration budget.
   *
   * @internal The CLI's, through a symbol the package does not export.
   */
  [scheduledBy](schedule: RunSchedule): void {
    this.#run.schedule = schedule
  }

  #commandStarted(pid: number): void {
    const attribution = this.#run.attribution
    const spec = attribution?.spec
    if (!attribution || !spec?.command) return
    const started = { ...spec, command: { pid } }
    this.#run.attribution = {
      ...attribution,
      spec: started,
      job: spec.kind === 'process' ? commandJob(pid) : attribution.job,
    }
    // A sampler that takes over from a failed worker reads the command too.
    const plan = this.#run.plan
    if (plan) this.#run.plan = { ...plan, specs: plan.specs.map((s) => (s === spec ? started : s)) }
    this.#run.session?.setJob(pid)
  }

  /** Ends the run with `status`; later calls return the first call's record. */
  [finishWith](status: RunStatus): Promise<EmissionsRecord> {
    this.#stopPromise ??= this.#finish(status)
    return this.#stopPromise
  }

  async #start(): Promise<void> {
    const config = this.config
    // Which meters exist is known in a millisecond: measuring begins at once, at a reading in this thread
    // (inline sampling's baseline, or the first reading the worker takes over from), and the worker is
    // spawned on the same plan, so that its start-up overlaps the slow look-ups started just after (system
    // description, intensity tables, the CPU TDP table), which only the estimates and the accounting need.
    const { attribution, plan } = planSampling(config, this.#launches)
    this.#run.attribution = attribution
    this.#run.plan = plan
    const inline = config.sampling === 'inline' ? this.#sampling.inline(plan) : undefined
    const first = inline ? undefined : this.#sampling.firstReading(plan)
    this.#run.cpuTimesAtStart = readCpuTimes(config.procStatPath)
    // Inline sampling where no worker can start, as soon as that is known. Handled at once, awaited later
    // (see the intensity's below).
    const starting = inline
      ? Promise.resolve(inline)
      : this.#sampling.spawnWorker(plan, first).then((worker) => worker ?? this.#sampling.inline(plan))
    starting.catch(() => {})
    this.#starting = starting
    const systemInfo = getSystemInfo()
    const intensity = resolveIntensity(config, { onLiveWarning: (warning) => this.#warn(warning) })
    // Handled at once, awaited later: a rejection with no handler yet would be an unhandledRejection,
    // which ends a Node process by default. The await below still sees the failure.
    intensity.catch(() => {})
    if (plan.pending.cpu || plan.pending.ram || plan.pending.rest) shippedCpuTable().catch(() => {})
    this.#run.notes.push(...plan.notes)
    for (const warning of [...plan.warnings, ...attribution.warnings]) this.#warn(warning)

    // The estimates' curves while the worker starts: they need the plan and the system, not the session.
    const [system, resolved] = await Promise.all([systemInfo, intensity])
    this.#run.system = system
    this.#run.intensity = resolved
    const tuning = await tuneEstimates(plan, system, {
      cpuPowerW: config.cpuPowerW,
      procRoot: config.procRoot,
      sysRoot: config.sysRoot,
      host: config.embodied?.host,
      instanceHost: instanceHostPlatform({
        provider: resolved.location.cloudProvider ?? null,
        type: config.cloudInstanceType ?? resolved.location.cloudInstanceType ?? null,
      }),
    })
    this.#run.watts = tuning.watts
    this.#run.estimate = tuning.estimate

    const session = await starting
    this.#run.session = session
    this.#starting = undefined
    // Every interval reaches the main thread as it happens only when someone listens for it, or a budget
    // must be checked as the run goes.
    session.setLive(this.#wantsEveryInterval())
    if (session.gpu) {
      this.#run.notes.push(...session.gpu.notes)
      for (const warning of session.gpu.warnings) this.#warn(warning)
    }
    for (const warning of resolved.warnings) this.#warn(warning)
    this.#run.notes.push(...tuning.notes)
    for (const warning of tuning.warnings) this.#warn(warning)
    this.#run.ledger = new Ledger(
      session.meters,
      config.pue,
      resolved.provider,
      attributionSetup(this.config, this.#run),
    )
    // What this thread spent starting since the baseline (the system's description, the CPU table and the
    // power model, the intensity tables) is the tracker's: with attribution, not the job's.
    const mainTicks = threadTicks(process.pid, process.pid, config.procRoot)
    if (mainTicks !== null) session.trackerStarted(mainTicks)
    // Batched intervals come once a checkpoint interval: one wake-up of this thread accounts and saves them.
    await session.run(tuning.watts, config.intervalMs, this.#guard ? config.checkpointIntervalMs : undefined)
    this.#state = this.#stopPromise ? 'stopping' : 'running'
    const now = resolved.provider.at(Date.now())
    this.#logger.info(
      `measuring ${session.meters.map((m) => `${m.component} by ${m.source}`).join(', ')}; ` +
        `intensity ${now.gPerKWh} g/kWh (${now.source}); ${session.mode} sampling every ${config.intervalMs} ms`,
    )
    if (this.#guard && this.#state === 'running') await this.#guard.begin()
    await this.#sinks.start()
  }

  /** The process is ending with the run still going: the run ends now; its record, for its row. */
  #endAtExit(status: RunStatus, note: string): EmissionsRecord {
    this.#readNow()
    this.#endSpans()
    this.#run.notes.push(note)
    const record = this.#record(status)
    this.#stopPromise ??= Promise.resolve(record)
    this.#state = 'stopped'
    return record
  }

  async #finish(status: RunStatus): Promise<EmissionsRecord> {
    if (this.#state === 'idle') {
      this.#warn({ code: 'NOT_RUNNING', message: 'stop() called before start(): nothing was measured.' })
      this.#state = 'stopped'
      return this.#record(status)
    }
    if (this.#startPromise) await this.#startPromise
    this.#state = 'stopping'
    this.#run.intensity?.close()
    // No more checkpoints once stopping; the exit hooks stay until the row is written.
    this.#guard?.stopCheckpoints()
    try {
      await this.#run.session?.stop()
    } catch (error) {
      this.#run.notes.push(`the final reading failed: ${describeError(error)}`)
      this.#warn({ code: 'WORKER_FAILED', message: `The final reading failed: ${describeError(error)}.` })
    }
    this.#endSpans()
    const budgetStatus = status === 'finished' && this.#budget.crossed ? 'budget-exceeded' : status
    const record = this.#record(this.#startFailed ? 'failed' : budgetStatus)
    this.#guard?.end()
    // The CSV's row among them (through the guard, which drops the checkpoint once the row is on disk).
    if (this.#run.session) await this.#sinks.stop(record)
    this.#state = 'stopped'
    this.#logger.info(summaryLine(record))
    return record
  }

  #wantsEveryInterval(): boolean {
    return (
      this.#events.has('sample') || this.config.budget !== null || this.#sinks.any || this.#spans.everUsed
    )
  }

  /** Measuring is over: spans still open end where it ended, with a note. */
  #endSpans(): void {
    const open = this.#spans.finish()
    if (open === 0) return
    const message = `${open} request span(s) were still open when the run ended; they were ended there.`
    this.#run.notes.push(message)
    this.#warn({ code: 'REQUESTS_OPEN', message })
  }

  #onInterval(report: IntervalReport): void {
    const ledger = this.#run.ledger
    if (!ledger) return
    const step = ledger.add(report)
    // Runs that never open a span pay nothing here: not even the interval's conversion to their clock.
    if (this.#spans.everUsed) this.#accountSpans(report, step)
    this.#guard?.checkpointIfDue()
    if (this.#budget.watching) this.#budget.check(ledger.totals())
    if (!this.#events.has('sample') && !this.#sinks.any) return
    const meters = this.#run.session?.meters ?? []
    const sample = toSampleEvent(report, step, ledger.totals(), meters, this.config.pue, this.#run.requests())
    this.#emit('sample', sample)
    this.#sinks.sample(sample)
  }

  /** Splits an accounted interval among the request spans open in it. */
  #accountSpans(report: IntervalReport, step: LedgerStep): void {
    this.#spans.account({
      startMs: this.#spanMs(report.startNs),
      endMs: this.#spanMs(report.endNs),
      energyJ: step.energyKWh * JOULES_PER_KWH,
      cpuJ: step.joules.cpu * this.config.pue,
      gpuJ: step.joules.gpu * this.config.pue,
      ramJ: step.joules.ram * this.config.pue,
      emissionsKg: step.emissionsKg,
    })
  }

  /** Whether on/off/once(event, listener) was given what it cannot use (then warned about it). */
  #badListener(call: string, event: unknown, listener: unknown): boolean {
    const problem = listenerProblem(call, event, listener)
    if (problem)
      this.#warn(invalidArgument(`${problem}; nothing ${call === 'off' ? 'removed' : 'registered'}`))
    return problem !== null
  }

  #readNow(): void {
    this.#sampling.readNow()
  }

  #record(status: RunStatus): EmissionsRecord {
    return assembleRecord(this.config, this.#run, status)
  }

  #warn(warning: TrackerWarning): void {
    logWarning(this.#logger, warning)
    this.#emit('warning', warning)
  }

  #emit<E extends keyof TrackerEvents>(event: E, payload: TrackerEvents[E]): void {
    this.#events.emit(event, payload)
  }
}
