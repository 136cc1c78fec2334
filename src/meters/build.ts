import { CpuTdpMeter, type CpuTdpMeterSpec } from './cpu-estimate.js'
import type { Meter } from './meter.js'
import { ConstantMeter, type ConstantMeterSpec } from './ram-estimate.js'
import { RaplMeter, type RaplMeterSpec } from './rapl.js'

/** Plain data from which the sampler (in its worker thread) builds a meter. */
export type MeterSpec = RaplMeterSpec | CpuTdpMeterSpec | ConstantMeterSpec

/** Builds the meter a spec describes. */
export function buildMeter(spec: MeterSpec): Meter {
  switch (spec.type) {
    case 'rapl':
      return new RaplMeter(spec)
    case 'cpu-tdp':
      return new CpuTdpMeter(spec)
    case 'constant':
      return new ConstantMeter(spec)
  }
}
