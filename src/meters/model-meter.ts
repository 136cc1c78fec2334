import type { MeterSource } from '../core/components.js'
import { atLoad } from '../estimates/power-model.js'
import type { Channel } from '../model/meter.js'
import { type CpuTimes, CpuTimesReader, loadBetween } from '../platform/cpu-load.js'
import { LOAD_UNKNOWN } from './cpu-estimate.js'
import type { Meter } from './meter.js'

/**
 * Plain-data description of a modelled component: its watts at each load step of the power model
 * (LOAD_STEPS: idle, 10 % … 100 %), interpolated at the machine's load since the previous read.
 */
export interface ModelMeterSpec {
  readonly type: 'model'
  readonly id: 'cpu-model' | 'ram-model' | 'rest-model'
  readonly component: 'cpu' | 'ram' | 'rest'
  readonly source: Extract<MeterSource, 'cpu-model' | 'ram-model' | 'rest-model'>
  /** Watts per load step; null until set with setWatts() (the model needs the slow system facts). */
  readonly curveW: readonly number[] | null
  readonly procStatPath: string
}

/**
 * How often the load is read when only the rest of the machine (and RAM) is modelled, because RAPL measures
 * the CPU: /proc/stat grows with the machine's CPUs and interrupts (hundreds of µs on a large server), the
 * rest's watts change little with load, and a RAPL sampler reads nothing else from procfs.
 */
export const REST_LOAD_EVERY_MS = 500

/**
 * The machine's load, read once per sample however many model meters use it: the first meter to use it
 * (the first built, so the first the sampler reads each sample) reads /proc/stat, the others take its
 * answer, so a sample costs one read, as with a single estimate meter. With `everyMs`, no more often than
 * that (the load in between is the last one read).
 */
export class SharedLoad {
  /** Load used by the last read, in [0, 1]. */
  lastLoad = LOAD_UNKNOWN
  lastError: string | undefined
  private previous: CpuTimes | null = null
  private readonly times: CpuTimesReader
  private users = 0

  private readAtMs = Number.NEGATIVE_INFINITY

  constructor(
    readonly procStatPath: string,
    private readonly everyMs = 0,
  ) {
    this.times = new CpuTimesReader(procStatPath)
  }

  /** The load since the previous read: read by the first user, the last one read for the others. */
  now(user: number): number {
    if (user !== 0) return this.lastLoad
    if (this.everyMs > 0) {
      const ms = performance.now()
      if (ms - this.readAtMs < this.everyMs) return this.lastLoad
      this.readAtMs = ms
    }
    this.lastError = undefined
    const now = this.times.read()
    const load = this.previous && now ? loadBetween(this.previous, now) : null
    if (now) this.previous = now
    else
      this.lastError = `no CPU load from ${this.procStatPath} or os.cpus(); assuming ${LOAD_UNKNOWN * 100} %`
    if (load !== null) this.lastLoad = load
    return this.lastLoad
  }

  /** One more meter reads through this: its number (0 reads the file); close() when the last is done. */
  use(): number {
    return this.users++
  }

  close(): void {
    this.users -= 1
    if (this.users <= 0) this.times.close()
  }
}

/**
 * A component the power model supplies (the CPU where RAPL is not readable, RAM where no DRAM counter is,
 * the rest of the machine always): watts interpolated on its curve at the machine's load over the interval
 * that just ended (an average, so the sampler integrates it with the rectangle rule).
 */
export class ModelMeter implements Meter {
  readonly id: ModelMeterSpec['id']
  readonly component: ModelMeterSpec['component']
  readonly source: ModelMeterSpec['source']
  readonly method = 'estimated' as const
  readonly channels: readonly Channel[]
  private curveW: readonly number[] | null
  private readonly user: number

  constructor(
    spec: ModelMeterSpec,
    private readonly load: SharedLoad = new SharedLoad(spec.procStatPath),
  ) {
    this.id = spec.id
    this.component = spec.component
    this.source = spec.source
    this.curveW = spec.curveW
    this.channels = [{ name: spec.component, kind: 'power', mode: 'average' }]
    this.user = load.use()
  }

  lastError: string | undefined

  /** Load used by the last read, in [0, 1]. */
  get lastLoad(): number {
    return this.load.lastLoad
  }

  setWatts(curveW: number | readonly number[]): void {
    this.curveW = typeof curveW === 'number' ? [curveW] : curveW
  }

  read(out: Float64Array): void {
    const load = this.load.now(this.user)
    this.lastError = this.load.lastError
    const curve = this.curveW
    out[0] = curve === null ? Number.NaN : curve.length === 1 ? (curve[0] ?? Number.NaN) : atLoad(curve, load)
  }

  close(): void {
    this.load.close()
  }
}
