import { CpuTdpMeter, type CpuTdpMeterSpec } from './cpu-estimate.js'
import { buildGpuMeters, type GpuMeterSpec, type GpuReport } from './gpu.js'
import { HwmonMeter, type HwmonMeterSpec } from './hwmon.js'
import type { Meter } from './meter.js'
import { ConstantMeter, type ConstantMeterSpec } from './ram-estimate.js'
import { RaplMeter, type RaplMeterSpec } from './rapl.js'

/** Plain data from which the sampler (in its worker thread) builds a meter. */
export type MeterSpec = RaplMeterSpec | CpuTdpMeterSpec | ConstantMeterSpec | GpuMeterSpec | HwmonMeterSpec

/**
 * Builds the meters the specs describe. A GPU spec gives zero or more meters (NVML energy and power,
 * or nvidia-smi), and the report of what it found.
 */
export function buildMeters(specs: readonly MeterSpec[]): { meters: Meter[]; gpu: GpuReport | null } {
  const meters: Meter[] = []
  let gpu: GpuReport | null = null
  for (const spec of specs) {
    switch (spec.type) {
      case 'rapl':
        meters.push(new RaplMeter(spec))
        break
      case 'cpu-tdp':
        meters.push(new CpuTdpMeter(spec))
        break
      case 'constant':
        meters.push(new ConstantMeter(spec))
        break
      case 'hwmon':
        meters.push(new HwmonMeter(spec))
        break
      case 'gpu': {
        const built = buildGpuMeters(spec)
        meters.push(...built.meters)
        gpu = built.report
        break
      }
    }
  }
  return { meters, gpu }
}
