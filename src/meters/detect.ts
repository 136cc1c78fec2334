import { describeError } from '../core/errors.js'
import type { TrackerWarning } from '../core/warnings.js'
import { cpuFamily } from '../estimates/cpu-family.js'
import { matchCpu, shippedCpuTable } from '../estimates/cpu-tdp-table.js'
import { type EstimateCurves, estimateCurves, vmShare } from '../estimates/machine-estimate.js'
import { describeModel } from '../estimates/machine-power.js'
import { shippedPowerModel } from '../estimates/model-file.js'
import { readGuest } from '../platform/guest.js'
import type { SystemInfo } from '../platform/system.js'
import { amdGpuSelection, gpuSelection } from './gpu-select.js'
import { discoverHwmon, nodeMeterSpec } from './hwmon.js'
import type { ModelMeterSpec } from './model-meter.js'
import { discoverRapl, type RaplDiscovery, raplMeterSpecs, raplPermissionFix } from './rapl.js'
import type { MeterSpec } from './spec.js'

/** The inputs detection needs from the configuration. */
export interface DetectOptions {
  readonly raplRoot: string
  readonly procStatPath: string
  readonly cpuPowerW: number | null
  readonly ramPowerW: number | null
  /** Where /proc is, for the guest-memory check (a VM or container owns only what it was given). */
  readonly procRoot?: string
  /** Where /sys is (DMI names a virtual machine's firmware). */
  readonly sysRoot?: string
  /** GPU options; absent: no GPU meter is asked for (tests of CPU and RAM alone). */
  readonly gpuIds?: readonly string[] | null
  readonly nvmlLibraryPath?: string | null
  /** false: integrate NVML power even where a GPU has an energy counter. Default true. */
  readonly nvmlEnergyCounter?: boolean
  readonly nvidiaSmiPath?: string
  readonly intervalMs?: number
  /** AMD and Intel GPU libraries; the hwmon root also gives the node's power meter. */
  readonly amdSmiLibraryPath?: string | null
  readonly rocmSmiLibraryPath?: string | null
  readonly levelZeroLibraryPath?: string | null
  readonly hwmonRoot?: string
}

/**
 * Which meters to build, decided in a millisecond from the powercap tree and the options alone, so the
 * baseline reading is not held up. Estimates whose wattage needs slow facts are left `pending`.
 */
export interface MeterPlan<Spec = MeterSpec> {
  readonly specs: readonly Spec[]
  readonly rapl: RaplDiscovery
  /** Which model meters (CPU, RAM, the rest of the machine) wait for tuneEstimates()' curves. */
  readonly pending: { readonly cpu: boolean; readonly ram: boolean; readonly rest: boolean }
  readonly notes: readonly string[]
  readonly warnings: readonly TrackerWarning[]
}

/** The curves of pending model meters, and what they rest on. */
export interface EstimateTuning {
  /** Watts per load step, by meter id. */
  readonly watts: Readonly<Record<string, readonly number[]>>
  /** The model's estimate for this machine; null when nothing is estimated, or it failed. */
  readonly estimate: ModelEstimate | null
  readonly notes: readonly string[]
  readonly warnings: readonly TrackerWarning[]
}

/**
 * Chooses the meters: RAPL packages for the CPU when readable, else the power model's CPU part; RAPL DRAM
 * for memory when readable, else the forced ramPowerW, else the model's RAM part; the ACPI power meter for
 * the whole server, else the model's rest of the machine. Measured always wins over estimated; forced
 * wattages replace the estimates' inputs, not the measurements.
 */
export function planMeters(options: DetectOptions): MeterPlan {
  const specs: MeterSpec[] = []
  const notes: string[] = []
  const warnings: TrackerWarning[] = []
  const rapl = discoverRapl(options.raplRoot)
  const raplSpecs = raplMeterSpecs(rapl)
  if (rapl.unreadable.length > 0 && !raplSpecs.cpu) {
    warnings.push({
      code: 'RAPL_UNREADABLE',
      message: `${rapl.unavailableReason}: CPU energy is estimated from the power model and load.\n${raplPermissionFix(rapl.root)}`,
    })
  } else if (rapl.unreadable.length > 0) {
    // Packages readable, DRAM not (permissions changed on some files only): say so, never fall back silently.
    const codes = [...new Set(rapl.unreadable.map((u) => u.error))].join(', ')
    warnings.push({
      code: 'RAPL_UNREADABLE',
      message: `RAPL DRAM counters under ${rapl.root} are not readable (${codes}): RAM energy is estimated.\n${raplPermissionFix(rapl.root)}`,
    })
    notes.push(`RAM energy estimated: the RAPL DRAM counters are not readable (${codes})`)
  }
  if (rapl.cpuSource === 'rapl-psys') {
    notes.push('CPU energy is the RAPL psys zone (the whole platform): no package zone exists')
  }

  // The power model supplies what nothing measures; its curves need the system's facts (slow), so its
  // meters start pending and get their watts from tuneEstimates().
  const model = (id: ModelMeterSpec['id'], component: ModelMeterSpec['component']): ModelMeterSpec => ({
    type: 'model',
    id,
    component,
    source: id,
    curveW: null,
    procStatPath: options.procStatPath,
  })
  let cpuPending = false
  if (raplSpecs.cpu) {
    specs.push(raplSpecs.cpu)
  } else {
    cpuPending = true
    specs.push(model('cpu-model', 'cpu'))
  }

  let ramPending = false
  if (raplSpecs.ram) {
    specs.push(raplSpecs.ram)
  } else if (options.ramPowerW !== null) {
    notes.push(`RAM power set to ${options.ramPowerW} W (ramPowerW)`)
    specs.push({
      type: 'constant',
      id: 'ram-constant',
      component: 'ram',
      source: 'constant',
      watts: options.ramPowerW,
    })
  } else {
    ramPending = true
    specs.push(model('ram-model', 'ram'))
  }
  // GPUs are found where they are read (NVML and nvidia-smi are loaded and run in the sampler's thread).
  if (options.nvidiaSmiPath !== undefined) {
    const gpuIds = options.gpuIds ?? null
    specs.push({
      type: 'gpu',
      nvmlLibraryPath: options.nvmlLibraryPath ?? null,
      nvmlEnergyCounter: options.nvmlEnergyCounter ?? true,
      nvidiaSmiPath: options.nvidiaSmiPath,
      selection: gpuSelection(gpuIds),
      intervalMs: options.intervalMs ?? 1000,
      vendors:
        options.hwmonRoot === undefined
          ? null
          : {
              amdSmiLibraryPath: options.amdSmiLibraryPath ?? null,
              rocmSmiLibraryPath: options.rocmSmiLibraryPath ?? null,
              levelZeroLibraryPath: options.levelZeroLibraryPath ?? null,
              hwmonRoot: options.hwmonRoot,
              amdSelection: amdGpuSelection(gpuIds),
              intelSelection: gpuIds
                ? { kind: 'list', ids: gpuIds, from: 'gpuIds' }
                : { kind: 'all', from: 'default' },
            },
    })
  }
  // The whole server at the wall, beside the components' sum (never added to it); without one, the rest
  // of the machine is modelled, for the wall figure.
  const node = options.hwmonRoot === undefined ? null : nodeMeterSpec(discoverHwmon(options.hwmonRoot))
  if (node) {
    specs.push(node)
    notes.push(
      `Node power from the ACPI power meter (${node.channels.map((c) => `${c.name}/${c.sensor.file}`).join(', ')}): ` +
        'the whole server at the wall, shown beside the components, never added to them',
    )
  } else {
    specs.push(model('rest-model', 'rest'))
  }
  return {
    specs,
    rapl,
    pending: { cpu: cpuPending, ram: ramPending, rest: node === null },
    notes,
    warnings,
  }
}

/** What the power model needs beyond the system's description. */
/** A cloud instance type's host platform: its threads, and where that figure comes from. */
export interface InstanceHost {
  readonly threads: number
  readonly label: string
}

export interface TuneOptions {
  /** TDP of all sockets, W, where the user knows it (cpuPowerW). */
  readonly cpuPowerW: number | null
  readonly procRoot?: string
  readonly sysRoot?: string
  /** The host of a virtual machine, as the user knows it (embodied.host); else the assumed host. */
  readonly host?: { readonly threads?: number; readonly memoryGiB?: number } | undefined
  /** Whether to look the CPU's TDP up in the CPU table (default true). */
  readonly lookUpTdp?: boolean
  /**
   * A virtual machine's host platform from its instance type (the one given or detected, else the one
   * the firmware names); null where unknown. Without it, the host is the user's or the assumed one.
   */
  readonly instanceHost?: (firmwareType: string | null) => InstanceHost | null
}

/** Supplies the curves of every pending model meter, from the machine's description and the fitted model. */
export async function tuneEstimates(
  plan: Pick<MeterPlan<unknown>, 'pending' | 'rapl'>,
  system: SystemInfo,
  options: TuneOptions,
): Promise<EstimateTuning> {
  const watts: Record<string, readonly number[]> = {}
  const notes: string[] = []
  const warnings: TrackerWarning[] = []
  if (!plan.pending.cpu && !plan.pending.ram && !plan.pending.rest) {
    return { watts, estimate: null, notes, warnings }
  }
  let estimate: ModelEstimate
  try {
    // The CPU table (a 70 ms parse) only where the CPU itself is estimated: where RAPL measures it, the
    // rest of the machine is modelled from the CPU's generation and threads (the model's `year` variant).
    estimate = await modelEstimate(system, { ...options, lookUpTdp: plan.pending.cpu })
  } catch (error) {
    // The model's files ship with the package; a broken install is said, never thrown into the job.
    warnings.push({
      code: 'ESTIMATE_FAILED',
      message: `the power model could not be evaluated (${describeError(error)}): estimated components read as unknown.`,
    })
    return { watts, estimate: null, notes, warnings }
  }
  const { curves } = estimate
  const range = (w: readonly number[]) =>
    `${fmtW(w[0] ?? 0)} idle … ${fmtW(w[w.length - 1] ?? 0)} at full load`
  notes.push(`Estimates from ${estimate.source}${curves.share ? `; ${curves.share}` : ''}`)
  if (plan.pending.cpu) {
    watts['cpu-model'] = curves.cpuW
    const why = plan.rapl.unavailableReason ? ` (no RAPL: ${plan.rapl.unavailableReason})` : ''
    notes.push(`CPU energy estimated: the model's CPU part, ${range(curves.cpuW)}${why}`)
  }
  if (plan.pending.ram) {
    watts['ram-model'] = curves.ramW
    notes.push(`RAM energy estimated: the model's RAM part, ${range(curves.ramW)}`)
  }
  if (plan.pending.rest) {
    watts['rest-model'] = curves.restW
    notes.push(
      `The rest of the machine (board, fans, drives, power-supply losses) modelled: ${range(curves.restW)}; ` +
        'part of the wall figure, not of the CPU+GPU+RAM energy',
    )
  }
  // Said as a warning where the CPU itself is estimated; where RAPL measures it, the TDP only sizes the
  // rest of the machine, and the note's `TDP unknown` says so.
  if (estimate.tdpFrom === 'unknown' && plan.pending.cpu) {
    warnings.push({
      code: 'CPU_UNKNOWN',
      message:
        `CPU '${system.cpuModel}' is not in the TDP table: the power model stands its ${system.cpuCount} ` +
        'threads in for its TDP, with a wider interval. Set cpuPowerW to its TDP (all sockets) for a narrower one.',
    })
  }
  return { watts, estimate, notes, warnings }
}

/** The power model's curves for this machine, and what they rest on. */
export interface ModelEstimate {
  readonly curves: EstimateCurves
  /** The model and what it knew, in words. */
  readonly source: string
  readonly tdpFrom: 'option' | 'cpu-table' | 'unknown' | 'not-looked-up'
}

const fmtW = (w: number) => `${w < 10 ? w.toFixed(1) : w.toFixed(0)} W`

/** The model's curves for this machine (a virtual machine: its share of a host). */
export async function modelEstimate(system: SystemInfo, options: TuneOptions): Promise<ModelEstimate> {
  const sockets = Math.max(1, system.sockets)
  let tdpW: number | null = null
  let tdpFrom: ModelEstimate['tdpFrom'] = 'unknown'
  let tdpText = 'TDP unknown (the CPU is not in the table: threads stand in, wider interval)'
  if (options.cpuPowerW !== null) {
    tdpW = options.cpuPowerW / sockets
    tdpFrom = 'option'
    tdpText = `TDP ${tdpW} W per socket (cpuPowerW ${options.cpuPowerW} W)`
  } else if (options.lookUpTdp === false) {
    tdpFrom = 'not-looked-up'
    tdpText = 'TDP not looked up (the CPU is measured: threads stand in for the rest of the machine)'
  } else {
    const match = matchCpu(system.cpuModel, await shippedCpuTable())
    if (match) {
      tdpW = match.tdpW
      tdpFrom = 'cpu-table'
      tdpText = `TDP ${tdpW} W (CPU table: ${match.name})`
    }
  }
  const guest = readGuest({ procRoot: options.procRoot ?? '/proc', sysRoot: options.sysRoot ?? '/sys' })
  const limit = guest.memoryLimit?.gib ?? null
  const vm =
    guest.vm !== null
      ? vmShare(
          system.cpuCount,
          system.ramTotalGiB,
          options.host,
          options.instanceHost?.(guest.firmwareInstanceType) ?? null,
        )
      : null
  const family = cpuFamily(system.cpuModel)
  const model = shippedPowerModel()
  const curves = estimateCurves(model, {
    tdpW,
    sockets,
    threads: Math.max(system.cpuCount, sockets),
    memoryGiB: system.ramTotalGiB,
    vendor: family.vendor === 'unknown' && system.isArm ? 'arm' : family.vendor,

    year: family.year,
    vm,
    memoryLimitGiB: vm === null && limit !== null && limit < system.ramTotalGiB ? limit : null,
  })
  const vendor = family.vendor === 'unknown' && system.isArm ? 'arm' : family.vendor
  return { curves, source: describeModel(model, curves.variant, tdpText, { ...family, vendor }), tdpFrom }
}
