import { difference, type LedgerTotals } from '../accounting/ledger.js'
import { toMeasurement } from '../accounting/record.js'
import type { ResolvedConfig } from '../config/config.js'
import { invalidArgument, show } from '../core/arguments.js'
import { WattprintError } from '../core/errors.js'
import type { TrackerWarning } from '../core/warnings.js'
import type { TaskRecord } from '../model/record.js'
import { taskNameProblem } from './arguments.js'
import { intensityNow, meterFactors, type RunParts, runLoad } from './run-record.js'

/** What the tasks need of their tracker. */
export interface TaskHost {
  readonly config: Pick<ResolvedConfig, 'runId' | 'pue' | 'procStatPath'>
  readonly parts: RunParts
  /** Where the tracker is in its life; tasks start only while it is `running`. */
  state(): string
  readNow(): void
  warn(warning: TrackerWarning): void
}

/** A run's named tasks: the totals at each one's start, so that its stop can say what it cost. */
export class TaskBook {
  readonly #open = new Map<string, { totals: LedgerTotals; startedAt: Date }>()
  #measures = 0

  constructor(private readonly host: TaskHost) {}

  /** Starts a named task (startTask); whether it started. */
  start(name: string): boolean {
    const host = this.host
    const problem = taskNameProblem('startTask', name)
    if (problem) {
      host.warn(invalidArgument(`${problem}; no task started`))
      return false
    }
    const ledger = host.parts.ledger
    if (!ledger || host.state() !== 'running') {
      host.warn({
        code: 'NOT_RUNNING',
        message: `startTask('${name}') called on a tracker that is ${host.state()}.`,
      })
      return false
    }
    if (this.#open.has(name)) {
      host.warn({
        code: 'TASK_RESTARTED',
        message: `Task '${name}' was already running; it starts over now.`,
      })
    }
    host.readNow()
    this.#open.set(name, { totals: ledger.totals(), startedAt: new Date() })
    return true
  }

  /** Stops a named task and returns its record (stopTask). */
  stop(name: string): TaskRecord | undefined {
    const host = this.host
    const problem = taskNameProblem('stopTask', name)
    if (problem) {
      host.warn(invalidArgument(`${problem}; no task stopped`))
      return undefined
    }
    const task = this.#open.get(name)
    const { ledger, session } = host.parts
    if (!task || !ledger || !session) {
      host.warn({ code: 'UNKNOWN_TASK', message: `stopTask('${name}'): no such task is running.` })
      return undefined
    }
    this.#open.delete(name)
    host.readNow()
    const spent = difference(ledger.totals(), task.totals)
    const factors = meterFactors(host.parts, runLoad(host.config, host.parts))
    const measurement = toMeasurement(
      spent,
      session.meters,
      host.config.pue,
      intensityNow(host.parts),
      factors,
    )
    return {
      taskName: name,
      runId: host.config.runId,
      startedAt: task.startedAt.toISOString(),
      endedAt: new Date().toISOString(),
      ...measurement,
    }
  }

  /** Runs `fn` as a task and returns its result with the task's record (measure). */
  async measure<T>(
    fn: () => T | Promise<T>,
    name?: string,
  ): Promise<{ result: T; task: TaskRecord | undefined }> {
    if (typeof fn !== 'function') {
      throw new WattprintError(
        'INVALID_ARGUMENT',
        `measure(fn): fn must be the function to measure, got ${show(fn)}.`,
        'fn',
      )
    }
    let taskName = `measure-${++this.#measures}`
    if (name !== undefined) {
      const problem = taskNameProblem('measure', name)
      if (problem) this.host.warn(invalidArgument(`${problem}; measured as '${taskName}'`))
      else taskName = name
    }
    // A task that could not start (the tracker is not running: warned once) is not stopped either.
    const started = this.start(taskName)
    try {
      const result = await fn()
      return { result, task: started ? this.stop(taskName) : undefined }
    } catch (error) {
      if (started) this.stop(taskName)
      throw error
    }
  }
}
