import { totalmem } from 'node:os'
import { describeError } from '../errors.js'
import type { SystemInfo } from '../system.js'
import type { TrackerWarning } from '../warnings.js'
import type { MeterSpec } from './build.js'
import { matchCpu, shippedCpuTable, type TdpMatch } from './cpu-tdp-table.js'
import { amdGpuSelection, gpuSelection } from './gpu-select.js'
import { discoverHwmon, nodeMeterSpec } from './hwmon.js'
import { guessModuleCount, ramPowerW } from './ram-estimate.js'
import { GUEST_RAM_W_PER_GB, guestMemory } from './ram-guest.js'
import { discoverRapl, type RaplDiscovery, raplMeterSpecs, raplPermissionFix } from './rapl.js'

/** Watts per logical CPU when the CPU model is not in the table (CodeCarbon's default). */
export const WATTS_PER_THREAD_UNKNOWN_CPU = 4

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
export interface MeterPlan {
  readonly specs: readonly MeterSpec[]
  readonly rapl: RaplDiscovery
  /** Estimate meters (by id) whose wattage tuneEstimates() must supply. */
  readonly pending: { readonly cpuTdp: boolean; readonly ramModules: boolean }
  readonly notes: readonly string[]
  readonly warnings: readonly TrackerWarning[]
}

/** The wattages of pending estimates, and how they were found. */
export interface EstimateTuning {
  /** By meter id. */
  readonly watts: Readonly<Record<string, number>>
  readonly cpuTdp: { readonly watts: number; readonly how: string; readonly match: TdpMatch | null } | null
  readonly notes: readonly string[]
  readonly warnings: readonly TrackerWarning[]
}

/**
 * Chooses the meters: RAPL packages for the CPU when readable, else the TDP × load estimate; RAPL DRAM
 * for memory when readable, else the module model (or the forced ramPowerW). Measured always wins over
 * estimated; forced wattages replace the estimates' inputs, not the measurements.
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
      message: `${rapl.unavailableReason}: CPU energy is estimated from TDP and load.\n${raplPermissionFix(rapl.root)}`,
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

  let cpuPending = false
  if (raplSpecs.cpu) {
    specs.push(raplSpecs.cpu)
  } else {
    cpuPending = options.cpuPowerW === null
    specs.push({ type: 'cpu-tdp', tdpW: options.cpuPowerW, procStatPath: options.procStatPath })
    if (!cpuPending) notes.push(cpuEstimateNote(`cpuPowerW ${options.cpuPowerW} W`, rapl))
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
    // A virtual machine or a container owns the memory it was given, not the host's modules: the module
    // model would charge it for DIMMs it does not have (20 W on a 2-vCPU VM drawing 1.7 W of CPU).
    const guest = guestMemory(totalmem(), {
      procRoot: options.procRoot ?? '/proc',
      sysRoot: options.sysRoot ?? '/sys',
    })
    if (guest) {
      const watts = Math.round(GUEST_RAM_W_PER_GB * guest.allocatedGB * 100) / 100
      notes.push(
        `RAM energy estimated per GB for ${guest.why}: ${GUEST_RAM_W_PER_GB} W/GB (Cloud Carbon Footprint) → ${watts} W`,
      )
      specs.push({ type: 'constant', id: 'ram-per-gb', component: 'ram', source: 'ram-per-gb', watts })
    } else {
      ramPending = true
      specs.push({
        type: 'constant',
        id: 'ram-modules',
        component: 'ram',
        source: 'ram-modules',
        watts: null,
      })
    }
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
  // The whole server at the wall, beside the components' sum (never added to it).
  if (options.hwmonRoot !== undefined) {
    const node = nodeMeterSpec(discoverHwmon(options.hwmonRoot))
    if (node) {
      specs.push(node)
      notes.push(
        `Node power from the ACPI power meter (${node.channels.map((c) => `${c.name}/${c.sensor.file}`).join(', ')}): ` +
          'the whole server at the wall, shown beside the components, never added to them',
      )
    }
  }
  return { specs, rapl, pending: { cpuTdp: cpuPending, ramModules: ramPending }, notes, warnings }
}

/** Supplies the wattage of every pending estimate, from the machine's description and the TDP table. */
export async function tuneEstimates(plan: MeterPlan, system: SystemInfo): Promise<EstimateTuning> {
  const watts: Record<string, number> = {}
  const notes: string[] = []
  const warnings: TrackerWarning[] = []
  let cpuTdp: EstimateTuning['cpuTdp'] = null
  if (plan.pending.cpuTdp) {
    cpuTdp = await estimateTdp(system)
    watts['cpu-tdp'] = cpuTdp.watts
    notes.push(cpuEstimateNote(cpuTdp.how, plan.rapl))
    if (!cpuTdp.match) {
      warnings.push({
        code: 'CPU_UNKNOWN',
        message:
          `CPU '${system.cpuModel}' is not in the TDP table: assuming ${WATTS_PER_THREAD_UNKNOWN_CPU} W per ` +
          `logical CPU (${cpuTdp.watts} W). Set cpuPowerW to its TDP for a better estimate.`,
      })
    }
  }
  if (plan.pending.ramModules) {
    const known = system.memoryModules !== null
    const modules = system.memoryModules ?? guessModuleCount(system.ramTotalGiB)
    watts['ram-modules'] = ramPowerW(modules, system.isArm)
    const origin = known ? 'found' : `guessed from ${system.ramTotalGiB.toFixed(1)} GiB`
    notes.push(`RAM energy estimated: ${modules} module(s) ${origin} → ${watts['ram-modules']} W`)
  }
  return { watts, cpuTdp, notes, warnings }
}

/** The note that says how the CPU estimate was made, and why RAPL was not used. */
function cpuEstimateNote(how: string, rapl: RaplDiscovery): string {
  const why = rapl.unavailableReason ? ` (no RAPL: ${rapl.unavailableReason})` : ''
  return `CPU energy estimated: ${how} × (0.1 + 0.9 × load³)${why}`
}

/** TDP of all sockets from the table, or 4 W per logical CPU for an unknown model. */
export async function estimateTdp(system: SystemInfo): Promise<NonNullable<EstimateTuning['cpuTdp']>> {
  const sockets = system.sockets
  let match: TdpMatch | null = null
  let tableProblem = ''
  try {
    match = matchCpu(system.cpuModel, await shippedCpuTable())
  } catch (error) {
    tableProblem = ` (the TDP table could not be read: ${describeError(error)})`
  }
  if (match) {
    const times = sockets > 1 ? ` × ${sockets} sockets` : ''
    return {
      watts: match.tdpW * sockets,
      how: `TDP ${match.tdpW} W of '${match.name}' (${match.how} match)${times}`,
      match,
    }
  }
  const watts = WATTS_PER_THREAD_UNKNOWN_CPU * system.cpuCount
  return {
    watts,
    how: `unknown CPU '${system.cpuModel}'${tableProblem}: ${WATTS_PER_THREAD_UNKNOWN_CPU} W × ${system.cpuCount} logical CPUs`,
    match: null,
  }
}
