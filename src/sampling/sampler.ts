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
  private seq = 0
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

  /** Gives estimate meters their wattage (by meter id), before the first interval closes. */
  setWatts(watts: EstimateWatts): void {
    for (const { meter } of this.states) {
      const value = watts[meter.id]
      if (value !== undefined) meter.setWatts?.(value)
    }
  }

  /** Closes the interval that ends at `nowNs` and returns its energy. */
  sample(nowNs: bigint, wallTimeMs: number, final = false): IntervalReport {
    if (!this.begun) this.begin(nowNs)
    const startNs = this.lastNs
    const endNs = nowNs > startNs ? nowNs : startNs
    const durationS = nsToSeconds(endNs - startNs)
    const nowS = nsToSeconds(endNs - this.t0Ns)
    const meters = this.states.map((state) => this.integrate(state, durationS, nowS))
    this.lastNs = endNs
    this.seq += 1
    return {
      seq: this.seq,
      startNs,
      endNs,
      durationS,
      wallTimeMs,
      meters,
      final,
      gpuUtilizationPercent: this.gpuUtilization(),
      ...(this.attribution ? { attribution: this.attribution.read() } : {}),
    }
  }

  /** The mean of what the meters that know a utilisation say now; null when none does. */
  private gpuUtilization(): number | null {
    let sum = 0
    let count = 0
    for (const { meter } of this.states) {
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
      for (const warning of state.meter.takeWarnings?.() ?? []) this.warn(warning)
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
