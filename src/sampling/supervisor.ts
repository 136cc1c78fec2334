import { type AttributionConfig, type AttributionPlan, planAttribution } from '../attribution/plan.js'
import { describeError } from '../core/errors.js'
import type { TrackerWarning } from '../core/warnings.js'
import { type DetectOptions, type MeterPlan, planMeters } from '../meters/detect.js'
import type { EstimateWatts } from '../meters/meter.js'
import type { IntervalReport } from '../model/interval.js'
import { samplerWorkerUrl } from '../platform/worker-location.js'
import type { SamplerSpec } from './build.js'
import { FirstReading } from './first-reading.js'
import { InlineSampling } from './inline.js'
import type { SamplingCallbacks, SamplingSession } from './session.js'
import { WorkerSampling } from './worker-session.js'

/** The meters' plan with the attribution reader's spec among them: what the sampler builds. */
export type SamplingPlan = MeterPlan<SamplerSpec>

/** What a run samples: its meters, and its attribution reader among their specs (see planAttribution). */
export function planSampling(
  config: AttributionConfig & DetectOptions,
  launcher = false,
): { attribution: AttributionPlan; plan: SamplingPlan } {
  const attribution = planAttribution(config, launcher)
  const meterPlan = planMeters(config)
  // The attribution reader travels with the meter specs: it is built and read in the sampler thread too.
  const plan = attribution.spec ? { ...meterPlan, specs: [...meterPlan.specs, attribution.spec] } : meterPlan
  return { attribution, plan }
}

/**
 * The parts of a run the supervisor keeps: it replaces `session` when the worker dies, and adds notes
 * (the tracker's run parts are these and more).
 */
export interface SupervisedParts {
  /** What the record's notes say, in the order it was learnt. */
  readonly notes: string[]
  readonly plan: SamplingPlan | undefined
  session: SamplingSession | undefined
  readonly ledger: { totals(): { readonly durationS: number } } | undefined
  /** Model meters' curves by meter id, once known. */
  readonly watts: EstimateWatts
}

/** What the supervisor needs of the tracker whose sampling it runs. */
export interface SupervisedRun {
  /** The run's parts: the supervisor replaces `session` when the worker dies, and adds notes. */
  readonly parts: SupervisedParts
  onInterval(report: IntervalReport): void
  warn(warning: TrackerWarning): void
  /** Where the tracker is in its life: a worker that dies while `running` is replaced by inline sampling. */
  state(): string
}

/**
 * Runs a tracker's sampling: in a worker thread where one can start, else on the main thread, and
 * inline from the moment a worker dies mid-run. Every failure is a note and a warning, never a throw.
 */
export class SamplingSupervisor {
  constructor(
    private readonly intervalMs: number,
    private readonly run: SupervisedRun,
  ) {}

  /**
   * The run's first reading, taken now in this thread, for the worker to take over from (see
   * FirstReading); undefined where it cannot (the run is attributed to a job) or failed.
   */
  firstReading(plan: SamplingPlan): FirstReading | undefined {
    if (!FirstReading.possible(plan.specs)) return undefined
    try {
      return new FirstReading(plan.specs, this.#callbacks().onWarning)
    } catch {
      // The worker's own first reading stands: measuring begins a little later, nothing else is lost.
      return undefined
    }
  }

  /**
   * Starts the worker sampler and its baseline, taking over from `first` where it can; undefined (with a
   * warning, `first` closed) when it cannot run.
   */
  async spawnWorker(plan: SamplingPlan, first?: FirstReading): Promise<SamplingSession | undefined> {
    const url = samplerWorkerUrl()
    if (!url) {
      first?.close()
      this.#workerUnavailable('the sampler worker file (worker.js) is missing next to the bundle')
      return undefined
    }
    let worker: WorkerSampling | undefined
    try {
      worker = new WorkerSampling(url, this.#callbacks())
      return await worker.begin(plan.specs, first)
    } catch (error) {
      first?.close()
      await worker?.stop().catch(() => {})
      this.#workerUnavailable(describeError(error))
      return undefined
    }
  }

  /** A sampler on the main thread (its baseline taken now). */
  inline(plan: SamplingPlan): SamplingSession {
    return new InlineSampling(plan.specs, this.#callbacks())
  }

  /** Takes a reading now; a sampler that does not answer in time is a warning. */
  readNow(): void {
    const session = this.run.parts.session
    if (session && !session.readNow()) {
      this.run.warn({
        code: 'SNAPSHOT_TIMEOUT',
        message: 'The sampler did not answer in time; the figures are as of its last interval.',
      })
    }
  }

  #callbacks(): SamplingCallbacks {
    const notes = this.run.parts.notes
    return {
      onInterval: (report) => this.run.onInterval(report),
      onWarning: (warning) => {
        // What a meter could not read belongs in the row too (a GPU lost, nvidia-smi restarted …).
        if (warning.code === 'METER_READ_FAILED' && notes.length < 50 && !notes.includes(warning.message)) {
          notes.push(warning.message)
        }
        this.run.warn(warning)
      },
      onFailure: (message) => this.#onFailure(message),
    }
  }

  /** The worker died mid-run: go on sampling inline, and say how long nothing was measured. */
  #onFailure(message: string): void {
    const parts = this.run.parts
    const previous = parts.session
    if (previous?.mode !== 'worker' || this.run.state() !== 'running' || !parts.plan) {
      this.run.warn({ code: 'WORKER_FAILED', message: `Sampling failed: ${message}.` })
      return
    }
    const lostFromS = parts.ledger?.totals().durationS ?? 0
    try {
      const inline = new InlineSampling(parts.plan.specs, this.#callbacks())
      inline.setLive(true)
      inline.run(parts.watts, this.intervalMs).catch(() => {})
      parts.session = inline
      const gapS = Number(inline.t0Ns - previous.t0Ns) / 1e9 - lostFromS
      const note = `the sampler worker failed (${message}) at ${lostFromS.toFixed(1)} s; sampling went on inline, about ${Math.max(0, gapS).toFixed(1)} s unmeasured`
      parts.notes.push(note)
      this.run.warn({ code: 'WORKER_FAILED', message: `${note}.` })
    } catch (error) {
      parts.notes.push(`sampling stopped at ${lostFromS.toFixed(1)} s: ${message}; ${describeError(error)}`)
      this.run.warn({ code: 'WORKER_FAILED', message: `Sampling stopped: ${message}.` })
    }
  }

  #workerUnavailable(reason: string): void {
    this.run.parts.notes.push(`sampled on the main thread: ${reason}`)
    this.run.warn({
      code: 'WORKER_UNAVAILABLE',
      message: `Sampling on the main thread instead of a worker (${reason}); a busy main thread makes intervals longer.`,
    })
  }
}
