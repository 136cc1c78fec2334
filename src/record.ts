import {
  COMPONENTS,
  type Component,
  type MeterComponent,
  type MeterMethod,
  type MeterSource,
} from './components.js'
import { type FootprintFields, NO_FOOTPRINT } from './footprint/footprint.js'
import type { ResolvedLocation } from './intensity/location.js'
import type { LedgerTotals } from './ledger.js'
import { gpuModelSummary } from './meters/gpu.js'
import type { RequestFields } from './requests/book.js'
import type { MeterDescription } from './sampling/sampler.js'
import type { SystemInfo } from './system.js'
import { joulesToKWh } from './units.js'

/**
 * How a run ended, as the CSV's `status` column says: `running` marks a flush() row; `interrupted` a
 * row written on SIGINT, SIGTERM, SIGHUP or SIGQUIT, or recovered from the checkpoint of a process that died;
 * `budget-exceeded` a run that crossed its budget.
 */
export type RunStatus = 'running' | 'finished' | 'failed' | 'interrupted' | 'budget-exceeded'

/** One component's share of a run. */
export interface ComponentRecord {
  /** kWh drawn from the grid, PUE included. */
  readonly energyKWh: number
  /** Mean power over the run, PUE excluded. */
  readonly powerW: number
  /** The source of the figure; null when no meter covers the component. */
  readonly source: MeterSource | null
  readonly method: MeterMethod | null
}

/** One meter's share, with its channels (RAPL packages, GPUs …). */
export interface MeterRecord {
  readonly id: string
  readonly component: MeterComponent
  readonly source: MeterSource
  readonly method: MeterMethod
  readonly energyKWh: number
  readonly powerW: number
  /** Seconds the meter could not be read (bridged from neighbouring readings). */
  readonly blindS: number
  readonly channels: readonly { readonly name: string; readonly energyKWh: number; readonly powerW: number }[]
}

/** Energy and emissions over a span of time: a run or a task. */
export interface Measurement {
  readonly durationS: number
  /** Total kWh drawn from the grid, PUE included. */
  readonly energyKWh: number
  /** kg CO2e. */
  readonly emissionsKg: number
  readonly emissionsRateKgPerS: number
  readonly cpu: ComponentRecord
  readonly gpu: ComponentRecord
  readonly ram: ComponentRecord
  /**
   * The whole server at the wall (an ACPI power meter), PUE included: every component and the power
   * supply's losses, shown beside the components' sum and never added to it (not in `energyKWh`). Its
   * source is null when no such meter exists.
   */
  readonly node: ComponentRecord
  /** Energy-weighted carbon intensity of the span, g CO2e/kWh. */
  readonly carbonIntensityGPerKWh: number
  /** Where the intensity came from (`electricitymaps-yearly-2025:DE`, `fixed`, `world-average` …). */
  readonly intensitySource: string
  /** Mean GPU utilisation over the span, %, from NVML or nvidia-smi; null without GPU meters. */
  readonly gpuUtilizationPercent: number | null
  /** The whole machine's energy, PUE included: the same as the job's figures without attribution. */
  readonly machine: {
    readonly energyKWh: number
    readonly cpuKWh: number
    readonly gpuKWh: number
    readonly ramKWh: number
  }
  /** Idle energy not charged to the job, PUE included, kWh (0 without attribution). */
  readonly idleEnergyKWh: number
  /**
   * What measuring cost, with attribution: the tracker's own CPU seconds (its sampler thread; for
   * `wattprint run` all of wattprint and the helpers it starts), never charged to the job. Null in machine
   * mode, and where it cannot be told from the job's (a library sampling on the job's own thread).
   */
  readonly trackerCpuS: number | null
  /**
   * The CPU energy that time stands for, PUE included, kWh, by the job's rule (its share of the machine's
   * busy CPU time, of the energy above idle; with idle `include`, of the idle power too): what the job
   * would have been charged for it. Part of the others' energy (with `include`, its idle part of
   * `idleEnergyKWh`), never the job's; null when trackerCpuS is.
   */
  readonly trackerEnergyKWh: number | null
  /** The machine's meters (their energy is the machine's, whatever the attribution). */
  readonly meters: readonly MeterRecord[]
}

/** A run's result: what stop() and flush() return and what a CSV row holds. */
export interface EmissionsRecord extends Measurement, RequestFields, FootprintFields {
  /** ISO 8601 UTC time the record was made. */
  readonly timestamp: string
  readonly projectName: string
  readonly runId: string
  readonly experimentId: string
  readonly status: RunStatus
  readonly countryName: string | null
  /** ISO 3166 alpha-3. */
  readonly countryIsoCode: string | null
  /** The Electricity Maps zone whose figures were used (`US-CAL-CISO`, `DE`); null when none was. */
  readonly region: string | null
  /** `aws`, `gcp` or `azure`, when named or detected. */
  readonly cloudProvider: string | null
  readonly cloudRegion: string | null
  /** Whether the run was on a cloud, as named or detected. */
  readonly onCloud: boolean
  readonly os: string
  readonly nodeVersion: string
  readonly wattprintVersion: string
  readonly cpuCount: number
  readonly cpuModel: string
  readonly gpuCount: number | null
  readonly gpuModel: string | null
  readonly ramTotalSizeGiB: number
  /**
   * What the energy and emissions figures hold, as CodeCarbon's column says: `machine` (the whole machine) or
   * `process` (the job: a process tree or a cgroup; the machine's figures are in `machine`).
   */
  readonly trackingMode: 'machine' | 'process'
  /** How the job's share was found, or why it could not be; null in machine mode. */
  readonly attributionNote: string | null
  /** Mean machine CPU load over the run, %. */
  readonly cpuUtilizationPercent: number | null
  readonly ramUtilizationPercent: number | null
  readonly ramUsedGiB: number | null
  readonly pue: number
  /** What the reader should know about how the figures were obtained (fallbacks, gaps, guesses). */
  readonly notes: readonly string[]
  /** ISO 8601 UTC start that `run --within` chose from the forecast; null for a run started at once. */
  readonly plannedStart: string | null
  /** The forecast's energy-weighted intensity over the run as it ran, g CO2e/kWh; null when not scheduled. */
  readonly forecastIntensityGPerKWh: number | null
  /** The forecast's source; `watttime-marginal` in it marks a marginal signal. */
  readonly forecastSource: string | null
  /**
   * kg CO2e had the run started at once and never paused: its measured energy profile (paused time left
   * out) moved to the moment it was asked for, at the same forecast's intensities.
   */
  readonly counterfactualEmissionsKg: number | null
  /** Seconds the command was paused (`--pause-above`); null when it could not be. */
  readonly pausedS: number | null
}

/** The fields a scheduled run adds to its record. */
export type ScheduleFields = Pick<
  EmissionsRecord,
  'plannedStart' | 'forecastIntensityGPerKWh' | 'forecastSource' | 'counterfactualEmissionsKg' | 'pausedS'
>

const UNSCHEDULED: ScheduleFields = {
  plannedStart: null,
  forecastIntensityGPerKWh: null,
  forecastSource: null,
  counterfactualEmissionsKg: null,
  pausedS: null,
}

// The schedules of runs started by `run --within`, by run id: every record of such a run (checkpoint,
// flush, the final row) carries the schedule's figures as they stand, computed from the measurement.
const schedules = new Map<string, (measurement: Measurement) => ScheduleFields>()

/** Makes every record of run `runId` carry a schedule's fields; returns the function that detaches it. */
export function attachSchedule(
  runId: string,
  fields: (measurement: Measurement) => ScheduleFields,
): () => void {
  schedules.set(runId, fields)
  return () => {
    if (schedules.get(runId) === fields) schedules.delete(runId)
  }
}

function scheduleOf(runId: string, measurement: Measurement): ScheduleFields {
  const fields = schedules.get(runId)
  if (!fields) return UNSCHEDULED
  try {
    return fields(measurement)
  } catch {
    // A record must be made whatever the schedule's arithmetic did.
    return UNSCHEDULED
  }
}

/** A named task's result (startTask/stopTask). */
export interface TaskRecord extends Measurement {
  readonly taskName: string
  readonly runId: string
  /** ISO 8601 UTC. */
  readonly startedAt: string
  readonly endedAt: string
}

const safeDiv = (a: number, b: number): number => (b > 0 && Number.isFinite(a / b) ? a / b : 0)

/** Turns ledger totals into a measurement. */
export function toMeasurement(
  totals: LedgerTotals,
  meters: readonly MeterDescription[],
  pue: number,
  fallback: { readonly gPerKWh: number; readonly source: string },
): Measurement {
  const seconds = totals.durationS
  const component = (c: Component): ComponentRecord => {
    const meter = meters.find((m) => m.component === c)
    return {
      energyKWh: joulesToKWh(totals.joules[c] * pue),
      powerW: safeDiv(totals.joules[c], seconds),
      source: meter?.source ?? null,
      method: meter?.method ?? null,
    }
  }
  const energyKWh = COMPONENTS.reduce((sum, c) => sum + joulesToKWh(totals.joules[c] * pue), 0)
  // The node's joules are kept per meter only (the ledger never adds them to the components).
  const nodeJ = meters.reduce(
    (sum, m, i) => sum + (m.component === 'node' ? (totals.meterJoules[i] ?? 0) : 0),
    0,
  )
  const nodeMeter = meters.find((m) => m.component === 'node')
  const emissions = totals.emissionsKg
  return {
    durationS: seconds,
    energyKWh,
    emissionsKg: emissions,
    emissionsRateKgPerS: safeDiv(emissions, seconds),
    cpu: component('cpu'),
    gpu: component('gpu'),
    ram: component('ram'),
    node: {
      energyKWh: joulesToKWh(nodeJ * pue),
      powerW: safeDiv(nodeJ, seconds),
      source: nodeMeter?.source ?? null,
      method: nodeMeter?.method ?? null,
    },
    // One intensity throughout is reported as is, not as emissions ÷ energy with rounding noise.
    carbonIntensityGPerKWh:
      totals.singleGPerKWh || energyKWh <= 0
        ? (totals.lastGPerKWh ?? fallback.gPerKWh)
        : (emissions * 1000) / energyKWh,
    intensitySource: totals.intensitySources.length > 0 ? totals.intensitySources.join('+') : fallback.source,
    gpuUtilizationPercent:
      totals.gpuUtilizationS > 0 ? totals.gpuUtilizationPercentS / totals.gpuUtilizationS : null,
    machine: {
      energyKWh: totals.machineEnergyKWh,
      cpuKWh: joulesToKWh(totals.machineJoules.cpu * pue),
      gpuKWh: joulesToKWh(totals.machineJoules.gpu * pue),
      ramKWh: joulesToKWh(totals.machineJoules.ram * pue),
    },
    idleEnergyKWh: COMPONENTS.reduce((sum, c) => sum + joulesToKWh(totals.idleJoules[c] * pue), 0),
    // A sum of 10 ms ticks: 0.28, not 0.28000000000000014.
    trackerCpuS: totals.trackerCpuS === null ? null : Math.round(totals.trackerCpuS * 1e6) / 1e6,
    trackerEnergyKWh:
      totals.trackerCpuS === null || totals.trackerJoules === null
        ? null
        : joulesToKWh(totals.trackerJoules * pue),
    meters: meters.map((meter, i) => ({
      id: meter.id,
      component: meter.component,
      source: meter.source,
      method: meter.method,
      energyKWh: joulesToKWh((totals.meterJoules[i] ?? 0) * pue),
      powerW: safeDiv(totals.meterJoules[i] ?? 0, seconds),
      blindS: totals.meterBlindS[i] ?? 0,
      channels: meter.channels.map((channel, c) => ({
        name: channel.name,
        energyKWh: joulesToKWh((totals.channelJoules[i]?.[c] ?? 0) * pue),
        powerW: safeDiv(totals.channelJoules[i]?.[c] ?? 0, seconds),
      })),
    })),
  }
}

/** Everything a run's record needs besides its measurement. */
export interface RunContext {
  readonly projectName: string
  readonly runId: string
  readonly experimentId: string
  readonly pue: number
  readonly location: ResolvedLocation | null
  /** The GPUs measured, with their names. */
  readonly gpus: readonly { readonly name: string }[]
  readonly system: SystemInfo
  readonly wattprintVersion: string
  readonly cpuUtilizationPercent: number | null
  readonly ram: { readonly usedGiB: number; readonly utilizationPercent: number } | null
  readonly notes: readonly string[]
  /** Whose energy the figures are, and how the share was found. */
  readonly attribution: { readonly mode: 'machine' | 'process'; readonly note: string | null }
  /** The requests measured (tracker.request, measure, the runtime wrappers). */
  readonly requests: RequestFields
}

/** Builds a run's record. */
export function toEmissionsRecord(
  measurement: Measurement,
  context: RunContext,
  status: RunStatus,
  now: Date = new Date(),
): EmissionsRecord {
  return {
    timestamp: now.toISOString(),
    projectName: context.projectName,
    runId: context.runId,
    experimentId: context.experimentId,
    status,
    ...measurement,
    countryName: context.location?.country?.name ?? null,
    countryIsoCode: context.location?.country?.alpha3 ?? null,
    region: context.location?.zone ?? null,
    cloudProvider: context.location?.cloudProvider ?? null,
    cloudRegion: context.location?.cloudRegion ?? null,
    onCloud: context.location?.onCloud ?? false,
    os: context.system.os,
    nodeVersion: process.versions.node,
    wattprintVersion: context.wattprintVersion,
    cpuCount: context.system.cpuCount,
    cpuModel: context.system.cpuModel,
    gpuCount: context.gpus.length > 0 ? context.gpus.length : null,
    gpuModel: gpuModelSummary(context.gpus),
    ramTotalSizeGiB: context.system.ramTotalGiB,
    trackingMode: context.attribution.mode,
    attributionNote: context.attribution.note,
    cpuUtilizationPercent: context.cpuUtilizationPercent,
    ramUtilizationPercent: context.ram?.utilizationPercent ?? null,
    ramUsedGiB: context.ram?.usedGiB ?? null,
    pue: context.pue,
    notes: [...context.notes],
    ...context.requests,
    ...scheduleOf(context.runId, measurement),
    // Filled in by footprint/record.ts, which needs the record's other fields.
    ...NO_FOOTPRINT,
  }
}
