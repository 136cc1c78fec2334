import type { TrackerWarning } from '../core/warnings.js'
import type { GpuReport } from '../meters/gpu.js'
import type { EstimateWatts } from '../meters/meter.js'
import type { IntervalReport, MeterDescription } from '../model/interval.js'

/** Where a sampling session delivers what it measures. */
export interface SamplingCallbacks {
  onInterval(report: IntervalReport): void
  onWarning(warning: TrackerWarning): void
  /** Sampling died mid-run (the worker crashed); the tracker decides what to do next. */
  onFailure(message: string): void
}

/** A running sampler, in a worker thread or inline. */
export interface SamplingSession {
  readonly mode: 'worker' | 'inline'
  /** process.hrtime.bigint() of the baseline reading. */
  readonly t0Ns: bigint
  readonly meters: readonly MeterDescription[]
  /** What GPU detection found (in the sampler's thread); null when no GPU spec was given. */
  readonly gpu: GpuReport | null
  /**
   * Gives estimate meters their wattage (by meter id) and starts the schedule. No interval closes
   * before this: the baseline is taken first so measuring starts at once, and the slow look-ups that
   * estimates need arrive here, exact for the whole first interval since estimates are interval averages.
   * Batched intervals (see setLive) reach onInterval about every `batchMs`.
   */
  run(watts: EstimateWatts, intervalMs: number, batchMs?: number): Promise<void>
  /**
   * Takes a reading now, synchronously: the interval it closes has been delivered to onInterval when this
   * returns true. False when the sampler did not answer in time (the last delivered data stands).
   */
  readNow(): boolean
  /**
   * Whether every interval must reach onInterval as it closes (someone listens to `sample` events), or may
   * come in batches (every `batchMs`, and at once on readNow() and stop()), which spares the main thread
   * a wake-up per sample.
   */
  setLive(live: boolean): void
  /** `wattprint run`'s command has started as `pid`: the job (with attribution) is its process tree from now on. */
  setJob(pid: number): void
  /**
   * The tracker finished starting, its main thread then at `mainTicks` of CPU: what that thread used since
   * the baseline is the tracker's, taken off the job's with attribution.
   */
  trackerStarted(mainTicks: number): void
  /** Takes the final reading (delivered to onInterval), closes the meters and ends the session. */
  stop(): Promise<void>
}
