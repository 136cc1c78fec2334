import { readdirSync, readFileSync, realpathSync } from 'node:fs'
import { basename, join } from 'node:path'
import { describeError } from '../core/errors.js'
import type { Channel } from '../model/meter.js'
import type { GpuIdentity } from '../platform/gpu-identity.js'
import { parseCounter, readSmallFile } from '../platform/sysfs.js'
import type { Meter } from './meter.js'

/** One energy or power attribute of a hwmon chip. */
export interface HwmonSensor {
  /** `energy1_input`, `power1_average` … */
  readonly file: string
  readonly path: string
  /** `counter`: µJ, cumulative; `average` / `instant`: µW. */
  readonly kind: 'counter' | 'average' | 'instant'
}

/** A hwmon chip (`/sys/class/hwmon/hwmonN`) with what it can measure. */
export interface HwmonChip {
  /** `hwmon3`. */
  readonly id: string
  /** Contents of its `name` file: `amdgpu`, `xe`, `i915`, `power_meter` … */
  readonly name: string
  /** The one sensor wattprint reads: the first energy counter, else power1_average, else power1_input. */
  readonly sensor: HwmonSensor | null
  /** The PCI address of its device (`0000:03:00.0`), when it has one. */
  readonly pciAddress: string | null
  readonly productName: string | null
  /** amdgpu's `unique_id` (hex), what ROCm's `GPU-…` UUIDs are made of. */
  readonly uniqueId: string | null
  readonly vramBytes: number | null
}

const read = (path: string): string | null => {
  try {
    return readFileSync(path, 'latin1').trim()
  } catch {
    return null
  }
}

const list = (path: string): string[] => {
  try {
    return readdirSync(path).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
  } catch {
    return []
  }
}

/** The sensor to read among a chip's files: energy beats an average power, which beats an instant one. */
function pickSensor(dir: string, files: readonly string[]): HwmonSensor | null {
  const energy = files.find((f) => /^energy\d+_input$/.test(f))
  if (energy) return { file: energy, path: join(dir, energy), kind: 'counter' }
  const average = files.find((f) => /^power\d+_average$/.test(f))
  if (average) return { file: average, path: join(dir, average), kind: 'average' }
  const input = files.find((f) => /^power\d+_input$/.test(f))
  if (input) return { file: input, path: join(dir, input), kind: 'instant' }
  return null
}

/** Every hwmon chip under `root` (`/sys/class/hwmon`), in hwmon order. */
export function discoverHwmon(root: string): HwmonChip[] {
  const chips: HwmonChip[] = []
  for (const id of list(root)) {
    if (!/^hwmon\d+$/.test(id)) continue
    const dir = join(root, id)
    const name = read(join(dir, 'name'))
    if (name === null) continue
    const device = join(dir, 'device')
    let pciAddress: string | null = null
    try {
      const real = basename(realpathSync(device))
      if (/^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/i.test(real)) pciAddress = real
    } catch {}
    const vram = parseCounter(read(join(device, 'mem_info_vram_total')) ?? '')
    chips.push({
      id,
      name,
      sensor: pickSensor(dir, list(dir)),
      pciAddress,
      productName: read(join(device, 'product_name')) || null,
      uniqueId: read(join(device, 'unique_id')) || null,
      vramBytes: Number.isFinite(vram) ? vram : null,
    })
  }
  return chips
}

/**
 * Below this much VRAM an amdgpu device is taken for an APU's integrated GPU (a carve-out of system memory),
 * whose power is inside the CPU package's figure.
 */
export const INTEGRATED_VRAM_BYTES = 2 * 1024 ** 3

/** A GPU found through hwmon. */
export interface HwmonGpu extends GpuIdentity {
  readonly name: string
  readonly chip: HwmonChip
  readonly sensor: HwmonSensor
}

/**
 * The discrete GPUs of a vendor's hwmon chips (`amdgpu`, or Intel's `xe` and `i915`), numbered in PCI
 * order; integrated GPUs (an amdgpu with a small VRAM carve-out) and chips without a sensor are set aside
 * with the reason.
 */
export function hwmonGpus(
  chips: readonly HwmonChip[],
  names: readonly string[],
): { gpus: HwmonGpu[]; skipped: string[] } {
  const skipped: string[] = []
  const candidates = chips
    .filter((c) => names.includes(c.name))
    .sort((a, b) => (a.pciAddress ?? a.id).localeCompare(b.pciAddress ?? b.id))
  const gpus: HwmonGpu[] = []
  for (const chip of candidates) {
    const where = `${chip.id} (${chip.name}${chip.pciAddress ? ` at ${chip.pciAddress}` : ''})`
    if (!chip.sensor) {
      skipped.push(`${where} has no energy or power sensor`)
      continue
    }
    if (chip.name === 'amdgpu' && chip.vramBytes !== null && chip.vramBytes < INTEGRATED_VRAM_BYTES) {
      skipped.push(
        `${where} looks integrated (${Math.round(chip.vramBytes / 2 ** 20)} MiB VRAM): its power is inside the CPU package's, not counted twice`,
      )
      continue
    }
    const index = gpus.length
    gpus.push({
      index,
      uuid: chip.uniqueId ? `GPU-${chip.uniqueId}` : `pci-${chip.pciAddress ?? chip.id}`,
      name: chip.productName ?? (chip.name === 'amdgpu' ? 'AMD GPU' : 'Intel GPU'),
      chip,
      sensor: chip.sensor,
    })
  }
  return { gpus, skipped }
}

/** Plain-data description of a hwmon meter, sent to the sampler worker. */
export interface HwmonMeterSpec {
  readonly type: 'hwmon'
  readonly id: string
  readonly component: 'gpu' | 'node'
  readonly source: 'hwmon' | 'acpi-power-meter'
  readonly channels: readonly { readonly name: string; readonly sensor: HwmonSensor }[]
}

/** The whole-node meter over every ACPI `power_meter` chip (summed: one per power supply, where there are several). */
export function nodeMeterSpec(chips: readonly HwmonChip[]): HwmonMeterSpec | null {
  const meters = chips.filter((c) => c.name === 'power_meter' && c.sensor)
  if (meters.length === 0) return null
  return {
    type: 'hwmon',
    id: 'acpi-power-meter',
    component: 'node',
    source: 'acpi-power-meter',
    channels: meters.map((c) => ({ name: c.id, sensor: c.sensor as HwmonSensor })),
  }
}

/** No GPU, and no server's wall power, moves a counter by more than this (a glitch otherwise). */
const MAX_WATTS = { gpu: 3000, node: 20_000 } as const

/** Reads hwmon energy counters (µJ) and power attributes (µW → W): files only, no library. */
export class HwmonMeter implements Meter {
  readonly id: string
  readonly component: 'gpu' | 'node'
  readonly source: HwmonMeterSpec['source']
  readonly method = 'measured' as const
  readonly channels: readonly Channel[]
  lastError: string | undefined
  readonly #sensors: readonly HwmonSensor[]
  readonly #buffer = Buffer.allocUnsafe(32)

  constructor(spec: HwmonMeterSpec) {
    this.id = spec.id
    this.component = spec.component
    this.source = spec.source
    this.#sensors = spec.channels.map((c) => c.sensor)
    this.channels = spec.channels.map(
      ({ name, sensor }): Channel =>
        sensor.kind === 'counter'
          ? { name, kind: 'counter', unitJ: 1e-6, rangeRaw: null, maxWatts: MAX_WATTS[spec.component] }
          : { name, kind: 'power', mode: sensor.kind },
    )
  }

  read(out: Float64Array): void {
    const errors: string[] = []
    this.#sensors.forEach((sensor, i) => {
      let value = Number.NaN
      try {
        value = parseCounter(readSmallFile(sensor.path, this.#buffer))
        if (Number.isNaN(value)) errors.push(`${sensor.path}: not a number`)
      } catch (error) {
        errors.push(`${sensor.path}: ${describeError(error)}`)
      }
      out[i] = sensor.kind === 'counter' ? value : value / 1e6
    })
    this.lastError = errors.length > 0 ? errors.join('; ') : undefined
  }
}
