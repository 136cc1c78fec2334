import { join } from 'node:path'
import { Ledger, type LedgerStep } from '../accounting/ledger.js'
import { commandJob } from '../attribution/plan.js'
import { threadTicks } from '../attribution/process-tree.js'
import type { ResolvedConfig } from '../config/config.js'
import { describeError } from '../core/errors.js'
import type { Logger } from '../core/log.js'
import { JOULES_PER_KWH } from '../core/units.js'
import type { TrackerWarning } from '../core/warnings.js'
import { takeRole } from '../distributed/role.js'
import { shippedCpuTable } from '../estimates/cpu-tdp-table.js'
import { instanceHostPlatform } from '../footprint/guest-host.js'
import { resolveIntensity } from '../intensity/resolve.js'
import { tuneEstimates } from '../meters/detect.js'
import type { Prediction, TrackerEvents } from '../model/events.js'
import type { IntervalReport } from '../model/interval.js'
import type { EmissionsRecord, RunStatus } from '../model/record.js'
import { CsvSink } from '../output/csv/sink.js'
import { SinkFanout } from '../output/fanout.js'
import { summaryLine } from '../output/format.js'
import { readCpuTimes } from '../platform/cpu-load.js'
import { getSystemInfo } from '../platform/system.js'
import { SpanBook, spanClock } from '../requests/book.js'
import type { SamplingSession } from '../sampling/session.js'
import { planSampling, SamplingSupervisor } from '../sampling/supervisor.js'
import { BudgetWatch } from './budget-watch.js'
import { CrashGuard } from './crash-guard.js'
import { type TrackerEmitter, toSampleEvent } from './events.js'
import { describePrediction, ProgressForecast } from './progress.js'
import {
  assembleRecord,
  attributionSetup,
  jobFields,
  noRunParts,
  type RunParts,
  type RunSchedule,
} from './run-record.js'
import { TaskBook } from './tasks.js'
import type { TrackerState } from './types.js'

/** What a run needs of its tracker: the options in force, its log, its events and its warning channel. */
export interface RunHost {
  readonly config: ResolvedConfig
  readonly logger: Logger
  readonly events: TrackerEmitter
  warn(warning: TrackerWarning): void
}

/**
 * One tracker's run: its parts (the sampler, the ledger, the tasks, the request spans, the budget, the
 * crash guard, the sinks) and the sequence that owns them, from start() to stop(). The public class
 * (tracker.ts) holds one and says what each call means; this holds the order in which things happen.
 */
export class TrackerRun {
  /** Where the run is in its life. */
  state: TrackerState = 'idle'
  /** The run's parts, filled in as start() gets them. */
  readonly parts: RunParts = noRunParts()
  readonly tasks: TaskBook
  readonly progress: ProgressForecast
  readonly budget: BudgetWatch
  readonly spans: SpanBook
  readonly #host: RunHost
  readonly #sampling: SamplingSupervisor
  #startPromise: Promise<void> | undefined
  #stopPromise: Promise<EmissionsRecord> | undefined
  /** The session start() is starting, until it is the run's (so that a failed start can stop it). */
  #starting: Promise<SamplingSession> | undefined
  #startFailed = false
  /** Keeps the run from being lost, when its row goes to a CSV. */
  readonly #guard: CrashGuard | undefined
  /** The CSV's (through the guard) and the user's. */
  readonly #sinks: SinkFanout
  /** The sampler's clock to the spans'. */
  readonly #spanMs = spanClock()
  /** Whether this process starts the job (`wattprint run`: see tracker.ts's `launcher`). */
  #launches = false
  /** Gives back the node's measurer lock, when this rank holds it (distributed). */
  #releaseRole: () => void = () => {}

  constructor(host: RunHost) {
    this.#host = host
    const { config } = host
    const warn = (warning: TrackerWarning) => host.warn(warning)
    // What the parts below need of the run: each takes its own slice of it.
    const run = {
      config,
      parts: this.parts,
      state: () => this.state,
      readNow: () => this.readNow(),
      record: (status: RunStatus) => this.record(status),
      endAtExit: (status: RunStatus, note: string) => this.#endAtExit(status, note),
      onInterval: (report: IntervalReport) => this.#onInterval(report),
      warn,
      predicted: (prediction: Prediction) => {
        host.logger.info(describePrediction(prediction))
        this.#emit('prediction', prediction)
      },
    }
    this.#sampling = new SamplingSupervisor(config.intervalMs, run)
    this.tasks = new TaskBook(run)
    const csv = config.saveToFile ? new CsvSink(join(config.outputDir, config.outputFile), warn) : undefined
    this.#guard = csv ? new CrashGuard(config, csv, run) : undefined
    const sinks = this.#guard ? [this.#guard.sink(), ...config.sinks] : config.sinks
    this.#sinks = new SinkFanout(sinks, config, warn)
    this.budget = new BudgetWatch(
      config.budget,
      (event) => {
        this.parts.notes.push(event.message)
        host.logger.warning(event.message)
        this.#emit('budget', event)
      },
      config.emissionsScope,
      () => this.parts.schedule?.heldPausedS() ?? 0,
    )
    this.progress = new ProgressForecast(run, this.budget)
    this.spans = new SpanBook({
      runId: config.runId,
      measuring: () => !this.#startFailed && (this.state === 'starting' || this.state === 'running'),
      used: () => this.parts.session?.setLive(true),
      wantsRecords: () => host.events.has('request') || this.#sinks.any,
      onSettled: (record) => {
        this.#emit('request', record)
        this.#sinks.request(record)
      },
      warn,
      readNow: () => this.readNow(),
    })
    this.parts.requests = () => (this.spans.everUsed ? this.spans.totals() : null)
  }

  /** Starts measuring (see EmissionsTracker.start); a second call gets the first's promise. */
  start(): Promise<void> {
    if (this.state !== 'idle') {
      this.#host.warn({
        code: 'ALREADY_STARTED',
        message: `start() called on a tracker that is ${this.state}; ignored.`,
      })
      return this.#startPromise ?? Promise.resolve()
    }
    this.state = 'starting'
    this.#startPromise = this.#start().catch(async (error: unknown) => {
      this.#startFailed = true
      const warning: TrackerWarning = {
        code: 'START_FAILED',
        message: `wattprint could not start measuring: ${describeError(error)}. The run goes on unmeasured.`,
      }
      this.parts.notes.push(warning.message)
      this.parts.intensity?.close()
      // A run that never measured writes no row (see #finish): its checkpoint, if one was written, goes;
      // and it measures no node, so the node's lock goes back for a rank that can.
      this.#guard?.abandon()
      this.#releaseRole()
      // The session, also when start() failed before it was the run's (its worker still starting).
      const session = this.parts.session ?? (await this.#starting?.catch(() => undefined))
      await session?.stop().catch(() => {})
      this.parts.session = undefined
      this.parts.ledger = undefined
      // Nothing will be measured: requests waiting for their record get it now, with what they have.
      this.spans.finish()
      this.#host.warn(warning)
      this.#emit('error', warning)
    })
    return this.#startPromise
  }

  /** Ends the run with `status`; later calls return the first call's record. */
  finish(status: RunStatus): Promise<EmissionsRecord> {
    this.#stopPromise ??= this.#finish(status)
    return this.#stopPromise
  }

  /** A row of the totals so far (status `running`) to every sink's flush; null when not running. */
  async flush(): Promise<EmissionsRecord | null> {
    if (this.#startPromise) await this.#startPromise
    if (this.state !== 'running') {
      this.#host.warn({
        code: 'NOT_RUNNING',
        message: `flush() called on a tracker that is ${this.state}; nothing written.`,
      })
      return null
    }
    this.readNow()
    const record = this.record('running')
    await this.#sinks.flush(record)
    return record
  }

  /** The tracker's `sample` listeners changed: intervals reach this thread as they happen only if wanted. */
  listenersChanged(): void {
    this.parts.session?.setLive(this.#wantsEveryInterval())
  }

  /** This process starts the job (`wattprint run`); the function takes the command's pid once spawned. */
  launches(): (pid: number) => void {
    this.#launches = true
    return (pid) => this.#commandStarted(pid)
  }

  /** `run --within`'s schedule, given before start(). */
  scheduledBy(schedule: RunSchedule): void {
    this.parts.schedule = schedule
  }

  /** A reading now, so that what follows is up to date. */
  readNow(): void {
    this.#sampling.readNow()
  }

  /** The run's record so far, with this status. */
  record(status: RunStatus): EmissionsRecord {
    return assembleRecord(this.#host.config, this.parts, status)
  }

  #commandStarted(pid: number): void {
    const attribution = this.parts.attribution
    const spec = attribution?.spec
    if (!attribution || !spec?.command) return
    const started = { ...spec, command: { pid } }
    this.parts.attribution = {
      ...attribution,
      spec: started,
      job: spec.kind === 'process' ? commandJob(pid) : attribution.job,
    }
    // A sampler that takes over from a failed worker reads the command too.
    const plan = this.parts.plan
    if (plan) this.parts.plan = { ...plan, specs: plan.specs.map((s) => (s === spec ? started : s)) }
    this.parts.session?.setJob(pid)
  }

  async #start(): Promise<void> {
    const config = this.#host.config
    // Which meters exist is known in a millisecond: measuring begins at once, at a reading in this thread
    // (inline sampling's baseline, or the first reading the worker takes over from), and the worker is
    // spawned on the same plan, so that its start-up overlaps the slow look-ups started just after (system
    // description, intensity tables, the CPU TDP table), which only the estimates and the accounting need.
    const { attribution, plan } = this.#planSampling(config)
    this.parts.attribution = attribution
    this.parts.plan = plan
    const inline = config.sampling === 'inline' ? this.#sampling.inline(plan) : undefined
    const first = inline ? undefined : this.#sampling.firstReading(plan)
    this.parts.cpuTimesAtStart = readCpuTimes(config.procStatPath)
    // Inline sampling where no worker can start, as soon as that is known. Handled at once, awaited later
    // (see the intensity's below).
    const starting = inline
      ? Promise.resolve(inline)
      : this.#sampling.spawnWorker(plan, first).then((worker) => worker ?? this.#sampling.inline(plan))
    starting.catch(() => {})
    this.#starting = starting
    const systemInfo = getSystemInfo()
    const intensity = resolveIntensity(config, { onLiveWarning: (warning) => this.#host.warn(warning) })
    // Handled at once, awaited later: a rejection with no handler yet would be an unhandledRejection,
    // which ends a Node process by default. The await below still sees the failure.
    intensity.catch(() => {})
    if (plan.pending.cpu || plan.pending.ram || plan.pending.rest) shippedCpuTable().catch(() => {})
    this.parts.notes.push(...plan.notes)
    for (const warning of [...plan.warnings, ...attribution.warnings]) this.#host.warn(warning)

    // The estimates' curves while the worker starts: they need the plan and the system, not the session.
    const [system, resolved] = await Promise.all([systemInfo, intensity])
    this.parts.system = system
    this.parts.intensity = resolved
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
    this.parts.watts = tuning.watts
    this.parts.estimate = tuning.estimate
    // Guarded from here, while the worker still starts on another core: the first checkpoint (the run's
    // place, intensity and notes; nothing measured yet), the exit hooks and the recovery of dead runs' rows
    // are off start()'s path. A crash before the first batch recovers a row of zero energy: the run, named.
    if (this.#guard && !this.#stopPromise) await this.#guard.begin()

    const session = await starting
    this.parts.session = session
    this.#starting = undefined
    // Every interval reaches the main thread as it happens only when someone listens for it, or a budget
    // must be checked as the run goes.
    session.setLive(this.#wantsEveryInterval())
    if (session.gpu) {
      this.parts.notes.push(...session.gpu.notes)
      for (const warning of session.gpu.warnings) this.#host.warn(warning)
    }
    for (const warning of resolved.warnings) this.#host.warn(warning)
    this.parts.notes.push(...tuning.notes)
    for (const warning of tuning.warnings) this.#host.warn(warning)
    this.parts.ledger = new Ledger(
      session.meters,
      config.pue,
      resolved.provider,
      attributionSetup(config, this.parts),
    )
    // What this thread spent starting since the baseline (the system's description, the CPU table and the
    // power model, the intensity tables) is the tracker's: with attribution, not the job's.
    const mainTicks = threadTicks(process.pid, process.pid, config.procRoot)
    if (mainTicks !== null) session.trackerStarted(mainTicks)
    // Batched intervals come once a checkpoint interval: one wake-up of this thread accounts and saves them.
    await session.run(tuning.watts, config.intervalMs, this.#guard ? config.checkpointIntervalMs : undefined)
    this.state = this.#stopPromise ? 'stopping' : 'running'
    const now = resolved.provider.at(Date.now())
    this.#host.logger.info(
      `measuring ${session.meters.map((m) => `${m.component} by ${m.source}`).join(', ')}; ` +
        `intensity ${now.gPerKWh} g/kWh (${now.source}); ${session.mode} sampling every ${config.intervalMs} ms`,
    )
    await this.#sinks.start(jobFields(config.job, this.parts.role))
  }

  /**
   * What the run samples: its meters and attribution, as this rank's role in its job (distributed) makes
   * them. A node's measurer samples as alone; a rank counting its own share is attributed to its process
   * tree (where no attribution was asked for); a deferring rank samples nothing, its node's measurer
   * counting it.
   */
  #planSampling(config: ResolvedConfig): ReturnType<typeof planSampling> {
    // No job: outside a launcher, or distributed 'off' (resolveConfig leaves it null).
    if (!config.job) return planSampling(config, this.#launches)
    // A rank given an attribution of its own counts its own share, as asked (as per-rank does): deferring
    // would leave the node to a local rank 0 that counts only its own share too.
    const perRank = config.distributed === 'per-rank' || config.attribution.kind !== 'machine'
    const role = takeRole(config.job, perRank ? 'per-rank' : 'auto')
    this.#releaseRole = role.release
    this.parts.role = role.role
    this.parts.notes.push(role.note)
    if (role.role === 'rank' && config.attribution.kind === 'machine') {
      return planSampling({ ...config, attribution: { kind: 'process', pid: process.pid } }, this.#launches)
    }
    const planned = planSampling(config, this.#launches)
    if (role.role !== 'deferred') return planned
    const plan = { ...planned.plan, specs: [], pending: { cpu: false, ram: false, rest: false } }
    return { attribution: { spec: null, job: 'the machine', warnings: [] }, plan }
  }

  /** The process is ending with the run still going: the run ends now; its record, for its row. */
  #endAtExit(status: RunStatus, note: string): EmissionsRecord {
    this.readNow()
    this.#endSpans()
    this.parts.notes.push(note)
    const record = this.record(status)
    this.#stopPromise ??= Promise.resolve(record)
    this.state = 'stopped'
    this.#releaseRole()
    return record
  }

  async #finish(status: RunStatus): Promise<EmissionsRecord> {
    if (this.state === 'idle') {
      this.#host.warn({ code: 'NOT_RUNNING', message: 'stop() called before start(): nothing was measured.' })
      this.state = 'stopped'
      return this.record(status)
    }
    if (this.#startPromise) await this.#startPromise
    this.state = 'stopping'
    this.parts.intensity?.close()
    // No more checkpoints once stopping; the exit hooks stay until the row is written.
    this.#guard?.stopCheckpoints()
    try {
      await this.parts.session?.stop()
    } catch (error) {
      this.parts.notes.push(`the final reading failed: ${describeError(error)}`)
      this.#host.warn({
        code: 'WORKER_FAILED',
        message: `The final reading failed: ${describeError(error)}.`,
      })
    }
    this.#endSpans()
    const budgetStatus = status === 'finished' && this.budget.crossed ? 'budget-exceeded' : status
    const record = this.record(this.#startFailed ? 'failed' : budgetStatus)
    this.#guard?.end()
    // The CSV's row among them (through the guard, which drops the checkpoint once the row is on disk).
    if (this.parts.session) await this.#sinks.stop(record)
    this.state = 'stopped'
    this.#releaseRole()
    this.#host.logger.info(summaryLine(record))
    return record
  }

  #wantsEveryInterval(): boolean {
    return (
      this.#host.events.has('sample') ||
      this.#host.config.budget !== null ||
      this.#sinks.any ||
      this.spans.everUsed
    )
  }

  /** Measuring is over: spans still open end where it ended, with a note. */
  #endSpans(): void {
    const open = this.spans.finish()
    if (open === 0) return
    const message = `${open} request span(s) were still open when the run ended; they were ended there.`
    this.parts.notes.push(message)
    this.#host.warn({ code: 'REQUESTS_OPEN', message })
  }

  #onInterval(report: IntervalReport): void {
    const ledger = this.parts.ledger
    if (!ledger) return
    const step = ledger.add(report)
    // Runs that never open a span pay nothing here: not even the interval's conversion to their clock.
    if (this.spans.everUsed) this.#accountSpans(report, step)
    this.#guard?.checkpointIfDue()
    if (this.budget.watching) this.budget.check(ledger.totals())
    if (!this.#host.events.has('sample') && !this.#sinks.any) return
    const meters = this.parts.session?.meters ?? []
    const pue = this.#host.config.pue
    const sample = toSampleEvent(report, step, ledger.totals(), meters, pue, this.parts.requests())
    this.#emit('sample', sample)
    this.#sinks.sample(sample)
  }

  /** Splits an accounted interval among the request spans open in it. */
  #accountSpans(report: IntervalReport, step: LedgerStep): void {
    const pue = this.#host.config.pue
    this.spans.account({
      startMs: this.#spanMs(report.startNs),
      endMs: this.#spanMs(report.endNs),
      energyJ: step.energyKWh * JOULES_PER_KWH,
      cpuJ: step.joules.cpu * pue,
      gpuJ: step.joules.gpu * pue,
      ramJ: step.joules.ram * pue,
      emissionsKg: step.emissionsKg,
    })
  }

  #emit<E extends keyof TrackerEvents>(event: E, payload: TrackerEvents[E]): void {
    this.#host.events.emit(event, payload)
  }
}
