import type { EmissionsScope } from '../config/config.js'
import {
  COMPONENTS,
  type Component,
  type MeterComponent,
  type MeterMethod,
  type MeterSource,
} from '../core/components.js'
import { joulesToKWh } from '../core/units.js'
import { EXACT, type Factors, factorsOf } from '../estimates/uncertainty.js'
import { type FootprintFields, NO_FOOTPRINT } from '../footprint/footprint.js'
import type { ResolvedLocation } from '../intensity/location.js'
import { gpuModelSummary } from '../meters/gpu.js'
import type { SystemInfo } from '../platform/system.js'
import type { RequestFields } from '../requests/book.js'
import type { MeterDescription } from '../sampling/sampler.js'
import type { LedgerTotals } from './ledger.js'

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
  /**
   * The 80 % interval on energyKWh: the power model's where it is modelled, the source's measurement
   * allowance where measured, none for a wattage the user set (docs/accuracy.md).
   */
  readonly lowKWh: number
  readonly highKWh: number
  /** Mean power over the run, PUE excluded. */
  readonly powerW: number
  /** The source of the figure; null when no meter covers the component. */
  readonly source: MeterSource | null
  readonly method: MeterMethod | null
}

/** The whole machine at the wall. */
export interface WallRecord {
  readonly energyKWh: number
  readonly lowKWh: number
  readonly highKWh: number
  /** Mean power over the span, PUE excluded. */
  readonly powerW: number
  readonly emissionsKg: number
  readonly emissionsLowKg: number
  readonly emissionsHighKg: number
  /** What it is made of: the node meter's source, or the sources added (`rapl+nvml-energy+rest-model`). */
  readonly source: string
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
  /** Total kWh drawn from the grid, PUE included: CPU + GPU + RAM, CodeCarbon's scope. */
  readonly energyKWh: number
  /** The 80 % interval on energyKWh: the sum of the components' (as if their errors moved together). */
  readonly energyLowKWh: number
  readonly energyHighKWh: number
  /** kg CO2e of energyKWh. */
  readonly emissionsKg: number
  /** The interval on emissionsKg, from the energy's (the intensity's own error is not included). */
  readonly emissionsLowKg: number
  readonly emissionsHighKg: number
  readonly emissionsRateKgPerS: number
  /**
   * The whole machine at the wall (the job's part of it, with attribution), PUE included: the node meter
   * where there is one, else the components plus the modelled rest of the machine (board, fans, drives,
   * power-supply losses). What the grid supplies: larger than energyKWh, never part of it.
   */
  readonly wall: WallRecord
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
    /** The machine's whole wall energy, PUE included (the job's part is `wall`). */
    readonly wallKWh: number
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
  /**
   * Which figure the summary, budgets, equivalents and SCI price: `wall` (the whole machine, the default)
   * or `components` (CPU + GPU + RAM, CodeCarbon's scope). energyKWh and emissionsKg are always the latter,
   * `wall` the former.
   */
  readonly emissionsScope: EmissionsScope
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

/** A measured meter's interval factors by its allowance; an estimate's, none unless given. */
const measuredOnly = (meter: MeterDescription): Factors => factorsOf(meter, null, 0)

/**
 * The interval factors of what some meters measured together: their joules' weighted factors (as if
 * their errors moved together, the honest side when they may).
 */
function blendFactors(
  meters: readonly MeterDescription[],
  joules: readonly number[],
  factors: (meter: MeterDescription) => Factors,
  include: (meter: MeterDescription) => boolean,
): Factors {
  let total = 0
  let low = 0
  let high = 0
  meters.forEach((meter, i) => {
    if (!include(meter)) return
    const j = joules[i] ?? 0
    const f = factors(meter)
    total += j
    low += j * f.low
    high += j * f.high
  })
  return total > 0 ? { low: low / total, high: high / total } : EXACT
}

/**
 * Turns ledger totals into a measurement. `factors` gives each meter's interval (the power model's at the
 * run's load for its estimates); by default measured meters carry their allowance and estimates none.
 */
export function toMeasurement(
  totals: LedgerTotals,
  meters: readonly MeterDescription[],
  pue: number,
  fallback: { readonly gPerKWh: number; readonly source: string },
  factors: (meter: MeterDescription) => Factors = measuredOnly,
): Measurement {
  const seconds = totals.durationS
  const component = (c: Component): ComponentRecord => {
    const meter = meters.find((m) => m.component === c)
    const energyKWh = joulesToKWh(totals.joules[c] * pue)
    const f = blendFactors(meters, totals.meterJoules, factors, (m) => m.component === c)
    return {
      energyKWh,
      lowKWh: energyKWh * f.low,
      highKWh: energyKWh * f.high,
      powerW: safeDiv(totals.joules[c], seconds),
      source: meter?.source ?? null,
      method: meter?.method ?? null,
    }
  }
  const components = { cpu: component('cpu'), gpu: component('gpu'), ram: component('ram') }
  const energyKWh = COMPONENTS.reduce((sum, c) => sum + joulesToKWh(totals.joules[c] * pue), 0)
  const energyLowKWh = COMPONENTS.reduce((sum, c) => sum + components[c].lowKWh, 0)
  const energyHighKWh = COMPONENTS.reduce((sum, c) => sum + components[c].highKWh, 0)
  // The node's joules are kept per meter only (the ledger never adds them to the components).
  const nodeJ = meters.reduce(
    (sum, m, i) => sum + (m.component === 'node' ? (totals.meterJoules[i] ?? 0) : 0),
    0,
  )
  const nodeMeter = meters.find((m) => m.component === 'node')
  const emissions = totals.emissionsKg
  // The wall: the node meter's where there is one, else every component's and the modelled rest's.
  const wallParts = (m: MeterDescription) => (nodeMeter ? m.component === 'node' : m.component !== 'node')
  const wallFactors = blendFactors(meters, totals.meterJoules, factors, wallParts)
  const wallKWh = joulesToKWh(totals.wallJoules * pue)
  const wallSources = nodeMeter
    ? nodeMeter.source
    : [...new Set(meters.filter(wallParts).map((m) => m.source))].join('+')
  const scale = (kg: number, kWh: number, part: number) => (kWh > 0 ? (kg * part) / kWh : 0)
  return {
    durationS: seconds,
    energyKWh,
    energyLowKWh,
    energyHighKWh,
    emissionsKg: emissions,
    emissionsLowKg: scale(emissions, energyKWh, energyLowKWh),
    emissionsHighKg: scale(emissions, energyKWh, energyHighKWh),
    emissionsRateKgPerS: safeDiv(emissions, seconds),
    wall: {
      energyKWh: wallKWh,
      lowKWh: wallKWh * wallFactors.low,
      highKWh: wallKWh * wallFactors.high,
      powerW: safeDiv(totals.wallJoules, seconds),
      emissionsKg: totals.wallEmissionsKg,
      emissionsLowKg: totals.wallEmissionsKg * wallFactors.low,
      emissionsHighKg: totals.wallEmissionsKg * wallFactors.high,
      source: wallSources || 'none',
    },
    ...components,
    node: {
      energyKWh: joulesToKWh(nodeJ * pue),
      lowKWh: joulesToKWh(nodeJ * pue) * (nodeMeter ? measuredOnly(nodeMeter).low : 1),
      highKWh: joulesToKWh(nodeJ * pue) * (nodeMeter ? measuredOnly(nodeMeter).high : 1),
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
      wallKWh: joulesToKWh(totals.machineWallJoules * pue),
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
  readonly emissionsScope: EmissionsScope
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
    emissionsScope: context.emissionsScope,
    notes: [...context.notes],
    ...context.requests,
    ...scheduleOf(context.runId, measurement),
    // Filled in by footprint/record.ts, which needs the record's other fields.
    ...NO_FOOTPRINT,
  }
}

/** The figures a record's emissionsScope prices, with their intervals, and what they hold in words. */
export interface Headline {
  readonly energyKWh: number
  readonly lowKWh: number
  readonly highKWh: number
  readonly emissionsKg: number
  readonly emissionsLowKg: number
  readonly emissionsHighKg: number
  /** `at the wall` or `CPU+GPU+RAM`. */
  readonly what: string
}

/**
 * The figures the record's scope prices. A record from before the wall figure (an old checkpoint) has only
 * CodeCarbon's scope, whatever its scope says.
 */
export function headline(
  record: Pick<
    Measurement,
    | 'energyKWh'
    | 'energyLowKWh'
    | 'energyHighKWh'
    | 'emissionsKg'
    | 'emissionsLowKg'
    | 'emissionsHighKg'
    | 'wall'
  > & { readonly emissionsScope?: EmissionsScope },
): Headline {
  const wall = record.wall as WallRecord | undefined
  if ((record.emissionsScope ?? 'wall') === 'wall' && wall) {
    return {
      energyKWh: wall.energyKWh,
      lowKWh: wall.lowKWh,
      highKWh: wall.highKWh,
      emissionsKg: wall.emissionsKg,
      emissionsLowKg: wall.emissionsLowKg,
      emissionsHighKg: wall.emissionsHighKg,
      what: 'at the wall',
    }
  }
  return {
    energyKWh: record.energyKWh,
    lowKWh: record.energyLowKWh ?? record.energyKWh,
    highKWh: record.energyHighKWh ?? record.energyKWh,
    emissionsKg: record.emissionsKg,
    emissionsLowKg: record.emissionsLowKg ?? record.emissionsKg,
    emissionsHighKg: record.emissionsHighKg ?? record.emissionsKg,
    what: 'CPU+GPU+RAM',
  }
}
