import type { MeterSource } from '../core/components.js'
import type { TrackerWarning } from '../core/warnings.js'
import type { Channel } from '../model/meter.js'
import type { GpuIdentity } from '../platform/gpu-identity.js'
import type { Meter } from './meter.js'

/** A reading from a GPU library: the value, or why there is none (`lost`: never ask that device again). */
export type Reading = number | { readonly error: string; readonly lost: boolean }

/** A GPU a vendor library (amdsmi, ROCm SMI, Level Zero) enumerates. */
export interface AccelDevice extends GpuIdentity {
  readonly name: string
  /** Devices on one package (an MI250's two dies) share a group; null when the library cannot tell. */
  readonly group: string | null
}

/** What an AccelMeter calls: the library's energy counter (µJ, cumulative) and/or power (W). */
export interface AccelLibrary<D extends AccelDevice> {
  energyUj?(device: D): Reading
  powerW?(device: D): Reading
  /** A meter now uses the library. */
  retain(): void
  /** A meter is done with it: the library shuts down when the last one is. */
  release(): void
}

/** A counter unchanged this long while its device draws power is frozen, not idle: no GPU idles at 0 W. */
export const FROZEN_AFTER_NS = 2_000_000_000n
/** Below this a GPU reads as drawing nothing; above BUSY_W it draws. */
const ZERO_W = 0.5
const BUSY_W = 5
/** No GPU draws more (a reading above is a unit or struct-layout error, as CodeCarbon's 12572969 W was). */
export const GPU_MAX_WATTS = 3000

interface CounterState {
  lastRaw: number
  changedNs: bigint
  lastNs: bigint
  /** µJ added to the library's counter: the power integrated while it was frozen. */
  offsetUj: number
  frozen: { readonly raw: number; readonly offsetUj: number; warned: boolean } | null
  lastOutUj: number
}

/**
 * One meter over the GPUs a vendor library reads. `energy` reads each GPU's cumulative counter (µJ); a
 * counter that stops while its GPU draws power is frozen (amdsmi has been seen so): its energy is then
 * integrated from the library's power reading, said once, and the counter trusted again when it moves (the
 * frozen span counts once). A counter that runs backwards is a reset the sampler reports and counts as 0 J,
 * never negative. `power` integrates the power readings. A die reading 0 W while a sibling on the same
 * package draws is reported, not believed: its power is inside the sibling's figure. A lost GPU reads NaN
 * from then on, with a warning; the others go on.
 */
export class AccelMeter<D extends AccelDevice> implements Meter {
  readonly id: string
  readonly component = 'gpu' as const
  readonly method = 'measured' as const
  readonly channels: readonly Channel[]
  lastError: string | undefined
  readonly #lost = new Set<number>()
  readonly #states: (CounterState | null)[]
  readonly #warnings: TrackerWarning[] = []
  readonly #zeroReported = new Set<number>()
  readonly #watts: number[]
  #closed = false

  constructor(
    private readonly library: AccelLibrary<D>,
    private readonly devices: readonly D[],
    readonly source: MeterSource,
    private readonly kind: 'energy' | 'power',
    /** The library's name in messages (`amdsmi`). */
    private readonly label: string,
  ) {
    this.id = source
    library.retain()
    this.#states = devices.map(() => null)
    this.#watts = devices.map(() => Number.NaN)
    this.channels = devices.map(
      (device): Channel =>
        kind === 'energy'
          ? {
              name: `gpu${device.index}`,
              kind: 'counter',
              unitJ: 1e-6,
              rangeRaw: null,
              maxWatts: GPU_MAX_WATTS,
            }
          : { name: `gpu${device.index}`, kind: 'power', mode: 'instant' },
    )
  }

  read(out: Float64Array): void {
    const errors: string[] = []
    const nowNs = process.hrtime.bigint()
    this.devices.forEach((device, i) => {
      out[i] = Number.NaN
      this.#watts[i] = Number.NaN
      if (this.#lost.has(i)) return
      const reading = this.kind === 'energy' ? this.library.energyUj?.(device) : this.library.powerW?.(device)
      if (reading === undefined) return
      if (typeof reading !== 'number') {
        if (reading.lost) this.#lost.add(i)
        errors.push(
          `GPU ${device.index} (${device.name}) ${reading.lost ? 'is lost' : 'failed'}: ${reading.error}${reading.lost ? '; no longer read' : ''}`,
        )
        return
      }
      if (this.kind === 'power') {
        if (reading > GPU_MAX_WATTS) {
          errors.push(
            `GPU ${device.index} (${device.name}) read ${reading} W, more than any GPU draws: not counted`,
          )
          return
        }
        out[i] = reading
        this.#watts[i] = reading
        return
      }
      out[i] = this.counter(i, device, reading, nowNs)
    })
    this.checkSiblings()
    this.lastError = errors.length > 0 ? errors.join('; ') : undefined
  }

  takeWarnings(): readonly TrackerWarning[] {
    return this.#warnings.splice(0)
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.library.release()
  }

  /** The counter value to report (µJ), frozen spans bridged by the power reading; sets the device's watts. */
  private counter(i: number, device: D, rawUj: number, nowNs: bigint): number {
    const state = this.#states[i]
    if (!state) {
      this.#states[i] = {
        lastRaw: rawUj,
        changedNs: nowNs,
        lastNs: nowNs,
        offsetUj: 0,
        frozen: null,
        lastOutUj: rawUj,
      }
      return rawUj
    }
    const seconds = Number(nowNs - state.lastNs) / 1e9
    if (rawUj !== state.lastRaw) {
      const frozen = state.frozen
      if (frozen && rawUj >= frozen.raw) {
        // Moving again: the stalled span counts once, as the larger of the counter's catch-up and the power
        // integrated meanwhile (a counter that merely updates less often than it is read catches up).
        const caughtUpUj = rawUj - frozen.raw
        const integratedUj = state.offsetUj - frozen.offsetUj
        state.offsetUj = frozen.offsetUj + Math.max(caughtUpUj, integratedUj) - caughtUpUj
      }
      if (frozen?.warned) {
        this.#warnings.push({
          code: 'COUNTER_FROZEN',
          message: `${this.label} energy counter of GPU ${device.index} (${device.name}) moves again: counted from it again.`,
        })
      }
      state.frozen = null
      state.lastRaw = rawUj
      state.changedNs = nowNs
    } else if (this.library.powerW) {
      // Standing still: integrate the power reading meanwhile (reconciled when the counter moves again),
      // so that no step is ever a lump the sampler would have to doubt.
      const power = this.library.powerW(device)
      if (typeof power === 'number' && power >= BUSY_W && power <= GPU_MAX_WATTS) {
        state.frozen ??= { raw: rawUj, offsetUj: state.offsetUj, warned: false }
        state.offsetUj += power * seconds * 1e6
        const stuckNs = nowNs - state.changedNs
        if (!state.frozen.warned && stuckNs >= FROZEN_AFTER_NS) {
          state.frozen.warned = true
          this.#warnings.push({
            code: 'COUNTER_FROZEN',
            message:
              `${this.label} energy counter of GPU ${device.index} (${device.name}) has not moved for ` +
              `${(Number(stuckNs) / 1e9).toFixed(1)} s while the GPU draws ${power} W: frozen, not idle. ` +
              'Its energy is integrated from the power reading until the counter moves again.',
          })
        }
      }
    }
    state.lastNs = nowNs
    const outUj = rawUj + state.offsetUj
    this.#watts[i] = seconds > 0 ? Math.max(0, (outUj - state.lastOutUj) / 1e6 / seconds) : Number.NaN
    state.lastOutUj = outUj
    return outUj
  }

  /** Reports (once per die) a die at 0 W while a sibling on the same package draws. */
  private checkSiblings(): void {
    this.devices.forEach((device, i) => {
      const watts = this.#watts[i] ?? Number.NaN
      if (device.group === null || !(watts < ZERO_W) || this.#zeroReported.has(i)) return
      const sibling = this.devices.findIndex(
        (d, k) => k !== i && d.group === device.group && (this.#watts[k] ?? 0) > BUSY_W,
      )
      if (sibling === -1) return
      this.#zeroReported.add(i)
      const other = this.devices[sibling] as D
      this.#warnings.push({
        code: 'GPU_DIE_ZERO',
        message:
          `GPU ${device.index} (${device.name}) reads 0 W while GPU ${other.index} on the same package draws ` +
          `${Math.round(this.#watts[sibling] ?? 0)} W. A working die never draws 0 W: its power is taken to be ` +
          `inside GPU ${other.index}'s figure (as MI250 reports the package on one die), not to be 0 W; the package is counted once.`,
      })
    })
  }
}
