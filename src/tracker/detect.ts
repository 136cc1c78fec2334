import { type AttributionDetection, detectAttribution } from '../attribution/detect.js'
import { environmentWarnings, resolveConfig } from '../config/config.js'
import type { TrackerOptions } from '../config/options.js'
import { estimateMachinePower } from '../estimates/machine-power.js'
import { instanceHostPlatform } from '../footprint/guest-host.js'
import { resolveIntensity } from '../intensity/resolve.js'
import { planMeters, tuneEstimates } from '../meters/detect.js'
import { NvmlMeter } from '../meters/nvml.js'
import { raplPermissionFix } from '../meters/rapl.js'
import { getSystemInfo } from '../platform/system.js'
import { buildMeters, type SamplerSpec } from '../sampling/build.js'

/** The power model's view of a machine of this size, at idle and at full load. */
export interface ModelDetection {
  /** At idle: the model's watts and its 80 % interval. */
  readonly idle: ModelPower
  /** At full load: the model's watts and its 80 % interval. */
  readonly full: ModelPower
  /** What the model rests on (its fit, its data). */
  readonly source: string
}

/** A power model's figure, at the wall, with its 80 % prediction interval. */
export interface ModelPower {
  /** Watts. */
  readonly watts: number
  /** The interval's low end, watts. */
  readonly lowW: number
  /** The interval's high end, watts. */
  readonly highW: number
}

/** What this machine can measure, and how: what `wattprint detect` prints. */
export interface Detection {
  /** The CPU, and how a run would measure it. */
  readonly cpu: {
    /** Its model name, as the system reports it. */
    readonly model: string
    /** Logical CPUs (hardware threads). */
    readonly logicalCpus: number
    /** CPU sockets. */
    readonly sockets: number
    /** The meter a run would use: `rapl` (or its variant) when readable, else `cpu-model` (the estimate). */
    readonly source: string
    /** In words: the RAPL zones read, or the estimate's watts idle and at full load. */
    readonly how: string
  }
  /** The powercap (RAPL) tree: what it holds and what cannot be read. */
  readonly rapl: {
    /** The powercap root looked at (raplRoot). */
    readonly root: string
    /** The package zones, `id (name)`. */
    readonly packages: readonly string[]
    /** The DRAM zones, `id (name)`. */
    readonly dram: readonly string[]
    /** Zones that exist but cannot be read, each with the error. */
    readonly unreadable: readonly string[]
    /** Why there is no RAPL at all; null when there is. */
    readonly unavailable: string | null
    /** The commands that make unreadable zones readable without root; null when none is unreadable. */
    readonly fix: string | null
  }
  /** The GPUs a run would measure, and why each backend is not used. */
  readonly gpu: {
    /** Each GPU: its index, name, UUID and the backend that reads it (`nvml`, `nvidia-smi`, …). */
    readonly devices: readonly {
      /** Its index, as the backend numbers them. */
      index: number
      /** Its model name. */
      name: string
      /** Its UUID (`GPU-…`). */
      uuid: string
      /** The backend that reads it. */
      source: string
    }[]
    /** Why NVML cannot be used; null when it is. */
    readonly nvml: string | null
    /** Why nvidia-smi cannot be used; null when it is (or NVML is). */
    readonly nvidiaSmi: string | null
    /** AMD and Intel backends (amdsmi, rocm-smi, level-zero, hwmon-amdgpu, hwmon-intel): null when used. */
    readonly backends: Readonly<Record<string, string | null>>
  }
  /** The whole server at the wall (an ACPI power meter under the hwmon root), or why there is none. */
  readonly node: {
    /** The node meter's source (`hwmon-acpi-power`); null when there is none. */
    readonly source: string | null
    /** Its sensors' files. */
    readonly sensors: readonly string[]
    /** Why there is none; null when there is. */
    readonly unavailable: string | null
  }
  /** The RAM meter: its source, its watts where it is an estimate (null when measured), and how. */
  readonly ram: {
    /** The machine's memory, GiB. */
    readonly totalGiB: number
    /** The meter a run would use: `rapl-dram`, the model's part, the fixed ramPowerW's, or `none`. */
    readonly source: string
    /** Its watts where it is an estimate or a fixed figure; null when measured. */
    readonly watts: number | null
    /** In words: how it is measured or estimated. */
    readonly how: string
  }
  /** The rest of the machine (board, fans, drives, power-supply losses): modelled, or in the node meter. */
  readonly rest: {
    /** `rest-model` (estimated), or `acpi-power-meter` (the node meter, which holds it). */
    readonly source: string
    /** In words: what it is and how it is estimated. */
    readonly how: string
  }
  /** What the model's estimates rest on, in words; null when nothing is estimated. */
  readonly estimate: string | null
  /** The carbon intensity a run would price with now, and the place it rests on. */
  readonly intensity: {
    /** g CO2e/kWh. */
    readonly gPerKWh: number
    /** Where it comes from, as the CSV's `intensity_source` says it. */
    readonly source: string
    /** The country, `Germany (DEU)`; null when unknown. */
    readonly country: string | null
    /** The Electricity Maps zone used; null when none. */
    readonly zone: string | null
    /** The cloud and region (`aws eu-north-1`); null off the cloud or when not known. */
    readonly cloud: string | null
  }
  /** Which --attribution this machine allows, and how each share would be found. */
  readonly attribution: AttributionDetection
  /** The power model's prediction for a machine like this one, or why there is none. */
  readonly model: ModelDetection | string
  /** What a run's notes would say of its set-up. */
  readonly notes: readonly string[]
  /** What a run would warn about (the meters, the location, the environment's WATTPRINT_* variables). */
  readonly warnings: readonly string[]
}

/**
 * Looks at the machine as a tracker started with these options would, without measuring anything: which
 * meters it would read (RAPL zones, GPUs and their backends, a node meter), what it would estimate and on
 * what, the intensity it would price with, which attribution the machine allows, and why anything is
 * missing, with the fix. `wattprint detect` prints it. Throws a WattprintError for bad options, as the
 * tracker's constructor does; nothing else throws.
 */
export async function detect(options: TrackerOptions = {}): Promise<Detection> {
  const config = resolveConfig({ saveToFile: false, logLevel: 'silent', ...options })
  const plan = planMeters(config)
  const system = await getSystemInfo()
  const tuning = await tuneEstimates(plan, system, {
    cpuPowerW: config.cpuPowerW,
    procRoot: config.procRoot,
    sysRoot: config.sysRoot,
    host: config.embodied?.host,
    instanceHost: instanceHostPlatform(null),
  })
  // The GPU meters are built and closed again: NVML and nvidia-smi are only known by trying them.
  const { meters, gpu } = buildMeters(plan.specs.filter((s) => s.type === 'gpu'))
  const nvml = meters.find((m): m is NvmlMeter => m instanceof NvmlMeter)
  const attribution = detectAttribution(
    config.procRoot,
    nvml ? nvml.nvml.fn.getComputeProcesses !== undefined : null,
  )
  for (const meter of meters) meter.close?.()
  const intensity = await resolveIntensity(config)
  intensity.close()
  const reading = intensity.provider.at(Date.now())
  const cpuSpec = plan.specs.find((s) => s.type === 'rapl' && s.component === 'cpu')
  const ramSpec = plan.specs.find(
    (s) =>
      s.type === 'constant' ||
      (s.type === 'rapl' && s.component === 'ram') ||
      (s.type === 'model' && s.component === 'ram'),
  )
  const notes = [...plan.notes, ...tuning.notes, ...(gpu?.notes ?? []), ...intensity.notes]
  return {
    cpu: {
      model: system.cpuModel,
      logicalCpus: system.cpuCount,
      sockets: system.sockets,
      source: cpuSpec ? (plan.rapl.cpuSource ?? 'rapl') : 'cpu-model',
      how: cpuSpec
        ? `RAPL counters: ${plan.rapl.cpuZones.map((z) => z.name).join(', ')}`
        : curveHow('CPU', tuning.watts['cpu-model']),
    },
    rapl: {
      root: plan.rapl.root,
      packages: plan.rapl.cpuZones.map((z) => `${z.id} (${z.name})`),
      dram: plan.rapl.dramZones.map((z) => `${z.id} (${z.name})`),
      unreadable: plan.rapl.unreadable.map((u) => `${u.zone.id} (${u.zone.name}): ${u.error}`),
      unavailable: plan.rapl.unavailableReason,
      fix: plan.rapl.unreadable.length > 0 ? raplPermissionFix(plan.rapl.root) : null,
    },
    gpu: {
      devices: (gpu?.devices ?? []).map((d) => ({
        index: d.index,
        name: d.name,
        uuid: d.uuid,
        source: d.source,
      })),
      nvml: gpu?.nvmlUnavailable ?? null,
      nvidiaSmi: gpu?.nvidiaSmiUnavailable ?? null,
      backends: Object.fromEntries((gpu?.backends ?? []).map((b) => [b.backend, b.unavailable])),
    },
    node: nodeDetection(plan.specs, config.hwmonRoot),
    model: modelDetection(system.cpuModel, system.sockets, system.cpuCount, system.ramTotalGiB),
    ram: { totalGiB: system.ramTotalGiB, ...ramDetection(ramSpec, tuning.watts) },
    rest: plan.pending.rest
      ? { source: 'rest-model', how: curveHow('rest-of-machine', tuning.watts['rest-model']) }
      : { source: 'acpi-power-meter', how: 'measured with the whole server at the wall' },
    estimate: tuning.estimate
      ? `${tuning.estimate.source}${tuning.estimate.curves.share ? `; ${tuning.estimate.curves.share}` : ''}`
      : null,
    intensity: {
      gPerKWh: reading.gPerKWh,
      source: reading.source,
      country: intensity.location.country
        ? `${intensity.location.country.name} (${intensity.location.country.alpha3})`
        : null,
      zone: intensity.location.zone,
      cloud: intensity.location.cloudProvider
        ? `${intensity.location.cloudProvider} ${intensity.location.cloudRegion}`
        : null,
    },
    attribution,
    notes,
    warnings: [
      ...environmentWarnings(process.env),
      ...[...plan.warnings, ...tuning.warnings, ...(gpu?.warnings ?? []), ...intensity.warnings].map(
        (w) => w.message,
      ),
    ],
  }
}

const watts = (w: number) => `${w < 10 ? w.toFixed(1) : w.toFixed(0)} W`

/** A model curve in words: its watts idle and at full load. */
function curveHow(part: string, curve: readonly number[] | undefined): string {
  if (!curve || curve.length === 0) return `the power model's ${part} part (unknown: the model failed)`
  return `the power model's ${part} part, ${watts(curve[0] ?? 0)} idle … ${watts(curve[curve.length - 1] ?? 0)} at full load`
}

/** The RAM meter as a run would build it: RAPL DRAM, the wattage set by ramPowerW, or the model's part. */
function ramDetection(
  spec: SamplerSpec | undefined,
  tuned: Readonly<Record<string, readonly number[]>>,
): Omit<Detection['ram'], 'totalGiB'> {
  if (spec?.type === 'rapl') return { source: 'rapl-dram', watts: null, how: 'RAPL DRAM counters' }
  if (spec?.type === 'constant') {
    return { source: spec.source, watts: spec.watts, how: `${spec.watts} W, set by ramPowerW` }
  }
  if (spec?.type !== 'model') return { source: 'none', watts: null, how: 'not measured' }
  const curve = tuned[spec.id]
  return { source: spec.source, watts: curve?.[0] ?? null, how: curveHow('RAM', curve) }
}

/**
 * What the power model predicts for a machine of this CPU, size and memory at idle and full load, to set
 * beside what can be measured here. Never throws: a machine the model cannot take says why.
 */
function modelDetection(
  cpuModel: string,
  sockets: number,
  threads: number,
  memoryGiB: number,
): ModelDetection | string {
  try {
    const at = (load: number) => {
      const e = estimateMachinePower({
        cpuModel,
        sockets: Math.max(1, sockets),
        threads: Math.max(threads, sockets, 1),
        memoryGB: (memoryGiB * 2 ** 30) / 1e9,
        load,
      })
      return { e, figures: { watts: e.watts, lowW: e.lowW, highW: e.highW } }
    }
    const idle = at(0)
    return { idle: idle.figures, full: at(1).figures, source: idle.e.source }
  } catch (error) {
    return `no model estimate: ${(error as Error).message}`
  }
}

/** The node meter of a plan, or why there is none. */
function nodeDetection(specs: readonly SamplerSpec[], hwmonRoot: string): Detection['node'] {
  const node = specs.find((s) => s.type === 'hwmon' && s.component === 'node')
  if (node?.type === 'hwmon') {
    return { source: node.source, sensors: node.channels.map((c) => c.sensor.path), unavailable: null }
  }
  return {
    source: null,
    sensors: [],
    unavailable: `no ACPI power_meter chip with a power or energy sensor under ${hwmonRoot}`,
  }
}
