import { GpuProcessReader } from '../attribution/gpu-processes.js'
import { AttributionReader, type AttributionSpec } from '../attribution/reader.js'
import { buildGpuMeters, type GpuReport } from '../meters/gpu.js'
import { HwmonMeter } from '../meters/hwmon.js'
import type { Meter } from '../meters/meter.js'
import { ModelMeter, REST_LOAD_EVERY_MS, SharedLoad } from '../meters/model-meter.js'
import { NvmlMeter } from '../meters/nvml.js'
import { ConstantMeter } from '../meters/ram-estimate.js'
import { RaplMeter } from '../meters/rapl.js'
import type { MeterSpec } from '../meters/spec.js'

/** Plain data from which the sampler (in its worker thread) builds a meter, or its attribution reader. */
export type SamplerSpec = MeterSpec | AttributionSpec

/**
 * Builds the meters the specs describe. A GPU spec gives zero or more meters (NVML energy and power,
 * or nvidia-smi), and the report of what it found. `samplerThread`: the calling thread is the tracker's
 * own sampler worker (its CPU time is the tracker's, not the job's).
 */
export function buildMeters(
  specs: readonly SamplerSpec[],
  samplerThread = false,
): {
  meters: Meter[]
  gpu: GpuReport | null
  attribution: AttributionReader | null
} {
  const meters: Meter[] = []
  let gpu: GpuReport | null = null
  let attribution: AttributionSpec | null = null
  // The model meters read the machine's load once per sample between them; only every REST_LOAD_EVERY_MS
  // when the CPU is measured and only the rest of the machine (and RAM) follow the load.
  const loads = new Map<string, SharedLoad>()
  const cpuModelled = specs.some((s) => s.type === 'model' && s.component === 'cpu')
  for (const spec of specs) {
    switch (spec.type) {
      case 'rapl':
        meters.push(new RaplMeter(spec))
        break
      case 'model': {
        const load =
          loads.get(spec.procStatPath) ??
          new SharedLoad(spec.procStatPath, cpuModelled ? 0 : REST_LOAD_EVERY_MS)
        loads.set(spec.procStatPath, load)
        meters.push(new ModelMeter(spec, load))
        break
      }
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
      case 'attribution':
        attribution = spec
        break
    }
  }
  return {
    meters,
    gpu,
    attribution: attribution ? attributionReader(attribution, meters, samplerThread) : null,
  }
}

/** The attribution reader, asking NVML about the processes of the GPUs its meters measure, in their order. */
function attributionReader(
  spec: AttributionSpec,
  meters: readonly Meter[],
  samplerThread: boolean,
): AttributionReader {
  const nvmlMeters = meters.filter((m): m is NvmlMeter => m instanceof NvmlMeter)
  const first = nvmlMeters[0]
  const gpus = first
    ? new GpuProcessReader(
        first.nvml,
        nvmlMeters.flatMap((m) => m.devices),
        spec.procRoot,
      )
    : null
  return new AttributionReader(spec, gpus, samplerThread)
}
