import type { GpuMeterSpec } from './gpu.js'
import type { HwmonMeterSpec } from './hwmon.js'
import type { ModelMeterSpec } from './model-meter.js'
import type { ConstantMeterSpec } from './ram-estimate.js'
import type { RaplMeterSpec } from './rapl.js'

/** Plain data from which the sampler (in its worker thread) builds a meter. */
export type MeterSpec = RaplMeterSpec | ModelMeterSpec | ConstantMeterSpec | GpuMeterSpec | HwmonMeterSpec
