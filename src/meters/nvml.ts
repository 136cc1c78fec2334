import type { MeterSource } from '../core/components.js'
import type { Channel } from '../model/meter.js'
import { GPU_IS_LOST, NOT_SUPPORTED, type Nvml, type NvmlDevice, SUCCESS } from '../platform/nvml.js'
import type { Meter } from './meter.js'

/**
 * The energy counter is read at most this often. On an H200 (driver 580.159.04) one
 * nvmlDeviceGetTotalEnergyConsumption call took 3.8 ms of CPU and the counter moved only every 100 ms
 * (docs/gpu-validation.md): a read sooner than this would cost that for nothing new. A read in between
 * gives the last value, as the counter itself would.
 */
const ENERGY_READ_GAP_MS = 50

/**
 * The GPUs NVML measures, as one meter: `nvml-energy` reads each GPU's total energy counter (mJ, Volta
 * and newer); `nvml-power` integrates nvmlDeviceGetPowerUsage for GPUs without one (never 0 W for a GPU
 * that draws power). A GPU that is lost, or fails, reads NaN from then on: the sampler reports it blind and
 * warns, and the other GPUs go on.
 */
export class NvmlMeter implements Meter {
  readonly id: string
  readonly component = 'gpu' as const
  readonly method = 'measured' as const
  readonly channels: readonly Channel[]
  lastError: string | undefined
  readonly #lost = new Set<number>()
  readonly #scratch: (number | bigint)[] = [0]
  readonly #rates = Buffer.alloc(8)
  /** Each GPU's last counter value and when it was read (performance.now() ms). */
  readonly #lastEnergy: { raw: number; atMs: number }[]
  #closed = false

  constructor(
    /** The library, shared with the attribution reader's process queries. */
    readonly nvml: Nvml,
    /** The GPUs, in the order of the channels. */
    readonly devices: readonly NvmlDevice[],
    readonly source: Extract<MeterSource, 'nvml-energy' | 'nvml-power'>,
  ) {
    this.id = source
    this.#lastEnergy = devices.map(() => ({ raw: Number.NaN, atMs: Number.NEGATIVE_INFINITY }))
    nvml.retain()
    this.channels = devices.map((device): Channel => {
      const name = `gpu${device.index}`
      if (source === 'nvml-power') return { name, kind: 'power', mode: device.powerMode }
      // A step implying far more than the board's limit is a glitch, never energy.
      const maxWatts = Math.max(2000, 3 * (device.powerLimitW ?? 0))
      return { name, kind: 'counter', unitJ: 1e-3, rangeRaw: null, maxWatts }
    })
  }

  read(out: Float64Array): void {
    const errors: string[] = []
    this.devices.forEach((device, i) => {
      if (this.#lost.has(i)) {
        out[i] = Number.NaN
        return
      }
      const last = this.#lastEnergy[i]
      const nowMs = performance.now()
      if (this.source === 'nvml-energy' && last && nowMs - last.atMs < ENERGY_READ_GAP_MS) {
        out[i] = last.raw
        return
      }
      const rc =
        this.source === 'nvml-energy'
          ? this.nvml.fn.getTotalEnergy(device.handle, this.#scratch)
          : this.nvml.fn.getPowerUsage(device.handle, this.#scratch as number[])
      if (rc === SUCCESS) {
        const raw = Number(this.#scratch[0])
        out[i] = this.source === 'nvml-energy' ? raw : raw / 1000
        if (last) {
          last.raw = raw
          last.atMs = nowMs
        }
        return
      }
      out[i] = Number.NaN
      if (rc === GPU_IS_LOST || rc === NOT_SUPPORTED) this.#lost.add(i)
      errors.push(
        `GPU ${device.index} (${device.name}) ${rc === GPU_IS_LOST ? 'is lost' : 'failed'}: ${this.nvml.error(rc)}` +
          `${this.#lost.has(i) ? '; no longer read' : ''}`,
      )
    })
    this.lastError = errors.length > 0 ? errors.join('; ') : undefined
  }

  /** Mean `utilization.gpu` of the GPUs still read, %, NaN when NVML cannot tell. */
  utilizationPercent(): number {
    const get = this.nvml.fn.getUtilizationRates
    if (!get) return Number.NaN
    let sum = 0
    let count = 0
    this.devices.forEach((device, i) => {
      if (this.#lost.has(i) || get(device.handle, this.#rates) !== SUCCESS) return
      sum += this.#rates.readUInt32LE(0)
      count += 1
    })
    return count > 0 ? sum / count : Number.NaN
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.nvml.release()
  }
}
