import { describeError } from '../core/errors.js'
import type { GpuReport } from '../meters/gpu.js'
import type { EstimateWatts } from '../meters/meter.js'
import { buildMeters, type SamplerSpec } from './build.js'
import { Sampler } from './sampler.js'
import { FixedRateSchedule } from './schedule.js'
import type { SamplingCallbacks, SamplingSession } from './session.js'

/**
 * Samples on the main thread, with unref'd timers (it never keeps the host alive). Counters lose nothing
 * when the main thread is blocked, but intervals stretch and power estimates are coarser: the worker is
 * the default for that reason.
 */
export class InlineSampling implements SamplingSession {
  readonly mode = 'inline' as const
  readonly t0Ns: bigint
  readonly meters
  readonly gpu: GpuReport | null
  private readonly sampler: Sampler
  private schedule: FixedRateSchedule | undefined
  private stopped = false

  /** Builds the meters and takes the baseline reading. */
  constructor(
    specs: readonly SamplerSpec[],
    private readonly callbacks: SamplingCallbacks,
  ) {
    const { meters, gpu, attribution } = buildMeters(specs)
    this.gpu = gpu
    this.sampler = new Sampler(meters, (w) => callbacks.onWarning(w), attribution)
    this.meters = this.sampler.meters
    this.t0Ns = process.hrtime.bigint()
    this.sampler.begin(this.t0Ns)
  }

  async run(watts: EstimateWatts, intervalMs: number): Promise<void> {
    this.sampler.setWatts(watts)
    this.schedule = new FixedRateSchedule(this.t0Ns, intervalMs, (nowNs) => this.deliver(nowNs, false), {
      unref: true,
    })
    this.schedule.start()
  }

  /** Inline intervals are always delivered as they happen. */
  setLive(_live: boolean): void {}

  setJob(pid: number): void {
    this.sampler.setJob(pid)
  }

  trackerStarted(mainTicks: number): void {
    this.sampler.trackerStarted(mainTicks)
  }

  readNow(): boolean {
    if (this.stopped || !this.schedule) return false
    this.deliver(process.hrtime.bigint(), false)
    return true
  }

  async stop(): Promise<void> {
    if (this.stopped) return
    this.schedule?.stop()
    this.deliver(process.hrtime.bigint(), true)
    this.stopped = true
    this.sampler.close()
  }

  private deliver(nowNs: bigint, final: boolean): void {
    // Runs from a timer on the host's thread: nothing may escape from here.
    try {
      this.callbacks.onInterval(this.sampler.sample(nowNs, Date.now(), final))
    } catch (error) {
      try {
        this.callbacks.onWarning({
          code: 'ACCOUNTING_FAILED',
          message: `while accounting an interval: ${describeError(error)}`,
        })
      } catch {}
    }
  }
}
