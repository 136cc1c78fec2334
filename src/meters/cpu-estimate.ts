import { type CpuTimes, CpuTimesReader, loadBetween } from './cpu-load.js'
import type { Channel, Meter } from './meter.js'

/** Plain-data description of the CPU estimate meter. */
export interface CpuTdpMeterSpec {
  readonly type: 'cpu-tdp'
  /** TDP of all sockets together, in watts; null until set with setWatts(). */
  readonly tdpW: number | null
  readonly procStatPath: string
}

/** Fraction of TDP drawn with no load information at all (CodeCarbon's constant-mode figure). */
export const LOAD_UNKNOWN = 0.5

/**
 * CPU power at machine load `load` in [0, 1]: TDP × (0.1 + 0.9 × L³). 10 % of TDP idle, 21.25 % at half
 * load, all of it at full load: CodeCarbon's curve, so figures compare with theirs.
 */
export function cpuPowerAtLoad(tdpW: number, load: number): number {
  const l = Math.min(1, Math.max(0, load))
  return tdpW * (0.1 + 0.9 * l ** 3)
}

/**
 * Estimates CPU power from TDP and the machine's load since the previous read (an average over the
 * interval, so the sampler integrates it with the rectangle rule).
 */
export class CpuTdpMeter implements Meter {
  readonly id = 'cpu-tdp'
  readonly component = 'cpu' as const
  readonly source = 'cpu-tdp' as const
  readonly method = 'estimated' as const
  readonly channels: readonly Channel[] = [{ name: 'cpu', kind: 'power', mode: 'average' }]
  lastError: string | undefined
  /** Load used by the last read, in [0, 1]. */
  lastLoad = LOAD_UNKNOWN
  private previous: CpuTimes | null = null
  private readonly times: CpuTimesReader
  private tdpW: number | null

  constructor(private readonly spec: CpuTdpMeterSpec) {
    this.tdpW = spec.tdpW
    this.times = new CpuTimesReader(spec.procStatPath)
  }

  setWatts(tdpW: number): void {
    this.tdpW = tdpW
  }

  read(out: Float64Array): void {
    this.lastError = undefined
    const now = this.times.read()
    const load = this.previous && now ? loadBetween(this.previous, now) : null
    if (now) this.previous = now
    else
      this.lastError = `no CPU load from ${this.spec.procStatPath} or os.cpus(); assuming ${LOAD_UNKNOWN * 100} %`
    if (load !== null) this.lastLoad = load
    out[0] = this.tdpW === null ? Number.NaN : cpuPowerAtLoad(this.tdpW, load ?? this.lastLoad)
  }

  close(): void {
    this.times.close()
  }
}
