import type { TrackerWarning } from '../core/warnings.js'
import type { EstimateWatts } from '../meters/meter.js'
import type { IntervalReport, MeterDescription } from '../model/interval.js'
import { buildMeters, type SamplerSpec } from './build.js'
import { Sampler, type SamplerState } from './sampler.js'

/**
 * The specs whose meters the calling thread reads for the first reading: files (RAPL, hwmon, /proc/stat
 * for the model), read in microseconds. GPUs are found and read by the worker only: loading NVML or a
 * GPU vendor's library takes up to seconds, which must not block the host's thread.
 */
const readHere = (spec: SamplerSpec): boolean => spec.type !== 'gpu' && spec.type !== 'attribution'

/** Whether two lists describe the same meters, in the same order, with the same channels. */
export function sameMeters(a: readonly MeterDescription[], b: readonly MeterDescription[]): boolean {
  return (
    a.length === b.length &&
    a.every((m, i) => {
      const o = b[i]
      return (
        o !== undefined &&
        o.id === m.id &&
        o.component === m.component &&
        o.source === m.source &&
        o.channels.length === m.channels.length &&
        o.channels.every((c, j) => c.name === m.channels[j]?.name && c.kind === m.channels[j]?.kind)
      )
    })
  )
}

/**
 * The run's first reading, taken in the calling thread as soon as start() is called (the meters' plan is
 * known in a millisecond), so that measuring does not wait for the sampler worker to boot. The worker takes
 * over from it (handOver): this thread closes its part of the first interval where the worker's part begins,
 * and the worker goes on from this thread's last raw readings, so no joule is lost or counted twice; it joins
 * the two parts into the first interval it closes, on the schedule's slot. It can take over only
 * where it reads the same meters: when it finds GPUs, or the run is attributed to a job (whose reader keeps
 * its state in the worker's thread), the worker's own first reading stands instead, and this one is closed.
 */
export class FirstReading {
  /** process.hrtime.bigint() of the reading. */
  readonly t0Ns: bigint
  readonly meters: readonly MeterDescription[]
  readonly #sampler: Sampler
  #closed = false

  /** Builds the meters this thread can read among `specs` and reads them now. */
  constructor(specs: readonly SamplerSpec[], warn: (warning: TrackerWarning) => void) {
    const { meters } = buildMeters(specs.filter(readHere))
    this.#sampler = new Sampler(meters, warn)
    this.meters = this.#sampler.meters
    this.t0Ns = process.hrtime.bigint()
    this.#sampler.begin(this.t0Ns)
  }

  /**
   * Whether a worker could take over from a first reading of this plan: not where the run is attributed to
   * a job (its reader's state stays in the worker's thread). Whether it finds GPUs is known only once it has
   * looked (WorkerSampling.begin).
   */
  static possible(specs: readonly SamplerSpec[]): boolean {
    return !specs.some((spec) => spec.type === 'attribution')
  }

  /**
   * Closes this thread's part of the first interval now, the estimates given their watts first (no interval
   * closes without them), and closes the meters: that part, and where the sampler then stood, for the worker
   * to go on from (Sampler.resume).
   */
  handOver(watts: EstimateWatts): { readonly first: IntervalReport; readonly state: SamplerState } {
    this.#sampler.setWatts(watts)
    const first = this.#sampler.sample(process.hrtime.bigint(), Date.now())
    const state = this.#sampler.state()
    this.close()
    return { first, state }
  }

  /** Closes the meters (a reading not taken over). */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#sampler.close()
  }
}
