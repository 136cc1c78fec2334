import type { AttributionReader } from '../attribution/reader.js'
import { describeError } from '../core/errors.js'
import { nsToSeconds } from '../core/units.js'
import type { TrackerWarning } from '../core/warnings.js'
import { counterStep, type EstimateWatts, isUsable, type Meter, powerEnergyJ } from '../meters/meter.js'
import type { IntervalReport, MeterDescription, MeterInterval } from '../model/interval.js'
import type { Channel } from '../model/meter.js'

interface ChannelState {
  /** Last usable raw reading (counter units or watts); NaN until one was seen. */
  last: number
  /** When `last` was read, in seconds since begin(). */
  lastS: number
  /**
   * When a counter's reading last changed, in seconds since begin(). A counter that moves in steps (NVML's
   * every 100 ms) read more often holds still, then jumps by all the energy since its last step: the jump
   * is judged over that time, not over the last interval.
   */
  changedS: number
}

interface MeterState {
  readonly meter: Meter
  readonly values: Float64Array
  readonly channels: ChannelState[]
  failing: boolean
}

/**
 * Where a sampler stands after its last reading, as plain data (it crosses threads): what another sampler
 * over the same meters needs to go on from it (resume) without losing or counting twice a joule.
 */
export interface SamplerState {
  /** The baseline reading, and the end of the last interval. */
  readonly t0Ns: bigint
  readonly lastNs: bigint
  readonly seq: number
  /** Each meter's channels, in the sampler's order: the last raw reading, and when it was read. */
  readonly meters: readonly {
    readonly id: string
    readonly failing: boolean
    readonly channels: readonly Readonly<ChannelState>[]
  }[]
}

/**
 * Reads every meter and turns readings into joules per interval. Counters are integrated by difference
 * (wrap-aware); instant power by the trapezoid rule, interval-average power by the rectangle rule. It
 * never throws: a failed read becomes a gap that counters bridge without loss and power meters bridge
 * from their neighbours while counting the blind seconds. The clock is given by the caller, so the same
 * class runs in the worker thread, inline, and under test with a fake clock.
 */
export class Sampler {
  /** What each meter is, in the order intervals report them. */
  readonly meters: readonly MeterDescription[]
  private readonly states: MeterState[]
  /** The meters that know a utilisation (GPUs'): the only ones asked, each sample. */
  private readonly utilizations: readonly Meter[]
  private seq = 0
  /** The interval the sampler handing over closed, still to be joined to the next one this one closes. */
  private carried: IntervalReport | undefined
  private t0Ns = 0n
  private lastNs = 0n
  private begun = false

  constructor(
    meters: readonly Meter[],
    private readonly warn: (warning: TrackerWarning) => void = () => {},
    /** Read with the meters, on the same tick, when attribution is on. */
    private readonly attribution: AttributionReader | null = null,
  ) {
    this.states = meters.map((meter) => ({
      meter,
      values: new Float64Array(meter.channels.length),
      channels: meter.channels.map(() => ({ last: Number.NaN, lastS: 0, changedS: 0 })),
      failing: false,
    }))
    this.utilizations = meters.filter((meter) => typeof meter.utilizationPercent === 'function')
    this.meters = meters.map(({ id, component, source, method, channels }) => ({
      id,
      component,
      source,
      method,
      channels: channels.map((c) => ({ ...c })),
    }))
  }

  /** Takes the baseline reading at `nowNs`. */
  begin(nowNs: bigint): void {
    this.t0Ns = nowNs
    this.lastNs = nowNs
    this.begun = true
    this.attribution?.read()
    for (const state of this.states) {
      this.readMeter(state)
      state.values.forEach((value, i) => {
        const channel = state.channels[i] as ChannelState
        if (isUsable(value)) channel.last = value
      })
    }
  }

  /** Where this sampler stands after its last reading (see SamplerState). */
  state(): SamplerState {
    return {
      t0Ns: this.t0Ns,
      lastNs: this.lastNs,
      seq: this.seq,
      meters: this.states.map(({ meter, failing, channels }) => ({
        id: meter.id,
        failing,
        channels: channels.map((c) => ({ ...c })),
      })),
    }
  }

  /**
   * Goes on from another sampler's state over the same meters (built from the same specs, in another
   * thread): its next interval begins where that one's last ended, and each channel goes on from that one's
   * last raw reading, so a counter's energy is counted once, whichever reading closed it, and power is
   * integrated across the hand-over with no gap. Each meter is read once first, for what a meter keeps of
   * its own between readings (a model meter's load is measured from its previous read of /proc/stat); that
   * reading's values are not used. `first`, the interval that sampler closed as it handed over (from its
   * baseline to the hand-over, off the schedule's slots), is joined to the next interval this one closes:
   * one interval, on the schedule, made of the two parts each thread measured. Throws when the meters are
   * not the same.
   */
  resume(from: SamplerState, first?: IntervalReport): void {
    const same =
      from.meters.length === this.states.length &&
      from.meters.every((m, i) => {
        const state = this.states[i]
        return state?.meter.id === m.id && state.channels.length === m.channels.length
      })
    if (!same) {
      const ids = (list: readonly { readonly id: string }[]) => list.map((m) => m.id).join(', ')
      throw new Error(
        `cannot go on from a sampler of other meters (${ids(from.meters)}; here ${ids(this.states.map((s) => s.meter))})`,
      )
    }
    this.attribution?.read()
    this.states.forEach((state, i) => {
      this.readMeter(state)
      const meter = from.meters[i] as SamplerState['meters'][number]
      state.failing = meter.failing
      state.channels.forEach((channel, c) => {
        Object.assign(channel, meter.channels[c])
      })
    })
    this.t0Ns = from.t0Ns
    this.lastNs = from.lastNs
    this.seq = from.seq
    this.carried = first
    this.begun = true
  }

  /** Gives estimate meters their wattage (by meter id), before the first interval closes. */
  setWatts(watts: EstimateWatts): void {
    for (const { meter } of this.states) {
      const value = watts[meter.id]
      if (value !== undefined) meter.setWatts?.(value)
    }
  }

  /**
   * Closes the interval that ends at `nowNs` and returns its energy. It runs once a sample, in a thread
   * that sleeps in between, so every instruction of it runs cold: it allocates only what it returns.
   */
  sample(nowNs: bigint, wallTimeMs: number, final = false): IntervalReport {
    if (!this.begun) this.begin(nowNs)
    const startNs = this.lastNs
    const endNs = nowNs > startNs ? nowNs : startNs
    const durationS = nsToSeconds(endNs - startNs)
    const nowS = nsToSeconds(endNs - this.t0Ns)
    const meters: MeterInterval[] = []
    for (const state of this.states) meters.push(this.integrate(state, durationS, nowS))
    this.lastNs = endNs
    const first = this.carried
    this.carried = undefined
    if (first) joinInto(meters, first.meters)
    else this.seq += 1
    const report: { -readonly [K in keyof IntervalReport]: IntervalReport[K] } = {
      seq: first ? first.seq : this.seq,
      startNs: first ? first.startNs : startNs,
      endNs,
      durationS: first ? nsToSeconds(endNs - first.startNs) : durationS,
      wallTimeMs,
      meters,
      final,
      gpuUtilizationPercent: this.gpuUtilization(),
    }
    if (this.attribution) report.attribution = this.attribution.read()
    return report
  }

  /** The mean of what the meters that know a utilisation say now; null when none does. */
  private gpuUtilization(): number | null {
    if (this.utilizations.length === 0) return null
    let sum = 0
    let count = 0
    for (const meter of this.utilizations) {
      try {
        const value = meter.utilizationPercent?.()
        if (value !== undefined && Number.isFinite(value) && value >= 0) {
          sum += Math.min(value, 100)
          count += 1
        }
      } catch {
        // a utilisation is a nicety: never a failure
      }
    }
    return count > 0 ? sum / count : null
  }

  /** `wattprint run`'s command has started: the attribution reader's job is its process tree from now on. */
  setJob(pid: number): void {
    this.attribution?.setJob(pid)
  }

  /** The tracker finished starting, its main thread at `mainTicks` of CPU (AttributionReader.startedAt). */
  trackerStarted(mainTicks: number): void {
    this.attribution?.startedAt(mainTicks)
  }

  /** Closes every meter. */
  close(): void {
    for (const { meter } of this.states) {
      try {
        meter.close?.()
      } catch {
        // closing is best effort
      }
    }
  }

  private readMeter(state: MeterState): string | undefined {
    try {
      state.meter.lastError = undefined
      state.meter.read(state.values)
      const warnings = state.meter.takeWarnings?.()
      if (warnings) for (const warning of warnings) this.warn(warning)
      return state.meter.lastError
    } catch (error) {
      state.values.fill(Number.NaN)
      return describeError(error)
    }
  }

  private integrate(state: MeterState, durationS: number, nowS: number): MeterInterval {
    const problem = this.readMeter(state)
    const channelJoules: number[] = []
    let joules = 0
    let blindS = 0
    let unreadable = false
    const { meter } = state
    for (let i = 0; i < meter.channels.length; i++) {
      const channel = meter.channels[i] as Channel
      const cs = state.channels[i] as ChannelState
      const value = state.values[i]
      let j = 0
      if (!isUsable(value)) {
        unreadable = true
        blindS = Math.max(blindS, Number.isNaN(cs.last) || channel.kind !== 'counter' ? durationS : 0)
        // An average-power channel holds its last value over the blind interval; instant power and
        // counters are bridged when the next good reading arrives.
        if (channel.kind === 'power' && channel.mode === 'average' && !Number.isNaN(cs.last)) {
          j = powerEnergyJ(cs.last, cs.last, durationS, 'average')
        }
      } else if (channel.kind === 'counter') {
        if (!Number.isNaN(cs.last)) {
          const step = counterStep(cs.last, value, channel.rangeRaw)
          j = step.deltaRaw * channel.unitJ
          const sinceS = nowS - cs.changedS
          if (step.event === 'reset') {
            this.warn({
              code: 'COUNTER_RESET',
              message:
                `${meter.id} counter ${channel.name} went down from ${cs.last} to ${value} with no known range: ` +
                'treated as a reset, this interval counts 0 J for it.',
            })
          } else if (channel.maxWatts !== undefined && sinceS > 0 && j / sinceS > channel.maxWatts) {
            this.warn({
              code: 'COUNTER_IMPLAUSIBLE',
              message:
                `${meter.id} counter ${channel.name} moved from ${cs.last} to ${value}` +
                `${step.event === 'wrap' ? ` (a wrap at range ${channel.rangeRaw})` : ''}, ` +
                `${Math.round(j / sinceS)} W over ${sinceS.toFixed(3)} s, above the ${channel.maxWatts} W no such ` +
                'zone draws: counted as 0 J (a glitch or a wrong range).',
            })
            j = 0
          }
        } else {
          blindS = Math.max(blindS, durationS)
        }
        if (value !== cs.last) cs.changedS = nowS
        cs.last = value
        cs.lastS = nowS
      } else {
        const sinceS = Number.isNaN(cs.last) ? durationS : nowS - cs.lastS
        const previous = Number.isNaN(cs.last) ? value : cs.last
        j = powerEnergyJ(previous, value, channel.mode === 'instant' ? sinceS : durationS, channel.mode)
        cs.last = value
        cs.lastS = nowS
      }
      channelJoules.push(j)
      joules += j
    }
    if (unreadable && !state.failing) {
      state.failing = true
      this.warn({
        code: 'METER_READ_FAILED',
        message: `${meter.id} could not be read${problem ? ` (${problem})` : ''}; its gaps are bridged and counted as blind time.`,
      })
    } else if (!unreadable && state.failing) {
      state.failing = false
      this.warn({ code: 'METER_RECOVERED', message: `${meter.id} can be read again.` })
    }
    return { joules, channelJoules, blindS }
  }
}

/** Adds the meters' parts of an earlier interval to those of the one that follows it (same meters). */
function joinInto(meters: MeterInterval[], earlier: readonly MeterInterval[]): void {
  meters.forEach((later, i) => {
    const before = earlier[i]
    if (!before) return
    meters[i] = {
      joules: before.joules + later.joules,
      channelJoules: later.channelJoules.map((j, c) => (before.channelJoules[c] ?? 0) + j),
      blindS: before.blindS + later.blindS,
    }
  })
}
