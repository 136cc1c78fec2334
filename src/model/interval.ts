import type { AttributionSample } from './attribution.js'
import type { Channel, MeterInfo } from './meter.js'

/** One meter's share of an interval. */
export interface MeterInterval {
  /** Energy in joules (before PUE). */
  readonly joules: number
  /** Joules per channel, in the order of the meter's channels. */
  readonly channelJoules: readonly number[]
  /** Seconds of this interval the meter could not see (its energy is bridged from neighbouring readings). */
  readonly blindS: number
}

/** Energy of every meter between two readings. */
export interface IntervalReport {
  readonly seq: number
  /** process.hrtime.bigint() at the interval's start and end. */
  readonly startNs: bigint
  readonly endNs: bigint
  readonly durationS: number
  /** Date.now() at the end: the moment used to look up the carbon intensity. */
  readonly wallTimeMs: number
  /** In the order of `Sampler.meters`. */
  readonly meters: readonly MeterInterval[]
  /** True for the reading taken by stop(). */
  readonly final: boolean
  /** Mean GPU utilisation at the interval's end, %, over the GPU meters that know it; null when none does. */
  readonly gpuUtilizationPercent: number | null
  /** The job's and the machine's use of each component, when attribution is on. */
  readonly attribution?: AttributionSample
}

/** Plain-data description of a meter, as the main thread learns it from the sampler. */
export type MeterDescription = Omit<MeterInfo, 'channels'> & { readonly channels: readonly Channel[] }
