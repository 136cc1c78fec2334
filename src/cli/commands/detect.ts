import { type AttributionDetection, detectAttribution } from '../../attribution/detect.js'
import { environmentWarnings, resolveConfig } from '../../config/config.js'
import { linesOf, printJson, printOut } from '../../core/terminal.js'
import { estimateMachinePower } from '../../estimates/machine-power.js'
import { instanceHostPlatform } from '../../footprint/guest-host.js'
import { resolveIntensity } from '../../intensity/resolve.js'
import { planMeters, tuneEstimates } from '../../meters/detect.js'
import { NvmlMeter } from '../../meters/nvml.js'
import { raplPermissionFix } from '../../meters/rapl.js'
import { getSystemInfo } from '../../platform/system.js'
import { buildMeters, type SamplerSpec } from '../../sampling/build.js'
import { type CommandSpec, type Flags, helpText, parseFlags } from '../flags.js'
import { TRACKER_FLAGS, trackerOptionsFrom, usageErrorFrom } from '../options.js'

/** What this machine can measure, and how: the data behind `wattprint detect`. */
/** The power model's view of a machine of this size, at idle and at full load. */
export interface ModelDetection {
  readonly idle: { readonly watts: number; readonly lowW: number; readonly highW: number }
  readonly full: { readonly watts: number; readonly lowW: number; readonly highW: number }
  readonly source: string
}

export interface Detection {
  readonly cpu: {
    readonly model: string
    readonly logicalCpus: number
    readonly sockets: number
    readonly source: string
    readonly how: string
  }
  readonly rapl: {
    readonly root: string
    readonly packages: readonly string[]
    readonly dram: readonly string[]
    readonly unreadable: readonly string[]
    readonly unavailable: string | null
    readonly fix: string | null
  }
  readonly gpu: {
    readonly devices: readonly { index: number; name: string; uuid: string; source: string }[]
    readonly nvml: string | null
    readonly nvidiaSmi: string | null
    /** AMD and Intel backends (amdsmi, rocm-smi, level-zero, hwmon-amdgpu, hwmon-intel): null when used. */
    readonly backends: Readonly<Record<string, string | null>>
  }
  /** The whole server at the wall (an ACPI power meter under the hwmon root), or why there is none. */
  readonly node: {
    readonly source: string | null
    readonly sensors: readonly string[]
    readonly unavailable: string | null
  }
  /** The RAM meter: its source, its watts where it is an estimate (null when measured), and how. */
  readonly ram: {
    readonly totalGiB: number
    readonly source: string
    readonly watts: number | null
    readonly how: string
  }
  /** The rest of the machine (board, fans, drives, power-supply losses): modelled, or in the node meter. */
  readonly rest: { readonly source: string; readonly how: string }
  /** What the model's estimates rest on, in words; null when nothing is estimated. */
  readonly estimate: string | null
  readonly intensity: {
    readonly gPerKWh: number
    readonly source: string
    readonly country: string | null
    readonly zone: string | null
    readonly cloud: string | null
  }
  /** Which --attribution this machine allows, and how each share would be found. */
  readonly attribution: AttributionDetection
  /** The power model's prediction for a machine like this one, or why there is none. */
  readonly model: ModelDetection | string
  readonly notes: readonly string[]
  readonly warnings: readonly string[]
}

/** Looks at the machine as a tracker started with these options would, without measuring anything. */
export async function detect(options: ReturnType<typeof trackerOptionsFrom>): Promise<Detection> {
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

function render(d: Detection): string[] {
  const lines = [
    `CPU     ${d.cpu.model}: ${d.cpu.logicalCpus} logical CPUs, ${d.cpu.sockets} socket(s)`,
    `        measured by ${d.cpu.source}: ${d.cpu.how}`,
    `RAPL    ${d.rapl.root}: ${
      d.rapl.unavailable ??
      `packages ${d.rapl.packages.join(', ') || 'none'}; dram ${d.rapl.dram.join(', ') || 'none'}`
    }`,
  ]
  if (d.rapl.unreadable.length > 0) lines.push(`        unreadable: ${d.rapl.unreadable.join('; ')}`)
  if (d.rapl.fix) lines.push(...d.rapl.fix.split('\n').map((l) => `        ${l}`))
  if (d.gpu.devices.length > 0) {
    for (const g of d.gpu.devices) lines.push(`GPU     ${g.index}: ${g.name} (${g.uuid}) by ${g.source}`)
  } else lines.push('GPU     none measured')
  if (d.gpu.nvml) lines.push(`        NVML: ${d.gpu.nvml}`)
  if (d.gpu.nvidiaSmi) lines.push(`        nvidia-smi: ${d.gpu.nvidiaSmi}`)
  for (const [backend, reason] of Object.entries(d.gpu.backends)) {
    if (reason) lines.push(`        ${backend}: ${reason}`)
  }
  lines.push(
    d.node.source
      ? `Node    ${d.node.source}: ${d.node.sensors.join(', ')} (the whole server at the wall, beside the components, never added)`
      : `Node    no whole-server meter: ${d.node.unavailable}`,
  )
  lines.push(`RAM     ${d.ram.totalGiB.toFixed(1)} GiB, by ${d.ram.source}: ${d.ram.how}`)
  lines.push(`Rest    board, fans, drives, power-supply losses, by ${d.rest.source}: ${d.rest.how}`)
  if (d.estimate) lines.push(`        estimates from ${d.estimate}`)
  if (typeof d.model === 'string') lines.push(`Model   ${d.model}`)
  else {
    const w = (f: ModelDetection['idle']) =>
      `${f.watts.toFixed(0)} W (80 %: ${f.lowW.toFixed(0)}–${f.highW.toFixed(0)} W)`
    lines.push(
      `Model   a whole machine of this CPU, size and memory at the wall: idle ${w(d.model.idle)}, full load ${w(d.model.full)}`,
      `        ${d.model.source}; error on unseen servers in docs/accuracy.md`,
    )
  }
  lines.push(
    `Grid    ${d.intensity.gPerKWh} g CO2e/kWh from ${d.intensity.source}` +
      `${d.intensity.country ? `; ${d.intensity.country}` : ''}${d.intensity.zone ? `, zone ${d.intensity.zone}` : ''}` +
      `${d.intensity.cloud ? `, ${d.intensity.cloud}` : ''}`,
  )
  lines.push(
    `Share   --attribution process ${d.attribution.process}`,
    `        --attribution cgroup ${d.attribution.cgroup}`,
    `        memory by ${d.attribution.memory}; GPU ${d.attribution.gpu}`,
  )
  for (const w of d.warnings) lines.push(`warning ${w.split('\n')[0]}`)
  // Paths, names and the reasons that quote them come from the machine and the options: the printer
  // writes them out.
  return lines
}

/** The flags of `wattprint detect`: parsed, and listed in its help, from this one table. */
export const DETECT_FLAGS = {
  ...TRACKER_FLAGS,
  json: { type: 'boolean', help: 'the findings as JSON on stdout' },
} as const satisfies Flags

const DETECT: CommandSpec = {
  name: 'detect',
  usage: '[options]',
  about: `What a run with these options would measure on this machine, and how: the CPU and its RAPL counters
(and the fix when they are unreadable), the GPUs (NVIDIA through NVML or nvidia-smi, AMD through amdsmi,
ROCm SMI or hwmon, Intel through Level Zero or hwmon) and why each way is absent, the server's own power
meter, the RAM, and the grid's carbon intensity. Measures nothing and writes nothing; the options are those of wattprint run.`,
  flags: DETECT_FLAGS,
}

/** `wattprint detect [--json]`: always exit 0 once it could look (estimates are a valid answer). */
export async function detectCommand(argv: readonly string[]): Promise<number> {
  const { values } = parseFlags(DETECT, argv)
  if (values.help) {
    printOut(...linesOf(helpText(DETECT)))
    return 0
  }
  let detection: Detection
  try {
    detection = await detect(trackerOptionsFrom(values))
  } catch (error) {
    throw usageErrorFrom(error, values, DETECT_FLAGS)
  }
  if (values.json) printJson(detection)
  else printOut(...render(detection))
  return 0
}
