import type { ResolvedConfig } from '../config/config.js'
import type { TrackerWarning } from '../core/warnings.js'
import type { EmissionsRecord, RunStatus } from '../model/record.js'
import { CheckpointKeeper } from '../output/checkpoint-keeper.js'
import type { CsvSink } from '../output/csv/sink.js'
import { recoverCheckpoints } from '../output/recovery.js'
import type { Sink } from '../output/sink.js'
import { registerExitHooks } from '../platform/process-hooks.js'

/** What the guard needs of the run it guards. */
export interface GuardedRun {
  /** Takes a reading now, so that the record is up to date. */
  readNow(): void
  /** The run's record so far, with this status. */
  record(status: RunStatus): EmissionsRecord
  /** Where the tracker is in its life (`stopping` once stop() has begun). */
  state(): string
  /** The process is ending with the run still going: the run ends now, with this note; its record. */
  endAtExit(status: RunStatus, note: string): EmissionsRecord
  warn(warning: TrackerWarning): void
}

/** The options the guard reads. */
export type GuardConfig = Pick<
  ResolvedConfig,
  'runId' | 'outputDir' | 'outputFile' | 'intervalMs' | 'checkpointIntervalMs'
>

/**
 * Keeps a run whose row goes to a CSV from being lost ("never lose a run"): a checkpoint of it on disk
 * every checkpointIntervalMs, its final row written when the process ends without stop() (exit, SIGINT,
 * SIGTERM, SIGHUP, SIGQUIT), and the rows of earlier runs in the folder whose process died, recovered at start.
 */
export class CrashGuard {
  readonly #config: GuardConfig
  readonly #csv: CsvSink
  readonly #run: GuardedRun
  /** The run's checkpoint. */
  readonly #keeper: CheckpointKeeper
  /** Date.now() of the last checkpoint while checkpoints are on; undefined when they are off. */
  #checkpointAtMs: number | undefined
  #checkpointQueued = false
  #unregisterExitHooks: (() => void) | undefined
  /** Set once the run's final row is on disk (or, failing that, in its checkpoint). */
  #finalRowSaved = false

  constructor(config: GuardConfig, csv: CsvSink, run: GuardedRun) {
    this.#config = config
    this.#csv = csv
    this.#run = run
    const { runId, outputDir, outputFile } = config
    this.#keeper = new CheckpointKeeper({ runId, outputDir, outputFile }, (w) => run.warn(w))
  }

  /**
   * Starts guarding the running run: a checkpoint now and every checkpointIntervalMs (see checkpointIfDue),
   * the final row written on SIGINT, SIGTERM, SIGHUP, SIGQUIT or process exit, and the rows of earlier runs in this folder
   * whose process died.
   */
  async begin(): Promise<void> {
    this.#checkpointAtMs = Date.now()
    this.#saveCheckpoint()
    this.#unregisterExitHooks = registerExitHooks({
      onExit: (code) =>
        this.#saveAtExit(
          code === 0 ? 'finished' : 'failed',
          `the process exited (code ${code}) ${this.#run.state() === 'stopping' ? 'before stop() finished' : 'without stop()'}`,
        ),
      onSignal: (signal, fatal) => {
        if (fatal) this.#saveAtExit('interrupted', `stopped by ${signal}`)
        else this.#saveCheckpoint(true)
      },
    })
    for (const outcome of await recoverCheckpoints(this.#config.outputDir, (w) => this.#run.warn(w))) {
      if (outcome.outcome !== 'recovered') continue
      this.#run.warn({
        code: 'RUN_RECOVERED',
        message: outcome.final
          ? `The row of run ${outcome.runId} (${outcome.record?.status}), kept because its CSV could not take it, was ${outcome.detail}.`
          : `Run ${outcome.runId} was interrupted (its process died); its row, up to its last checkpoint, was ${outcome.detail}.`,
      })
    }
  }

  /**
   * Once a checkpoint interval, after intervals were accounted (a worker's batch, which it posts once a
   * checkpoint interval, or an inline sample): no timer and no reading of its own, which would wake both
   * threads for what the next batch brings anyway. A checkpoint is at most a checkpoint interval (or one
   * sampling interval, when that is longer) behind the run.
   */
  checkpointIfDue(): void {
    const lastMs = this.#checkpointAtMs
    if (lastMs === undefined || this.#checkpointQueued) return
    // Half an interval early is on time: batches arrive on the sampler's ticks, not on this clock.
    const slackMs = Math.min(this.#config.intervalMs, this.#config.checkpointIntervalMs) / 2
    if (Date.now() - lastMs + slackMs < this.#config.checkpointIntervalMs) return
    // After the rest of the batch being delivered now.
    this.#checkpointQueued = true
    queueMicrotask(() => {
      this.#checkpointQueued = false
      if (this.#checkpointAtMs === undefined) return
      this.#checkpointAtMs = Date.now()
      this.#saveCheckpoint()
    })
  }

  /** No more checkpoints (the run is stopping); the exit hooks stay until the row is written. */
  stopCheckpoints(): void {
    this.#checkpointAtMs = undefined
  }

  /** The run could not start and writes no row: the guard ends and its checkpoint goes. */
  abandon(): void {
    this.end()
    this.#finalRowSaved = true
    this.#keeper.drop()
  }

  /** Ends the guard: no more checkpoints, and the exit hooks removed. */
  end(): void {
    this.#checkpointAtMs = undefined
    this.#unregisterExitHooks?.()
    this.#unregisterExitHooks = undefined
  }

  /**
   * The run's CSV as one of its sinks: its rows at flush() and stop() go through the guard, which keeps
   * the checkpoint until the final row is on disk (and writes it at exit when stop() never comes).
   */
  sink(): Sink {
    return {
      name: this.#csv.name,
      start: (context) => this.#csv.start(context),
      flush: (record) => this.#csv.flush(record),
      stop: (record) => this.saveFinal(record),
    }
  }

  /** Appends the run's final row, unless it was written already (as the process ended). */
  async saveFinal(record: EmissionsRecord): Promise<void> {
    if (this.#finalRowSaved) return
    this.#finalRowSaved = true
    this.#settle(await this.#csv.append(record), record)
  }

  /** Writes the run's state to its checkpoint file (see CheckpointKeeper), after a fresh reading if asked. */
  #saveCheckpoint(fresh = false): void {
    if (fresh) this.#run.readNow()
    this.#keeper.save(false, this.#run.record('running'))
  }

  /** The process is ending with the run still going: write its row now, synchronously. */
  #saveAtExit(status: RunStatus, why: string): void {
    if (this.#finalRowSaved) return
    this.#finalRowSaved = true
    this.end()
    const record = this.#run.endAtExit(status, `row written as the process ended: ${why}`)
    this.#settle(this.#csv.appendSync(record), record)
  }

  /** The row is in the CSV: its checkpoint goes; it could not be written: the checkpoint keeps it. */
  #settle(appended: boolean, record: EmissionsRecord): void {
    if (appended) this.#keeper.drop()
    else this.#keeper.keepRow(record)
  }
}
